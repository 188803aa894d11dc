"""Cost of the NBPO sampler's flip model: an NBPO epoch against a BPO epoch.

    python benchmarks/peers/bench_nbpo.py [--dataset movielens-small] [--path DIR] [--epochs 10]
        [--threads 2]

Both run the point-wise trainer (BPO) with Hogwild SGD, the same factors,
negatives and data, in the same process, interleaved; NBPO differs only by its
sampler (uniform draws plus the second factorisation P, Q it learns in the
same loop, which doubles the dot products and the updates). Prints the median
seconds per epoch of each and their ratio; compilation is excluded by a
warm-up fit.
"""
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402


def main():
    ap = common.parser(__doc__)
    common.add_dataset_args(ap)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--factors", type=int, default=64)
    ap.add_argument("--negatives", type=int, default=4)
    args = ap.parse_args()
    data = common.first_part(args.dataset, args.path)  # nbpo-amazon: its train part
    same = dict(factors=args.factors, negatives=args.negatives, n_threads=args.threads)
    samplers = {"BPO (uniform)": "uniform",
                "NBPO (flip model)": rs.samplers.NBPO(lambda_phi=0.01)}
    for sampler in samplers.values():
        rs.BPO(epochs=1, sampler=sampler, **same).fit(data, progress=False)
    seconds = {name: [] for name in samplers}
    for _ in range(3):
        for name, sampler in samplers.items():
            model = rs.BPO(epochs=args.epochs, sampler=sampler, **same).fit(data, progress=False)
            seconds[name].extend(h["seconds"] for h in model.history_)
    med = {name: statistics.median(v) for name, v in seconds.items()}
    print(f"{data}; {args.factors} factors, {args.negatives} negatives, {args.threads} threads, "
          f"SGD; median of {3 * args.epochs} epochs each")
    for name, s in med.items():
        print(f"  {name:18s} {s * 1000:8.1f} ms per epoch")
    print(f"NBPO / BPO epoch cost: {med['NBPO (flip model)'] / med['BPO (uniform)']:.2f}")


if __name__ == "__main__":
    main()
