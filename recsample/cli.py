"""The ``recsample`` command: datasets, train, evaluate, tune, compare, reproduce.

Bad input (unknown names, bad values, unwritable paths, bad config files)
ends with one line on stderr and exit status 2; an interrupted ``compare``
exits 130 and keeps every finished run in its CSV. Heavy modules (numba,
matplotlib, the trainers) load only inside the command that needs them, so
``recsample --help`` is quick. See docs/cli.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import registry
from ._checks import suggest as _suggest

__all__ = ["main", "build_parser", "UsageError", "COMPARE_DEFAULTS"]

MODEL_NAMES = registry.names("model")
BASELINE_NAMES = registry.names("baseline")
SAMPLER_NAMES = registry.names("sampler")
ALL_METRICS = registry.METRICS
#: lambda_phi of the NBPO sampler under SGD training (its own default, 5, is
#: the paper's value for the batch optimizer and over-regularises per-pair steps)
NBPO_SGD_LAMBDA_PHI = 0.01

#: ``compare``'s settings when neither the command line nor --config sets them.
#: None means the model's own default (BPR: 64 factors; epochs, learning rate
#: and regularization as the sampler recommends, else 35, 0.05 and 0.01).
COMPARE_DEFAULTS = {
    "dataset": "movielens-small",
    "path": None,
    "samplers": ["uniform", "popularity", "dns", "nbpo"],
    "models": ["bpr"],
    "seeds": 3,
    "epochs": None,
    "factors": None,
    "learning_rate": None,
    "regularization": None,
    "k": [10, 20],
    "metrics": ["ndcg", "recall", "precision", "map", "mrr", "hit_rate"],
    "test_fraction": 0.2,
    "out": "results",
    "threads": None,
    "jobs": 1,
    "backend": "local",
    "address": None,
    "quiet": False,
    "tune": None,
    "tune_timeout": None,
    "tune_metric": "ndcg@10",
    "tune_per_seed": False,
    "baselines": [],
}
#: ``compare --tune``: epochs between validations within a trial
TUNE_EVAL_EVERY = 5
_TABLES = ("sampler", "model")   # [sampler.<name>] and [model.<name>] parameter tables


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
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


_positive_int = _bounded(int, 0, True, "a positive integer")
_nonneg_int = _bounded(int, 0, False, "an integer >= 0")
_positive_float = _bounded(float, 0.0, True, "a number > 0")


def _nonneg_float(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") \
            from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1, "
                                         f"got {text!r}")
    return value


def _name_list(text):
    return [p.strip().lower() for p in str(text).split(",") if p.strip()]


def _option(text):
    """NAME=VALUE, the value read as JSON when it parses (numbers, null, true)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def _check_name(kind, name, known, flag):
    if name not in known:
        raise UsageError(f"{flag}: unknown {kind} {name!r}; expected one of "
                         f"{', '.join(known)}{_suggest(name, known)}")


def _dataset_names():
    from .datasets import _REGISTRY
    return list(_REGISTRY)


def _check_dataset(name, flag="--dataset"):
    key = str(name).strip().lower().replace("_", "-")
    _check_name("dataset", key, _dataset_names(), flag)
    return key


# ------------------------------------------------------------------ parser
def build_parser(argv=None) -> argparse.ArgumentParser:
    """The full parser. The ``reproduce`` subcommands add their own options,
    imported only when ``argv`` asks for ``reproduce``."""
    parser = _Parser(prog="recsample", description=(
        "Negative samplers (uniform, popularity, DNS, NBPO, WARP, AOBPR, SRNS, importance, "
        "k-OS) "
        "for BPR/BPO, and full-ranking "
        "evaluation, from the command line."))
    from ._version import __version__
    parser.add_argument("--version", action="version", version=f"recsample {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("datasets", help="list the known data sets and whether they load offline",
                       description="List the known data sets: whether each loads offline now "
                       "(no download, no --path), its size and its source.")
    p.set_defaults(handler=cmd_datasets)

    p = sub.add_parser("train", help="fit a model on a held-out split and save it",
                       description="Fit a model on the training part of a per-user random "
                       "holdout (--test-fraction, --seed) and save it as .npz. A sidecar "
                       "MODEL.npz.json records the data set and split, so `recsample evaluate "
                       "MODEL.npz` scores the model on the matching test part.")
    _data_arguments(p, required=True)
    _model_arguments(p)
    p.add_argument("--seed", type=_nonneg_int, default=0,
                   help="seed of the split and of the model (default 0)")
    p.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="share of each user's interactions held out for testing (default 0.2)")
    p.add_argument("--save", required=True, metavar="MODEL.npz", help="where to write the model")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_train)

    p = sub.add_parser("evaluate", help="score a saved model on its held-out split",
                       description="Full-ranking evaluation of a saved model. The data set and "
                       "split come from the sidecar MODEL.npz.json written by `recsample "
                       "train`; --dataset, --seed and --test-fraction override it (without a "
                       "sidecar they default to seed 0 and fraction 0.2, train's defaults).")
    p.add_argument("model", metavar="MODEL.npz", help="a model saved by `recsample train`")
    p.add_argument("--dataset", help="data set name (default: from the sidecar)")
    p.add_argument("--path", help="folder of the data set files, for data sets that need one")
    p.add_argument("--seed", type=_nonneg_int, default=None, help="split seed")
    p.add_argument("--test-fraction", type=_fraction, default=None, help="held-out share")
    p.add_argument("--k", type=_positive_int, nargs="+", default=[10, 20],
                   help="cut-offs (default: 10 20)")
    p.add_argument("--metrics", type=_name_list, default=None,
                   help=f"comma-separated metrics (default: all of {','.join(ALL_METRICS)})")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=cmd_evaluate)

    d = COMPARE_DEFAULTS
    compare_description = (
        "Train each sampler with each model on a per-user random holdout per seed,\n"
        "evaluate with full ranking, and print mean ± 95%% CI over seeds per metric\n"
        "(best marked *). Writes OUT/compare-DATASET.csv (tidy rows, one finished run\n"
        "at a time, so re-running resumes) and OUT/compare-DATASET.png (the plot needs\n"
        "matplotlib: pip install \"recsample[plot]\"; without it the rest is written).\n\n"
        "Defaults: each model's own factors, epochs, learning rate and regularization\n"
        "(BPR: 64 factors, 35 epochs; the default grid of 4 samplers x 3 seeds on\n"
        "movielens-small takes under a minute on 2 cores); the NBPO sampler with\n"
        "lambda_phi=%(lp)s (its SGD setting; set [sampler.nbpo] in --config to\n"
        "change it). Lower --epochs for a quicker look.\n\n"
        "--config FILE.toml may hold any option below (same names, underscores), plus\n"
        "[sampler.NAME] and [model.NAME] tables of parameters; options given on the\n"
        "command line win. See examples/compare.toml."
    ) % {"lp": NBPO_SGD_LAMBDA_PHI}
    p = sub.add_parser("compare", help="compare samplers over seeds: table, CSV, plot",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=compare_description)
    p.add_argument("--dataset", help=f"data set name (default {d['dataset']})")
    p.add_argument("--path", help="folder of the data set files, for data sets that need one")
    p.add_argument("--samplers", type=_name_list,
                   help=f"comma-separated samplers (default {','.join(d['samplers'])})")
    p.add_argument("--models", type=_name_list,
                   help=f"comma-separated models among {','.join(MODEL_NAMES)} (default bpr)")
    p.add_argument("--seeds", type=_positive_int,
                   help=f"number of seeds, 0..N-1 (default {d['seeds']})")
    p.add_argument("--epochs", type=_nonneg_int, help="epochs (default: each model's own)")
    p.add_argument("--factors", type=_positive_int, help="factors (default: each model's own)")
    p.add_argument("--learning-rate", type=_positive_float, dest="learning_rate",
                   help="learning rate (default: each model's own)")
    p.add_argument("--regularization", type=_nonneg_float,
                   help="L2 regularization (default: each model's own)")
    p.add_argument("--k", type=_positive_int, nargs="+", help="cut-offs (default 10 20)")
    p.add_argument("--metrics", type=_name_list,
                   help=f"comma-separated metrics (default {','.join(d['metrics'])})")
    p.add_argument("--test-fraction", type=_fraction, dest="test_fraction",
                   help="held-out share of each user's interactions (default 0.2)")
    p.add_argument("--out", help=f"folder for the CSV and PNG (default {d['out']}/)")
    p.add_argument("--config", metavar="FILE.toml", help="settings file (TOML)")
    p.add_argument("--threads", type=_positive_int, help="training threads (default: all)")
    p.add_argument("--jobs", type=_positive_int, help="runs in parallel processes (default 1)")
    p.add_argument("--backend", choices=("local", "ray"), help="where runs execute "
                   "(default local; ray needs pip install \"recsample[ray]\")")
    p.add_argument("--address", help="Ray cluster address (default: start Ray locally)")
    p.add_argument("--quiet", action="store_true", default=None, help="no progress bars")
    p.add_argument("--baselines", type=_name_list,
                   help=f"comma-separated reference models to add, among "
                   f"{','.join(BASELINE_NAMES)} (default none)")
    p.add_argument("--tune", type=_positive_int, metavar="TRIALS",
                   help="tune every configuration with TRIALS Optuna trials on a validation "
                   "part of each seed's training data, refit the winner on all of it, then "
                   "test; --epochs is then each trial's epoch budget (default 100; epochs "
                   "are chosen by early stopping) (see docs/cli.md)")
    p.add_argument("--tune-timeout", type=_positive_float, dest="tune_timeout",
                   metavar="SECONDS", help="with --tune: also stop each study after SECONDS")
    p.add_argument("--tune-metric", dest="tune_metric", metavar="METRIC@K",
                   help="with --tune: the validation metric (default ndcg@10)")
    p.add_argument("--tune-per-seed", dest="tune_per_seed", action="store_true", default=None,
                   help="with --tune: one study per seed on that seed's training part "
                   "(seeds x the cost; default: one study per configuration on the first "
                   "seed's training part, its settings used for every seed)")
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("tune", help="tune one model (and sampler) on validation data",
                       description="Tune a model's hyper-parameters with Optuna (TPE, median "
                       "pruning on the per-epoch validation metric, epochs by early stopping) "
                       "on the training part of a per-user random holdout; validation is "
                       "carved from it and the test part is never read. Prints one line per "
                       "trial off a terminal, then the chosen settings. With --storage the "
                       "study is kept in an SQLite file and an interrupted run resumes.")
    _data_arguments(p, required=True)
    p.add_argument("--model", default="bpr", type=str.lower,
                   help=f"one of {', '.join(MODEL_NAMES + BASELINE_NAMES)} (default bpr)")
    p.add_argument("--sampler", default=None, type=str.lower,
                   help=f"one of {', '.join(SAMPLER_NAMES)} (default: the model's own)")
    p.add_argument("--trials", type=_positive_int, default=30, help="trials (default 30)")
    p.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                   help="start no trial after SECONDS")
    p.add_argument("--metric", default="ndcg@10", help="validation metric (default ndcg@10)")
    p.add_argument("--seed", type=_nonneg_int, default=0,
                   help="seed of the split, the validation part, TPE and the models (default 0)")
    p.add_argument("--test-fraction", type=_fraction, default=0.2,
                   help="held-out share set aside (and never read) as test (default 0.2)")
    p.add_argument("--factors", type=_positive_int, help="latent factors (fixed)")
    p.add_argument("--max-epochs", type=_positive_int, default=100, dest="max_epochs",
                   help="epoch budget per trial (default 100)")
    p.add_argument("--patience", type=_positive_int, default=10,
                   help="epochs without improvement before a trial stops (default 10)")
    p.add_argument("--storage", metavar="FILE.db", help="SQLite file (or Optuna storage URL) "
                   "holding the study, to resume it or share it between processes")
    p.add_argument("--study-name", dest="study_name", help="default MODEL-SAMPLER-METRIC")
    p.add_argument("--jobs", type=_positive_int, default=1,
                   help="trials at once, in processes sharing the study (default 1)")
    p.add_argument("--threads", type=_positive_int, help="training threads per trial")
    p.add_argument("--out", metavar="FILE.json", help="write the settings and trials as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.set_defaults(handler=cmd_tune)

    p = sub.add_parser("warmup", help="compile the training loops ahead of time",
                       description="Compile the training loop of each (model, sampler) pair "
                       "into numba's disk cache, so that no later fit waits for the compiler "
                       "(e.g. in a Docker build). Pairs are MODEL+SAMPLER (bpr+dns, "
                       "softmax+uniform, ...) or 'evaluate'; default: every built-in pair.")
    p.add_argument("pairs", nargs="*", metavar="PAIR", help="pairs to compile (default: all)")
    p.add_argument("--jobs", type=_positive_int, help="worker processes (default: every core "
                   "this process may use)")
    p.add_argument("--list", action="store_true", help="list the built-in pairs and exit")
    p.set_defaults(handler=cmd_warmup)

    p = sub.add_parser("reproduce", help="reproduce a paper's experiment (nbpo, gowalla)",
                       description="Reproduce published experiments. `recsample reproduce "
                       "STUDY --help` lists a study's options.")
    rsub = p.add_subparsers(dest="study", metavar="STUDY", parser_class=_Parser)
    rsub.required = True
    studies = {
        "nbpo": ("NBPO (Yu & Qin, SIGIR 2020) on the authors' Amazon split",
                 "Reproduce NBPO (Yu & Qin, SIGIR 2020) with the authors' settings; "
                 "implemented in recsample.reproduce.nbpo."),
        "gowalla": ("MF with BPR, sampled softmax and CCL on the LightGCN Gowalla split",
                    "Matrix factorisation on the NGCF/LightGCN Gowalla split, settings chosen "
                    "on validation carved from train, beside the published rows; implemented "
                    "in recsample.reproduce.gowalla."),
    }
    argv = sys.argv[1:] if argv is None else argv
    for study, (short, long) in studies.items():
        rp = rsub.add_parser(study, help=short, description=long)
        module = f"recsample.reproduce.{study}"
        rp.set_defaults(handler=cmd_reproduce, module=module)
        if "reproduce" in argv and study in argv:
            _attach_reproduce_arguments(rp, module)
    return parser


def _attach_reproduce_arguments(parser, module_name):
    import importlib
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        parser.set_defaults(missing=f"{module_name} is not available in this installation")
        return
    module.add_arguments(parser)
    parser.set_defaults(runner=module.run)


def _data_arguments(p, required):
    p.add_argument("--dataset", required=required, help="data set name (see `recsample datasets`)")
    p.add_argument("--path", help="folder of the data set files, for data sets that need one")


def _model_arguments(p):
    p.add_argument("--model", default="bpr", type=str.lower,
                   help=f"one of {', '.join(MODEL_NAMES)} (default bpr)")
    p.add_argument("--sampler", default=None, type=str.lower,
                   help=f"one of {', '.join(SAMPLER_NAMES)} (default: the model's own; "
                   f"nbpo under SGD uses lambda_phi={NBPO_SGD_LAMBDA_PHI})")
    p.add_argument("--sampler-option", type=_option, action="append", default=[],
                   metavar="NAME=VALUE", help="a sampler parameter, e.g. candidates=32 "
                   "(repeatable)")
    p.add_argument("--factors", type=_positive_int, help="latent factors (default: the model's)")
    p.add_argument("--epochs", type=_nonneg_int, help="epochs (default: the model's)")
    p.add_argument("--learning-rate", type=_positive_float, dest="learning_rate",
                   help="learning rate (default: the model's)")
    p.add_argument("--regularization", type=_nonneg_float,
                   help="L2 regularization (default: the model's)")
    p.add_argument("--threads", type=_positive_int, help="training threads (default: all cores)")


# ------------------------------------------------------------------ entry point
def main(argv=None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
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


# ------------------------------------------------------------------ datasets
def cmd_datasets(args) -> int:
    from .datasets import available
    table = available().reset_index()
    table["offline"] = table["offline"].map({True: "yes", False: "no"})
    for col in ("users", "items", "interactions"):
        table[col] = table[col].map(lambda v: "" if v is None or str(v) == "<NA>" else f"{v:,}")
    cols = ["name", "offline", "users", "items", "interactions", "description"]
    numeric = {"users", "items", "interactions"}
    widths = {c: max(len(c), *(len(str(v)) for v in table[c])) for c in cols}

    def line(values):
        return "  ".join(str(v).rjust(widths[c]) if c in numeric else str(v).ljust(widths[c])
                         for c, v in zip(cols, values)).rstrip()

    print(line(cols))
    for row in table[cols].itertuples(index=False):
        print(line(row))
    print("\noffline = loads now without a download or --path; sizes are the published ones.")
    return 0


# ------------------------------------------------------------------ train / evaluate
def _sampler_spec(model, sampler, options):
    """The sampler argument for a model: a name, or an instance when options
    are given or when NBPO runs under SGD (where it gets its SGD lambda_phi)."""
    from .samplers import SAMPLERS
    if sampler is None and not options:
        return None
    name = sampler or ("nbpo" if model == "nbpo" else "uniform")
    _check_name("sampler", name, list(SAMPLERS), "--sampler")
    params = dict(options)
    if name == "nbpo" and model != "nbpo":
        params.setdefault("lambda_phi", NBPO_SGD_LAMBDA_PHI)
    if model == "nbpo" and name == "nbpo":
        params.setdefault("flip_factors", 50)
        params.setdefault("lambda_phi", 5.0)
    try:
        return SAMPLERS[name](**params)
    except TypeError:
        import inspect
        known = list(inspect.signature(SAMPLERS[name]).parameters)
        bad = next(p for p in params if p not in known)
        raise UsageError(f"--sampler-option: {name} has no parameter {bad!r}; its parameters "
                         f"are {', '.join(known)}{_suggest(bad, known)}") from None


def _model_params(args):
    params = {}
    for name in ("factors", "epochs", "learning_rate", "regularization"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = value
    if getattr(args, "threads", None) is not None:
        params["n_threads"] = args.threads
    return params


def _check_writable_file(path: Path, flag: str) -> None:
    if path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a directory; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.parent / f".{path.name}.probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{flag} {str(path)!r} cannot be written: {exc.strerror or exc}") \
            from None


def _load(dataset, path):
    """The named data set, with loader errors (missing files, bad path) as usage errors."""
    from .experiments.grid import load_named
    try:
        return load_named(dataset, path)
    except (ValueError, FileNotFoundError, TypeError, OSError) as exc:
        raise UsageError(f"--dataset {dataset}: {exc}") from None


def _split(data, test_fraction, seed):
    """(train, test): a per-user random holdout, or a published split as it is."""
    from .interactions import Interactions
    from .split import random_holdout
    if isinstance(data, tuple):
        return data[0], data[-1]
    assert isinstance(data, Interactions)
    return random_holdout(data, test_fraction=test_fraction, seed=seed)


def _sidecar(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".json")


def cmd_train(args) -> int:
    dataset = _check_dataset(args.dataset)
    _check_name("model", args.model, list(MODEL_NAMES), "--model")
    if args.sampler is not None:
        _check_name("sampler", args.sampler, list(SAMPLER_NAMES), "--sampler")
    save = Path(args.save)
    if save.suffix != ".npz":
        save = save.with_name(save.name + ".npz")
    _check_writable_file(save, "--save")
    from .models import BPO, BPR, NBPO
    params = _model_params(args)
    sampler = _sampler_spec(args.model, args.sampler, args.sampler_option)
    if sampler is not None:
        params["sampler"] = sampler
    cls = {"bpr": BPR, "bpo": BPO, "nbpo": NBPO}[args.model]
    try:
        model = cls(seed=args.seed, **params)
        model._validated()
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    data = _load(dataset, args.path)
    train, test = _split(data, args.test_fraction, args.seed)
    if not args.quiet:
        print(f"training {model!r} on {dataset} ({train.nnz:,} training interactions)",
              file=sys.stderr)
    model.fit(train, progress=not args.quiet)
    written = model.save(save)
    side = _sidecar(Path(written))
    from ._version import __version__
    info = {"dataset": dataset, "path": args.path, "split": "random_holdout",
            "test_fraction": args.test_fraction, "seed": args.seed,
            "published_split": isinstance(data, tuple), "recsample_version": __version__}
    side.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    last = model.history_[-1] if model.history_ else {}
    print(f"saved {written} ({len(model.history_)} epochs, final loss "
          f"{last.get('loss', float('nan')):.4f}); split recorded in {side}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluation import evaluate
    from .models import load_model
    path = Path(args.model)
    if not path.is_file():
        raise UsageError(f"MODEL {str(path)!r} does not exist")
    side = _sidecar(path)
    info = {}
    if side.is_file():
        try:
            info = json.loads(side.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"sidecar {str(side)!r} is not valid JSON: {exc}") from None
    dataset = args.dataset or info.get("dataset")
    if dataset is None:
        raise UsageError(f"--dataset is required: {str(side)!r} (written by `recsample "
                         "train`) is missing, so the data set is unknown")
    dataset = _check_dataset(dataset)
    seed = args.seed if args.seed is not None else int(info.get("seed", 0))
    fraction = args.test_fraction if args.test_fraction is not None else \
        float(info.get("test_fraction", 0.2))
    metrics = tuple(args.metrics) if args.metrics else ALL_METRICS
    for m in metrics:
        _check_name("metric", m, list(ALL_METRICS), "--metrics")
    try:
        model = load_model(path)
    except (ValueError, OSError) as exc:
        raise UsageError(f"MODEL: {exc}") from None
    data = _load(dataset, args.path or info.get("path"))
    train, test = _split(data, fraction, seed)
    if (model.n_users, model.n_items) != train.shape:
        raise UsageError(f"the model was trained on {model.n_users} users x {model.n_items} "
                         f"items but --dataset {dataset} has {train.shape[0]} x "
                         f"{train.shape[1]}: evaluate on the data set it was trained on")
    report = evaluate(model, test, train=train, k=tuple(args.k), metrics=metrics)
    if args.json:
        out = report.to_dict()
        out.update(dataset=dataset, seed=seed, test_fraction=fraction, model=str(path))
        print(json.dumps(out, indent=2))
    else:
        split = "published split" if isinstance(data, tuple) else \
            f"random holdout {fraction:g}, seed {seed}"
        print(f"{path}: {dataset}, {split}")
        print(report)
    return 0


# ------------------------------------------------------------------ tune
def _require_extra(module, extra, what):
    """``module``, or a usage error naming the extra that installs it: the
    commands check their optional dependencies before loading data or
    training, so a missing one costs nothing and shows no traceback."""
    from ._optional import MissingDependency, require
    try:
        return require(module, extra, what)
    except MissingDependency as exc:
        raise UsageError(str(exc)) from None


def cmd_tune(args) -> int:
    _require_extra("optuna", "tune", "tuning")
    dataset = _check_dataset(args.dataset)
    _check_name("model", args.model, list(MODEL_NAMES + BASELINE_NAMES), "--model")
    if args.sampler is not None:
        if args.model in BASELINE_NAMES:
            raise UsageError(f"--sampler: {args.model} does not draw negatives")
        _check_name("sampler", args.sampler, list(SAMPLER_NAMES), "--sampler")
    from .tuning import _parse_metric, tune
    try:
        _parse_metric(args.metric)
    except ValueError as exc:
        raise UsageError(f"--metric: {exc}") from None
    out = Path(args.out) if args.out else None
    if out is not None:
        _check_writable_file(out, "--out")
    params = {"factors": args.factors} if args.factors is not None else {}
    data = _load(dataset, args.path)
    train, _test = _split(data, args.test_fraction, args.seed)   # _test is never read
    sampler = _sampler_spec(args.model, args.sampler, []) if args.model in MODEL_NAMES \
        else None
    try:
        result = tune(args.model, sampler, train=train, trials=args.trials,
                      timeout=args.timeout, metric=args.metric, seed=args.seed,
                      storage=args.storage, study_name=args.study_name, params=params,
                      max_epochs=args.max_epochs, patience=args.patience, n_jobs=args.jobs,
                      n_threads=args.threads, progress=not args.quiet)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    settings = result.settings()
    finished = int(result.trials["state"].isin(["complete", "pruned"]).sum())
    print(f"{dataset}: best validation {result.metric} {result.value:.4f} after {finished} "
          f"trials; settings {json.dumps(settings, sort_keys=True)}")
    if out is not None:
        out.write_text(json.dumps({"dataset": dataset, "seed": args.seed,
                                   "test_fraction": args.test_fraction, "metric": result.metric,
                                   "value": result.value, "settings": settings,
                                   "trials": json.loads(result.trials.to_json(orient="records"))},
                                  indent=2) + "\n", encoding="utf-8")
        print(f"settings and trials: {out}")
    return 0


# ------------------------------------------------------------------ compare
def _compare_settings(args) -> dict:
    """Defaults < --config file < command-line options; checked, in one dict."""
    from ._config import ConfigError, check_keys, load_toml, where
    settings = dict(COMPARE_DEFAULTS)
    tables = {"sampler": {}, "model": {}}
    source = {}
    if args.config:
        try:
            raw, text = load_toml(args.config)
            check_keys(args.config, text, raw, set(COMPARE_DEFAULTS) | set(_TABLES))
            for table in _TABLES:
                if table in raw:
                    if not isinstance(raw[table], dict):
                        raise ConfigError(f"{where(args.config, text, (table,))} must be a "
                                          f"table like [{table}.NAME]")
                    known = SAMPLER_NAMES if table == "sampler" else MODEL_NAMES
                    check_keys(args.config, text, raw[table], known, prefix=(table,))
                    for name, params in raw[table].items():
                        if not isinstance(params, dict):
                            raise ConfigError(f"{where(args.config, text, (table, name))} "
                                              "must be a table of parameters")
                        _check_table_params(args.config, text, table, name, params)
                        tables[table][name] = params
            for key, value in raw.items():
                if key in _TABLES:
                    continue
                settings[key] = _coerce_setting(key, value, args.config, text)
                source[key] = f"{args.config}"
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    for key in COMPARE_DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
            source[key] = "command line"
    settings["tables"] = tables
    # names are checked here whichever source they came from
    settings["dataset"] = _check_dataset(settings["dataset"])
    for s in settings["samplers"]:
        _check_name("sampler", s, list(SAMPLER_NAMES), "--samplers")
    for m in settings["models"]:
        _check_name("model", m, list(MODEL_NAMES), "--models")
    for m in settings["metrics"]:
        _check_name("metric", m, list(ALL_METRICS), "--metrics")
    for b in settings["baselines"]:
        _check_name("baseline", b, list(BASELINE_NAMES), "--baselines")
    if len(set(settings["baselines"])) != len(settings["baselines"]):
        raise UsageError(f"--baselines lists a name twice: {','.join(settings['baselines'])}")
    if settings["tune_timeout"] is not None and settings["tune"] is None:
        raise UsageError("--tune-timeout needs --tune TRIALS")
    if settings["tune_per_seed"] and settings["tune"] is None:
        raise UsageError("--tune-per-seed needs --tune TRIALS")
    if settings["tune"] is not None:
        from .tuning import _parse_metric
        try:
            _parse_metric(settings["tune_metric"])
        except ValueError as exc:
            raise UsageError(f"--tune-metric: {exc}") from None
    for flag, key in (("--samplers", "samplers"), ("--models", "models"),
                      ("--metrics", "metrics")):
        if not settings[key]:
            raise UsageError(f"{flag} is empty")
        if len(set(settings[key])) != len(settings[key]):
            raise UsageError(f"{flag} lists a name twice: {','.join(settings[key])}")
    if len(set(settings["k"])) != len(settings["k"]):
        raise UsageError(f"--k lists a value twice: {settings['k']}")
    return settings


_SETTING_TYPES = {
    "dataset": str, "path": str, "samplers": "names", "models": "names", "seeds": "posint",
    "epochs": "int", "factors": "posint", "learning_rate": "posfloat",
    "regularization": "float", "k": "ints", "metrics": "names", "test_fraction": "fraction",
    "out": str, "threads": "posint", "jobs": "posint", "backend": "backend",
    "address": str, "quiet": bool, "tune": "posint", "tune_timeout": "posfloat",
    "tune_metric": str, "tune_per_seed": bool, "baselines": "names",
}


def _coerce_setting(key, value, path, text):
    from ._config import ConfigError, where
    kind = _SETTING_TYPES[key]

    def bad(expected):
        return ConfigError(f"{where(path, text, (key,))} must be {expected}, got {value!r}")

    if kind is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "names":
        if isinstance(value, str):
            return _name_list(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip().lower() for v in value]
        raise bad("a list of names")
    if kind == "ints":
        value = [value] if isinstance(value, int) and not isinstance(value, bool) else value
        if isinstance(value, list) and value and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            return value
        raise bad("a positive integer or a list of them")
    if kind in ("int", "posint"):
        low = 1 if kind == "posint" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise bad("a positive integer" if low else "an integer >= 0")
        return value
    if kind in ("posfloat", "float", "fraction"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        if kind == "posfloat" and not value > 0:
            raise bad("a number > 0")
        if kind == "float" and not value >= 0:
            raise bad("a number >= 0")
        if kind == "fraction" and not 0 < value < 1:
            raise bad("a number strictly between 0 and 1")
        return float(value)
    if kind == "backend":
        if value not in ("local", "ray"):
            raise bad("'local' or 'ray'")
        return value
    raise AssertionError(kind)  # pragma: no cover


def _check_table_params(path, text, table, name, params):
    from ._config import ConfigError, check_keys
    if table == "sampler":
        import inspect
        from .samplers import SAMPLERS
        known = set(inspect.signature(SAMPLERS[name]).parameters)
    else:
        from .models import BPO, BPR, NBPO
        known = set({"bpr": BPR, "bpo": BPO, "nbpo": NBPO}[name]._defaults) - {"seed", "sampler"}
    check_keys(path, text, params, known, prefix=(table, name))
    for key, value in params.items():
        if isinstance(value, (dict, list)) and not (table == "model" and key == "sampler"):
            from ._config import where
            raise ConfigError(f"{where(path, text, (table, name, key))} must be a single value")


def _defaults_used(configs) -> str:
    """Which epochs, learning rate and regularization each configuration
    trained with when the command line left them unset, and why (the
    sampler's recommendation or the trainer's default)."""
    from .models import MODELS
    classes = {name.lower(): cls for name, cls in MODELS.items()}
    lines = ["settings not given, as used:"]
    for c in configs:
        model = classes[c["model"]](sampler=c["sampler"], **c["params"])
        values, sources = model.effective_params(), model.param_sources()
        unset = [k for k, src in sources.items() if src != "set"]
        if not unset:
            continue
        parts = []
        for src in dict.fromkeys(sources[k] for k in unset):
            names = ", ".join(f"{k} {values[k]:g}" for k in unset if sources[k] == src)
            parts.append(f"{names} ({src})")
        lines.append(f"  {_config_name(c['model'], c['sampler'].name)}: " + "; ".join(parts))
    return "\n".join(lines) if len(lines) > 1 else ""


def _compare_configs(settings) -> list:
    """One run configuration per (model, sampler)."""
    from .samplers import SAMPLERS
    configs = []
    for model in settings["models"]:
        params = {}
        for name in ("factors", "epochs", "learning_rate", "regularization"):
            if settings[name] is not None:
                params[name] = settings[name]
        if settings["threads"] is not None:
            params["n_threads"] = settings["threads"]
        params.update(settings["tables"]["model"].get(model, {}))
        for sampler in settings["samplers"]:
            sparams = dict(settings["tables"]["sampler"].get(sampler, {}))
            if sampler == "nbpo" and model != "nbpo" \
                    and params.get("optimizer", "sgd") == "sgd":
                sparams.setdefault("lambda_phi", NBPO_SGD_LAMBDA_PHI)
            try:
                sampler_obj = SAMPLERS[sampler](**sparams)
            except TypeError as exc:
                raise UsageError(f"[sampler.{sampler}]: {exc}") from None
            configs.append({"model": model, "sampler": sampler_obj, "params": dict(params)})
    return configs


def _prepare_out(out) -> Path:
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {str(folder)!r} is a file; --out names a folder for the CSV "
                         "and PNG")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".recsample-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {str(folder)!r} cannot be written: {exc.strerror or exc}") \
            from None
    return folder


def cmd_warmup(args) -> int:
    from .compilation import builtin_pairs, parse_pair, warmup
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


def cmd_compare(args) -> int:
    settings = _compare_settings(args)
    if settings["tune"] is not None:
        _require_extra("optuna", "tune", "--tune")
    if settings["backend"] == "ray":
        _require_extra("ray", "ray", "--backend ray")
    folder = _prepare_out(settings["out"])
    quiet = bool(settings["quiet"])
    if quiet:
        os.environ["RECSAMPLE_COMPILE_NOTICE"] = "0"
    from . import experiments
    from .experiments.grid import normalize_config
    configs = _compare_configs(settings)
    try:
        for c in configs:
            normalize_config(c).build(0)._validated()
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    stem = f"compare-{settings['dataset']}"
    csv_path, png_path = folder / f"{stem}.csv", folder / f"{stem}.png"
    data = _load(settings["dataset"], settings["path"])
    tuned = settings["tune"] is not None
    extra = _tuned_configs([], settings["baselines"])   # the baselines
    if not quiet:
        n = (len(configs) + len(settings["baselines"])) * settings["seeds"]
        how = f", each tuned with {settings['tune']} trials" if tuned else ""
        print(f"{settings['dataset']}: {len(configs) + len(settings['baselines'])} "
              f"configurations x {settings['seeds']} seeds = {n} runs{how} -> {csv_path}",
              file=sys.stderr)
    import warnings

    import pandas as pd
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            if tuned:
                df = _run_tuned(settings, _tuned_configs(configs, []) + extra, data, csv_path,
                                quiet)
            else:
                df = experiments.run(
                    configs, {settings["dataset"]: data}, seeds=settings["seeds"],
                    k=tuple(settings["k"]), metrics=tuple(settings["metrics"]), out=csv_path,
                    n_jobs=settings["jobs"], backend=settings["backend"],
                    address=settings["address"], split=settings["test_fraction"],
                    progress=not quiet)
                if extra:
                    base = _run_tuned(settings, extra, data, csv_path, quiet)
                    failed_runs = df.attrs.get("failed", [])
                    df = pd.concat([df, base], ignore_index=True)
                    df.attrs.update(settings=base.attrs.get("settings"), failed=failed_runs)
        except KeyboardInterrupt:
            print(f"recsample compare: interrupted; finished runs are in {csv_path}; run the "
                  "same command again to complete the rest", file=sys.stderr)
            return 130
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    failed = df.attrs.get("failed", [])
    for w in caught:
        if not issubclass(w.category, RuntimeWarning) or "runs failed" not in str(w.message):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    for f in failed:
        print(f"recsample compare: run failed: {f['model']} + {f['sampler']} seed {f['seed']}: "
              f"{f['error']}", file=sys.stderr)
    if df.empty:
        print("recsample compare: no run finished", file=sys.stderr)
        return 1
    summary = experiments.summarize(df)
    print(format_table(summary, settings, chosen=df.attrs.get("settings")))
    used = "" if tuned else _defaults_used(configs)
    if used:
        print(used)
    print(_paired_lines(df, settings))
    from ._optional import MissingDependency, require
    try:
        require("matplotlib", "plot", "the plot")
    except MissingDependency as exc:
        # the table and the rows are the results; the plot only shows them
        print(f"recsample compare: no plot written: {exc}", file=sys.stderr)
        print(f"\nrows: {csv_path}")
    else:
        experiments.plot_summary(summary, png_path, title=_plot_title(settings, summary))
        print(f"\nrows: {csv_path}\nplot: {png_path}")
    if failed:
        print(f"recsample compare: {len(failed)} runs failed (not written; run the same "
              "command again to retry them)", file=sys.stderr)
        return 1
    return 0


def _tuned_configs(configs, baselines) -> list:
    """compare's configurations (and baselines) in the tuned runner's form."""
    from .experiments.tuned import TunedConfig
    out = [TunedConfig(c["model"], c["sampler"], tuple(sorted(
        (k, v) for k, v in c["params"].items() if k != "n_threads"))) for c in configs]
    return out + [TunedConfig(b) for b in baselines]


def _run_tuned(settings, configs, data, csv_path, quiet):
    from .experiments.grid import resolve_datasets
    from .experiments.tuned import run_tuned
    trials = settings["tune"]
    options = None
    if trials is not None:
        # a validation costs about two BPR epochs on movielens-small: check every 5th
        options = {"n_jobs": settings["jobs"], "eval_every": TUNE_EVAL_EVERY}
        if settings["epochs"] is not None:     # tuned: the epoch budget of each trial
            options["max_epochs"] = max(1, settings["epochs"])
            configs = [c.without("epochs") for c in configs]
    return run_tuned(configs, resolve_datasets({settings["dataset"]: data})[0],
                     seeds=settings["seeds"], trials=trials, timeout=settings["tune_timeout"],
                     metric=settings["tune_metric"], k=tuple(settings["k"]),
                     metrics=tuple(settings["metrics"]), out=csv_path,
                     split=settings["test_fraction"], progress=not quiet,
                     n_threads=settings["threads"], tune_options=options,
                     per_seed=bool(settings["tune_per_seed"]), backend=settings["backend"],
                     address=settings["address"])


def _paired_lines(df, settings) -> str:
    """Each configuration against the first, paired by seed, on the first
    metric and cut-off: mean difference, paired t-test and Wilcoxon p-values."""
    from .experiments import paired_tests
    idents = list(dict.fromkeys(zip(df["model"], df["sampler"], df["params"])))
    if len(idents) < 2 or df["seed"].nunique() < 2:
        return ""
    metric, k = settings["metrics"][0], settings["k"][0]
    ref = idents[0]
    lines = [f"\npaired over seeds against {_config_name(*ref[:2])} ({metric}@{k}): "
             "difference, t-test p, Wilcoxon p"]
    for ident in idents[1:]:
        which = dict(zip(("model", "sampler", "params"), ident))
        res = paired_tests(df, which, dict(zip(("model", "sampler", "params"), ref)))
        row = res[(res["metric"] == metric) & (res["k"] == k)]
        if row.empty:
            continue
        r = row.iloc[0]
        lines.append(f"  {_config_name(*ident[:2]):<18} {r['diff']:+.4f}  "
                     f"t p={r['t_pvalue']:.3g}  Wilcoxon p={r['wilcoxon_pvalue']:.3g}")
    return "\n".join(lines)


def _config_name(model, sampler) -> str:
    return model if sampler in ("-", "", None) else f"{model}+{sampler}"


def _plot_title(settings, summary) -> str:
    seeds = int(summary["seeds"].max())
    models = "/".join(m.upper() for m in settings["models"])
    return (f"{settings['dataset']}: {models} with {len(settings['samplers'])} samplers, "
            f"{seeds} seed{'s' * (seeds != 1)} (mean ± 95% CI)")


def format_table(summary, settings=None, chosen=None) -> str:
    """Metric@k rows x configuration columns, cells "mean ± CI half-width",
    the best mean of each row marked with *; the configurations' full
    parameters are listed below the table, and with ``chosen`` (the tuned
    runner's settings frame) the settings each seed's tuning picked."""
    s = summary.copy()
    s["what"] = [m if str(k) == "<NA>" else f"{m}@{k}" for m, k in zip(s["metric"], s["k"])]
    whats = list(dict.fromkeys(s["what"]))
    idents = list(dict.fromkeys(zip(s["model"], s["sampler"], s["params"])))
    names = {}
    for ident in idents:
        name = _config_name(ident[0], ident[1])
        while name in names.values():
            name += "'"
        names[ident] = name
    s["config"] = [names[i] for i in zip(s["model"], s["sampler"], s["params"])]
    cols = [names[i] for i in idents]
    cells = {}
    for w in whats:
        part = s[s["what"] == w]
        best = part["mean"].max()
        for row in part.itertuples(index=False):
            half = row.ci_high - row.mean
            text = f"{row.mean:.4f} ± {half:.4f}" if half == half else f"{row.mean:.4f}"
            cells[w, row.config] = text + ("*" if row.mean == best else " ")
    seconds = s.groupby("config", sort=False)["fit_seconds"].mean()
    for c in cols:
        cells["fit seconds", c] = f"{seconds[c]:.1f} "
    rows = whats + ["fit seconds"]
    first = max(len(r) for r in rows)
    width = {c: max(len(c) + 1, *(len(cells.get((r, c), "")) for r in rows)) for c in cols}
    lines = []
    if settings is not None:
        seeds = int(s["seeds"].max())
        lines.append(f"{settings['dataset']}: mean ± 95% CI half-width over {seeds} seed"
                     f"{'s' * (seeds != 1)} (per-user random holdout, test fraction "
                     f"{settings['test_fraction']:g}); * = best per row")
    header = "".ljust(first) + "  " + "  ".join(c.rjust(width[c] - 1) + " " for c in cols)
    lines += [header.rstrip(), "-" * len(header.rstrip())]
    for r in rows:
        if r == "fit seconds":
            lines.append("-" * len(header.rstrip()))
        lines.append((r.ljust(first) + "  " + "  ".join(
            cells.get((r, c), "").rjust(width[c]) for c in cols)).rstrip())
    lines.append("")
    if chosen:
        import pandas as pd
        chosen = pd.DataFrame(chosen)
    for i in idents:
        what = i[0].upper() if i[1] in ("-", "") else f"{i[0].upper()} + {i[1]}"
        lines.append(f"{names[i]}: {what}, params {i[2]}")
        if chosen is not None and len(chosen):
            mine = chosen[(chosen["model"] == i[0]) & (chosen["sampler"] == i[1])
                          & (chosen["params"] == i[2])]
            for row in mine.sort_values("seed").itertuples(index=False):
                if row.settings in ("{}", ""):
                    continue          # nothing tuned, nothing beyond params to show
                valid = "" if row.valid_value != row.valid_value else \
                    f" (validation {row.valid_value:.4f}, {row.trials_finished} trials)"
                lines.append(f"    seed {row.seed}: {row.settings}{valid}")
    return "\n".join(lines)


# ------------------------------------------------------------------ reproduce
def cmd_reproduce(args) -> int:
    missing = getattr(args, "missing", None)
    if missing:
        raise UsageError(missing)
    runner = getattr(args, "runner", None)
    if runner is None:   # parser built without reproduce's options
        import importlib
        runner = importlib.import_module(args.module).run
    return int(runner(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
