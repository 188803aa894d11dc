"""``rs.tune``: hyper-parameters chosen on validation data, never on test.

An Optuna study (TPE, seeded) over the ranges that the model and its sampler
declare in their ``search_space`` (see :mod:`recsample.search_space`). A
trainer's epochs are not searched: each trial trains up to ``max_epochs``,
evaluates the validation metric after every epoch, stops after ``patience``
epochs without improvement, and records its best epoch; the same per-epoch
values feed Optuna's median pruner, which stops trials that trail the
earlier ones at the same epoch. A baseline (EASE, ALS, popularity) is fitted
once per trial and scored on validation.

The function takes no test data. When ``valid`` is not given it is carved
from ``train`` (a per-user random holdout of ``valid_fraction``, seeded), and
the trials fit on the rest.
"""
from __future__ import annotations

import os

from ..core.validation import check_int as _check_int
from ._result import TuneResult, _pick_best
# _parse_metric (the command line) and _space_for, _Objective (the tests) are
# also imported from here
from ._setup import (_check_timeout, _fixed_params, _is_trainer, _parse_metric, _space_for,
                     _validation, resolve_model, tunable_names)
from ._study import _open_study, _optuna
from ._trials import _Objective, _run_trials

__all__ = ["tune", "TuneResult", "tunable_names", "resolve_model"]


def tune(model="bpr", sampler=None, *, train, valid=None, trials=30, timeout=None,
         metric="ndcg@10", seed=0, storage=None, study_name=None, params=None, space=None,
         max_epochs=100, patience=10, eval_every=1, valid_fraction=0.1, prune=True, n_jobs=1,
         n_threads=None, progress=None, stream=None):
    """Tune a trainer (with its sampler) or a baseline on validation data.

    Parameters
    ----------
    model : str, class or unfitted model
        "bpr", "bpo", "nbpo", "popular", "ease", "als", a class, or an
        instance whose parameters are the fixed starting point.
    sampler : str or Sampler, optional
        The trainer's sampler (default: the model's own); its declared ranges
        are searched too, under the names ``sampler.PARAM``.
    train : Interactions or sparse matrix
        Training data. There is no test argument: the test part is never read.
    valid : Interactions or sparse matrix, optional
        Validation data over the same users x items. When None, a per-user
        ``valid_fraction`` of ``train`` (``rs.split.random_holdout``, seed
        ``seed``) is held out and trials fit on the rest.
    trials : int
        Trials of the study in total: a stored study that already holds some
        finished trials runs only the remainder.
    timeout : float, optional
        Seconds after which this call starts no new trial.
    metric : str
        "ndcg@10"-style validation metric to maximise (precision, recall,
        ndcg, map, mrr, hit_rate, f1 at a cut-off).
    seed : int
        Seeds the validation split, TPE and every trial's model.
    storage : path or Optuna storage URL, optional
        Where the study lives; a path is an SQLite file. With a storage an
        interrupted study resumes (trials that were running when it stopped
        or failed are run again), and several processes calling ``tune``
        with the same storage and ``study_name`` share the trials (each
        stops once the study holds ``trials`` finished ones; trials already
        started by the others then still finish, so the total can exceed
        ``trials`` by the number of other processes).
    study_name : str, optional
        Default "MODEL-SAMPLER-METRIC".
    params : dict, optional
        Fixed model parameters (e.g. ``{"factors": 32}``).
    space : dict, optional
        Overrides of the declared ranges: ``{"factors": IntRange(16, 128)}``
        searches factors; a plain value (``{"sampler.candidates": 16}``)
        fixes a parameter instead.
    max_epochs, patience : int
        A trainer's epoch budget per trial and its early-stopping patience
        in epochs.
    eval_every : int
        Epochs between validations (and pruning checks). On movielens-small
        one validation costs about two BPR epochs, so 2-5 makes trials much
        cheaper; the chosen epoch count is then a multiple of it.
    valid_fraction : float
        Share of each user's training interactions held out when ``valid``
        is None.
    prune : bool
        Stop trials whose per-epoch validation value falls below the median
        of earlier trials at the same epoch (Optuna's MedianPruner, after 5
        finished trials and 5 epochs).
    n_jobs : int
        Trials run at once, each in its own process (training is compiled
        code that holds the processor, so threads would not help); they share
        ``storage``, or a temporary SQLite file when none is given.
    n_threads : int, optional
        Training threads per trial (default: all cores, divided by n_jobs).
    progress : bool, optional
        Show progress (default: yes). On a terminal or in a notebook a live
        bar; otherwise (logs, pipes) one line per finished trial.
    stream : file, optional
        Where progress goes (default stderr).

    Returns
    -------
    TuneResult
        ``.params`` (with ``epochs``), ``.value``, ``.study``, ``.trials``.
    """
    optuna = _optuna()   # before any work: without it nothing below can run
    cls, base = resolve_model(model)
    trainer = _is_trainer(cls)
    trials = _check_int("trials", trials, 1)
    _check_timeout(timeout)
    metric_name, cutoff = _parse_metric(metric)
    metric = f"{metric_name}@{cutoff}"
    seed = _check_int("seed", seed, 0)
    n_jobs = _check_int("n_jobs", n_jobs, 1)
    if trainer:
        max_epochs = _check_int("max_epochs", max_epochs, 1)
        patience = _check_int("patience", patience, 1)
        eval_every = _check_int("eval_every", eval_every, 1)
    else:   # a baseline is fitted once per trial: no epochs, no early stopping
        max_epochs, patience, eval_every = None, None, 1
    base, sampler = _fixed_params(cls, base, params, sampler, trainer)
    ranges, fixed = _space_for(cls, sampler, space)
    train_part, valid = _validation(train, valid, valid_fraction, seed)
    if not ranges:
        trials = 1   # nothing to search: one trial measures the configuration
    if n_threads is None:
        n_threads = max(1, (os.cpu_count() or 1) // n_jobs)
    study, url, name, done = _open_study(optuna, cls, sampler, metric, ranges, fixed, seed,
                                         storage, study_name, n_jobs, prune and trainer)
    job = _Objective(cls, base, sampler, ranges, fixed, train_part, valid, metric_name,
                     cutoff, seed, max_epochs, patience, n_threads, eval_every)
    _run_trials(study, job, url, name, trials, done, timeout, n_jobs, seed, progress, stream,
                metric)
    return _pick_best(study, cls, base, sampler, fixed, metric, n_threads)
