"""Time per epoch of the group losses against BPR + uniform, and their
arithmetic rate against a bare BLAS matrix product, in one run.

    python benchmarks/peers/bench_losses.py [--data movielens-small|gowalla] [--path DIR]
                                            [--negatives 64 256 1024] [--group-sizes 1 8]
                                            [--epochs 2] [--threads 2]

Each configuration is fitted for ``--epochs`` epochs (64 factors) and the
median epoch time is reported (the first epoch of a process includes no
compilation: every configuration is compiled by a one-epoch warm-up fit on a
small slice first). Work is counted per factor row a unit touches (its
positives and its N negatives): 2k flops to score it and 4k to take the
derivative back to the two rows (2k more of each for cosine's norms), the
optimizer's update left out. The BLAS reference is ``np.dot`` of float32
matrices shaped like a block of units against N shared negatives,
(4096 x k) @ (k x N), on the same threads.
"""
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    common.add_dataset_args(ap)
    ap.add_argument("--negatives", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--group-sizes", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--factors", type=int, default=64)
    args = ap.parse_args(argv)

    import numba
    import recsample as rs
    from threadpoolctl import threadpool_limits

    train = common.first_part(args.dataset, args.path)
    k = args.factors
    numba.set_num_threads(args.threads)
    print(f"{args.dataset}: {train.n_users:,} users x {train.n_items:,} items, {train.nnz:,} "
          f"positives; {k} factors, {args.threads} threads; {platform.processor() or 'cpu'}, "
          f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}")

    rows = []
    base = rs.BPR(factors=k, epochs=args.epochs, n_threads=args.threads, seed=0)
    warm = rs.split.random_holdout(train, test_fraction=0.5, seed=0)[1]
    rs.BPR(factors=k, epochs=1, n_threads=args.threads).fit(warm, progress=False)
    t_bpr, _ = common.median_epoch(base, train)
    rows.append(("BPR + uniform", 1, 1, t_bpr, float("nan")))
    for cls in (rs.Softmax, rs.CCL):
        for n in args.negatives:
            for g in args.group_sizes:
                params = dict(factors=k, epochs=args.epochs, negatives=n, group_size=g,
                              n_threads=args.threads, seed=0)
                cls(**dict(params, epochs=1)).fit(warm, progress=False)
                seconds, last = common.median_epoch(cls(**params), train)
                units_rows = train.nnz + (train.nnz / g) * n  # rows touched, about
                flops = units_rows * (6 + 4) * k  # cosine: score + norms + two gradients
                rows.append((cls.__name__, n, g, seconds, flops / seconds / 1e9))
    with threadpool_limits(args.threads):
        blas = {}
        for n in args.negatives:
            A = np.random.default_rng(0).standard_normal((4096, k), dtype=np.float32)
            B = np.random.default_rng(1).standard_normal((k, n), dtype=np.float32)
            np.dot(A, B)
            reps = max(1, int(2e9 / (2 * 4096 * k * n)))
            t0 = time.perf_counter()
            for _ in range(reps):
                np.dot(A, B)
            blas[n] = 2 * 4096 * k * n * reps / (time.perf_counter() - t0) / 1e9
    print(f"\n{'loss':<14}{'N':>6}{'group':>7}{'s/epoch':>10}{'x BPR':>8}{'GFLOP/s':>10}"
          f"{'BLAS GFLOP/s':>14}{'% of BLAS':>11}")
    for name, n, g, s, gf in rows:
        ref = blas.get(n, float("nan")) if name != "BPR + uniform" else float("nan")
        print(f"{name:<14}{n:>6}{g:>7}{s:>10.2f}{s / t_bpr:>8.1f}{gf:>10.2f}{ref:>14.1f}"
              f"{100 * gf / ref:>10.1f}%")


if __name__ == "__main__":
    main()
