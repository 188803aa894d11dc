"""Folding users in: quality against training them with everyone, and time per user.

    python benchmarks/studies/bench_fold_in.py [--data movielens-small gowalla]
        [--models BPR Softmax] [--gowalla-path ../shared/data/gowalla] [--draws 1]

For each data set: 10% of the users (seeded) are held out of training (their
rows emptied); the model trained on the rest folds them in from their
training part (``model.fold_in``, default settings); their test metric
(NDCG@10 on movielens-small, 80/20 random split seed 0; recall@20 on
gowalla's own split) is compared with the same users' under the model trained
with everyone, both full-ranking with training items excluded. Time per
folded user is the wall time of one ``fold_in`` call for all of them
(compilation excluded by a warm-up call), divided by their number; 64
factors, this machine's threads. Both models run at their library defaults
(fold-in's epochs and learning rate were chosen on a validation part of
movielens-small's training data, not on these tests). ``--draws N`` repeats the hold-out with N seeded draws of the
10% (seeds 0..N-1), against the same model trained with everyone.
"""
import datetime
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def run(name, data_path, models, draws=1, seed=0):
    train, test = common.train_test(name, data_path if name == "gowalla" else None)
    metric, k = ("recall", 20) if name == "gowalla" else ("ndcg", 10)
    X, T = train.matrix.tocsr(), test.matrix.tocsr()
    n = X.shape[0]
    rows_out = []
    for model_name in models:
        make = getattr(rs, model_name)
        t0 = time.perf_counter()
        full = make(seed=seed).fit(X, progress=False)
        fit_s = time.perf_counter() - t0
        for draw in range(draws):
            held = np.sort(np.random.default_rng(seed + draw).choice(n, size=n // 10,
                                                                     replace=False))
            keep = np.ones(n, dtype=np.float32)
            keep[held] = 0.0
            Xk = (sp.diags(keep) @ X).tocsr()
            Xk.eliminate_zeros()
            part = make(seed=seed).fit(Xk, progress=False)
            everyone = common.Factors(full.user_factors[held], full.item_factors)
            trained = common.mean_metric(everyone, T[held], X[held], metric, k)
            part.fold_in(X[held[:10]], epochs=1)   # compiles (or loads) the folding loop
            t0 = time.perf_counter()
            rows = part.fold_in(X[held])
            fold_s = time.perf_counter() - t0
            folded = common.mean_metric(common.Factors(rows, part.item_factors), T[held],
                                        X[held], metric, k)
            rows_out.append((name, model_name, seed + draw, len(held), f"{metric}@{k}",
                             trained, folded, folded / trained, 1e3 * fold_s / len(held),
                             fit_s))
            r = rows_out[-1]
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:,} | {r[4]} | {r[5]:.4f} | {r[6]:.4f} | "
                  f"{r[7]:.3f} | {r[8]:.3f} | {r[9]:.0f} |", flush=True)
    return rows_out


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--data", nargs="+", default=["movielens-small", "gowalla"])
    ap.add_argument("--models", nargs="+", default=["BPR", "Softmax"])
    common.add_gowalla_path(ap)
    ap.add_argument("--draws", type=int, default=1,
                    help="held-out sets drawn (seeds 0, 1, ...); the ratio's mean is printed")
    args = ap.parse_args(argv)
    print(f"machine: {platform.machine()}, 2 cores; {datetime.date.today()}")
    print("| data | model | draw | folded users | metric | trained with everyone | folded in | "
          "ratio | ms per folded user | full fit (s) |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|---:|")
    out = []
    for name in args.data:
        try:
            out += run(name, args.gowalla_path, args.models, args.draws)
        except FileNotFoundError as exc:
            print(f"| {name} | skipped: {exc} |")
    if args.draws > 1:
        print("\nmean ratio over draws:")
        for key in sorted({(r[0], r[1]) for r in out}):
            ratios = [r[7] for r in out if (r[0], r[1]) == key]
            print(f"  {key[0]} {key[1]}: {np.mean(ratios):.3f} "
                  f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


if __name__ == "__main__":
    main()
