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

import json
import math
import numbers
import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import registry, search_space as _space
from .core.validation import check_int as _check_int, parse_metric, suggest as _suggest

__all__ = ["tune", "TuneResult", "tunable_names", "resolve_model"]

#: Trial states that count as done when a stored study is resumed; a trial
#: that failed or was interrupted (Ctrl-C marks it failed) runs again.
_DONE_STATES = ("COMPLETE", "PRUNED")
_RANK_METRICS = registry.RANK_METRICS


def _optuna():
    """optuna, or an ImportError naming the extra that installs it."""
    from ._optional import require
    return require("optuna", "tune", "rs.tune")


def _classes() -> dict:
    from .baselines import BASELINES
    from .models import MODELS
    out = {name.lower(): cls for name, cls in MODELS.items()}
    out.update(BASELINES)
    return out


def tunable_names() -> list:
    """Names ``rs.tune`` accepts for ``model``: the trainers and baselines."""
    return list(_classes())


def resolve_model(model):
    """(class, fixed parameters) for a name, a class or an unfitted model."""
    classes = _classes()
    if isinstance(model, str):
        key = model.strip().lower()
        if key not in classes:
            raise ValueError(f"model: unknown model {model!r}; expected one of "
                             f"{', '.join(classes)}{_suggest(key, classes)}")
        return classes[key], {}
    if isinstance(model, type) and model in classes.values():
        return model, {}
    if type(model) in classes.values():
        params = model.get_params()
        return type(model), params
    raise TypeError(f"model must be a name ({', '.join(classes)}), a model class or an "
                    f"unfitted model, got {model!r}")


def _is_trainer(cls) -> bool:
    from .models.base import FactorModel
    return issubclass(cls, FactorModel)


def _parse_metric(metric):
    return parse_metric(metric, "metric", _RANK_METRICS)


@dataclass
class TuneResult:
    """What a study found.

    ``params`` are the winning constructor parameters of ``model_class``,
    with ``epochs`` set to the best trial's best epoch and ``sampler`` to a
    sampler instance carrying its chosen settings, so
    ``result.model_class(**result.params)`` (or :meth:`make_model`) rebuilds
    the winner. ``value`` is its validation score, ``trials`` one row per
    trial (number, state, value, epochs, seconds and one column per searched
    parameter), ``study`` the ``optuna.Study``.
    """

    model_class: type
    params: dict
    value: float
    metric: str
    study: object = field(repr=False)
    trials: pd.DataFrame = field(repr=False)

    def make_model(self, **overrides):
        """A fresh, unfitted model with the chosen settings (``overrides`` win)."""
        return self.model_class(**{**self.params, **overrides})

    def settings(self) -> dict:
        """The chosen settings as plain JSON-ready values (the sampler's under
        ``"sampler"`` as ``{"name": ..., parameter: value}``)."""
        out = {}
        for key, value in self.params.items():
            if key == "sampler" and hasattr(value, "get_params"):
                out[key] = {"name": value.name, **_plain(value.get_params())}
            elif key not in ("n_threads", "patience", "valid_metric", "eval_every"):
                out[key] = _plain(value)
        return out


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def _space_for(cls, sampler, space):
    """The merged search space: the model's ranges, the sampler's under
    ``sampler.NAME``, then ``space``'s entries (ranges searched, other values
    fixed). Returns (ranges, fixed)."""
    merged = dict(getattr(cls, "search_space", {}))
    if sampler is not None:
        merged.update({f"sampler.{k}": v for k, v in sampler.space().items()})
    user = _space.check_space(space)
    model_keys = set(cls._defaults) - {"sampler", "seed"}
    sampler_keys = set(sampler.get_params()) if sampler is not None else set()
    for key in user:
        ok = (key.startswith("sampler.") and key[8:] in sampler_keys) or key in model_keys
        if not ok:
            known = sorted(model_keys) + sorted(f"sampler.{k}" for k in sampler_keys)
            raise ValueError(f"space: {key!r} is not a parameter of {cls.__name__}"
                             f"{' or its sampler' if sampler is not None else ''}; known: "
                             f"{', '.join(known)}{_suggest(key, known)}")
    merged.update(user)
    ranges = {k: v for k, v in merged.items() if isinstance(v, _space.Range)}
    fixed = {k: v for k, v in merged.items() if not isinstance(v, _space.Range)}
    return ranges, fixed


def _describe_space(ranges, fixed) -> str:
    return json.dumps({k: repr(v) for k, v in {**ranges, **fixed}.items()}, sort_keys=True)


def _storage_url(storage):
    if storage is None:
        return None
    text = os.fspath(storage) if not isinstance(storage, str) else storage
    if "://" in text:
        return text
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise ValueError(f"storage: the folder of {text!r} does not exist")
    return f"sqlite:///{os.path.abspath(text)}"


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


def _check_timeout(timeout):
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) \
                or not timeout > 0 or not math.isfinite(timeout):
            raise ValueError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")


def _fixed_params(cls, base, params, sampler, trainer):
    """(fixed model parameters, sampler instance or None): the model's own
    parameters overridden by ``params``, and a trainer's sampler resolved
    (default: the one in its parameters, else the class default)."""
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict of fixed model parameters, got "
                        f"{type(params).__name__}")
    base = {**base, **(params or {})}
    unknown = set(base) - set(cls._defaults)
    if unknown:
        bad = sorted(unknown)[0]
        raise ValueError(f"params: {bad!r} is not a parameter of {cls.__name__}"
                         f"{_suggest(bad, cls._defaults)}")
    if trainer:
        from .samplers import get_sampler
        if sampler is None:
            sampler = base.get("sampler", cls._defaults["sampler"])
        try:
            sampler = get_sampler(sampler)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"sampler: {exc}") from None
        base.pop("sampler", None)
    elif sampler is not None:
        raise ValueError(f"sampler: {cls.__name__} does not draw negatives; leave sampler "
                         "unset")
    return base, sampler


def _open_study(optuna, cls, sampler, metric, ranges, fixed, seed, storage, study_name, n_jobs,
                prune):
    """Create the study, or resume the stored one after checking it was
    started with the same settings. Returns (study, storage url, study name,
    trials already done)."""
    if storage is None and n_jobs > 1:
        import tempfile
        storage = os.path.join(tempfile.mkdtemp(prefix="recsample-tune-"), "study.db")
    url = _storage_url(storage)
    sampler_name = sampler.name if sampler is not None else None
    name = study_name or "-".join(p for p in (cls.__name__.lower(), sampler_name, metric) if p)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=name, storage=url, load_if_exists=True, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=_pruner(optuna, prune))
    identity = {"model": cls.__name__, "sampler": repr(sampler), "metric": metric,
                "space": _describe_space(ranges, fixed), "seed": seed}
    _check_identity(study, identity, url, name)
    done = _n_done(study)
    # a resumed study continues TPE's random start-up with fresh draws
    study.sampler = optuna.samplers.TPESampler(seed=seed + done)
    return study, url, name, done


def _run_trials(study, job, url, name, trials, done, timeout, n_jobs, seed, progress, stream,
                metric):
    """The trials the study still lacks: here, or in ``n_jobs`` processes."""
    remaining = trials - done
    if remaining <= 0:
        return
    if n_jobs > 1:
        _optimize_processes(job, url, name, trials, timeout, n_jobs, seed, done)
    else:
        _optimize(study, job, trials, remaining, timeout, progress, stream, metric, name)


def _validation(train, valid, valid_fraction, seed):
    from .interactions import Interactions
    from .core.validation import as_csr
    import scipy.sparse as sp
    if not isinstance(train, Interactions) and not sp.issparse(train):
        raise TypeError(f"train must be an Interactions or a scipy.sparse matrix, got "
                        f"{type(train).__name__}")
    # checked here, before any trial, and under the caller's argument names
    train_shape = as_csr(train, "train").shape
    if valid is not None:
        shape = as_csr(valid, "valid").shape
        if shape != train_shape:
            raise ValueError(f"valid has shape {shape}, train has {train_shape}: they must "
                             "share one index space")
        return train, valid
    from .split import random_holdout
    data = train if isinstance(train, Interactions) else Interactions.from_csr(train)
    part, held = random_holdout(data, test_fraction=valid_fraction, seed=seed)
    if held.nnz == 0:
        raise ValueError(f"valid_fraction={valid_fraction} holds out nothing from train "
                         "(users with a single interaction keep it): pass valid= or a larger "
                         "valid_fraction")
    return part, held


def _check_identity(study, identity, url, name):
    stored = study.user_attrs.get("recsample")
    if stored is None:
        study.set_user_attr("recsample", identity)
    elif stored != identity:
        diff = {k: (stored.get(k), v) for k, v in identity.items() if stored.get(k) != v}
        raise ValueError(f"storage: study {name!r} in {url} was started with other settings "
                         f"{diff} (stored, now); use another study_name or storage")


def _done_states(optuna) -> tuple:
    return tuple(getattr(optuna.trial.TrialState, s) for s in _DONE_STATES)


def _pruner(optuna, prune):
    """Optuna's median pruner (after 5 finished trials and 5 epochs), or none."""
    if prune:
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
    return optuna.pruners.NopPruner()


def _n_done(study) -> int:
    return len(study.get_trials(deepcopy=False, states=_done_states(_optuna())))


class _Objective:
    """One trial: build the model from the trial's values, fit, score on
    validation. Picklable, so worker processes can run it."""

    def __init__(self, cls, base, sampler, ranges, fixed, train, valid, metric, cutoff, seed,
                 max_epochs, patience, n_threads, eval_every=1):
        self.cls, self.base, self.sampler = cls, base, sampler
        self.ranges, self.fixed = ranges, fixed
        self.train, self.valid = train, valid
        self.metric, self.cutoff, self.seed = metric, cutoff, seed
        self.max_epochs, self.patience, self.eval_every = max_epochs, patience, eval_every
        self.n_threads = n_threads

    def build(self, values):
        model_params = dict(self.base)
        sampler_params = {}
        for key, value in {**self.fixed, **values}.items():
            if key.startswith("sampler."):
                sampler_params[key[8:]] = value
            else:
                model_params[key] = value
        if self.sampler is not None:
            model_params["sampler"] = type(self.sampler)(
                **{**self.sampler.get_params(), **sampler_params})
        if "seed" in self.cls._defaults:
            model_params["seed"] = self.seed
        if "n_threads" in self.cls._defaults and "n_threads" not in self.base:
            model_params["n_threads"] = self.n_threads
        return model_params

    def __call__(self, trial):
        optuna = _optuna()
        values = {k: r.suggest(trial, k) for k, r in self.ranges.items()}
        params = self.build(values)
        t0 = time.perf_counter()
        if self.max_epochs is None:
            model = self.cls(**params).fit(self.train)
            value = _score(model, self.train, self.valid, self.metric, self.cutoff)
            trial.set_user_attr("seconds", time.perf_counter() - t0)
            return value
        key = f"{self.metric}@{self.cutoff}"
        # the model counts patience in validations
        params.update(epochs=self.max_epochs, valid_metric=key, eval_every=self.eval_every,
                      patience=max(1, -(-self.patience // self.eval_every)))
        model = self.cls(**params)

        def report(epoch, model, record, elapsed):
            if key in record:
                trial.report(record[key], epoch)
                if trial.should_prune():
                    trial.set_user_attr("epochs", epoch + 1)
                    raise optuna.TrialPruned()

        try:
            model.fit(self.train, valid=self.valid, callbacks=[report], progress=False)
        except FloatingPointError as exc:   # diverged: as bad as it gets, not an error
            trial.set_user_attr("diverged", str(exc).split(":")[0])
            raise optuna.TrialPruned() from None
        finally:
            trial.set_user_attr("seconds", time.perf_counter() - t0)
        trial.set_user_attr("epochs", int(model.best_epoch_) + 1)
        return float(model.best_score_)


def _score(model, train, valid, metric, cutoff):
    from .evaluation import evaluate
    report = evaluate(model, valid, train=train, k=(cutoff,), metrics=(metric,))
    s = report.summary()
    return float(s.loc[(s["metric"] == metric) & (s["k"] == cutoff), "mean"].iloc[0])


def _optimize(study, job, trials, remaining, timeout, progress, stream, metric, name):
    optuna = _optuna()
    MaxTrialsCallback = optuna.study.MaxTrialsCallback
    from ._progress import Progress
    states = _done_states(optuna)
    bar = Progress(trials, f"tune {name}", unit="trial", enabled=progress is not False,
                   stream=stream, initial=trials - remaining)

    def report(study, frozen):
        if frozen.state.name not in _DONE_STATES:
            return
        try:
            best = f"{study.best_value:.4f}"
        except ValueError:
            best = "-"
        value = f"{frozen.value:.4f}" if frozen.value is not None else "-"
        shown = ", ".join(f"{k}={_short(v)}" for k, v in frozen.params.items())
        epochs = frozen.user_attrs.get("epochs")
        seconds = frozen.user_attrs.get("seconds", 0.0)
        bar.step(f"trial {frozen.number} {frozen.state.name.lower()} {metric} {value} "
                 f"(best {best})" + (f", {epochs} epochs" if epochs else "")
                 + (f", {shown}" if shown else "") + f", {seconds:.1f}s",
                 postfix={"best": best})

    try:
        study.optimize(job, n_trials=remaining, timeout=timeout,
                       callbacks=[MaxTrialsCallback(trials, states=states), report],
                       gc_after_trial=False)
    finally:
        bar.close()


def _short(v):
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _worker(job, url, name, trials, share, timeout, seed):
    """Body of one worker process of ``n_jobs``: its own TPE stream, the
    shared study, and its own share of the remaining trials (so the total is
    exact; the cap on the study's count guards against other processes)."""
    optuna = _optuna()
    MaxTrialsCallback = optuna.study.MaxTrialsCallback
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=name, storage=url,
                              sampler=optuna.samplers.TPESampler(seed=seed))
    study.pruner = _pruner(optuna, job.max_epochs is not None)
    states = _done_states(optuna)
    if share < 1 or _n_done(study) >= trials:
        return
    study.optimize(job, n_trials=share, timeout=timeout,
                   callbacks=[MaxTrialsCallback(trials, states=states)], gc_after_trial=False)


def _optimize_processes(job, url, name, trials, timeout, n_jobs, seed, done):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    # spawn, not fork: forking a process that already runs numba's threads is unsafe
    with ProcessPoolExecutor(n_jobs, mp_context=mp.get_context("spawn")) as pool:
        remaining = trials - done
        futures = [pool.submit(_worker, job, url, name, trials,
                               remaining // n_jobs + (w < remaining % n_jobs), timeout,
                               seed + done + 1000 * w) for w in range(n_jobs)]
        for f in futures:
            f.result()


def _pick_best(study, cls, base, sampler, fixed, metric, n_threads):
    """The best finished trial as a TuneResult: its parameters rebuilt as
    constructor arguments, with the epochs it stopped at."""
    optuna = _optuna()
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    frame = _trials_frame(study)
    if not complete:
        raise RuntimeError(f"no trial of study {study.study_name!r} finished (all were pruned, "
                           "failed or stopped by the timeout); give more trials or time")
    best = max(complete, key=lambda t: t.value)
    job = _Objective(cls, base, sampler, {}, fixed, None, None, None, None, None, None, None,
                     n_threads)
    params = job.build(best.params)
    params.pop("seed", None)
    if "n_threads" not in base:
        params.pop("n_threads", None)   # a resource of this machine, not a setting
    if "epochs" in best.user_attrs:
        params["epochs"] = int(best.user_attrs["epochs"])
    return TuneResult(cls, params, float(best.value), metric, study, frame)


def _trials_frame(study) -> pd.DataFrame:
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name.lower(), "value": t.value,
               "epochs": t.user_attrs.get("epochs"), "seconds": t.user_attrs.get("seconds")}
        row.update(t.params)
        rows.append(row)
    columns = ["trial", "state", "value", "epochs", "seconds"]
    frame = pd.DataFrame(rows)
    return frame if rows else pd.DataFrame(columns=columns)
