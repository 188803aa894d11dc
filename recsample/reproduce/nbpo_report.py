"""Tables, plot and files of the NBPO reproduction.

Functions of a :class:`recsample.reproduce.nbpo.Reproduction` (its
``table``, ``plot`` and ``save`` methods call them with the paper's model
order and published file).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .nbpo_eval import KS, METRICS


def table(result, models, reference) -> str:
    """Markdown of a :class:`~recsample.reproduce.nbpo.Reproduction`: protocols (a)
    and (b), the published ``reference`` file, paired tests; rows in the
    order of ``models``."""
    s = result.settings
    lines = [f"NBPO reproduction on nbpo-amazon: {s['seeds']} seeds, {s['epochs']} epochs, "
             f"{result.negatives} negatives per positive ({result.seconds:.0f} s)", ""]
    head = "| model | " + " | ".join(f"{m.upper() if m == 'f1' else 'NDCG'}@{k}"
                                     for m in METRICS for k in KS) + " |"
    rule = "|---|" + "---|" * (len(METRICS) * len(KS))

    def rows(df, label=lambda m: m, extra=None):
        out = []
        for model in [m for m in models if m in set(df["model"])]:
            d = df[df["model"] == model].set_index(["metric", "k"])
            cells = [f"{d.loc[(m, k), 'mean']:.4f} ± {d.loc[(m, k), 'std']:.4f}"
                     if (m, k) in d.index else "" for m in METRICS for k in KS]
            out.append(f"| {label(model)} | " + " | ".join(cells) + " |")
        return out

    lines += ["(a) the authors' protocol: best epoch per metric and cut-off, validation "
              "split, mean ± std (ddof 0) over seeds", "", head, rule]
    lines += rows(result.protocol_a)
    lines += rows(result.protocol_a_top5, lambda m: f"{m} (mean of 5 best epochs)")
    if not result.comparison.empty:
        c = result.comparison.set_index(["metric", "k"])
        ref = [f"{c.loc[(m, k), 'authors']:.4f}" if (m, k) in c.index else ""
               for m in METRICS for k in KS]
        rel = [f"{100 * c.loc[(m, k), 'rel_diff_max']:+.1f}%" if (m, k) in c.index else ""
               for m in METRICS for k in KS]
        lines.append(f"| NBPO, authors' file ({reference['negatives']} negatives) | "
                     + " | ".join(ref) + " |")
        lines.append("| NBPO ours vs authors' file | " + " | ".join(rel) + " |")
    lines += ["", "(a') the same selection on the test split (epochs picked on test: "
              "optimistic)", "", head, rule]
    lines += rows(result.protocol_a_test)
    for split, what in (("test", "training items excluded, the authors' definitions"),
                        ("test_strict", "training and validation items excluded, "
                                        "recsample's definitions")):
        b = result.protocol_b[result.protocol_b["split"] == split]
        ep = b.groupby("model")["epoch"].mean()
        lines += ["", f"(b) strict: epoch chosen on validation NDCG@10, test split ({what}), "
                  "mean ± std (ddof 1) over seeds", "", head, rule]
        lines += rows(b, lambda m: f"{m} (epoch {ep.get(m, float('nan')):.0f})")
    if not result.paired.empty:
        lines += ["", "Paired tests across seeds, test NDCG@10 under (b)", "",
                  "| ranking | a vs b | mean a | mean b | a better in | t | p (t) | "
                  "p (Wilcoxon) |", "|---|---|---|---|---|---|---|---|"]
        for _, r in result.paired.iterrows():
            lines.append(f"| {r['split']} | {r['a']} vs {r['b']} | {r['mean_a']:.4f} | "
                         f"{r['mean_b']:.4f} | {r['a_wins']}/{r['runs']} | {r['t']:.2f} | "
                         f"{r['p_t']:.2g} | {r['p_wilcoxon']:.2g} |")
    if result.diverged:
        lines += ["", "Diverged runs (model, seed: epoch): "
                  + ", ".join(f"{m} {s}: {e}" for (m, s), e in result.diverged.items())]
    return "\n".join(lines)


def plot(result, models, path=None, metric="ndcg", k=10, split="valid"):
    """Of a Reproduction: mean over seeds (± one std band) of ``split`` ``metric``@``k`` per
    epoch, one line per model. Saves to ``path`` when given; returns the
    matplotlib Figure."""
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    pe = result.per_epoch
    d = pe[(pe["split"] == split) & (pe["metric"] == metric) & (pe["k"] == k)]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for model in [m for m in models if m in set(d["model"])]:
        g = d[d["model"] == model].groupby("epoch")["value"]
        mean, std = g.mean(), g.std(ddof=0).fillna(0.0)
        ax.plot(mean.index, mean.to_numpy(), label=model, lw=1.5)
        ax.fill_between(mean.index, (mean - std).to_numpy(), (mean + std).to_numpy(),
                        alpha=0.25)
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"{split} {metric.upper()}@{k}")
    ax.set_title(f"nbpo-amazon, {result.settings['seeds']} seeds, "
                 f"{result.negatives} negatives (mean ± std)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
    return fig


def save(result, out) -> dict:
    """Write a Reproduction's tables, the per-epoch CSV (gzip), the plot and the
    settings into folder ``out``; returns {what: path}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"per_epoch": out / "per_epoch.csv.gz", "protocol_a": out / "protocol_a.csv",
             "protocol_b": out / "protocol_b.csv", "paired": out / "paired_tests.csv",
             "comparison": out / "authors_file_comparison.csv", "table": out / "table.md",
             "plot": out / "valid_ndcg10.png", "settings": out / "settings.json"}
    result.per_epoch.to_csv(paths["per_epoch"], index=False, float_format="%.6g",
                            compression={"method": "gzip", "mtime": 0})
    a = pd.concat([result.protocol_a.assign(split="valid", selection="max"),
                   result.protocol_a_top5.assign(split="valid", selection="top5"),
                   result.protocol_a_test.assign(split="test", selection="max")])
    a.to_csv(paths["protocol_a"], index=False, float_format="%.6g")
    paths["protocol_b_per_seed"] = out / "protocol_b_per_seed.csv"
    result.strict_per_seed.to_csv(paths["protocol_b_per_seed"], index=False,
                                  float_format="%.6g")
    result.protocol_b.to_csv(paths["protocol_b"], index=False, float_format="%.6g")
    result.paired.to_csv(paths["paired"], index=False, float_format="%.6g")
    result.comparison.to_csv(paths["comparison"], index=False, float_format="%.6g")
    paths["table"].write_text(result.table() + "\n", encoding="utf-8")
    import matplotlib.pyplot as plt
    plt.close(result.plot(paths["plot"]))
    meta = dict(result.settings, seconds=round(result.seconds, 1),
                train_seconds={f"{m}/{s}": round(t, 2)
                               for (m, s), t in result.train_seconds.items()},
                diverged={f"{m}/{s}": e for (m, s), e in result.diverged.items()})
    paths["settings"].write_text(json.dumps(meta, indent=1, default=str) + "\n",
                                 encoding="utf-8")
    return {k: str(v) for k, v in paths.items()}
