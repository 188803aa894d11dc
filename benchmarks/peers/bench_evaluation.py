"""Full-ranking evaluation speed and memory, against the bare score computation
and against implicit's ndcg_at_k on the same factors, in the same run.

    python benchmarks/peers/bench_evaluation.py            # movielens-small + 100,000 x 20,000
    python benchmarks/peers/bench_evaluation.py --quick    # movielens-small + 20,000 x 20,000

Every measurement runs in its own subprocess so that its peak memory can be
read from /proc/self/status (VmHWM; tracemalloc does not see BLAS or Numba
allocations). The peak is reset after the data are built and the compilers
warmed up, so "extra MB" is what the measured call adds on top of the data,
the factors and the loaded code.

Methods:
  bare      numpy float32 U[block] @ V.T for every user, in the same blocks as
            ours and into one reused buffer: nothing else (the floor)
  ours      recsample.evaluate, six metrics (precision, recall, ndcg, map, mrr,
            hit_rate) at k = 10 and 20, training items excluded
  implicit  implicit.evaluation.ndcg_at_k (one metric, K=10) on an
            AlternatingLeastSquares object holding the same factors
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402

SIX = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate")
FACTORS = 64


# ----------------------------------------------------------------- the data
def holdout(matrix: sp.csr_matrix, fraction=0.2, seed=0):
    """Each interaction goes to test with probability ``fraction``."""
    rng = np.random.default_rng(seed)
    coo = matrix.tocoo()
    to_test = rng.random(coo.nnz) < fraction
    def part(mask):
        m = sp.csr_matrix((np.ones(mask.sum(), np.float32), (coo.row[mask], coo.col[mask])),
                          shape=matrix.shape)
        m.sort_indices()
        return m
    return part(~to_test), part(to_test)


def build(name, quick):
    if name == "movielens-small":
        matrix = common.load("movielens-small").matrix
    else:
        n_users, nnz = (20_000, 1_000_000) if quick else (100_000, 5_000_000)
        matrix = common.load("synthetic", n_users=n_users, n_items=20_000, nnz=nnz,
                             seed=0).matrix
    train, test = holdout(matrix)
    rng = np.random.default_rng(1)
    U = (rng.standard_normal((matrix.shape[0], FACTORS)) / 8).astype(np.float32)
    V = (rng.standard_normal((matrix.shape[1], FACTORS)) / 8).astype(np.float32)
    return train, test, U, V


# ------------------------------------------------------------- measurement
def worker(name, method, quick, repeats):
    from recsample.evaluation import evaluate
    from recsample.evaluation.topk import block_rows, factor_blocks

    train, test, U, V = build(name, quick)
    rows = block_rows(V.shape[0], 4)
    users = np.arange(U.shape[0])
    if method == "bare":
        def run():
            for _ in factor_blocks(U, V, users, rows):
                pass
    elif method == "ours":
        model = common.Factors(U, V)
        small = common.Factors(U[:64], V)
        # compile (or load from the cache) outside the timing
        evaluate(small, test[:64], train=train[:64], k=(10, 20), metrics=SIX)

        def run():
            return evaluate(model, test, train=train, k=(10, 20), metrics=SIX)
    else:
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.evaluation import ndcg_at_k
        model = AlternatingLeastSquares(factors=FACTORS)
        model.user_factors, model.item_factors = U, V

        def run():
            return ndcg_at_k(model, train, test, K=10, show_progress=False, num_threads=0)
    # reset the peak to the current size: what follows is the call's own
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    base = common.proc_status_mb("VmRSS")
    times = []
    result = None
    for _ in range(repeats):
        t = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - t)
    extra = (common.proc_status_mb("VmHWM") - base) * 2**20
    value = None
    if method == "ours":
        value = float(result.per_user[("ndcg", 10)].mean())
    elif method == "implicit":
        value = float(result)
    print(json.dumps({"seconds": min(times), "all": times, "extra_bytes": extra,
                      "ndcg10": value, "users": int(U.shape[0]), "items": int(V.shape[0]),
                      "nnz": int(train.nnz + test.nnz), "block_rows": rows}))


def measure(name, method, quick, repeats):
    out = subprocess.run([sys.executable, __file__, "--worker", name, method, str(repeats)]
                         + (["--quick"] if quick else []),
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{name}/{method} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def thread_info():
    import numba
    from threadpoolctl import threadpool_info
    blas = [f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info()
            if i["user_api"] == "blas"]
    return (f"cores {os.cpu_count()}, numba {numba.get_num_threads()} threads "
            f"({numba.config.THREADING_LAYER}), BLAS: {', '.join(blas) or 'unknown'}")


def main():
    ap = common.parser(__doc__)
    ap.add_argument("--quick", action="store_true", help="20,000 users instead of 100,000")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--no-implicit", action="store_true",
                    help="skip implicit on the large synthetic set (it is the slow part)")
    args = ap.parse_args()
    if args.worker:
        name, method, repeats = args.worker
        worker(name, method, args.quick, int(repeats))
        return
    import numpy
    print(f"numpy {numpy.__version__}; {thread_info()}")
    print("times are the best of the repeats; the machine may be shared, so expect noise\n")
    header = (f"{'data':<26}{'method':<10}{'seconds':>9}{'extra MB':>10}"
              f"{'ours/bare':>11}{'implicit/ours':>15}{'ndcg@10':>9}")
    print(header)
    print("-" * len(header))
    big = "synthetic " + ("20k x 20k" if args.quick else "100k x 20k")
    for name, repeats in (("movielens-small", 5), (big, 2 if not args.quick else 3)):
        key = "movielens-small" if name == "movielens-small" else "synthetic"
        res = {}
        for method in ("bare", "ours", "implicit"):
            if method == "implicit" and key == "synthetic" and args.no_implicit:
                continue
            res[method] = measure(key, method, args.quick, 1 if method == "implicit" else repeats)
        for method, r in res.items():
            ratio_bare = r["seconds"] / res["bare"]["seconds"] if method == "ours" else None
            ratio_impl = (res["implicit"]["seconds"] / res["ours"]["seconds"]
                          if method == "implicit" else None)
            label = f"{name} ({r['users']:,}x{r['items']:,})" if method == "bare" else ""
            print(f"{label:<26}{method:<10}{r['seconds']:>9.3f}{r['extra_bytes'] / 2**20:>10.1f}"
                  f"{'' if ratio_bare is None else f'{ratio_bare:.2f}x':>11}"
                  f"{'' if ratio_impl is None else f'{ratio_impl:.1f}x':>15}"
                  f"{'' if r['ndcg10'] is None else format(r['ndcg10'], '.4f'):>9}")
    print("\nours: 6 metrics x k in (10, 20); implicit: ndcg@10 only. Targets: ours/bare <= 1.5 "
          "at 100k x 20k, implicit/ours >= 5 on movielens-small, extra < 1024 MB.")
    print("ndcg@10 is the mean over the users each tool evaluates, printed as a sanity check.")


if __name__ == "__main__":
    main()
