"""Every sampler with BPR on movielens-small, each given the same small grid.

    python benchmarks/samplers_study.py [--epochs 15] [--out docs/results/samplers-study]

Protocol: a per-user 80/20 random holdout of movielens-small (seed 0) gives
train and test; a further per-user 10% of train is carved off as validation.
For each sampler, BPR (32 factors, the given epochs, one thread, seed 0) is
fitted on the remaining train with each (learning rate, regularisation) of
a fixed 2 x 2 grid, the setting with the best validation NDCG@10 is kept (a setting that diverges
counts as the worst),
refitted on the whole train, and scored on test (NDCG@10, recall@20). Paired
tests against uniform sampling over the test users come from
``rs.evaluation.compare``. One seed: a screening, not a verdict.
"""
import argparse
import time
from pathlib import Path

import pandas as pd

import recsample as rs
from bench_samplers import SAMPLERS  # one table of the samplers compared, beside this file
GRID = [(lr, reg) for lr in (0.01, 0.05) for reg in (0.001, 0.01)]


def fit(train, make, lr, reg, epochs):
    return rs.BPR(factors=32, epochs=epochs, learning_rate=lr, regularization=reg,
                  sampler=make(), seed=0, n_threads=1).fit(train, progress=False)


def valid_score(train, valid, make, lr, reg, epochs):
    """Validation NDCG@10, or -inf for a setting that diverges (WARP at 0.05)."""
    try:
        return ndcg10(fit(train, make, lr, reg, epochs), valid, train)
    except FloatingPointError:
        return float("-inf")


def ndcg10(model, test, train):
    s = rs.evaluate(model, test, train=train, k=(10,), metrics=("ndcg",)).summary()
    return float(s["mean"].iloc[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--out", default="docs/results/samplers-study")
    args = ap.parse_args()
    data = rs.load_dataset("movielens-small")
    train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=0)
    fit_part, valid = rs.split.random_holdout(train, test_fraction=0.1, seed=1)
    reports, rows = {}, []
    for name, make in SAMPLERS.items():
        t0 = time.perf_counter()
        scores = {(lr, reg): valid_score(fit_part, valid, make, lr, reg, args.epochs)
                  for lr, reg in GRID}
        lr, reg = max(scores, key=scores.get)
        model = fit(train, make, lr, reg, args.epochs)
        reports[name] = rs.evaluate(model, test, train=train, k=(10, 20),
                                    metrics=("ndcg", "recall"))
        rows.append({"sampler": name, "learning_rate": lr, "regularization": reg,
                     "valid_ndcg@10": scores[(lr, reg)],
                     "seconds": time.perf_counter() - t0})
        print(f"{name}: lr {lr}, reg {reg}, valid NDCG@10 {scores[(lr, reg)]:.4f}", flush=True)
    table = []
    for row in rows:
        cmp = rs.evaluation.compare(reports[row["sampler"]], reports["uniform"])
        for metric, k in (("ndcg", 10), ("recall", 20)):
            c = cmp[(cmp["metric"] == metric) & (cmp["k"] == k)].iloc[0]
            row[f"{metric}@{k}"] = c["mean_a"]
            row[f"{metric}@{k} - uniform"] = c["diff"]
            row[f"{metric}@{k} t p"] = c["t_pvalue"]
            row[f"{metric}@{k} wilcoxon p"] = c["wilcoxon_pvalue"]
        table.append(row)
    df = pd.DataFrame(table)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "results.csv", index=False)
    cols = ["sampler", "learning_rate", "regularization", "valid_ndcg@10", "ndcg@10",
            "ndcg@10 - uniform", "ndcg@10 t p", "recall@20", "recall@20 - uniform",
            "recall@20 t p"]
    print(df[cols].to_markdown(index=False, floatfmt=".4g"))


if __name__ == "__main__":
    main()
