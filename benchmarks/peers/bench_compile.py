"""How long a first fit waits for the compiler, cold and warm.

Each case runs in a fresh Python process. "cold": numba's disk cache is an
empty folder of its own (``NUMBA_CACHE_DIR``), so the process compiles
everything the fit needs; "warm": a second process on the same folder, which
loads the compiled code. Every fit is one epoch on movielens-small with one
training thread; the figure is the wall time of ``model.fit`` (the training
itself is a few tenths of a second of it), plus the time of ``import
recsample``.

    python benchmarks/peers/bench_compile.py               # every case, 3 rounds
    python benchmarks/peers/bench_compile.py --rounds 1 --cases bpr+uniform softmax+uniform

Targets: BPR + uniform <= 10 s cold, every other built-in pair <= 15 s cold,
warm fits <= 2 s. Prints the median and range over the rounds.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402

#: (name, model class, sampler)
CASES = [
    ("bpr+uniform", "BPR", "uniform"),
    ("softmax+uniform", "Softmax", "uniform"),
    ("ccl+uniform", "CCL", "uniform"),
    ("bpr+dns", "BPR", "dns"),
    ("bpo+popularity", "BPO", "popularity"),
    ("bpr+warp", "BPR", "warp"),
]

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import recsample as rs
t_import = time.perf_counter() - t0
data = rs.load_dataset("movielens-small")
model = getattr(rs, sys.argv[1])(sampler=sys.argv[2], epochs=1, seed=0, n_threads=1)
t0 = time.perf_counter()
model.fit(data, progress=False)
print(json.dumps({"import": t_import, "fit": time.perf_counter() - t0}))
"""


def run_case(model, sampler, cache):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, RECSAMPLE_COMPILE_NOTICE="0")
    out = subprocess.run([sys.executable, "-c", CHILD, model, sampler], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = common.parser(__doc__, paragraph=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=[c[0] for c in CASES],
                        help="names among: " + ", ".join(c[0] for c in CASES))
    args = parser.parse_args(argv)
    cases = [c for c in CASES if c[0] in args.cases]
    import numba
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numba {numba.__version__}; "
          f"median [min-max] of {args.rounds} rounds, seconds")
    print(f"{'case':<18}{'import':>16}{'cold fit':>22}{'warm fit':>20}")
    for name, model, sampler in cases:
        cold, warm, imp = [], [], []
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
                first = run_case(model, sampler, cache)
                second = run_case(model, sampler, cache)
            cold.append(first["fit"])
            warm.append(second["fit"])
            imp.append(first["import"])

        def fmt(xs):
            return f"{statistics.median(xs):6.1f} [{min(xs):.1f}-{max(xs):.1f}]"
        print(f"{name:<18}{fmt(imp):>16}{fmt(cold):>22}{fmt(warm):>20}", flush=True)


if __name__ == "__main__":
    main()
