"""Seconds per BPR epoch with each sampler, relative to uniform sampling.

    python benchmarks/peers/bench_samplers.py [--epochs 4] [--rounds 3]
        [--gowalla-path DIR] [--threads N] [--samplers "warp|aobpr"]

Per data set, ``--rounds`` rounds; each round fits uniform and then every
sampler (BPR with 64 factors + bias, one negative per positive, all threads
by default). The first epoch of a fit compiles (or loads from the cache) and
is left out; a fit's figure is the fastest of its remaining epochs. A
sampler's ratio is taken against the uniform fit of the same round, and the
table gives the median ratio over the rounds with its range: on a shared
machine whose speed drifts within minutes, a ratio of two fits made a minute
apart is steadier than either time. The epoch time includes the
sampler's refreshes (AOBPR's orderings, SRNS's score records), which ``fit``
runs between chunks of blocks and at the epoch's end. Data: movielens-small's
80% training split and the gowalla training file (``train.txt`` of the
NGCF/LightGCN split, read by ``rs.load_dataset("gowalla", path=...)``);
gowalla is skipped when the folder is missing. The samplers are those of
``common.samplers()``.
"""
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402

SAMPLERS = common.samplers()


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    common.add_gowalla_path(ap)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--samplers", default=None,
                    help="names of common.samplers(), separated by | (uniform is always run)")
    args = ap.parse_args()
    threads = args.threads or numba.config.NUMBA_NUM_THREADS
    datasets = {"movielens-small 80%": common.train_test("movielens-small")[0]}
    if (Path(args.gowalla_path) / "train.txt").is_file():
        datasets["gowalla train"] = common.train_test("gowalla", args.gowalla_path)[0]
    else:
        print(f"gowalla not found at {args.gowalla_path}: skipped")
    print(f"BPR, 64 factors, {threads} threads, fastest of epochs 2-{args.epochs}, "
          f"median of {args.rounds} rounds")
    print("| data | sampler | seconds / epoch | x uniform | range |")
    print("|---|---|---:|---:|---|")
    names = list(SAMPLERS) if args.samplers is None else \
        ["uniform"] + [n.strip() for n in args.samplers.split("|") if n.strip() != "uniform"]
    for dname, train in datasets.items():
        seconds = {name: [] for name in names}
        for _ in range(args.rounds):
            for name in names:
                seconds[name].append(
                    common.fastest_epoch(train, SAMPLERS[name](), args.epochs, threads))
        base = np.array(seconds["uniform"])
        for name in names:
            s = np.array(seconds[name])
            ratio = s / base
            print(f"| {dname} | {name} | {np.median(s):.3f} | {np.median(ratio):.2f} | "
                  f"{ratio.min():.2f}-{ratio.max():.2f} |", flush=True)


if __name__ == "__main__":
    main()
