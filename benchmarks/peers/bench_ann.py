"""Approximate top-k (recsample.ann.ItemIndex) against the exact top-k, on a
synthetic catalogue of a million items.

    python benchmarks/peers/bench_ann.py                      # 1,000,000 items, 2,000 users
    python benchmarks/peers/bench_ann.py --items 100000 --quick

Everything is measured in one run, on the same factors:

  exact      recsample.evaluation.topk.topk over the whole catalogue: one
             user per call (as a server answers a request), and all query
             users in one call (blocks of users through BLAS, for reference)
  numpy      the floor of an exact scan, one user per call: V @ u, then
             np.argpartition and a sort of the k best (no input checks, no
             exclusions, no tie rule)
  ItemIndex  build time, the size of the faiss index (bytes of
             faiss.serialize_index), then for each ef_search: queries per
             second one user per call and all users in one call, and
             recall@10 against the exact lists (the share of each exact
             top-10 found in the approximate one, averaged over users)

"x exact" is the index's one-user-per-call rate over the exact one-user
rate of topk, "x numpy" over that of the numpy floor. Exact rates are
measured on the first --exact-single users; the index's one-user rates on
the first --single users. faiss runs its own threads (all cores) for
batched queries; a one-user query runs on one.

Data (64 factors plus a bias column; users' last column 1, items' the bias):

  structured  shaped after a BPR model of movielens-small (64 factors,
              library defaults, seed 0), whose statistics it reproduces:
              item directions are drawn around 1,000 cluster centres
              (cluster sizes Zipf, exponent 0.7) with a decaying spectrum
              (coordinate j of the centres and of the noise scaled by
              j^-0.5, then a random rotation) and a small shared direction;
              every item gets a popularity quantile (a random permutation),
              and its norm and bias follow that model's medians per
              popularity band (NORM_AT, BIAS_AT: norms 1.15-1.96, biases
              -0.8 to 2.2, both rising with popularity as in the trained
              model; Spearman correlation of norm and bias 0.85, 0.93 in
              the trained model) with noise. Users mix two cluster
              centres plus noise, lean away from the shared direction (as
              BPR users do, cosine about -0.36), norms log-normal around
              2.4. Scores then span about -2.6 to 2.8 (1st-99th
              percentile) with a top-1 score around 4.6, near the trained
              model's -2.1 to 3.7 and 4.9.
  gaussian    plain i.i.d. Gaussian factors (items' norm about 1.5,
              users' 2.4) and a Gaussian bias (sd 0.5): no structure, the
              hard case for any graph index.

Prints a markdown table with the date, the machine and the load average
(the machine may be shared).
"""
from __future__ import annotations

import datetime
import gc
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402

# Medians of the item norms (factor columns) and of the item biases of a BPR
# model of movielens-small (64 factors, defaults, seed 0), by popularity
# quantile (0 = the most popular item), read off the trained model.
Q_KNOTS = [0.0, 0.005, 0.03, 0.1, 0.22, 0.4, 0.62, 0.87, 1.0]
NORM_AT = [1.88, 1.88, 1.92, 1.96, 1.85, 1.61, 1.32, 1.18, 1.15]
BIAS_AT = [2.2, 1.92, 1.42, 0.82, 0.2, -0.26, -0.6, -0.73, -0.8]


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def structured(n_items, n_users, factors=64, seed=0, n_clusters=1000):
    """(U, V) float32 with a bias column, shaped after a trained model (see
    the module's docstring)."""
    rng = np.random.default_rng(seed)
    rot, _ = np.linalg.qr(rng.standard_normal((factors, factors)))
    scale = np.arange(1, factors + 1) ** -0.5
    scale /= np.sqrt((scale ** 2).sum())
    centres = _unit(rng.standard_normal((n_clusters, factors)) * scale)
    shared = _unit(rng.standard_normal((1, factors)) * scale)[0]
    sizes = 1.0 / np.arange(1, n_clusters + 1) ** 0.7
    sizes /= sizes.sum()
    V = np.empty((n_items, factors + 1), np.float32)
    U = np.empty((n_users, factors + 1), np.float32)
    quantile = (rng.permutation(n_items) + 0.5) / n_items
    step = 1 << 18
    for s in range(0, n_items, step):
        m = min(step, n_items - s)
        members = rng.choice(n_clusters, size=m, p=sizes)
        d = _unit(centres[members] + 0.9 * rng.standard_normal((m, factors)) * scale)
        d = _unit(d + 0.12 * shared)
        norm = np.interp(quantile[s:s + m], Q_KNOTS, NORM_AT) * rng.lognormal(0.0, 0.08, m)
        V[s:s + m, :-1] = (d * norm[:, None]) @ rot
    V[:, -1] = np.interp(quantile, Q_KNOTS, BIAS_AT) + rng.normal(0.0, 0.15, n_items)
    members = rng.choice(n_clusters, size=(n_users, 2), p=sizes)
    mix = rng.dirichlet([1.0, 1.0], size=n_users)
    x = mix[:, :1] * centres[members[:, 0]] + mix[:, 1:] * centres[members[:, 1]]
    d = _unit(_unit(x + 0.6 * rng.standard_normal((n_users, factors)) * scale) - 0.45 * shared)
    U[:, :-1] = (d * rng.lognormal(np.log(2.4), 0.18, size=(n_users, 1))) @ rot
    U[:, -1] = 1.0
    return U, V


def gaussian(n_items, n_users, factors=64, seed=0):
    """(U, V) float32: i.i.d. Gaussian factors and bias, no structure."""
    rng = np.random.default_rng(seed)
    V = np.empty((n_items, factors + 1), np.float32)
    V[:, :-1] = rng.standard_normal((n_items, factors), dtype=np.float32) * (1.5 / np.sqrt(factors))
    V[:, -1] = rng.normal(0.0, 0.5, n_items)
    U = np.empty((n_users, factors + 1), np.float32)
    U[:, :-1] = rng.standard_normal((n_users, factors)) * (2.4 / np.sqrt(factors))
    U[:, -1] = 1.0
    return U, V


def recall_at(approx, exact):
    k = exact.shape[1]
    return float(np.mean([len(set(a.tolist()) & set(e.tolist())) / k
                          for a, e in zip(approx, exact)]))


def one_by_one(call, n):
    """Queries per second of ``call(u)`` for u = 0..n-1, one after the other."""
    call(0)
    t = time.perf_counter()
    for u in range(n):
        call(u)
    return n / (time.perf_counter() - t)


def run(kind, args, out):
    import faiss

    from recsample.ann import ItemIndex
    from recsample.evaluation.topk import topk
    t = time.perf_counter()
    U, V = {"structured": structured, "gaussian": gaussian}[kind](args.items, args.users,
                                                                  args.factors, args.seed)
    print(f"# {kind}: {args.items:,} items x {V.shape[1]} in {time.perf_counter() - t:.1f} s",
          flush=True)
    users = np.arange(args.users)
    topk(U, V, users[:2], args.k)       # compiled or loaded from the cache
    t = time.perf_counter()
    exact, _ = topk(U, V, users, args.k)
    exact_batch = args.users / (time.perf_counter() - t)
    exact_one = one_by_one(lambda u: topk(U, V, users[u:u + 1], args.k), args.exact_single)

    def floor(u):
        s = V @ U[u]
        best = np.argpartition(-s, args.k)[:args.k]
        return best[np.argsort(-s[best])]
    numpy_one = one_by_one(floor, args.exact_single)
    out.append((kind, "exact (topk)", "", "", "", "", "", 1.0, exact_one, exact_batch))
    out.append((kind, "exact (numpy floor)", "", "", "", "", "", 1.0, numpy_one, None))
    print(f"  exact: {exact_one:,.1f} q/s one user per call, {exact_batch:,.1f} q/s batched; "
          f"numpy floor {numpy_one:,.1f} q/s one user per call", flush=True)
    model = common.Factors(U, V)
    for mips in args.mips:
        t = time.perf_counter()
        index = ItemIndex.build(model, M=args.M, ef_construction=args.ef_construction, mips=mips)
        build = time.perf_counter() - t
        size = faiss.serialize_index(index.faiss_index).nbytes
        print(f"  {mips}: built in {build:.1f} s, {size / 2**20:,.0f} MiB", flush=True)

        def one_user(u, index=index):
            return index.recommend(users[u:u + 1], k=args.k)
        for ef in args.ef:
            index.ef_search = ef
            t = time.perf_counter()
            items, _ = index.recommend(users, k=args.k)
            batch = args.users / (time.perf_counter() - t)
            one = one_by_one(one_user, args.single)
            rec = recall_at(items, exact)
            out.append((kind, f"ItemIndex {mips}", args.M, args.ef_construction, f"{build:.0f}",
                        f"{size / 2**20:,.0f}", ef, rec, one, batch))
            print(f"    ef_search {ef}: recall@{args.k} {rec:.4f}, {one:,.0f} q/s one user "
                  f"per call ({one / exact_one:.0f}x exact), {batch:,.0f} q/s batched", flush=True)
        index = one_user = None       # free the graph before the next build
        gc.collect()


def main(argv=None):
    ap = common.parser(__doc__)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--users", type=int, default=2_000)
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--M", type=int, default=32)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", type=int, nargs="+", default=[32, 64, 128, 256, 512, 1024])
    ap.add_argument("--mips", nargs="+", default=["l2_reduction", "inner_product"])
    ap.add_argument("--data", nargs="+", default=["structured", "gaussian"])
    ap.add_argument("--single", type=int, default=300,
                    help="users timed one per call on the index")
    ap.add_argument("--exact-single", type=int, default=100,
                    help="users timed one per call on the exact top-k")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="ef 64 and 256, 100 single users")
    args = ap.parse_args(argv)
    if args.quick:
        args.ef, args.single, args.exact_single = [64, 256], 100, 30
    import faiss
    load = os.getloadavg()
    print(f"{datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores, "
          f"faiss {faiss.__version__}, numpy {np.__version__}; load average at start "
          f"{load[0]:.2f}", flush=True)
    rows = []
    for kind in args.data:
        run(kind, args, rows)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}\n")
    print(f"{args.items:,} items x {args.factors} factors + bias, {args.users:,} query users, "
          f"k = {args.k}; {datetime.date.today()}, {platform.machine()}, "
          f"{os.cpu_count()} cores\n")
    print("| data | method | M | ef_construction | build (s) | index (MiB) | ef_search | "
          f"recall@{args.k} | q/s, 1 user per call | q/s, batched | x exact | x numpy |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    exact = {r[0]: r[8] for r in rows if r[1] == "exact (topk)"}
    floor = {r[0]: r[8] for r in rows if r[1] == "exact (numpy floor)"}
    for kind, method, M, efc, build, size, ef, rec, one, batch in rows:
        batch = "" if batch is None else f"{batch:,.0f}"
        print(f"| {kind} | {method} | {M} | {efc} | {build} | {size} | {ef} | {rec:.3f} | "
              f"{one:,.0f} | {batch} | {one / exact[kind]:.1f} | {one / floor[kind]:.1f} |")


if __name__ == "__main__":
    main()
