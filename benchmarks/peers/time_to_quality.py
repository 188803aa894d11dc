"""Time to quality: wall seconds of training until the validation metric
first reaches implicit's best value, recsample's BPR against implicit's BPR.

    python benchmarks/peers/time_to_quality.py --dataset gowalla --path ../shared/data/gowalla
    python benchmarks/peers/time_to_quality.py --dataset movielens-small

Protocol. Validation is carved from the training data (10% of each user's
training items, seed 0); the test part is never read (gowalla: test.txt;
movielens-small: the 20% test part of the usual 80/20 split, seed 0).
implicit's BPR runs a small grid (learning rate x regularisation) for
``--epochs`` epochs; the *target* is the best validation value any of its
settings reaches at any evaluated epoch, and implicit's time to quality is the
time its best setting took to first reach it. recsample's BPR then runs with
uniform and DNS(16) negatives, each at its defaults (the sampler's recommended
learning rate and regularisation) for the same number of epochs, and its time
is the training time until it first reaches the target, or "never".

Both libraries train with the same factors and threads. The clock runs from
the call to ``fit`` (set-up included) and stops during every evaluation; the
metric is evaluated every ``--every`` epochs, so a time is that of the first
evaluated epoch at or above the target (an upper bound by up to ``--every``
epochs). Compilation is excluded by a warm-up fit. Prints a Markdown table and
writes every evaluated point to ``--out``/time_to_quality_<dataset>.csv.
"""
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


class Curve:
    """Training seconds and validation values at the evaluated epochs; the
    clock is paused while the metric is computed."""

    def __init__(self, fit, valid, metric, k, every):
        self.fit, self.valid, self.metric, self.k, self.every = fit, valid, metric, k, every
        self.points = []
        self.train_seconds = 0.0
        self.mark = None

    def start(self):
        self.mark = time.perf_counter()

    def epoch_done(self, epoch, factors, last):
        now = time.perf_counter()
        self.train_seconds += now - self.mark
        if (epoch + 1) % self.every == 0 or last:
            value = common.mean_metric(factors, self.valid, self.fit, self.metric, self.k)
            self.points.append((epoch + 1, self.train_seconds, value))
        self.mark = time.perf_counter()

    def first_reach(self, target):
        for epoch, seconds, value in self.points:
            if value >= target - 1e-12:
                return epoch, seconds
        return None, None

    def best(self):
        return max(self.points, key=lambda p: p[2])


def run_implicit(fit, curve, lr, reg, epochs, factors, threads):
    model = common.implicit_bpr(factors, epochs, threads, learning_rate=lr, regularization=reg)

    def callback(epoch, elapsed, *rest):
        curve.epoch_done(epoch, model, epoch + 1 == epochs)
    curve.start()
    model.fit(fit.matrix, show_progress=False, callback=callback)
    return curve


def run_recsample(fit, curve, sampler, epochs, factors, threads, **params):
    model = rs.BPR(factors=factors, epochs=epochs, n_threads=threads, sampler=sampler, **params)

    def callback(epoch, m, record, elapsed):
        curve.epoch_done(epoch, m, epoch + 1 == epochs)
    curve.start()
    model.fit(fit, callbacks=[callback], progress=False)
    return curve, model.effective_params_


def main(argv=None):
    ap = common.parser(__doc__, paragraph=True)
    common.add_dataset_args(ap, choices=["movielens-small", "gowalla"],
                            path_help="folder of the gowalla release (train.txt, test.txt; "
                                      "default: ../shared/data/gowalla)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs of every run (default: 100 on gowalla, 60 on movielens-small)")
    ap.add_argument("--every", type=int, default=None,
                    help="evaluate every N epochs (default: 2 on gowalla, 1 on movielens-small)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--quick", action="store_true", help="a two-setting implicit grid")
    ap.add_argument("--out", default=str(common.RESULTS))
    args = ap.parse_args(argv)
    gowalla = args.dataset == "gowalla"
    if gowalla and common.data_folder("gowalla", args.path) is None:
        ap.error("--path is required with --dataset gowalla (no ../shared/data/gowalla)")
    epochs = args.epochs or (100 if gowalla else 60)
    every = args.every or (2 if gowalla else 1)
    metric, k = ("recall", 20) if gowalla else ("ndcg", 10)

    common.one_blas_thread()
    # validation is carved from the training part; the test part is never read
    fit, valid = common.fit_valid(common.train_test(args.dataset, args.path)[0])
    print(f"{args.dataset}: fit {fit.nnz:,} interactions, validation {valid.nnz:,} "
          f"(test not read); {metric}@{k}; {epochs} epochs, evaluated every {every}; "
          f"{args.threads} threads; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; {datetime.date.today()}", flush=True)

    # warm-up: compile outside the clock
    small = fit.matrix[:500]
    for sampler in ("uniform", rs.samplers.DNS(candidates=16)):
        rs.BPR(factors=8, epochs=1, n_threads=args.threads, sampler=sampler).fit(
            small, progress=False)
    run_implicit(fit, Curve(fit, valid, metric, k, 1), 0.01, 0.01, 1, 8, args.threads)

    grid = [(0.01, 0.01), (0.05, 0.01)] if args.quick else \
        [(lr, reg) for lr in (0.01, 0.05, 0.1) for reg in (0.001, 0.01)]
    rows, curves = [], []
    for lr, reg in grid:
        c = run_implicit(fit, Curve(fit, valid, metric, k, every), lr, reg, epochs,
                         args.factors, args.threads)
        e, s, v = c.best()
        print(f"  implicit lr={lr} reg={reg}: best {v:.4f} at epoch {e} ({s:.1f} s)", flush=True)
        rows.append(("implicit", f"lr {lr}, reg {reg}", c))
    target_row = max(rows, key=lambda r: r[2].best()[2])
    target = target_row[2].best()[2]
    print(f"target: implicit's best, {metric}@{k} = {target:.4f} ({target_row[1]})", flush=True)

    ours = []
    for label, sampler in (("uniform", "uniform"), ("DNS(16)", rs.samplers.DNS(candidates=16))):
        c, used = run_recsample(fit, Curve(fit, valid, metric, k, every), sampler, epochs,
                                args.factors, args.threads)
        setting = f"lr {used['learning_rate']:g}, reg {used['regularization']:g}"
        e, s, v = c.best()
        print(f"  recsample {label} ({setting}): best {v:.4f} at epoch {e} ({s:.1f} s)",
              flush=True)
        ours.append((f"recsample BPR, {label}", setting, c))

    t_imp = target_row[2].first_reach(target)[1]
    print(f"\n| run | settings | best validation {metric}@{k} (epoch) | seconds to reach "
          f"{target:.4f} (epoch) | implicit's time / this |")
    print("|---|---|---:|---:|---:|")
    for name, setting, c in [target_row[:1] + target_row[1:]] + ours:
        name = "implicit BPR (its best setting)" if name == "implicit" else name
        e, s, v = c.best()
        re, rsec = c.first_reach(target)
        reach = f"{rsec:.1f} ({re})" if re is not None else "never"
        ratio = f"{t_imp / rsec:.2f}x" if re is not None else "-"
        print(f"| {name} | {setting} | {v:.4f} ({e}) | {reach} | {ratio} |")
    for name, setting, c in rows + ours:
        for e, s, v in c.points:
            curves.append({"dataset": args.dataset, "run": name, "settings": setting,
                           "epoch": e, "train_seconds": s, f"{metric}@{k}": v})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(curves).to_csv(out / f"time_to_quality_{args.dataset}.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
