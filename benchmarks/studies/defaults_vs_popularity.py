"""Every loss x built-in sampler at its library defaults against the popularity ranking.

What a new user gets who calls ``rs.<Loss>(sampler=name)`` with nothing
else: each pair is fitted on a data set's training part and scored on its
test part (NDCG@k and recall@k, k = 10, or 20 on gowalla as its papers
report; training items excluded), beside ``MostPopular`` (``recsample.baselines``) on the same split.
A row passes when its NDCG beats popularity's. No setting is chosen here:
the defaults come from the validation searches recorded on the defaults
page, so this is a check on test data those searches never read.

Data: movielens-small and the synthetic set split per user 80/20 (seed 0).
The synthetic set is ``rs.datasets.synthetic(2000, 1500, 60000, alpha=1.0,
seed=0, clusters=10, affinity=0.8)``: power-law users and items with a
planted structure (each item moved into its user's cluster with probability
0.8), so that a model can beat popularity by learning. Without clusters
(``synthetic-independent``, the same call without them) user and item are
drawn independently and popularity is the best ranking there is: no model
can pass there, and it is reported, not checked; nbpo-amazon and gowalla are their releases' train / test files
(``--path-nbpo-amazon``, ``--path-gowalla`` or ../shared/data/<name>; a set whose files are absent
is skipped with a message).

    python benchmarks/studies/defaults_vs_popularity.py \
        [--data movielens-small synthetic nbpo-amazon gowalla] \
        [--losses BPR BPO Softmax CCL] [--samplers uniform dns ...] \
        [--out rows.csv] [--threads N]

Time: movielens-small, all 36 pairs, about 25 minutes on 2 cores (the group
losses with the scoring samplers, DNS and SRNS, score 16 or more candidates
per negative and take several minutes each); gowalla about 3 minutes per
pair with uniform negatives.
"""
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402
from recsample.baselines import MostPopular  # noqa: E402
from recsample.registry import names  # noqa: E402

SETS = ("movielens-small", "synthetic", "nbpo-amazon", "gowalla", "synthetic-independent")


def split(name, path=None):
    """(train, test, k) of one data set, or None when its files are absent."""
    if name.startswith("synthetic"):
        planted = {} if name == "synthetic-independent" else dict(clusters=10, affinity=0.8)
        data = rs.datasets.synthetic(2000, 1500, 60000, alpha=1.0, seed=0, **planted)
        return (*rs.split.random_holdout(data, test_fraction=0.2, seed=0), 10)
    if name in ("nbpo-amazon", "gowalla") and common.data_folder(name, path) is None:
        print(f"{name}: skipped, no files (pass --path-{name} DIR or put them in "
              f"../shared/data/{name})", file=sys.stderr)
        return None
    train, test = common.train_test(name, path)
    return train, test, 20 if name == "gowalla" else 10


def scores(model, test, train, k):
    s = rs.evaluate(model, test, train=train, k=(k,), metrics=("ndcg", "recall")).summary()
    return {r.metric: float(r.mean) for r in s.itertuples()}


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--data", nargs="+", default=list(SETS[:3]), choices=SETS)
    ap.add_argument("--losses", nargs="+", default=["BPR", "BPO", "Softmax", "CCL"])
    ap.add_argument("--samplers", nargs="+", default=list(names("sampler")))
    for name in ("nbpo-amazon", "gowalla"):
        ap.add_argument(f"--path-{name}", default=None, metavar="DIR")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=None, help="CSV of this run's rows, written again after every row (a file already there is replaced)")
    args = ap.parse_args()
    rows = []
    for name in args.data:
        parts = split(name, getattr(args, f"path_{name.replace('-', '_')}", None))
        if parts is None:
            continue
        train, test, k = parts
        pop = scores(MostPopular().fit(train), test, train, k)
        print(f"{name}: popularity NDCG@{k} {pop['ndcg']:.4f} recall@{k} {pop['recall']:.4f}",
              flush=True)
        for loss in args.losses:
            for sampler in args.samplers:
                row = {"data": name, "loss": loss, "sampler": sampler, "k": k,
                       "popularity ndcg": pop["ndcg"], "popularity recall": pop["recall"]}
                t0 = time.perf_counter()
                try:
                    model = getattr(rs, loss)(sampler=sampler, n_threads=args.threads)
                    model.fit(train, progress=False)
                except ValueError as exc:  # a pair the trainer refuses, with its reason
                    row.update(refused=str(exc))
                    print(f"  {loss:8s} {sampler:11s} refused: {exc}", flush=True)
                else:
                    got = scores(model, test, train, k)
                    row.update(ndcg=got["ndcg"], recall=got["recall"],
                               seconds=time.perf_counter() - t0,
                               ratio=got["ndcg"] / pop["ndcg"])
                    row["beats popularity"] = bool(got["ndcg"] > pop["ndcg"])
                    print(f"  {loss:8s} {sampler:11s} NDCG@{k} {got['ndcg']:.4f} "
                          f"({row['ratio']:.2f} x popularity, "
                          f"{'beats' if row['beats popularity'] else 'BELOW'}) "
                          f"{row['seconds']:.0f} s", flush=True)
                rows.append(row)
                if args.out:
                    pd.DataFrame(rows).to_csv(args.out, index=False)
    table = pd.DataFrame(rows)
    if "beats popularity" in table:
        below = table[table["beats popularity"] == False]  # noqa: E712
        print(f"\n{len(below)} of {table['beats popularity'].notna().sum()} trained pairs "
              "below popularity" + ("" if below.empty else ":\n" + below[
                  ["data", "loss", "sampler", "ndcg", "popularity ndcg"]].to_string(
                      index=False)))


if __name__ == "__main__":
    main()
