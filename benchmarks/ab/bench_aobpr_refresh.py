"""How much of AOBPR's epoch is its refresh, and what its draws cost without it.

    python benchmarks/ab/bench_aobpr_refresh.py [--data movielens|gowalla]
        [--threads 2] [--epochs 6] [--rounds 3]

Per round: an epoch of BPR with uniform sampling and one with AOBPR (fastest
epoch after the first, ``common.fastest_epoch``), and the fastest of 20 calls
of ``rebuild_orderings`` on random normal item factors of the same shape
(the trained ones sort in about the same time). The trainer
rebuilds the orderings at every epoch's start and then after every
``refresh_interval`` draws, so an epoch holds ceil(blocks / blocks per
refresh) rebuilds; AOBPR's cost without them is its epoch less that many
rebuilds, over uniform's epoch.
"""
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
from recsample.models.base import BLOCK_SIZE  # noqa: E402
from recsample.samplers import AOBPR, Uniform  # noqa: E402
from recsample.samplers.aobpr import rebuild_orderings  # noqa: E402
from recsample.samplers.base import as_csr  # noqa: E402


def rebuilds_per_epoch(sampler, train):
    csr = as_csr(train, "train")
    state = sampler.prepare(csr, n_factors=64)
    per_refresh = max(1, -(-sampler.refresh_interval(state) // BLOCK_SIZE))
    return math.ceil(math.ceil(csr.nnz / BLOCK_SIZE) / per_refresh)


def rebuild_seconds(n_items, threads):
    numba.set_num_threads(threads)
    V = np.random.default_rng(0).standard_normal((n_items, 65)).astype(np.float32)
    order = np.zeros((65, n_items), np.int32)
    spread = np.zeros(65)
    rebuild_orderings(V, order, spread)   # compiles or loads
    times = []
    for _ in range(20):
        t = time.perf_counter()
        rebuild_orderings(V, order, spread)
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    ap = common.parser(__doc__)
    common.add_timing_args(ap, epochs=6, rounds=3)
    args = ap.parse_args()
    train = common.training_set(ap, args)
    n = rebuilds_per_epoch(AOBPR(), train)
    n_items = as_csr(train, "train").shape[1]
    print(f"{args.data}: {n} rebuild(s) of the orderings per epoch, {args.threads} threads")
    for _ in range(args.rounds):
        base = common.fastest_epoch(train, Uniform(), args.epochs, args.threads)
        full = common.fastest_epoch(train, AOBPR(), args.epochs, args.threads)
        rebuild = rebuild_seconds(n_items, args.threads)
        print(f"uniform {1e3 * base:.1f} ms, AOBPR {1e3 * full:.1f} ms ({full / base:.2f}x), "
              f"one rebuild {1e3 * rebuild:.1f} ms; AOBPR without its rebuilds "
              f"{(full - n * rebuild) / base:.2f}x uniform")


if __name__ == "__main__":
    main()
