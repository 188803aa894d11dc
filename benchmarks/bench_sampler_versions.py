"""One sampler's epoch cost against uniform, measured many times in one
process, to compare two versions of the code on a machine whose speed drifts.

    python benchmarks/bench_sampler_versions.py SAMPLER [--data movielens|gowalla]
        [--threads 2] [--epochs 8] [--rounds 12]

Each round fits uniform and then SAMPLER (BPR, 64 factors + bias, one
negative per positive, learning rate 0.05, WARP's 0.01 as in
bench_samplers.py); a fit's figure is its fastest
epoch after the first (which compiles or loads the cache), and the round's
ratio is SAMPLER's over uniform's. It prints the median ratio and every
round's. To compare two versions, run it alternately under each checkout,
e.g. ``PYTHONPATH=/path/to/old python benchmarks/bench_sampler_versions.py
aobpr`` and the same from this tree, two or three times each, and compare
the medians: on a shared 2-core machine single rounds of movielens-small
spread by +-15%, the medians of 12 rounds by about 3%. (The disk cache of
compiled kernels does not notice edits to modules a kernel calls into: clear
``recsample/**/__pycache__/*.nbi`` after editing a sampler.)
"""
import argparse
from pathlib import Path

import numpy as np

import recsample as rs

# a fit's fastest epoch after the first, as bench_samplers measures it
from bench_samplers import GOWALLA, SAMPLERS, epoch_seconds as fastest_epoch, load_gowalla


def add_timing_args(ap, epochs, rounds):
    """--data, --gowalla, --threads, --epochs and --rounds, as both benchmarks
    of one sampler against uniform take them."""
    ap.add_argument("--data", choices=["movielens", "gowalla"], default="movielens")
    ap.add_argument("--gowalla", default=str(GOWALLA))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--rounds", type=int, default=rounds)


def training_set(ap, args):
    """The training set --data names: gowalla's train.txt, or movielens-small
    less a random 20% (seed 0), as bench_samplers.py uses them."""
    if args.epochs < 2:
        ap.error("--epochs must be at least 2 (the first epoch is left out)")
    if args.data == "gowalla":
        if not (Path(args.gowalla) / "train.txt").is_file():
            ap.error(f"no train.txt in --gowalla {args.gowalla}")
        return load_gowalla(args.gowalla)
    ml = rs.load_dataset("movielens-small")
    return rs.split.random_holdout(ml, test_fraction=0.2, seed=0)[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sampler", choices=[n for n in SAMPLERS if n != "uniform"])
    add_timing_args(ap, epochs=8, rounds=12)
    args = ap.parse_args()
    train = training_set(ap, args)
    ratios = []
    for _ in range(args.rounds):
        base = fastest_epoch(train, SAMPLERS["uniform"](), args.epochs, args.threads)
        ratios.append(fastest_epoch(train, SAMPLERS[args.sampler](), args.epochs,
                                    args.threads) / base)
    print(f"{rs.__file__.rsplit('/recsample/', 1)[0]}: {args.sampler} on {args.data}, "
          f"median {np.median(ratios):.2f}x uniform; rounds {np.round(ratios, 2).tolist()}")


if __name__ == "__main__":
    main()
