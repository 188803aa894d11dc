"""Running trials: the trial objective (build the model from a trial's
values, fit with per-epoch validation and pruning, score), the in-process
loop with its progress display, and the worker processes of ``n_jobs``."""
from __future__ import annotations

import time

from ._study import _DONE_STATES, _done_states, _n_done, _optuna, _pruner


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
    from ..evaluation import evaluate
    report = evaluate(model, valid, train=train, k=(cutoff,), metrics=(metric,))
    s = report.summary()
    return float(s.loc[(s["metric"] == metric) & (s["k"] == cutoff), "mean"].iloc[0])


def _optimize(study, job, trials, remaining, timeout, progress, stream, metric, name):
    optuna = _optuna()
    MaxTrialsCallback = optuna.study.MaxTrialsCallback
    from .._progress import Progress
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
