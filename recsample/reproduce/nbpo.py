"""Reproduce NBPO on the authors' Amazon split.

Yu & Qin, "Sampler Design for Implicit Feedback Data by Noisy-label Robust
Learning", SIGIR 2020. The authors' code and results live in the repository
github.com/Wenhui-Yu/NBPO (branch master); the facts this module relies on
are cited with the file they come from. docs/reproduce_nbpo.md gives the
protocol, the settings and our results.

What is run
-----------
BPR, BPO and NBPO (``rs.BPR``, ``rs.BPO`` with uniform negatives, ``rs.NBPO``)
with the authors' Amazon settings (:func:`authors_settings`), once per seed.
After every epoch (and before the first, "epoch 0", as the authors' result
files have it) the top 20 of every user is computed once per ranking and
F1 and NDCG at 2, 5, 10 and 20 are derived from it on three rankings:

``valid``
    validation items, the user's training items excluded, the authors'
    metric definitions (:func:`authors_f1`, :func:`authors_ndcg`);
``test``
    test items, training items excluded (validation items stay in the
    ranking, as in the authors' code), the authors' definitions;
``test_strict``
    test items, training *and* validation items excluded, recsample's own
    definitions (docs/metrics.md).

Two protocols are then reported side by side:

(a) the authors': for each run, metric and cut-off separately, the best
    value over all epochs; mean and standard deviation over runs. This is how
    ``result_collection/data_process.py`` builds the published
    ``experiment_result/data_process/*.xlsx`` files (its ``max`` sheets; its
    ``top5`` sheets average the 5 best epochs instead, also reported). The
    published Amazon file is on the validation split. Their standard
    deviation is taken over the runs *and* their mean row with ddof 1, which
    equals the population standard deviation (ddof 0) of the runs: we use
    ddof 0 here to match.
(b) strict: per run, the epoch with the best validation NDCG@10 (the first
    such epoch), and the test metrics at that epoch; mean and sample standard
    deviation (ddof 1) over runs. Paired tests across seeds (same seed = same
    initial U, V for every model) compare NBPO with BPO and BPR on test
    NDCG@10.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .._checks import check_int as _check_int
from . import nbpo_report as _report
from .nbpo_eval import KS, METRICS, SPLITS, AuthorsRanker, authors_f1, authors_ndcg
from .protocol import (best_over_epochs, epoch_chosen_on, paired_by_seed, record_epochs,
                       run_tasks, tidy_per_epoch)

__all__ = ["reproduce", "Reproduction", "authors_settings", "authors_f1", "authors_ndcg",
           "select_authors", "select_strict", "paired_tests", "AUTHORS_FILE", "MODELS", "KS",
           "add_arguments", "run"]

#: the models reproduced, in the order they are reported
MODELS = ("BPR", "BPO", "NBPO")
_ORDER = {"model": MODELS, "split": SPLITS}

#: The authors' published Amazon result for NBPO, experiment_result/data_process/
#: amazon_NBPO_1608170256687.xlsx: validation split, 10 runs, protocol (a), eta 0.05,
#: lambda_r 1, lambda_phi 5, K0 = K1 = 50, 3 negatives per positive, batches of
#: 5000, 200 epochs. Keyed by (metric, k).
AUTHORS_FILE = {
    "negatives": 3, "split": "valid", "runs": 10,
    "values": {("f1", 2): 0.0358, ("f1", 5): 0.0392, ("f1", 10): 0.0370, ("f1", 20): 0.0303,
               ("ndcg", 2): 0.0455, ("ndcg", 5): 0.0524, ("ndcg", 10): 0.0644,
               ("ndcg", 20): 0.0775},
}


# ------------------------------------------------------------------ settings
# ------------------------------------------------------------------ settings
def authors_settings(negatives: int = 4, epochs: int = 200) -> dict:
    """Per model, the keyword arguments that reproduce the authors' Amazon runs.

    From the authors' scripts ``_BPR.py``, ``_BPO.py``, ``_NBPO.py`` (Amazon,
    ``dataset = 0``): K0 = K1 = 50; U, V ~ U(0, 1/sqrt(K0)); P ~ 5 U(0,
    1/sqrt(K1)), Q ~ -5 U(0, 1/sqrt(K1)) (``rs.samplers.NBPO``'s default);
    ``sample_rate`` negatives per positive, each drawn uniformly and redrawn
    while it is a training positive; mini-batches of 5000 positives whose
    gradients are summed, then W += eta (dW - lambda W) for every row;
    sigmoid taken as 0/1 beyond |x| > 10; 200 epochs. Learning rate and
    weight decay per script: BPR eta 0.05, lambda_r 1; BPO eta 0.05,
    lambda_r 2; NBPO eta 0.05, lambda_r 1, lambda_phi 5.

    The authors multiply eta by 0.99 at the *start* of every epoch, so epoch
    e (from 1) runs with 0.05 * 0.99^e. recsample decays after every epoch
    (epoch e from 0 runs with learning_rate * 0.99^e), hence
    ``learning_rate = 0.05 * 0.99`` here: the same schedule.

    The authors read the positives user by user in file order and never
    shuffle them, so their batches are the same consecutive slices every
    epoch: ``shuffle=False`` (the CSR order is that order).
    """
    _check_int("negatives", negatives, 1)
    _check_int("epochs", epochs, 0)
    common = dict(factors=50, epochs=int(epochs), learning_rate=0.05 * 0.99,
                  learning_rate_decay=0.99, negatives=int(negatives), use_bias=False,
                  init="uniform", init_scale=1.0 / math.sqrt(50), optimizer="batch",
                  batch_size=5000, clip_sigmoid=10.0, shuffle=False)
    return {
        "BPR": dict(common, regularization=1.0, sampler="uniform"),
        "BPO": dict(common, regularization=2.0, sampler="uniform"),
        "NBPO": dict(common, regularization=1.0, sampler="nbpo", flip_factors=50,
                     lambda_phi=5.0),
    }


_SAMPLER_KEYS = ("flip_factors", "lambda_phi")


def _build_model(name: str, params: dict, seed: int):
    import recsample as rs
    from recsample.samplers import NBPO as NBPOSampler

    p = {k: v for k, v in params.items() if k not in _SAMPLER_KEYS}
    if p.get("sampler") == "nbpo":
        p["sampler"] = NBPOSampler(flip_factors=params.get("flip_factors", 50),
                                   lambda_phi=params.get("lambda_phi", 5.0))
    cls = {"BPR": rs.BPR, "BPO": rs.BPO, "NBPO": rs.NBPO}[name]
    return cls(**p, seed=int(seed))


# ------------------------------------------------------------------ protocols
def select_authors(per_epoch: pd.DataFrame, split: str = "valid", top: int = 1) -> pd.DataFrame:
    """Protocol (a), the authors' ``data_process.py``: for each model, seed,
    metric and cut-off *separately*, the best value over the epochs (``top=1``,
    their "max" sheets) or the mean of the ``top`` best (their "top5" sheets
    use 5); then mean and population std (ddof 0, what their mean-row-included
    ddof-1 formula amounts to) over seeds.

    Returns columns model, metric, k, mean, std, runs.
    """
    return best_over_epochs(per_epoch, split, top=top, ddof=0, order=_ORDER)


def select_strict(per_epoch: pd.DataFrame, by=("ndcg", 10), select_split: str = "valid",
                  report_splits=("test", "test_strict")):
    """Protocol (b): per model and seed the epoch e* with the best
    ``select_split`` value of ``by`` = (metric, k) (the first such epoch),
    and every metric of ``report_splits`` at e*.

    Returns (per_seed, summary): per_seed has model, seed, epoch, split,
    metric, k, value; summary has model, split, metric, k, mean, std
    (ddof 1), runs and the mean selected epoch.
    """
    return epoch_chosen_on(per_epoch, by, select_split, report_splits, order=_ORDER)


def paired_tests(per_seed: pd.DataFrame, metric: str = "ndcg", k: int = 10,
                 split: str = "test", pairs=(("NBPO", "BPO"), ("NBPO", "BPR"))) -> pd.DataFrame:
    """Paired t-test (scipy.stats.ttest_rel) and Wilcoxon signed-rank test
    (scipy.stats.wilcoxon, two-sided) across seeds of model a vs model b on
    ``split`` ``metric``@``k`` (runs paired by seed: same initial factors).
    Columns a, b, split, metric, k, runs, mean_a, mean_b, mean_diff, a_wins,
    t, p_t, w, p_wilcoxon."""
    return paired_by_seed(per_seed, pairs, metric=metric, k=k, split=split)


# ------------------------------------------------------------------ results
@dataclass
class Reproduction:
    """Results of :func:`reproduce`.

    ``per_epoch``: tidy per-epoch table (model, seed, epoch, split, metric, k,
    value); ``protocol_a`` / ``protocol_a_top5``: the authors' selection on
    the validation split; ``protocol_a_test``: the same selection applied to
    the test split (the authors' ``vali_test = 1`` mode; it picks epochs on
    test, so it is optimistic and shown only for comparison with papers that
    report it); ``strict_per_seed`` / ``protocol_b``: protocol (b);
    ``paired``: paired tests on test NDCG@10 under (b); ``comparison``: NBPO
    under (a) against the authors' published file (when ``negatives`` is 3).
    """

    per_epoch: pd.DataFrame
    settings: dict
    seconds: float
    diverged: dict = field(default_factory=dict)
    train_seconds: dict = field(default_factory=dict)

    def __post_init__(self):
        self.protocol_a = select_authors(self.per_epoch, "valid", top=1)
        self.protocol_a_top5 = select_authors(self.per_epoch, "valid", top=5)
        self.protocol_a_test = select_authors(self.per_epoch, "test", top=1)
        self.strict_per_seed, self.protocol_b = select_strict(self.per_epoch)
        self.paired = pd.concat([paired_tests(self.strict_per_seed, split=s)
                                 for s in ("test", "test_strict")], ignore_index=True)
        self.comparison = self._compare()

    @property
    def negatives(self) -> int:
        return int(next(iter(self.settings["models"].values()))["negatives"])

    def _compare(self):
        rows = []
        a = self.protocol_a[self.protocol_a["model"] == "NBPO"].set_index(["metric", "k"])
        t5 = self.protocol_a_top5[self.protocol_a_top5["model"] == "NBPO"].set_index(
            ["metric", "k"])
        for (metric, k), ref in AUTHORS_FILE["values"].items():
            if (metric, k) not in a.index:
                continue
            ours, top5 = a.loc[(metric, k)], t5.loc[(metric, k)]
            rows.append({"metric": metric, "k": k, "authors": ref, "ours_max": ours["mean"],
                         "ours_max_std": ours["std"], "rel_diff_max": ours["mean"] / ref - 1,
                         "ours_top5": top5["mean"], "rel_diff_top5": top5["mean"] / ref - 1})
        return pd.DataFrame(rows)

    def table(self) -> str:
        """Markdown: protocols (a) and (b), the authors' file, paired tests."""
        return _report.table(self, MODELS, AUTHORS_FILE)

    def plot(self, path=None, metric="ndcg", k=10, split="valid"):
        """Mean over seeds (± one std band) of ``split`` ``metric``@``k`` per
        epoch, one line per model. Saves to ``path`` when given; returns the
        matplotlib Figure."""
        return _report.plot(self, MODELS, path, metric=metric, k=k, split=split)

    def save(self, out) -> dict:
        """Write the tables, the per-epoch CSV (gzip), the plot and the
        settings into folder ``out``; returns {what: path}."""
        return _report.save(self, out)


# ------------------------------------------------------------------ one run
_DATA_CACHE = {}


def _data(path):
    key = str(path)
    if key not in _DATA_CACHE:
        import recsample as rs
        train, valid, test = rs.load_dataset("nbpo-amazon", path=path)
        _DATA_CACHE[key] = (train, AuthorsRanker(train, valid, test))
    return _DATA_CACHE[key]


def _run_one(task):
    """Train one (model, seed) and evaluate after every epoch.

    Returns (model, seed, values, seconds, diverged_epoch) with ``values`` of
    shape (epochs + 1, len(SPLITS), len(METRICS), len(KS)); rows after a
    divergence are NaN (the authors' loop stops there too).
    """
    name, seed, params, path = task
    train, ranker = _data(path)
    values, seconds, diverged = record_epochs(
        lambda n: _build_model(name, dict(params, epochs=n), seed), train, ranker.evaluate,
        int(params["epochs"]), (len(SPLITS), len(METRICS), len(KS)))
    return name, seed, values, seconds, diverged


def _tidy(runs):
    """Long table (model, seed, epoch, split, metric, k, value) from the runs."""
    return tidy_per_epoch(runs, SPLITS, METRICS, KS, order=_ORDER)


def reproduce(path, seeds=10, epochs=200, negatives=4, models=MODELS, out=None, n_jobs=2,
              progress=True, overrides=None) -> Reproduction:
    """Train ``models`` on nbpo-amazon for ``seeds`` seeds (0 .. seeds-1) with
    the authors' settings (:func:`authors_settings`), evaluating after every
    epoch; return a :class:`Reproduction` (and write it to folder ``out``).

    ``path``: folder with the authors' three JSON files. ``n_jobs``: runs
    trained at once in separate processes (the batch trainer is
    single-threaded); 1 runs everything in this process. ``overrides``:
    {model: {parameter: value}} on top of the authors' settings, e.g.
    ``{"BPO": {"regularization": 1.0}}``.
    """
    _check_int("seeds", seeds, 1)
    _check_int("n_jobs", n_jobs, 1)
    if isinstance(models, str):
        models = (models,)
    models = tuple(models)
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ValueError(f"models must be a non-empty subset of {MODELS}, got {models!r}")
    settings = authors_settings(negatives, epochs)
    for model, extra in (overrides or {}).items():
        if model not in settings:
            raise ValueError(f"overrides: unknown model {model!r}; expected one of {MODELS}")
        settings[model] = dict(settings[model], **extra)
    path = Path(path).expanduser()
    _data(path)  # fail here, with the loader's message, if the files are missing
    for m in models:  # parameter errors surface before any process starts
        _build_model(m, settings[m], 0)._validated()
    # the slowest model first, so the last runs to finish are short ones
    tasks = [(m, s, settings[m], str(path)) for m in sorted(models, key=lambda m: m != "NBPO")
             for s in range(int(seeds))]
    start = time.perf_counter()
    runs = run_tasks(_run_one, tasks, n_jobs=n_jobs, progress=progress, desc="nbpo-amazon runs")
    seconds = time.perf_counter() - start
    meta = {"dataset": "nbpo-amazon", "seeds": int(seeds), "epochs": int(epochs),
            "models": {m: settings[m] for m in models}, "n_jobs": int(n_jobs),
            "ks": list(KS), "splits": list(SPLITS)}
    result = Reproduction(
        per_epoch=_tidy(runs), settings=meta, seconds=seconds,
        diverged={(m, s): d for m, s, _, _, d in runs if d is not None},
        train_seconds={(m, s): t for m, s, _, t, _ in runs})
    if out is not None:
        result.save(out)
    return result


# ------------------------------------------------------------------ command line
def _default_path():
    env = os.environ.get("RECSAMPLE_NBPO_AMAZON")
    if env:
        return env
    from recsample.datasets.nbpo_amazon import default_path
    return str(default_path())


def _override(text):
    try:
        key, value = text.split("=", 1)
        model, param = key.split(".", 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--set takes MODEL.PARAM=VALUE (e.g. BPO.regularization=1), got {text!r}") from None
    for cast in (int, float):
        try:
            return model, param, cast(value)
        except ValueError:
            pass
    return model, param, value


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``recsample reproduce nbpo``."""
    from ..cli._args import positive_int
    parser.add_argument("--path", default=_default_path(),
                        help="folder with the authors' train/validation/test JSON files "
                             "(default: $RECSAMPLE_NBPO_AMAZON or the dataset cache)")
    parser.add_argument("--seeds", type=positive_int, default=10, help="runs per model (seeds 0..N-1)")
    parser.add_argument("--epochs", type=positive_int, default=200)
    parser.add_argument("--negatives", type=positive_int, default=4,
                        help="negatives per positive (the authors' code: 4; their published "
                             "Amazon file: 3)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", default=None, help="folder for the tables, CSVs and plot")
    parser.add_argument("--jobs", type=positive_int, default=2, help="runs trained in parallel")
    parser.add_argument("--set", dest="overrides", action="append", type=_override, default=[],
                        metavar="MODEL.PARAM=VALUE",
                        help="change one of the authors' settings, e.g. BPO.regularization=1")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def run(args) -> int:
    """Run the reproduction from parsed arguments; print the table. Returns
    the exit status."""
    overrides = {}
    for model, param, value in args.overrides:
        overrides.setdefault(model, {})[param] = value
    try:
        result = reproduce(args.path, seeds=args.seeds, epochs=args.epochs,
                           negatives=args.negatives, models=args.models, out=args.out,
                           n_jobs=args.jobs, progress=not args.no_progress, overrides=overrides)
    except (ValueError, TypeError) as exc:
        print(f"recsample reproduce nbpo: error: {exc}", file=sys.stderr)
        return 2
    print(result.table())
    if args.out:
        print(f"\nwritten to {args.out}")
    return 0
