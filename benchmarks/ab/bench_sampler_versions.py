"""One sampler's epoch cost against uniform, measured many times in one
process, to compare two versions of the code on a machine whose speed drifts.

    python benchmarks/ab/bench_sampler_versions.py SAMPLER [--data movielens|gowalla]
        [--threads 2] [--epochs 8] [--rounds 12] [--softmax N G]

Each round fits uniform and then SAMPLER (BPR, 64 factors + bias, one
negative per positive, learning rate 0.05, WARP's 0.01: ``common.fastest_epoch``,
as in peers/bench_samplers.py; with ``--softmax N G``, ``rs.Softmax`` at its
defaults with N negatives shared by up to G positives, the sampler given by
name so that the softmax's own sampler arguments apply, DNS's 2 candidates);
a fit's figure is its fastest epoch after the first (which compiles or
loads the cache), and the round's ratio is SAMPLER's over uniform's. It prints the median ratio and every
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
    ap.add_argument("sampler", help="one of %s; with --softmax, a sampler name as rs.Softmax "
                    "takes it (dns, popularity, ...)" % [n for n in SAMPLERS if n != "uniform"])
    common.add_timing_args(ap, epochs=8, rounds=12)
    ap.add_argument("--softmax", nargs=2, type=int, metavar=("N", "G"), default=None,
                    help="time rs.Softmax with N negatives per unit of up to G positives "
                         "instead of BPR")
    args = ap.parse_args()
    if args.softmax is None and args.sampler not in SAMPLERS:
        ap.error(f"argument sampler: {args.sampler!r} is not one of {list(SAMPLERS)}")
    train = common.training_set(ap, args)

    def epoch(name):
        if args.softmax is None:
            return common.fastest_epoch(train, SAMPLERS[name](), args.epochs, args.threads)
        model = rs.Softmax(sampler=name, negatives=args.softmax[0], group_size=args.softmax[1],
                           epochs=args.epochs, n_threads=args.threads)
        model.fit(train, progress=False)
        return min(h["seconds"] for h in model.history_[1:])

    ratios = []
    seconds = []
    for _ in range(args.rounds):
        base = epoch("uniform")
        seconds.append(epoch(args.sampler))
        ratios.append(seconds[-1] / base)
    what = "BPR" if args.softmax is None else "Softmax N %d G %d" % tuple(args.softmax)
    print(f"{rs.__file__.rsplit('/recsample/', 1)[0]}: {what}, {args.sampler} on {args.data}, "
          f"median {np.median(ratios):.2f}x uniform ({np.median(seconds):.2f} s an epoch); "
          f"rounds {np.round(ratios, 2).tolist()}")


if __name__ == "__main__":
    main()
