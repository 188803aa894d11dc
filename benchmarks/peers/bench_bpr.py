"""recsample's BPR against implicit's BPR: same data, factors, epochs, threads.

    python benchmarks/peers/bench_bpr.py [--threads 2] [--epochs 35] [--repeats 5] [--quick]

Data: movielens-small (ratings as implicit feedback), random 80/20 split per
user, seed 0. Both libraries train one (positive, negative) pair per training
positive per epoch, 64 factors plus an item-bias column. Throughput is pairs
per second of wall time for the whole ``fit`` (compilation excluded by a
warm-up fit), the median of ``--repeats`` interleaved rounds. The ratio to
implicit is computed within each round (its fit and ours run back to back)
and the median and range over rounds are shown: on a shared virtual machine
the speed of both drifts by up to 2x over minutes, and a ratio taken within
a round cancels most of that. NDCG@10 is
recsample's full-ranking definition (training items excluded) for both.

implicit's grid picks its best learning rate and regularization on the *test*
split, which favours implicit; recsample runs with its defaults (chosen on a
validation split by benchmarks/studies/tune_defaults.py).

implicit draws each epoch nnz (positive, negative) samples: the positive is a
random stored entry, the negative the item of another random stored entry
(popularity-proportional, alpha = 1), and with ``verify_negative_samples`` a
sample whose negative is one of the user's positives is *skipped*, not redrawn.
Its pairs actually trained per epoch are therefore nnz * (1 - skip rate); the
skip rate's expectation, sum over stored (u, i) of (1/nnz) * P(item of a random
entry is in I_u), is computed exactly from the data (``common.implicit_skip_rate``)
and printed. Both its
nominal and its trained-pair throughput are shown; ratios use trained pairs.
recsample trains exactly nnz pairs per epoch (a rejected draw is redrawn).
recsample's uniform sampler and its ``Popularity(alpha=1)`` are both shown.
"""
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def _time_implicit(train, factors, lr, reg, epochs, threads):
    model = common.implicit_bpr(factors, epochs, threads, learning_rate=lr, regularization=reg)
    t0 = time.perf_counter()
    model.fit(train.matrix, show_progress=False)
    return time.perf_counter() - t0, model


def _time_ours(train, epochs, threads, sampler="uniform", **params):
    # every sampler at the trainer's own rate and decay (no sampler's
    # recommendation), so that the rows differ by the sampler alone
    fixed = {k: rs.BPR.trainer_defaults[k] for k in ("learning_rate", "regularization")}
    model = rs.BPR(factors=64, epochs=epochs, n_threads=threads, sampler=sampler,
                   **{**fixed, **params})
    t0 = time.perf_counter()
    model.fit(train, progress=False)
    return time.perf_counter() - t0, model


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=rs.BPR.trainer_defaults["epochs"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 repeat, a 2-point implicit grid")
    args = ap.parse_args()
    if args.quick:
        args.repeats = 1

    common.one_blas_thread()
    train, test = common.train_test("movielens-small")
    pairs = train.nnz * args.epochs
    print(f"movielens-small train: {train}; {args.epochs} epochs, {args.threads} threads, "
          f"{pairs:,} pairs per fit")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"{datetime.date.today()}")

    # warm-up: compile every kernel outside the timings
    for sampler in ("uniform", "dns", rs.samplers.Popularity(1.0)):
        rs.BPR(factors=8, epochs=1, n_threads=args.threads, sampler=sampler).fit(train, progress=False)
    common.implicit_bpr(8, 1, args.threads).fit(train.matrix, show_progress=False)

    # throughput, interleaved so that machine noise hits both alike
    implicit_defaults = dict(lr=0.05, reg=0.01)
    times = {"implicit": [], "uniform": [], "uniform, visit user": [], "popularity(1)": [],
             "dns(16)": [], "dns(16), visit user": []}
    models = {}
    for _ in range(args.repeats):
        t, models["implicit"] = _time_implicit(train, 64, implicit_defaults["lr"],
                                               implicit_defaults["reg"], args.epochs, args.threads)
        times["implicit"].append(t)
        t, models["uniform"] = _time_ours(train, args.epochs, args.threads)
        times["uniform"].append(t)
        t, models["uniform, visit user"] = _time_ours(train, args.epochs, args.threads,
                                                      visit="user")
        times["uniform, visit user"].append(t)
        t, models["popularity(1)"] = _time_ours(train, args.epochs, args.threads,
                                                rs.samplers.Popularity(1.0))
        times["popularity(1)"].append(t)
        t, models["dns(16)"] = _time_ours(train, args.epochs, args.threads,
                                          rs.samplers.DNS(candidates=16))
        times["dns(16)"].append(t)
        t, models["dns(16), visit user"] = _time_ours(train, args.epochs, args.threads,
                                                      rs.samplers.DNS(candidates=16), visit="user")
        times["dns(16), visit user"].append(t)
    median = {k: statistics.median(v) for k, v in times.items()}
    skip = common.implicit_skip_rate(train.matrix)
    trained = pairs * (1 - skip)

    def ratios(name):
        """Our pairs/s over implicit's trained pairs/s, round by round."""
        return sorted((pairs / t) / (trained / ti) for t, ti in zip(times[name], times["implicit"]))

    # implicit's best NDCG@10 over a small grid (chosen on test: its advantage)
    grid = [(0.01, 0.01), (0.05, 0.01)] if args.quick else \
        [(lr, reg) for lr in (0.01, 0.05, 0.1) for reg in (0.001, 0.01, 0.1)]
    best = (-1.0, None)
    for lr, reg in grid:
        _, m = _time_implicit(train, 64, lr, reg, args.epochs, args.threads)
        score = common.mean_metric(m, test, train)
        print(f"  implicit lr={lr:<5} reg={reg:<6} NDCG@10 {score:.4f}")
        if score > best[0]:
            best = (score, (lr, reg))

    print(f"\nimplicit skip rate (expected): {skip:.1%}; its trained pairs per fit: {trained:,.0f}")
    print("| library / sampler | pairs trained per second | ratio to implicit: median (range) "
          "| NDCG@10 |")
    print("|---|---:|---:|---:|")
    print(f"| implicit BPR (lr={best[1][0]}, reg={best[1][1]}: best of its grid) | "
          f"{trained / median['implicit']:,.0f} (nominal {pairs / median['implicit']:,.0f}) | "
          f"1.00 | {best[0]:.4f} |")
    for name in ("uniform", "uniform, visit user", "popularity(1)", "dns(16)",
                 "dns(16), visit user"):
        r = ratios(name)
        print(f"| recsample BPR, {name} | {pairs / median[name]:,.0f} | "
              f"{statistics.median(r):.2f} ({r[0]:.2f}-{r[-1]:.2f}) | "
              f"{common.mean_metric(models[name], test, train):.4f} |")
    print()
    dns = sorted(d / u for d, u in zip(times["dns(16)"], times["uniform"]))
    print(f"DNS(16) epoch cost / uniform epoch cost: median {statistics.median(dns):.2f} "
          f"(range {dns[0]:.2f}-{dns[-1]:.2f} over {len(dns)} rounds)")
    print("(throughput of implicit measured at lr=0.05, reg=0.01; its speed does not depend "
          "on them)")


if __name__ == "__main__":
    main()
