"""Gowalla: one plot of the recorded test results beside the published rows.

    python benchmarks/studies/gowalla_overview_plot.py [--out FILE]

Reads the ``summary.csv`` files that ``recsample reproduce gowalla --out DIR``
wrote under ``docs/results/gowalla/`` (nothing is trained or scored here),
keeps the published rows once and every recsample row that is the mean of
three or more seeds, and draws them with the command's own plot
(``recsample.reproduce.gowalla.plot``: a dot per row with its seeds' sd,
published rows in grey) and the results page's targets (0.1920 / 0.1617) as
dashed lines. Each row is
labelled with its folder, so a dot can be traced to its files and to its row
on the results page. Rows of one seed are left out: the page gives them, but
a dot would hide that they are one run.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from recsample.reproduce.gowalla import plot

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results" / "gowalla"
#: the results page's targets: BSPM-EM's recall@20, NESCL's NDCG@20
TARGETS = {"recall@20": 0.1920, "ndcg@20": 0.1617}


def collect(results: Path = RESULTS, min_seeds: int = 3) -> pd.DataFrame:
    """The published rows (from the top folder's summary) and every row of
    ``min_seeds`` or more seeds, best recall@20 last."""
    top = pd.read_csv(results / "summary.csv")
    published = top[top["source"].str.startswith("published")]
    ours = []
    for csv in sorted(results.glob("*/summary.csv")) + [results / "summary.csv"]:
        table = pd.read_csv(csv)
        rows = table[~table["source"].str.startswith("published")
                     & (table["seeds"].fillna(0) >= min_seeds)].copy()
        folder = csv.parent.name if csv.parent != results else "top folder"
        rows["model"] = [f"{m.removeprefix('recsample ')} [{folder}]" for m in rows["model"]]
        ours.append(rows)
    ours = pd.concat(ours, ignore_index=True).sort_values("recall@20")
    return pd.concat([published, ours], ignore_index=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS / "overview.png"),
                        help="the PNG to write (default docs/results/gowalla/overview.png)")
    args = parser.parse_args(argv)
    table = collect()
    with pd.option_context("display.width", 160):
        print(table[["model", "recall@20", "ndcg@20", "seeds"]].to_string(index=False))
    plot(table, args.out, targets=TARGETS)
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
