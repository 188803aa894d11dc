"""recsample's BPR against implicit's BPR: same data, factors, epochs, threads.

    python benchmarks/bench_bpr.py [--threads 2] [--epochs 35] [--repeats 3] [--quick]

Data: movielens-small (ratings as implicit feedback), random 80/20 split per
user, seed 0. Both libraries train one (positive, negative) pair per training
positive per epoch, 64 factors plus an item-bias column. Throughput is pairs
per second of wall time for the whole ``fit`` (compilation excluded by a
warm-up fit), the median of ``--repeats`` interleaved runs. NDCG@10 is
recsample's full-ranking definition (training items excluded) for both.

implicit's grid picks its best learning rate and regularization on the *test*
split, which favours implicit; recsample runs with its defaults (chosen on a
validation split by benchmarks/tune_defaults.py).

implicit draws negatives in proportion to item popularity (alpha = 1) with its
``verify_negative_samples`` check; recsample's uniform sampler and its
``Popularity(alpha=1)`` are both shown.
"""
import argparse
import datetime
import os
import platform
import statistics
import time

import numpy as np

import recsample as rs


def _ndcg10(model, train, test):
    s = rs.evaluate(model, test, train=train, k=(10,), metrics=("ndcg",)).summary()
    return float(s["mean"].iloc[0])


def _implicit_bpr(factors, lr, reg, epochs, threads, seed=0):
    from implicit.cpu.bpr import BayesianPersonalizedRanking
    return BayesianPersonalizedRanking(factors=factors, learning_rate=lr, regularization=reg,
                                       iterations=epochs, num_threads=threads, random_state=seed)


def _time_implicit(train, factors, lr, reg, epochs, threads):
    model = _implicit_bpr(factors, lr, reg, epochs, threads)
    t0 = time.perf_counter()
    model.fit(train.matrix, show_progress=False)
    return time.perf_counter() - t0, model


def _time_ours(train, epochs, threads, sampler="uniform", **params):
    model = rs.BPR(factors=64, epochs=epochs, n_threads=threads, sampler=sampler, **params)
    t0 = time.perf_counter()
    model.fit(train, progress=False)
    return time.perf_counter() - t0, model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=rs.BPR().epochs)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 repeat, a 2-point implicit grid")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 1

    import threadpoolctl
    threadpoolctl.threadpool_limits(1, "blas")  # implicit warns when BLAS threads compete

    data = rs.load_dataset("movielens-small")
    train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=0)
    pairs = train.nnz * args.epochs
    print(f"movielens-small train: {train}; {args.epochs} epochs, {args.threads} threads, "
          f"{pairs:,} pairs per fit")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{datetime.date.today()}")

    # warm-up: compile every kernel outside the timings
    for sampler in ("uniform", "dns", rs.samplers.Popularity(1.0)):
        rs.BPR(factors=8, epochs=1, n_threads=args.threads, sampler=sampler).fit(train, progress=False)
    _implicit_bpr(8, 0.01, 0.01, 1, args.threads).fit(train.matrix, show_progress=False)

    # throughput, interleaved so that machine noise hits both alike
    implicit_defaults = dict(lr=0.05, reg=0.01)
    times = {"implicit": [], "uniform": [], "popularity(1)": [], "dns(16)": []}
    models = {}
    for _ in range(args.repeats):
        t, models["implicit"] = _time_implicit(train, 64, implicit_defaults["lr"],
                                               implicit_defaults["reg"], args.epochs, args.threads)
        times["implicit"].append(t)
        t, models["uniform"] = _time_ours(train, args.epochs, args.threads)
        times["uniform"].append(t)
        t, models["popularity(1)"] = _time_ours(train, args.epochs, args.threads,
                                                rs.samplers.Popularity(1.0))
        times["popularity(1)"].append(t)
        t, models["dns(16)"] = _time_ours(train, args.epochs, args.threads,
                                          rs.samplers.DNS(candidates=16))
        times["dns(16)"].append(t)
    median = {k: statistics.median(v) for k, v in times.items()}

    # implicit's best NDCG@10 over a small grid (chosen on test: its advantage)
    grid = [(0.01, 0.01), (0.05, 0.01)] if args.quick else \
        [(lr, reg) for lr in (0.01, 0.05, 0.1) for reg in (0.001, 0.01, 0.1)]
    best = (-1.0, None)
    for lr, reg in grid:
        _, m = _time_implicit(train, 64, lr, reg, args.epochs, args.threads)
        score = _ndcg10(m, train, test)
        print(f"  implicit lr={lr:<5} reg={reg:<6} NDCG@10 {score:.4f}")
        if score > best[0]:
            best = (score, (lr, reg))

    print()
    print("| library / sampler | pairs per second | ratio to implicit | NDCG@10 |")
    print("|---|---:|---:|---:|")
    print(f"| implicit BPR (lr={best[1][0]}, reg={best[1][1]}: best of its grid) | "
          f"{pairs / median['implicit']:,.0f} | 1.00 | {best[0]:.4f} |")
    for name in ("uniform", "popularity(1)", "dns(16)"):
        ratio = median["implicit"] / median[name]
        print(f"| recsample BPR, {name} | {pairs / median[name]:,.0f} | {ratio:.2f} | "
              f"{_ndcg10(models[name], train, test):.4f} |")
    print()
    print(f"DNS(16) epoch cost / uniform epoch cost: {median['dns(16)'] / median['uniform']:.2f}")
    print("(throughput of implicit measured at lr=0.05, reg=0.01; its speed does not depend "
          "on them)")


if __name__ == "__main__":
    main()
