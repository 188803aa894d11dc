"""Seconds per BPR epoch with each sampler, relative to uniform sampling.

    python benchmarks/bench_samplers.py [--epochs 4] [--rounds 3] [--gowalla PATH]
        [--threads N] [--samplers "warp|aobpr"]

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
NGCF/LightGCN split, lines ``user item item ...``), read by the small loader
below; gowalla is skipped when the folder is missing.
"""
import argparse
from pathlib import Path

import numba
import numpy as np
import scipy.sparse as sp

import recsample as rs
from recsample.samplers import AOBPR, DNS, KOS, NBPO, SRNS, WARP, Importance, Popularity, Uniform

GOWALLA = Path(__file__).resolve().parents[2] / "shared" / "data" / "gowalla"

SAMPLERS = {
    "uniform": Uniform,
    "popularity": Popularity,
    "dns (N=16)": lambda: DNS(candidates=16),
    "dns(M=4, N=16)": lambda: DNS(candidates=16, hardest=4),
    "softmax-v(rho=1, N=16)": lambda: DNS(candidates=16, rho=1.0),
    "nbpo": lambda: NBPO(lambda_phi=0.01),
    "warp": WARP,
    "aobpr": AOBPR,
    "srns": SRNS,
    "importance (uniform q)": Importance,
    "importance (popularity q)": lambda: Importance(proposal="popularity"),
    "kos (K=10, k=5)": KOS,
}


def load_gowalla(folder):
    """The training file as Interactions (users x items, ids as in the file)."""
    rows, cols = [], []
    with open(Path(folder) / "train.txt") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            items = np.array(parts[1:], dtype=np.int64)
            rows.append(np.full(items.shape[0], int(parts[0]), dtype=np.int64))
            cols.append(items)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    m = sp.csr_matrix((np.ones(rows.shape[0], np.float32), (rows, cols)),
                      shape=(rows.max() + 1, cols.max() + 1))
    m.sum_duplicates()
    m.data[:] = 1.0
    return rs.Interactions.from_csr(m)


def epoch_seconds(train, sampler, epochs, threads):
    model = rs.BPR(factors=64, epochs=epochs, sampler=sampler, seed=0, n_threads=threads,
                   learning_rate=0.01 if isinstance(sampler, WARP) else 0.05)
    model.fit(train, progress=False)
    return min(h["seconds"] for h in model.history_[1:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--gowalla", default=str(GOWALLA))
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--samplers", default=None,
                    help="names of the table above, separated by | (uniform is always run)")
    args = ap.parse_args()
    threads = args.threads or numba.config.NUMBA_NUM_THREADS
    ml = rs.load_dataset("movielens-small")
    datasets = {"movielens-small 80%": rs.split.random_holdout(ml, test_fraction=0.2,
                                                               seed=0)[0]}
    if (Path(args.gowalla) / "train.txt").is_file():
        datasets["gowalla train"] = load_gowalla(args.gowalla)
    else:
        print(f"gowalla not found at {args.gowalla}: skipped")
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
                seconds[name].append(epoch_seconds(train, SAMPLERS[name](), args.epochs, threads))
        base = np.array(seconds["uniform"])
        for name in names:
            s = np.array(seconds[name])
            ratio = s / base
            print(f"| {dname} | {name} | {np.median(s):.3f} | {np.median(ratio):.2f} | "
                  f"{ratio.min():.2f}-{ratio.max():.2f} |", flush=True)


if __name__ == "__main__":
    main()
