"""Nanoseconds per trained pair inside the compiled epoch loop, per sampler.

    python benchmarks/ab/bench_kernel.py [--rounds 20] [--threads 1 2]

Calls the trainers' epoch kernel (``recsample.models._train.run_blocks``)
directly, so Python-side costs of ``fit`` (initialisation, per-epoch checks)
are left out, on two data sets: a tiny one whose factors fit in a core's L2
cache (400 users x 400 items, 20,000 positives: what the loop costs when no
memory stalls) and movielens-small's 80% training split (671 x 9,066,
80,001 positives). BPR, 64 factors + bias, one negative per positive, shuffled
blocks. Samplers and thread counts are interleaved round by round; the
minimum over rounds is the least disturbed measurement on a shared machine,
and the median is printed beside it. Use it when changing the loop: compare
runs of the same build first to learn the noise.
"""
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
from recsample._optim import make_optim  # noqa: E402
from recsample.losses import Hyper, pair_loss_state  # noqa: E402
from recsample.models import _train  # noqa: E402
from recsample.models.base import BLOCK_SIZE as BLOCK, _packed_positives  # noqa: E402
from recsample.samplers import get_sampler  # noqa: E402
from recsample.samplers.base import positives_of  # noqa: E402


def epoch_runner(matrix, sampler, factors=64, seed=0):
    pos = positives_of(matrix)
    order = _packed_positives(matrix)
    np.random.default_rng(seed).shuffle(order)
    state = get_sampler(sampler).prepare(matrix, n_factors=factors, seed=seed)
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.1, (matrix.shape[0], factors + 1)).astype(np.float32)
    V = rng.normal(0, 0.1, (matrix.shape[1], factors + 1)).astype(np.float32)
    U[:, factors] = 1.0
    n_blocks = (order.shape[0] + BLOCK - 1) // BLOCK
    blocks = np.arange(n_blocks, dtype=np.int64)
    # what BPR.fit hands the loop: the pair loss, plain SGD, BPR's defaults
    loss = pair_loss_state("bpr")
    opt = make_optim("sgd", U, V)
    hp = Hyper(0.05, 0.01, 0.01, 0.01, 0.0, factors, True, 1, False)
    out = np.zeros((n_blocks, 4))
    epoch = [0]

    def run():
        epoch[0] += 1
        _train.run_blocks(state, loss, pos, order, blocks, BLOCK, U, V, opt, hp, 1, True,
                          seed, epoch[0], out)
    return run, order.shape[0]


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    ml_train, _ = common.train_test("movielens-small")
    datasets = {"tiny 400 x 400": common.load("synthetic", n_users=400, n_items=400,
                                              nnz=20_000, seed=0).matrix,
                "movielens-small 80%": ml_train.matrix}
    cases = {}
    for dname, m in datasets.items():
        for sampler in ("uniform", "popularity", "dns"):
            run, n = epoch_runner(m, sampler)
            for threads in args.threads:
                cases[(dname, sampler, threads)] = (run, n)
    times = {key: [] for key in cases}
    before = numba.get_num_threads()
    try:
        for key, (run, _) in cases.items():  # compile and warm up
            numba.set_num_threads(key[2])
            run()
        for _ in range(args.rounds):
            for key, (run, n) in cases.items():
                numba.set_num_threads(key[2])
                t0 = time.perf_counter()
                run()
                times[key].append((time.perf_counter() - t0) / n * 1e9)
    finally:
        numba.set_num_threads(before)
    print(f"ns per trained pair, {args.rounds} interleaved rounds")
    print("| data | sampler | threads | min | median |")
    print("|---|---|---:|---:|---:|")
    for key, v in times.items():
        print(f"| {key[0]} | {key[1]} | {key[2]} | {min(v):.1f} | {statistics.median(v):.1f} |")


if __name__ == "__main__":
    main()
