"""Tuned comparisons: every configuration tuned with the same budget, then
refitted and tested, seed by seed.

For each seed s the data are split into train_s and test_s exactly as an
untuned grid splits them. Each configuration is tuned by ``rs.tune`` with the
same number of trials and time budget as every other configuration, on
training data only: with ``per_seed=True`` on train_s for every seed s (its
validation part carved from train_s with seed s); by default once, on the
first seed's train part, and those settings serve every seed. The winner is
refitted on all of train_s (training + validation part) with its chosen
settings and evaluated on test_s.

Tuning once costs a third of tuning per seed with three seeds, and the first
seed's results are exactly as clean; for the other seeds, part of their test
data lay in the first seed's training part that chose the settings (the same
for every configuration, so it favours none of them by construction, but the
absolute scores of those seeds are slightly optimistic). ``per_seed=True``
removes that. The number of epochs is kept as
chosen: an epoch is one pass over the training positives, so the refit gives
every positive as many visits as the validated model did (with about
1 / (1 - valid_fraction) as many updates in all). Test_s is read only by
that final evaluation.

Baselines without anything to tune (most popular) and untuned baselines
(``trials=None``) are fitted on train_s with their settings as given.

Rows go to the results CSV (same columns as ``experiments.run``; the
``params`` column says how the configuration was tuned) and, per run, the
chosen settings to a second CSV beside it. Studies are kept in an SQLite
file, so an interrupted comparison resumes: finished runs are skipped and a
study in progress continues where it stopped.
"""
from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .grid import COLUMNS, DEFAULT_TEST_FRACTION, KEY_COLUMNS
from .store import ResultsFile, read_results

__all__ = ["TunedConfig", "run_tuned", "SETTINGS_COLUMNS"]

SETTINGS_COLUMNS = ["dataset", "model", "sampler", "params", "seed", "settings",
                    "valid_value", "trials_finished", "tune_seconds"]


@dataclass(frozen=True)
class TunedConfig:
    """One configuration: a model name ("bpr", "ease", ...), its sampler
    (an instance, or None for a baseline) and fixed parameters."""

    model: str
    sampler: object = None
    params: tuple = ()          # sorted (name, value) pairs, fixed during tuning

    def without(self, name):
        """The same configuration with fixed parameter ``name`` dropped."""
        return TunedConfig(self.model, self.sampler,
                           tuple((k, v) for k, v in self.params if k != name))

    @property
    def sampler_name(self) -> str:
        return self.sampler.name if self.sampler is not None else "-"

    @property
    def label(self) -> str:
        return self.model if self.sampler is None else f"{self.model}+{self.sampler.name}"


def _identity(config, trials, timeout, metric, per_seed=False) -> str:
    """The ``params`` column: fixed parameters and the tuning budget."""
    key = dict(config.params)
    if config.sampler is not None:
        defaults = type(config.sampler)().get_params()
        changed = {k: v for k, v in config.sampler.get_params().items() if defaults.get(k) != v}
        if changed:
            key["sampler"] = changed
    if trials is not None:
        key["tuned"] = {"trials": int(trials), "metric": metric}
        if per_seed:
            key["tuned"]["per_seed"] = True
        if timeout is not None:
            key["tuned"]["timeout"] = float(timeout)
    return json.dumps(key, sort_keys=True, separators=(", ", ": "))


def run_tuned(configs, dataset, seeds=3, trials=20, timeout=None, metric="ndcg@10", k=(10,),
              metrics=("ndcg",), out=None, storage=None, split=DEFAULT_TEST_FRACTION,
              progress=True, n_threads=None, tune_options=None, per_seed=False,
              backend="local", address=None, num_cpus=None):
    """Tune, refit and test every configuration for every seed; tidy rows.

    ``dataset`` is an ``experiments.grid.Dataset`` (or anything
    ``resolve_datasets`` accepts, one data set). ``trials=None`` fits every
    configuration with its given settings instead (for baselines next to an
    untuned grid). ``out`` is the results CSV; the chosen settings go to
    ``out`` with ``-settings`` before its suffix, and ``storage`` (default
    ``out`` with ``-studies.db``) keeps the studies. Returns the rows of this
    grid, with ``attrs["settings"]`` the chosen settings (a list of rows
    with the columns :data:`SETTINGS_COLUMNS`).

    ``backend="ray"`` runs each study with the refits and tests it serves as
    one Ray task (``address``: a cluster, else a local Ray with ``num_cpus``);
    results are written by this process as they arrive. The studies' storage
    must then be reachable from every worker: the default SQLite file is, on
    one machine; on a cluster pass an Optuna database URL as ``storage``.
    """
    from .._optional import require
    from .._progress import Progress
    from . import grid

    # missing extras are reported before any data set is loaded or run started
    if trials is not None:
        require("optuna", "tune", "a tuned comparison")
    if backend == "ray":
        from .runner import _import_ray
        _import_ray()
    data = grid.resolve_datasets(dataset)[0] if not isinstance(dataset, grid.Dataset) \
        else dataset
    seeds = grid.check_seeds(seeds)
    if backend not in ("local", "ray"):
        raise ValueError(f"backend must be 'local' or 'ray', got {backend!r}")
    store = ResultsFile(out) if out is not None else None
    settings_path = _beside(out, "-settings", ".csv") if out is not None else None
    if storage is None and out is not None and trials is not None:
        storage = _beside(out, "-studies", ".db")
    done = store.done_keys() if store is not None else set()
    jobs = [(seed, c) for seed in seeds for c in configs]
    keys = {(seed, c): (data.name, c.model, c.sampler_name,
                        _identity(c, trials if _searchable(c) else None, timeout, metric,
                                  per_seed),
                        int(seed)) for seed, c in jobs}
    # a unit is one study (or none) and the seeds it serves
    units = []
    for config in configs:
        todo = [s for s in seeds if keys[s, config] not in done]
        if not todo:
            continue
        if per_seed or trials is None or not _searchable(config):
            units += [(config, s, [s]) for s in todo]
        else:
            units.append((config, seeds[0], todo))
    common = dict(keys=keys, trials=trials, timeout=timeout, metric=metric,
                  storage=None if storage is None else str(storage), split=split, k=tuple(k),
                  metrics=tuple(metrics), n_threads=n_threads, tune_options=tune_options)
    bar = Progress(len(jobs), "configurations", unit="run", enabled=progress,
                   initial=len(jobs) - sum(len(u[2]) for u in units))
    new_rows, new_settings = [], []
    if backend == "ray":
        stream = _ray_units(units, data, common, address, num_cpus)
    else:
        stream = (out for u in units for out in _unit(data, *u, **common))
    try:
        for config, seed, rows, setting, message in stream:
            if store is not None:
                store.append(rows)
                _append_csv(settings_path, setting)
            new_rows.extend(rows)
            new_settings.append(setting)
            bar.step(f"{data.name} {config.label} seed {seed}: {message}")
    finally:
        bar.close()
    wanted = set(keys.values())
    df = read_results(store.path) if store is not None else pd.DataFrame(new_rows,
                                                                         columns=COLUMNS)
    if not df.empty:
        mask = [tuple(r) in wanted for r in df[KEY_COLUMNS].astype(
            {"seed": "int64"}).itertuples(index=False)]
        df = df[mask].reset_index(drop=True)
    settings = _read_settings(settings_path) if settings_path is not None else \
        pd.DataFrame(new_settings, columns=SETTINGS_COLUMNS)
    if not settings.empty:
        mask = [tuple(r) in wanted for r in settings[KEY_COLUMNS].itertuples(index=False)]
        settings = settings[mask].reset_index(drop=True)
    # records, not a frame: pandas compares attrs when it merges frames
    df.attrs["settings"] = settings.to_dict("records")
    return df


def _searchable(config) -> bool:
    from ..tuning import resolve_model
    cls, _ = resolve_model(config.model)
    fixed = dict(config.params)
    space = {k for k in getattr(cls, "search_space", {}) if k not in fixed}
    if config.sampler is not None:
        space |= set(config.sampler.space())
    return bool(space)


def _beside(path, tag, suffix) -> Path:
    path = Path(path)
    return path.with_name(path.stem + tag + suffix)


def _append_csv(path, row):
    new = not path.is_file() or path.stat().st_size == 0
    with open(path, "a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SETTINGS_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow({c: row.get(c) for c in SETTINGS_COLUMNS})
        fh.flush()
        os.fsync(fh.fileno())


def _read_settings(path) -> pd.DataFrame:
    if path is None or not Path(path).is_file():
        return pd.DataFrame(columns=SETTINGS_COLUMNS)
    df = pd.read_csv(path, dtype={"dataset": str, "model": str, "sampler": str, "params": str,
                                  "settings": str}, keep_default_na=False)
    df["seed"] = df["seed"].astype("int64")
    df["valid_value"] = pd.to_numeric(df["valid_value"], errors="coerce")
    return df


def _unit(data, config, tune_seed, eval_seeds, keys, trials, timeout, metric, storage, split,
          k, metrics, n_threads, tune_options):
    """One study (when the configuration is tuned), then a refit and test per
    seed it serves. Yields (config, seed, rows, setting row, log message)."""
    from ..evaluation import evaluate
    from ..tuning import resolve_model, tune
    cls, _ = resolve_model(config.model)
    fixed = dict(config.params)
    t0 = time.perf_counter()
    if trials is not None and _searchable(config):
        name = f"{data.name}-{config.label}-seed{tune_seed}"
        result = tune(config.model, config.sampler, train=data.split(tune_seed, split)[0],
                      trials=trials, timeout=timeout, metric=metric, seed=tune_seed,
                      storage=storage, study_name=name, params=fixed, n_threads=n_threads,
                      progress=False, **(tune_options or {}))
        chosen_params, chosen = dict(result.params), result.settings()
        valid_value = result.value
        finished = int(result.trials["state"].isin(["complete", "pruned"]).sum())
    else:
        chosen_params = dict(fixed)
        if config.sampler is not None:
            chosen_params["sampler"] = config.sampler
        chosen = {k: v for k, v in chosen_params.items() if k != "sampler"}
        valid_value, finished = float("nan"), 0
    tune_seconds = time.perf_counter() - t0
    for seed in eval_seeds:
        train, test = data.split(seed, split)
        params = dict(chosen_params)
        if "seed" in cls._defaults:
            params["seed"] = int(seed)
        if n_threads is not None and "n_threads" in cls._defaults:
            params.setdefault("n_threads", n_threads)
        model = cls(**params)
        t1 = time.perf_counter()
        model.fit(train, progress=False)
        fit_seconds = time.perf_counter() - t1
        report = evaluate(model, test, train=train, k=k, metrics=metrics)
        base = dict(zip(KEY_COLUMNS, keys[seed, config]))
        history = getattr(model, "history_", None)
        rows = []
        for rec in report.summary().itertuples(index=False):
            kval = None if str(rec.k) in ("<NA>", "nan", "None") else int(rec.k)
            rows.append({**base, "metric": rec.metric, "k": kval, "value": float(rec.mean),
                         "fit_seconds": round(fit_seconds, 4),
                         "epochs": len(history) if history is not None else 0})
        setting = {**base, "settings": json.dumps(chosen, sort_keys=True),
                   "valid_value": valid_value, "trials_finished": finished,
                   "tune_seconds": round(tune_seconds, 2)}
        first = rows[0]
        message = (f"{chosen} -> test {first['metric']}@{first['k']} {first['value']:.4f} "
                   f"(tuning {tune_seconds:.0f}s, refit {fit_seconds:.1f}s)")
        tune_seconds = 0.0     # the study is counted once, with its first seed
        yield config, seed, rows, setting, message


def _ray_task(data, unit, common):
    return list(_unit(data, *unit, **common))


def _ray_units(units, data, common, address, num_cpus):
    """Each unit as a Ray task; results yielded as tasks finish."""
    from .runner import _as_finished, _import_ray, _ray_session
    ray = _import_ray()
    if not units:
        return
    with _ray_session(ray, address, num_cpus) as futures:
        task = ray.remote(_ray_task)
        ref = ray.put(data)
        for unit in units:
            futures[task.remote(ref, unit, common)] = unit
        for f, _ in _as_finished(ray, futures):
            yield from ray.get(f)
