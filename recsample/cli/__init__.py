"""The ``recsample`` command: datasets, train, evaluate, tune, compare, reproduce.

Bad input (unknown names, bad values, unwritable paths, bad config files)
ends with one line on stderr and exit status 2; an interrupted ``compare``
exits 130 and keeps every finished run in its CSV. Heavy modules (numba,
matplotlib, the trainers) load only inside the command that needs them, so
``recsample --help`` is quick. See docs/cli.md.

Each command is a module of this package with ``add_parser(subparsers)``,
which builds its part of the parser, and ``run(args)``, which executes it.
Shared pieces: :mod:`._args` (value types, name checks, option groups),
:mod:`._config` (``compare``'s settings and their TOML file), :mod:`._data`
(loading and splitting the data set) and :mod:`._format` (text output).
"""
from __future__ import annotations

import os
import sys

from . import compare, datasets, evaluate, reproduce, train, tune, warmup
from ._args import Parser, UsageError
from ._config import COMPARE_DEFAULTS

# names that were importable from recsample.cli before it became a package
from ._args import (ALL_METRICS, BASELINE_NAMES, MODEL_NAMES,  # noqa: F401
                    NBPO_SGD_LAMBDA_PHI, SAMPLER_NAMES)
from ._format import format_table  # noqa: F401

__all__ = ["main", "build_parser", "UsageError", "COMPARE_DEFAULTS"]

#: the commands, in the order ``recsample --help`` lists them
COMMANDS = (datasets, train, evaluate, compare, tune, warmup, reproduce)
TUNE_EVAL_EVERY = compare.TUNE_EVAL_EVERY


def build_parser(argv=None) -> Parser:
    """The full parser. A ``reproduce`` study adds its own options when the
    command line names it (``argv`` is accepted for compatibility and not
    needed)."""
    parser = Parser(prog="recsample", description=(
        "Negative samplers (uniform, popularity, DNS, NBPO, WARP, AOBPR, SRNS, importance, "
        "k-OS) "
        "for BPR/BPO, and full-ranking "
        "evaluation, from the command line."))
    from .._version import __version__
    parser.add_argument("--version", action="version", version=f"recsample {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    prog = f"recsample {args.command}"
    if getattr(args, "quiet", None):
        # quiet means nothing on stderr, the one-line compile notice included
        # (set in the environment, so worker processes inherit it)
        os.environ["RECSAMPLE_COMPILE_NOTICE"] = "0"
    try:
        return int(args.handler(args) or 0)
    except UsageError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:   # e.g. `recsample datasets | head`
        return 0
