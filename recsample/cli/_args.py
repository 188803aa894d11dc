"""What the commands share on the way in: the parser class, the value types
of the options, the checks of names and paths, and the option groups that
several commands take.

Everything here imports only the standard library and the registry, so the
parser builds without loading numba or the trainers.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from .. import registry
from .._checks import suggest

MODEL_NAMES = registry.names("model")
BASELINE_NAMES = registry.names("baseline")
SAMPLER_NAMES = registry.names("sampler")
ALL_METRICS = registry.METRICS
#: lambda_phi of the NBPO sampler under SGD training (its own default, 5, is
#: the paper's value for the batch optimizer and over-regularises per-pair steps)
NBPO_SGD_LAMBDA_PHI = 0.01


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the usage is one ``--help`` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ------------------------------------------------------------------ value types
def _bounded(cast, low, strict, what):
    """An argparse type: ``cast(text)``, finite, and > low (strict) or >= low."""
    def parse(text):
        try:
            value = cast(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        ok = value > low if strict else value >= low
        if not ok or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value
    return parse


positive_int = _bounded(int, 0, True, "a positive integer")
nonneg_int = _bounded(int, 0, False, "an integer >= 0")
positive_float = _bounded(float, 0.0, True, "a number > 0")
nonneg_float = _bounded(float, 0.0, False, "a number >= 0")


def fraction(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") \
            from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, "
                                         f"got {text!r}")
    return value


def name_list(text):
    return [p.strip().lower() for p in str(text).split(",") if p.strip()]


def option(text):
    """NAME=VALUE, the value read as JSON when it parses (numbers, null, true)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


# ------------------------------------------------------------------ option groups
#: the trainer settings that train and compare take: name -> (type, what it is)
TRAINER_SETTINGS = {
    "factors": (positive_int, "latent factors"),
    "epochs": (nonneg_int, "epochs"),
    "learning_rate": (positive_float, "learning rate"),
    "regularization": (nonneg_float, "L2 regularization"),
}


def data_arguments(parser, required):
    parser.add_argument("--dataset", required=required,
                        help="data set name (see `recsample datasets`)")
    path_argument(parser)


def path_argument(parser):
    parser.add_argument("--path",
                        help="folder of the data set files, for data sets that need one")


def model_arguments(parser, models, sampler_note=""):
    """--model, one of ``models`` (default bpr), and --sampler (default: the
    model's own, then ``sampler_note``)."""
    parser.add_argument("--model", default="bpr", type=str.lower,
                        help=f"one of {', '.join(models)} (default bpr)")
    parser.add_argument("--sampler", default=None, type=str.lower,
                        help=f"one of {', '.join(SAMPLER_NAMES)} (default: the model's own"
                        f"{sampler_note})")


def trainer_arguments(parser, default, order=tuple(TRAINER_SETTINGS), what=None):
    """--factors, --epochs, --learning-rate and --regularization (in ``order``),
    each helped as "WHAT (default: DEFAULT)"; ``what`` renames some."""
    for name in order:
        cast, text = TRAINER_SETTINGS[name]
        text = (what or {}).get(name, text)
        parser.add_argument("--" + name.replace("_", "-"), type=cast, dest=name,
                            help=f"{text} (default: {default})")


def model_params(settings) -> dict:
    """The trainer settings given in ``settings`` (parsed options or a dict of
    them), as model parameters; ``threads`` becomes ``n_threads``."""
    get = settings.get if isinstance(settings, dict) else \
        (lambda name: getattr(settings, name, None))
    params = {name: get(name) for name in TRAINER_SETTINGS if get(name) is not None}
    if get("threads") is not None:
        params["n_threads"] = get("threads")
    return params


# ------------------------------------------------------------------ checks
def check_name(kind, name, known, flag):
    if name not in known:
        raise UsageError(f"{flag}: unknown {kind} {name!r}; expected one of "
                         f"{', '.join(known)}{suggest(name, known)}")


def check_names(kind, names, known, flag):
    for name in names:
        check_name(kind, name, list(known), flag)


def dataset_names():
    from ..datasets import _REGISTRY
    return list(_REGISTRY)


def check_dataset(name, flag="--dataset"):
    key = str(name).strip().lower().replace("_", "-")
    check_name("dataset", key, dataset_names(), flag)
    return key


def check_writable_file(path: Path, flag: str) -> None:
    if path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a directory; give a file name")
    _probe(path.parent, f".{path.name}.probe", flag, path)


def prepare_out(out) -> Path:
    """The --out folder, created and checked writable."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {str(folder)!r} is a file; --out names a folder for the CSV "
                         "and PNG")
    _probe(folder, ".recsample-write-probe", "--out", folder)
    return folder


def _probe(folder: Path, name: str, flag: str, shown: Path) -> None:
    """Create ``folder`` and write (then remove) an empty file in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / name
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{flag} {str(shown)!r} cannot be written: {exc.strerror or exc}") \
            from None


def require_extra(module, extra, what):
    """``module``, or a usage error naming the extra that installs it: the
    commands check their optional dependencies before loading data or
    training, so a missing one costs nothing and shows no traceback."""
    from .._optional import MissingDependency, require
    try:
        return require(module, extra, what)
    except MissingDependency as exc:
        raise UsageError(str(exc)) from None


# ------------------------------------------------------------------ options -> objects
def sampler_spec(model, sampler, options):
    """The sampler argument for a model: a name, or an instance when options
    are given or when NBPO runs under SGD (where it gets its SGD lambda_phi)."""
    if sampler is None and not options:
        return None
    name = sampler or ("nbpo" if model == "nbpo" else "uniform")
    check_name("sampler", name, list(SAMPLER_NAMES), "--sampler")
    cls = registry.load("sampler", name)
    params = dict(options)
    if name == "nbpo" and model != "nbpo":
        params.setdefault("lambda_phi", NBPO_SGD_LAMBDA_PHI)
    if model == "nbpo" and name == "nbpo":
        params.setdefault("flip_factors", 50)
        params.setdefault("lambda_phi", 5.0)
    try:
        return cls(**params)
    except TypeError:
        import inspect
        known = list(inspect.signature(cls).parameters)
        bad = next(p for p in params if p not in known)
        raise UsageError(f"--sampler-option: {name} has no parameter {bad!r}; its parameters "
                         f"are {', '.join(known)}{suggest(bad, known)}") from None
