"""Protocol pieces shared by the reproductions.

- **Validation carved from train** (:func:`carve_validation`): settings are
  chosen on it, never on test.
- **Early stopping** (:func:`early_stopping`, :func:`timed_fit`): train on
  the rest of train, validate every ``eval_every`` epochs, stop after
  ``patience`` validations without improvement, keep the best epoch.
- **Per-epoch records** (:func:`record_epochs`, :func:`tidy_per_epoch`): a
  run evaluated before the first epoch and after each one, as a long table
  (model, seed, epoch, split, metric, k, value).
- **Epoch selection on that table**: the best value of every metric over the
  epochs (:func:`best_over_epochs`), or one epoch chosen on a validation
  metric and every metric read there (:func:`epoch_chosen_on`).
- **Runs per seed** (:func:`per_seed_fits`, :func:`run_tasks`) and their
  **summary** (:func:`mean_std`) and **paired tests** (:func:`paired_by_seed`,
  computed by :func:`recsample.experiments.stats.paired_test`).
"""
from __future__ import annotations

import contextlib
import os
import time

import numpy as np
import pandas as pd

from .._checks import check_int as _check_int
from ..experiments.stats import paired_test

__all__ = ["carve_validation", "early_stopping", "timed_fit", "per_seed_fits", "record_epochs",
           "tidy_per_epoch", "best_over_epochs", "epoch_chosen_on", "mean_std",
           "paired_by_seed", "run_tasks", "TABLE_COLUMNS"]

#: columns of a per-epoch table
TABLE_COLUMNS = ("model", "seed", "epoch", "split", "metric", "k", "value")


# ------------------------------------------------------------------ selection by training
def carve_validation(train, fraction=0.1, seed=0):
    """(fit, valid): ``fraction`` of every user's training items, seeded, held
    out as validation (``rs.split.random_holdout``); the rest is fitted on."""
    from ..split import random_holdout
    return random_holdout(train, test_fraction=fraction, seed=seed)


def early_stopping(params: dict, metric: str, eval_every: int, patience: int) -> dict:
    """``params`` with the trainer's early-stopping options: validate every
    ``eval_every`` epochs on ``metric`` ("recall@20"), stop after ``patience``
    validations without improvement. The fitted model then holds
    ``best_score_`` and ``best_epoch_`` (0-based)."""
    return dict(params, patience=patience, eval_every=eval_every, valid_metric=metric)


def timed_fit(model, train, **fit_args) -> float:
    """Fit ``model`` on ``train``; return the wall seconds it took."""
    t0 = time.perf_counter()
    model.fit(train, **fit_args)
    return time.perf_counter() - t0


def per_seed_fits(configs: dict, chosen: dict, train, seeds: int, n_threads=None,
                  progress=True):
    """For each configuration name in ``chosen`` (name -> epochs) and seed
    0 .. seeds-1: the model of ``configs[name]`` = (class, parameters) trained
    on ``train`` for that many epochs. Yields (name, seed, epochs, model,
    seconds)."""
    for name, epochs in chosen.items():
        cls, params = configs[name]
        for seed in range(seeds):
            model = cls(**dict(params, epochs=int(epochs), seed=seed, n_threads=n_threads))
            seconds = timed_fit(model, train, progress=progress)
            yield name, seed, int(epochs), model, seconds


# ------------------------------------------------------------------ per-epoch records
def record_epochs(make_model, train, evaluate, epochs: int, shape: tuple):
    """Train one run and evaluate it before the first epoch and after each.

    ``make_model(n)`` builds the run's model for ``n`` epochs (same seed, so
    ``make_model(0)`` holds the initial factors); ``evaluate(U, V)`` returns an
    array of ``shape``. Returns (values, seconds, diverged): ``values`` has
    shape (epochs + 1, *shape), rows after a divergence NaN and ``diverged``
    the first such row (None when training finished).
    """
    values = np.full((int(epochs) + 1, *shape), np.nan)
    start = time.perf_counter()
    init = make_model(0).fit(train, progress=False)
    values[0] = evaluate(init.user_factors, init.item_factors)

    def record(epoch, model, rec, elapsed):
        values[epoch + 1] = evaluate(model.user_factors, model.item_factors)

    diverged = None
    try:
        make_model(epochs).fit(train, callbacks=[record], progress=False)
    except FloatingPointError:
        diverged = int(np.flatnonzero(np.isnan(values.reshape(len(values), -1)[:, 0]))[0])
    return values, time.perf_counter() - start, diverged


def _sort_key(order):
    """Sort key putting the columns named in ``order`` ({column: values}) in
    that order (unknown values last), other columns as they are."""
    ranks = {col: {v: i for i, v in enumerate(vals)} for col, vals in (order or {}).items()}

    def key(col):
        if col.name in ranks:
            rank = ranks[col.name]
            return col.map(lambda v: rank.get(v, len(rank)))
        return col
    return key


def tidy_per_epoch(runs, splits, metrics, ks, order=None) -> pd.DataFrame:
    """Long table (model, seed, epoch, split, metric, k, value) from runs
    (model, seed, values, ...) whose ``values`` are indexed (epoch, split,
    metric, k); NaN rows (after a divergence) are dropped."""
    frames = []
    for name, seed, values, *_ in runs:
        idx = pd.MultiIndex.from_product(
            [range(values.shape[0]), splits, metrics, ks], names=["epoch", "split", "metric", "k"])
        df = pd.DataFrame({"value": values.reshape(-1)}, index=idx).reset_index()
        df.insert(0, "seed", seed)
        df.insert(0, "model", name)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True).dropna(subset=["value"])
    return df.sort_values(["model", "seed", "split", "metric", "k", "epoch"],
                          key=_sort_key(order), ignore_index=True)


# ------------------------------------------------------------------ selection on the table
def _check_table(per_epoch):
    missing = set(TABLE_COLUMNS) - set(per_epoch.columns)
    if missing:
        raise ValueError(f"per_epoch lacks columns {sorted(missing)}; it needs "
                         f"{sorted(TABLE_COLUMNS)}")


def mean_std(df: pd.DataFrame, by, value: str = "value", ddof: int = 1, **extra) -> pd.DataFrame:
    """Per group of ``by`` (in order of appearance): ``mean``, ``std`` (with
    ``ddof``) and ``runs`` (count) of column ``value``; ``extra`` adds named
    aggregations (``epoch=("epoch", "mean")``)."""
    return (df.groupby(by, sort=False)
            .agg(mean=(value, "mean"), std=(value, lambda v: v.std(ddof=ddof)),
                 runs=(value, "count"), **extra).reset_index())


def best_over_epochs(per_epoch: pd.DataFrame, split: str = "valid", top: int = 1,
                     ddof: int = 0, order=None) -> pd.DataFrame:
    """For each model, seed, metric and cut-off *separately*, the best
    ``split`` value over the epochs (or the mean of the ``top`` best); then
    mean and standard deviation (``ddof``) over seeds. Columns model, metric,
    k, mean, std, runs. ``order``: {column: values} to sort by."""
    _check_table(per_epoch)
    _check_int("top", top, 1)
    d = per_epoch[per_epoch["split"] == split]
    if d.empty:
        raise ValueError(f"split={split!r} has no rows; splits present: "
                         f"{sorted(per_epoch['split'].unique())}")
    best = (d.groupby(["model", "seed", "metric", "k"], sort=False)["value"]
            .apply(lambda v: np.sort(v.to_numpy())[::-1][:top].mean()).rename("value")
            .reset_index())
    out = mean_std(best, ["model", "metric", "k"], ddof=ddof)
    return out.sort_values(["model", "metric", "k"], key=_sort_key(order), ignore_index=True)


def epoch_chosen_on(per_epoch: pd.DataFrame, by=("ndcg", 10), select_split: str = "valid",
                    report_splits=("test",), order=None):
    """Per model and seed the epoch e* with the best ``select_split`` value of
    ``by`` = (metric, k) (the first such epoch), and every metric of
    ``report_splits`` at e*.

    Returns (per_seed, summary): per_seed has model, seed, epoch, split,
    metric, k, value; summary has model, split, metric, k, mean, std
    (ddof 1), runs and the mean selected epoch.
    """
    _check_table(per_epoch)
    metric, k = by
    sel = per_epoch[(per_epoch["split"] == select_split) & (per_epoch["metric"] == metric)
                    & (per_epoch["k"] == k)]
    if sel.empty:
        raise ValueError(f"by={by!r} with select_split={select_split!r} matches no rows")
    sel = sel.sort_values(["model", "seed", "epoch"])
    best = sel.loc[sel.groupby(["model", "seed"], sort=False)["value"].idxmax(),
                   ["model", "seed", "epoch"]]
    rep = per_epoch[per_epoch["split"].isin(report_splits)]
    per_seed = rep.merge(best, on=["model", "seed", "epoch"], how="inner")
    key = _sort_key(order)
    per_seed = per_seed.sort_values(["model", "seed", "split", "metric", "k"], key=key,
                                    ignore_index=True)
    summary = mean_std(per_seed, ["model", "split", "metric", "k"], ddof=1,
                       epoch=("epoch", "mean"))
    return per_seed, summary.sort_values(["model", "split", "metric", "k"], key=key,
                                         ignore_index=True)


def paired_by_seed(per_seed: pd.DataFrame, pairs, metric: str = "ndcg", k: int = 10,
                   split: str = "test") -> pd.DataFrame:
    """Paired t-test and Wilcoxon signed-rank test (two-sided) of model a
    against model b, for each (a, b) in ``pairs``, on ``split``
    ``metric``@``k``; runs are paired by seed (same initial factors).
    Columns a, b, split, metric, k, runs, mean_a, mean_b, mean_diff, a_wins,
    t, p_t, w, p_wilcoxon."""
    d = per_seed[(per_seed["split"] == split) & (per_seed["metric"] == metric)
                 & (per_seed["k"] == k)]
    rows = []
    for a, b in pairs:
        va = d[d["model"] == a].set_index("seed")["value"]
        vb = d[d["model"] == b].set_index("seed")["value"]
        seeds = va.index.intersection(vb.index)
        r = paired_test(va.loc[seeds].to_numpy(), vb.loc[seeds].to_numpy())
        rows.append({"a": a, "b": b, "split": split, "metric": metric, "k": k,
                     "runs": len(seeds), "mean_a": r["mean_a"], "mean_b": r["mean_b"],
                     "mean_diff": r["diff"], "a_wins": r["a_wins"], "t": r["t"],
                     "p_t": r["t_pvalue"], "w": r["w"], "p_wilcoxon": r["wilcoxon_pvalue"]})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ processes
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _worker_init():
    # one process per core: the runs are single-threaded, and the evaluation
    # kernels must not oversubscribe the other workers' cores
    import numba
    numba.set_num_threads(1)


def _blas_single_thread():
    """One BLAS thread while a run is evaluated. Small score matrices (NBPO's
    1,435 x 1,522) gain nothing from a threaded BLAS and, on a loaded machine,
    lose an order of magnitude (measured: 23 ms vs 1.4 ms per 256-user block
    with the other core busy)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the spawned workers already start with _ONE_THREAD
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _call_single_threaded(fn, task):
    with _blas_single_thread():
        return fn(task)


def run_tasks(fn, tasks, n_jobs=2, progress=True, desc="runs") -> list:
    """``fn(task)`` for every task, ``n_jobs`` at once in spawned processes
    of one thread each (1: in this process); results in order of completion.
    ``fn`` must be a module-level function (it is pickled)."""
    tasks = list(tasks)
    results = []
    bar = None
    if progress:
        from .._progress import tqdm_class
        bar = tqdm_class()(total=len(tasks), desc=desc, unit="run")
    try:
        if n_jobs == 1 or len(tasks) == 1:
            for t in tasks:
                results.append(_call_single_threaded(fn, t))
                if bar is not None:
                    bar.update(1)
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed
            # spawn: each worker starts from the environment set here (a
            # forkserver started earlier would keep its own)
            saved = {k: os.environ.get(k) for k in _ONE_THREAD}
            os.environ.update(_ONE_THREAD)
            try:
                pool = ProcessPoolExecutor(max_workers=min(n_jobs, len(tasks)),
                                           mp_context=mp.get_context("spawn"),
                                           initializer=_worker_init)
                futures = [pool.submit(_call_single_threaded, fn, t) for t in tasks]
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            with pool:
                for f in as_completed(futures):
                    results.append(f.result())
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return results
