"""Seconds an epoch of the softmax's pairwise forms against the plain softmax, in one run.

    python benchmarks/ab/bench_softmax_forms.py [--data gowalla] [--sampler dns]
        [--threads 2] [--epochs 4] [--rounds 3] [--pair-scale 2.0]

Fits ``rs.Softmax(sampler=..., activation=a)`` for the plain form and for
each activation ('relu', 'tanh', 'atan') at the library defaults (256
negatives shared by up to 8 positives, temperature 0.1, ``pair_scale`` 2,
so the power s/t is the integer 20; ``--pair-scale`` sets another),
round after round, and prints each
form's fastest epoch after the first (which compiles or loads the cache)
and its ratio to the plain softmax's fastest epoch of the same round. To
compare two versions of the loss, run the script in each checkout
(``PYTHONPATH=OTHER_CHECKOUT python benchmarks/ab/...``) and compare the
ratios, which survive the machine's drift better than the seconds.
"""
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402

FORMS = ("exp", "relu", "tanh", "atan")


def main():
    ap = common.parser(__doc__)
    common.add_timing_args(ap, epochs=4, rounds=3)
    ap.add_argument("--sampler", default="dns")
    ap.add_argument("--forms", nargs="+", default=list(FORMS), choices=FORMS)
    ap.add_argument("--pair-scale", type=float, default=2.0,
                    help="the pairwise forms' pair_scale s (default 2.0, the library's)")
    args = ap.parse_args()
    import recsample as rs
    train = common.training_set(ap, args)
    seconds = {form: [] for form in args.forms}
    for _ in range(args.rounds):
        for form in args.forms:
            extra = {} if form == "exp" else {"activation": form, "pair_scale": args.pair_scale}
            model = rs.Softmax(factors=64, epochs=args.epochs, sampler=args.sampler, seed=0,
                               n_threads=args.threads, **extra)
            model.fit(train, progress=False)
            seconds[form].append(min(h["seconds"] for h in model.history_[1:]))
    print(f"{args.data}, sampler {args.sampler}, {args.threads} threads: fastest epoch after "
          f"the first of {args.epochs}, {args.rounds} rounds")
    print("| form | seconds (min / median over rounds) | ratio to the plain softmax (median) |")
    print("|---|---:|---:|")
    base = seconds.get("exp")
    for form, v in seconds.items():
        ratio = (f"{statistics.median(a / b for a, b in zip(v, base)):.2f}"
                 if base is not None else "-")
        print(f"| {form} | {min(v):.2f} / {statistics.median(v):.2f} | {ratio} |")


if __name__ == "__main__":
    main()
