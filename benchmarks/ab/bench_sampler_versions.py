"""One sampler's epoch cost against uniform, measured many times in one
process, to compare two versions of the code on a machine whose speed drifts.

    python benchmarks/ab/bench_sampler_versions.py SAMPLER [--data movielens|gowalla]
        [--threads 2] [--epochs 8] [--rounds 12]

Each round fits uniform and then SAMPLER (BPR, 64 factors + bias, one
negative per positive, learning rate 0.05, WARP's 0.01: ``common.fastest_epoch``,
as in peers/bench_samplers.py); a fit's figure is its fastest epoch after
the first (which compiles or loads the cache), and the round's
ratio is SAMPLER's over uniform's. It prints the median ratio and every
round's. To compare two versions, run it alternately under each checkout,
e.g. ``PYTHONPATH=/path/to/old python benchmarks/ab/bench_sampler_versions.py
aobpr`` and the same from this tree, two or three times each, and compare
the medians: on a shared 2-core machine single rounds of movielens-small
spread by +-15%, the medians of 12 rounds by about 3%. (The disk cache of
compiled kernels does not notice edits to modules a kernel calls into: clear
``recsample/**/__pycache__/*.nbi`` after editing a sampler.)
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402

SAMPLERS = common.samplers()


def main():
    ap = common.parser(__doc__)
    ap.add_argument("sampler", choices=[n for n in SAMPLERS if n != "uniform"])
    common.add_timing_args(ap, epochs=8, rounds=12)
    args = ap.parse_args()
    train = common.training_set(ap, args)
    ratios = []
    for _ in range(args.rounds):
        base = common.fastest_epoch(train, SAMPLERS["uniform"](), args.epochs, args.threads)
        ratios.append(common.fastest_epoch(train, SAMPLERS[args.sampler](), args.epochs,
                                           args.threads) / base)
    print(f"{rs.__file__.rsplit('/recsample/', 1)[0]}: {args.sampler} on {args.data}, "
          f"median {np.median(ratios):.2f}x uniform; rounds {np.round(ratios, 2).tolist()}")


if __name__ == "__main__":
    main()
