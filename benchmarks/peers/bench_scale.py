"""Training cost against data size, recsample and implicit in the same run.

    python benchmarks/peers/bench_scale.py [--sizes 1e6 1e7 1e8] [--threads 2]
        [--out benchmarks/results]

For each size a power-law synthetic set (``rs.load_dataset("synthetic", ...)``
with n_users = nnz / 100 and n_items = nnz / 500, alpha 1, seed 0) is generated
once and stored as a CSR ``.npz`` in a temporary folder. Every measurement
then runs in its own process, which loads the matrix, records its resident
memory, trains one warm-up epoch on a 1,000-user slice (so compilation is not
timed), trains ``--epochs`` epochs of BPR with 64 factors on the whole set (at
least 10 million pairs: 10 epochs at 1M interactions) and
reports the seconds per epoch and its peak resident memory (VmHWM) above the
memory it had after loading the data. recsample uses its uniform sampler;
implicit its own BPR (popularity-proportional negatives with verification).
implicit *skips* a sample whose negative is a positive (``common.implicit_skip_rate``), so
it trains nnz * (1 - skip rate) pairs per epoch against recsample's nnz; the
table shows the plain time ratio and the ratio per trained pair.

Writes ``scale.csv`` and a log-log plot ``scale.png`` to ``--out`` and prints
a Markdown table whose visit column marks the order ``visit="auto"`` (the
default) takes at each size. The 1- vs 2-thread speed-up of recsample's training and
evaluation is measured at the middle size.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402


def numba_threads(n):
    import numba
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def worker(lib, path, threads, epochs, task):
    """Runs in a child process; prints one JSON line."""
    import scipy.sparse as sp
    common.one_blas_thread()
    m = sp.load_npz(path).tocsr()
    m.indices = m.indices.astype(np.int32)
    m.indptr = m.indptr.astype(np.int64 if m.nnz >= 2**31 else np.int32)
    warm = m[:1000]
    result = {"lib": lib, "nnz": int(m.nnz), "users": m.shape[0], "items": m.shape[1],
              "threads": threads, "task": task}
    data_mb = (m.data.nbytes + m.indices.nbytes + m.indptr.nbytes) / 2**20
    if lib.startswith("recsample"):
        import recsample as rs
        train = rs.Interactions(m)
        visit = "user" if lib == "recsample-user" else "random"
        if task.startswith("train"):
            sampler = rs.samplers.DNS(candidates=16) if task == "train-dns" else "uniform"
            rs.BPR(factors=64, epochs=1, n_threads=threads, visit=visit, sampler=sampler).fit(
                warm, progress=False)
            base = common.proc_status_mb("VmRSS")
            model = rs.BPR(factors=64, epochs=epochs, n_threads=threads, visit=visit,
                           sampler=sampler)
            t0 = time.perf_counter()
            model.fit(train, progress=False)
            result["seconds_per_epoch"] = (time.perf_counter() - t0) / epochs
            result["kernel_seconds_per_epoch"] = min(h["seconds"] for h in model.history_)
            factors_mb = (model.user_factors.nbytes + model.item_factors.nbytes) / 2**20
        else:  # evaluation: random factors, the first (up to) 100,000 users' rows as test
            rng = np.random.default_rng(0)
            users = min(m.shape[0], 100_000)
            V = rng.normal(size=(m.shape[1], 65)).astype(np.float32)

            def factors(n):
                return common.Factors(rng.normal(size=(n, 65)).astype(np.float32), V)
            metrics = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate")
            rs.evaluate(factors(200), rs.Interactions(m[:200]), k=(10, 20), metrics=metrics)
            model, test = factors(users), rs.Interactions(m[:users])
            base = common.proc_status_mb("VmRSS")
            numba_threads(threads)
            t0 = time.perf_counter()
            rs.evaluate(model, test, k=(10, 20), metrics=metrics)
            result["eval_seconds"] = time.perf_counter() - t0
            result["eval_users"] = users
            factors_mb = (model.user_factors.nbytes + V.nbytes) / 2**20
    else:
        common.implicit_bpr(64, 1, threads).fit(warm, show_progress=False)
        base = common.proc_status_mb("VmRSS")
        model = common.implicit_bpr(64, epochs, threads)
        t0 = time.perf_counter()
        model.fit(m, show_progress=False)
        result["seconds_per_epoch"] = (time.perf_counter() - t0) / epochs
        factors_mb = (model.user_factors.nbytes + model.item_factors.nbytes) / 2**20
    result["data_mb"] = data_mb
    result["factors_mb"] = factors_mb
    # everything the fit (or evaluation) allocated at its peak, factors included
    result["peak_above_data_mb"] = common.proc_status_mb("VmHWM") - base
    result["overhead_mb"] = result["peak_above_data_mb"] - factors_mb
    result["peak_rss_mb"] = common.proc_status_mb("VmHWM")
    print(json.dumps(result))


def epochs_for(args, nnz):
    """``--epochs``, raised so that every timing trains at least 10 million
    pairs: a one-epoch run of a small set takes a fraction of a second, where
    the machine's noise decides the ratio."""
    return max(args.epochs, -(-10_000_000 // nnz))


def run_child(args, lib, path, threads, task, nnz):
    cmd = [sys.executable, __file__, "--worker", lib, str(path), str(threads),
           str(epochs_for(args, nnz)), task]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{lib} {task} at {path} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, lib, path, threads, epochs, task = sys.argv
        return worker(lib, path, int(threads), int(epochs), task)
    ap = common.parser(__doc__)
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e6, 1e7, 1e8])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--out", default=str(common.RESULTS))
    ap.add_argument("--no-implicit", action="store_true")
    args = ap.parse_args()

    import pandas as pd
    import scipy.sparse as sp
    from recsample.models.base import resolve_visit

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sizes = [int(s) for s in args.sizes]
        for nnz in sizes:
            t0 = time.perf_counter()
            data = common.load("synthetic", n_users=max(nnz // 100, 10),
                               n_items=max(nnz // 500, 10), nnz=nnz, seed=0)
            skip = common.implicit_skip_rate(data.matrix)
            default_visit = resolve_visit("auto", data.matrix, 64)
            path = Path(tmp) / f"synthetic-{nnz}.npz"
            sp.save_npz(path, data.matrix, compressed=False)
            del data
            print(f"generated {nnz:,} interactions in {time.perf_counter() - t0:.1f}s", flush=True)
            libs = ["recsample", "recsample-user"] + ([] if args.no_implicit else ["implicit"])
            for lib in libs:
                r = run_child(args, lib, path, args.threads, "train", nnz)
                r["implicit_skip_rate"] = skip
                r["default_visit"] = default_visit
                rows.append(r)
                print(json.dumps(r), flush=True)
            if nnz == sizes[len(sizes) // 2]:
                for threads in (1, args.threads):
                    for lib, task in (("recsample", "train"), ("recsample", "evaluate"),
                                      ("recsample", "train-dns"), ("recsample-user", "train-dns")):
                        r = run_child(args, lib, path, threads, task, nnz)
                        r["speedup_run"] = True
                        rows.append(r)
                        print(json.dumps(r), flush=True)
            path.unlink()
    df = pd.DataFrame(rows)
    df.to_csv(out / "scale.csv", index=False)

    main_rows = df[(df["task"] == "train") & (df["threads"] == args.threads)
                   & ~df.get("speedup_run", pd.Series(False, index=df.index)).fillna(False)
                   .astype(bool)]
    print("\n| interactions | users | items | visit | recsample s/epoch | implicit s/epoch | "
          "ratio | implicit skip rate | ratio per trained pair | "
          "CSR (MB) | factors (MB) | recsample extra beyond CSR + factors (MB) |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for nnz, g in main_rows.groupby("nnz"):
        theirs = g[g["lib"] == "implicit"]
        t_imp = theirs["seconds_per_epoch"].iloc[0] if len(theirs) else float("nan")
        for lib, visit in (("recsample", "random"), ("recsample-user", "user")):
            ours = g[g["lib"] == lib].iloc[0]
            ratio = t_imp / ours["seconds_per_epoch"]
            skip = ours["implicit_skip_rate"]
            if ours.get("default_visit") == visit:
                visit += " (default)"
            print(f"| {nnz:,} | {ours['users']:,} | {ours['items']:,} | {visit} | "
                  f"{ours['seconds_per_epoch']:.2f} | {t_imp:.2f} | {ratio:.2f} | {skip:.1%} | "
                  f"{ratio / (1 - skip):.2f} | {ours['data_mb']:.0f} | "
                  f"{ours['factors_mb']:.0f} | {ours['overhead_mb']:.0f} |")
    sp_rows = df[df.get("speedup_run", False) == True]  # noqa: E712
    if len(sp_rows):
        def speedup(lib, task, column="seconds_per_epoch"):
            t = sp_rows[(sp_rows["lib"] == lib) & (sp_rows["task"] == task)] \
                .set_index("threads")[column]
            return t.iloc[0] / t.iloc[-1]
        print(f"\n1 -> {args.threads} threads (at {int(sp_rows['nnz'].iloc[0]):,} interactions): "
              f"training x{speedup('recsample', 'train'):.2f}, "
              f"evaluation x{speedup('recsample', 'evaluate', 'eval_seconds'):.2f}, "
              f"DNS(16) training x{speedup('recsample', 'train-dns'):.2f} (visit random), "
              f"x{speedup('recsample-user', 'train-dns'):.2f} (visit user)")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot")
        return
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for lib, g in main_rows.groupby("lib"):
        g = g.sort_values("nnz")
        ax.loglog(g["nnz"], g["seconds_per_epoch"], "o-", label=lib)
    ax.set_xlabel("training interactions (log)")
    ax.set_ylabel("seconds per epoch (log)")
    ax.set_title(f"BPR, 64 factors, {args.threads} threads: cost per epoch")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "scale.png", dpi=120)
    print(f"wrote {out / 'scale.csv'} and {out / 'scale.png'}")


if __name__ == "__main__":
    main()
