"""``recsample warmup``: compile the training loops into numba's disk cache
ahead of time."""
from __future__ import annotations

from ._args import UsageError, positive_int


def add_parser(subparsers):
    p = subparsers.add_parser(
        "warmup", help="compile the training loops ahead of time",
        description="Compile the training loop of each (model, sampler) pair "
        "into numba's disk cache, so that no later fit waits for the compiler "
        "(e.g. in a Docker build). Pairs are MODEL+SAMPLER (bpr+dns, "
        "softmax+uniform, ...) or 'evaluate'; default: every built-in pair.")
    p.add_argument("pairs", nargs="*", metavar="PAIR", help="pairs to compile (default: all)")
    p.add_argument("--jobs", type=positive_int, help="worker processes (default: every core "
                   "this process may use)")
    p.add_argument("--list", action="store_true", help="list the built-in pairs and exit")
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    from ..compilation import builtin_pairs, parse_pair, warmup
    if args.list:
        print("\n".join(builtin_pairs()))
        return 0
    for name in args.pairs:
        try:
            parse_pair(name)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    warmup(args.pairs or None, jobs=args.jobs)
    return 0
