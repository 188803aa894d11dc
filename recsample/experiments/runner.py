"""``run``: execute a grid of configurations x datasets x seeds, resumably."""
from __future__ import annotations

import contextlib
import json
import numbers
import os
import warnings

import pandas as pd

from .._optional import install_hint, require
from . import grid
from .grid import COLUMNS, DEFAULT_METRICS, DEFAULT_TEST_FRACTION, KEY_COLUMNS
from .store import ResultsFile, _empty, read_results

__all__ = ["run", "RAY_INSTALL_HINT"]

RAY_INSTALL_HINT = install_hint("ray", "ray", "the Ray backend")
BACKENDS = ("local", "ray")


def run(configs, datasets, seeds=3, k=(10,), metrics=DEFAULT_METRICS, out=None, n_jobs=1,
        backend="local", address=None, split=DEFAULT_TEST_FRACTION, progress=True, paths=None,
        errors="warn", on_result=None, num_cpus=None, cpus_per_task=1, max_retries=2):
    """Train and evaluate every (dataset, configuration, seed); tidy rows.

    Parameters
    ----------
    configs : dict, model instance, or a list of them
        ``{"model": "bpr", "sampler": "dns", "params": {"factors": 32}}``
        (see :func:`recsample.experiments.grid.normalize_config`).
    datasets : name, Interactions, (train, test), a list of them, or a dict
        ``{name: ...}``. Names go to ``rs.load_dataset`` (``paths`` maps a name
        to its ``path=``). Interactions are split per seed (see ``split``);
        a (train, test) pair, and the published split of ``nbpo-amazon``, are
        used unchanged for every seed, so only the model's seed varies.
    seeds : int or sequence of int
        An integer n means seeds 0..n-1. The seed drives both the split and
        the model's initialisation and sampling.
    k, metrics :
        Passed to ``rs.evaluate``; one row per (metric, k) per run (AUC has an
        empty k).
    out : path, optional
        A CSV file. Each finished run's rows are appended and flushed to disk
        at once; runs already in the file (same dataset, model, sampler,
        params, seed) are skipped, so calling ``run`` again after a crash or
        Ctrl-C completes only what is missing.
    n_jobs : int
        Local backend: runs in parallel worker processes (each trains with
        cpu_count // n_jobs threads unless ``n_threads`` is in params).
    backend : "local" or "ray"
        "ray" submits every run as a Ray task (see ``address``, ``num_cpus``,
        ``cpus_per_task``, ``max_retries``); the driver writes results as
        they arrive, exactly as the local backend does.
    address : str, optional
        Ray cluster address (e.g. "ray://head:10001" or "auto"); by default a
        local Ray instance is started with ``num_cpus`` CPUs and shut down at
        the end. An already initialised Ray is used as it is.
    split : float or callable
        The test fraction of the per-user ``rs.split.random_holdout(data,
        test_fraction=split, seed=seed)`` (default 0.2), or a callable
        ``split(data, seed) -> (train, test)``. It is not part of the run key:
        use a different ``out`` for a different split.
    progress : bool
        tqdm bars for runs (and epochs, when runs execute in this process)
        on a terminal or in a notebook; elsewhere one line per finished run.
    errors : "warn" or "raise"
        A run that raises (in Ray: after ``max_retries`` retries) is, with
        "warn", reported in a RuntimeWarning and in
        ``result.attrs["failed"]`` (a list of dicts: the run key and the
        error) while the other runs go on; with "raise" the error propagates.
        Failed runs are not written, so a later call retries them.
    on_result : callable, optional
        Called as ``on_result(rows)`` (a DataFrame) after each run is written.
    num_cpus, cpus_per_task, max_retries :
        Ray only: CPUs of a locally started Ray (None: all), CPUs (and
        training threads) per run, and retries of a run whose task raised or
        whose worker died.

    Returns
    -------
    pandas.DataFrame
        Columns dataset, model, sampler, params, seed, metric, k, value,
        fit_seconds, epochs: the rows of every run of this grid, those found
        in ``out`` and the new ones.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if errors not in ("warn", "raise"):
        raise ValueError(f"errors must be 'warn' or 'raise', got {errors!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs < 1:
        raise ValueError(f"n_jobs must be an integer >= 1, got {n_jobs!r}")
    if not callable(split):
        if isinstance(split, bool) or not isinstance(split, numbers.Real) \
                or not 0 < split < 1:
            raise ValueError(f"split must be a test fraction strictly between 0 and 1 or a "
                             f"callable split(data, seed), got {split!r}")
    ray = _import_ray() if backend == "ray" else None   # fail before any work
    seeds = grid.check_seeds(seeds)
    store = ResultsFile(out) if out is not None else None
    data = grid.resolve_datasets(datasets, paths)
    runs = grid.expand(configs, data, seeds)
    done = store.done_keys() if store is not None else set()
    if done:
        _check_settings(store, [r for r in runs if r.key in done])
    pending = [r for r in runs if r.key not in done]
    by_name = {d.name: d for d in data}

    new_rows, failed = [], []
    bar = _bar(len(runs), len(runs) - len(pending), progress)
    try:
        if backend == "ray":
            stream = _ray_stream(ray, pending, by_name, k, metrics, split, address, num_cpus,
                                 cpus_per_task, max_retries, errors, progress)
        elif n_jobs > 1 and len(pending) > 1:
            stream = _pool_stream(pending, by_name, k, metrics, split, n_jobs, errors)
        else:
            # epoch bars nest inside the run bar only where it is drawn live
            stream = _local_stream(pending, by_name, k, metrics, split,
                                   progress and bar.live, errors)
        for r, rows, error in stream:
            if error is not None:
                failed.append({**r.describe(), "error": error})
                bar.step(f"{_label(r)} failed: {error}", postfix={"failed": len(failed)})
            else:
                if store is not None:
                    store.append(rows, r.key, r.settings())
                new_rows.extend(rows)
                if on_result is not None:
                    on_result(pd.DataFrame(rows, columns=COLUMNS))
                bar.step(f"{_label(r)} {_headline(rows)}")
    finally:
        bar.close()
    if failed:
        lines = "; ".join(f"{f['dataset']}/{f['model']}/{f['sampler']} {f['params']} "
                          f"seed {f['seed']}: {f['error']}" for f in failed)
        warnings.warn(f"{len(failed)} of {len(runs)} runs failed and were not written "
                      f"(run again to retry them): {lines}", RuntimeWarning, stacklevel=2)
    wanted = {r.key for r in runs}
    if store is not None:
        df = read_results(store.path)
    else:
        df = _frame(new_rows)
    if not df.empty:
        keys = list(zip(*(df[c] for c in KEY_COLUMNS)))
        df = df[[(d, m, s, p, int(seed)) in wanted for d, m, s, p, seed in keys]]
    df = df.reset_index(drop=True)
    df.attrs["failed"] = failed
    return df


def _check_settings(store, finished) -> None:
    """Refuse to resume when finished runs were trained with other settings
    than this version gives their configuration (a default or a sampler's
    recommendation changed): their rows would pass for current ones."""
    recorded = store.recorded_settings()
    stale, unknown = [], 0
    for r in finished:
        old = recorded.get(r.key)
        if old is None:
            unknown += 1
            continue
        now = r.settings()
        if old != now:
            stale.append((r, json.loads(old), json.loads(now)))
    if stale:
        r, old, now = stale[0]
        diff = []
        for part in ("params", "sampler"):
            a, b = old.get(part, {}), now.get(part, {})
            if part == "sampler":
                a, b = {"class": a.get("class"), **a.get("params", {})}, \
                    {"class": b.get("class"), **b.get("params", {})}
            diff += [f"{n}: {a.get(n)!r} then, {b.get(n)!r} now"
                     for n in sorted(set(a) | set(b)) if a.get(n) != b.get(n)]
        raise ValueError(
            f"out={str(store.path)!r}: {len(stale)} finished run(s) were trained with settings "
            f"that differ from what this configuration means now, so their rows cannot be "
            f"reused; first: {_label(r)} ({'; '.join(diff[:4])}). Give a new out= path, or "
            f"delete {store.path.name} and {store.settings_path.name} to train them again.")
    if unknown:
        warnings.warn(f"out={str(store.path)!r}: {unknown} finished run(s) have no recorded "
                      f"settings (written by an older recsample), so whether their defaults "
                      f"still hold is not checked; their rows are reused", RuntimeWarning,
                      stacklevel=3)


def _frame(rows) -> pd.DataFrame:
    if not rows:
        return _empty()
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["seed"] = df["seed"].astype("int64")
    df["k"] = df["k"].astype("Int64")
    return df


def _bar(total, initial, enabled):
    """A live bar over runs on a terminal or in a notebook; elsewhere (logs,
    pipes) one line per finished run."""
    from .._progress import Progress
    return Progress(total, "runs", unit="run", enabled=enabled and total > 0, initial=initial)


def _label(r) -> str:
    return f"{r.dataset} {r.config.model}+{r.config.sampler} {r.config.params} seed {r.seed}"


def _headline(rows) -> str:
    """The first metric of a finished run and its fit time, for its log line."""
    if not rows:
        return "done"
    first = rows[0]
    what = first["metric"] + (f"@{first['k']}" if first["k"] is not None else "")
    return f"{what} {first['value']:.4f}, fit {first['fit_seconds']:.1f}s"


def _describe_error(exc) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}".rstrip(": ")


# ------------------------------------------------------------------ local
def _local_stream(pending, by_name, k, metrics, split, progress, errors):
    for r in pending:
        try:
            rows = grid.execute(r, by_name[r.dataset], k, metrics, split, progress=progress)
        except Exception as exc:   # KeyboardInterrupt is not caught: it stops the grid
            if errors == "raise":
                raise
            yield r, None, _describe_error(exc)
        else:
            yield r, rows, None


def _pool_stream(pending, by_name, k, metrics, split, n_jobs, errors):
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    # spawn, not fork: forking a process that already runs numba's threads is unsafe
    with ProcessPoolExecutor(n_jobs, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(grid.execute, r, by_name[r.dataset], k, metrics, split,
                               threads, False): r for r in pending}
        try:
            while futures:
                finished, _ = wait(list(futures), return_when=FIRST_COMPLETED)
                for fut in finished:
                    r = futures.pop(fut)
                    try:
                        rows = fut.result()
                    except Exception as exc:
                        if errors == "raise":
                            raise
                        yield r, None, _describe_error(exc)
                    else:
                        yield r, rows, None
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


# ------------------------------------------------------------------ ray
def _start_ray(ray, address=None, num_cpus=None, quiet=False) -> bool:
    """Start Ray (or connect to ``address``) unless it runs already; True
    when this call started it, so the caller shuts it down again."""
    if ray.is_initialized():
        return False
    options = {"include_dashboard": False, "log_to_driver": False}
    if quiet:
        import logging
        options["logging_level"] = logging.ERROR   # Ray's start-up notices too
    if address is not None:
        options["address"] = address
    elif num_cpus is not None:
        options["num_cpus"] = num_cpus
    ray.init(**options)
    return True


@contextlib.contextmanager
def _ray_session(ray, address=None, num_cpus=None, quiet=False):
    """Ray for the duration of a block: started unless it runs already (and
    then shut down again at the end). Yields a dict {future: what it runs}
    for the block to fill; futures still in it when the block ends (an
    error, or the consumer stopped reading) are cancelled."""
    started = _start_ray(ray, address, num_cpus, quiet=quiet)
    futures = {}
    try:
        yield futures
    finally:
        for ref in futures:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # already finished or gone: nothing to stop
                pass
        if started:
            ray.shutdown()


def _as_finished(ray, futures):
    """(future, what it runs) for each future of ``futures`` as it finishes,
    taking it out of the dict."""
    while futures:
        finished, _ = ray.wait(list(futures), num_returns=1)
        for ref in finished:
            yield ref, futures.pop(ref)


def _import_ray():
    return require("ray", "ray", "the Ray backend")


def _ray_task(r, dataset, k, metrics, split, threads):
    """Body of one Ray task: the same ``execute`` as the local backend."""
    return grid.execute(r, dataset, k, metrics, split, threads, False)


def _ray_stream(ray, pending, by_name, k, metrics, split, address, num_cpus, cpus_per_task,
                max_retries, errors, progress):
    if isinstance(cpus_per_task, bool) or not isinstance(cpus_per_task, numbers.Real) \
            or cpus_per_task <= 0:
        raise ValueError(f"cpus_per_task must be a number > 0, got {cpus_per_task!r}")
    if isinstance(max_retries, bool) or not isinstance(max_retries, numbers.Integral) \
            or max_retries < 0:
        raise ValueError(f"max_retries must be an integer >= 0, got {max_retries!r}")
    if not pending:
        return
    with _ray_session(ray, address, num_cpus, quiet=not progress) as futures:
        task = ray.remote(_ray_task).options(
            num_cpus=cpus_per_task, max_retries=int(max_retries), retry_exceptions=True)
        threads = max(1, int(cpus_per_task))
        # one copy of each data set in the object store, shared by its tasks
        refs = {name: ray.put(by_name[name]) for name in {r.dataset for r in pending}}
        for r in pending:
            futures[task.remote(r, refs[r.dataset], tuple(k), tuple(metrics), split,
                                threads)] = r
        for ref, r in _as_finished(ray, futures):
            try:
                rows = ray.get(ref)
            except Exception as exc:   # task error after retries, or lost worker
                if errors == "raise":
                    raise
                yield r, None, _describe_error(getattr(exc, "cause", None) or exc)
            else:
                yield r, rows, None
