"""Compile the training loops ahead of time, e.g. while building a Docker image.

The first fit of each (loss, sampler) pair compiles its training loop, about
10-15 s, and numba keeps the result in its disk cache (see
:mod:`recsample._compile` for where). :func:`warmup` does those first fits
ahead, one tiny fit per pair, spread over worker processes so that every core
it is given compiles::

    rs.warmup()                                   # every built-in pair
    rs.warmup(["bpr+uniform", "softmax+dns"])     # just these

or from a shell: ``recsample warmup`` / ``recsample warmup bpr+dns --jobs 4``.

A pair is ``"<model>+<sampler>"``: the model one of ``bpr``, ``bpo``,
``softmax``, ``ccl`` or ``nbpo`` (the NBPO model with its paper settings),
the sampler a name of ``recsample.samplers.SAMPLERS``. BPR and BPO share one
training loop per sampler. ``"evaluate"`` compiles the evaluation kernels.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
import multiprocessing

__all__ = ["warmup", "builtin_pairs", "parse_pair"]

#: model names a pair may start with -> the public class
MODELS = {"bpr": "BPR", "bpo": "BPO", "softmax": "Softmax", "ccl": "CCL", "nbpo": "NBPO"}


def _samplers():
    from .samplers import SAMPLERS
    return SAMPLERS


def builtin_pairs() -> list:
    """Every (loss, sampler) pair the package's own models and samplers
    make, one name per distinct training loop: ``bpr+<sampler>`` for the pair
    losses (BPO shares them), ``softmax+`` and ``ccl+<sampler>`` for every
    sampler the group losses accept, ``nbpo+nbpo`` for the NBPO model, and
    ``evaluate``."""
    samplers = _samplers()
    pairs = [f"bpr+{s}" for s in samplers]
    for model in ("softmax", "ccl"):
        pairs += [f"{model}+{s}" for s, cls in samplers.items() if not cls.chooses_positive]
    return pairs + ["nbpo+nbpo", "evaluate"]


def parse_pair(name) -> tuple:
    """``"bpr+dns"`` -> ``("bpr", "dns")``; ``"evaluate"`` -> ``("evaluate", None)``.
    Raises ValueError naming the known models and samplers."""
    text = str(name).strip().lower()
    if text == "evaluate":
        return "evaluate", None
    model, plus, sampler = text.partition("+")
    samplers = _samplers()
    if not plus or model not in MODELS or sampler not in samplers:
        raise ValueError(f"pair {name!r} must be '<model>+<sampler>' with model one of "
                         f"{sorted(MODELS)} and sampler one of {sorted(samplers)}, "
                         "or 'evaluate'")
    cls = samplers[sampler]
    if model in ("softmax", "ccl") and cls.chooses_positive:
        raise ValueError(f"pair {name!r}: {model} trains given positives and refuses sampler "
                         f"{sampler!r}, which chooses its own")
    return model, sampler


def _warm_one(name) -> tuple:
    """One tiny fit of ``name`` in this process; (name, seconds)."""
    os.environ.setdefault("RECSAMPLE_COMPILE_NOTICE", "0")
    import recsample as rs
    t0 = time.perf_counter()
    model, sampler = parse_pair(name)
    data = rs.datasets.synthetic(120, 200, 2400, seed=0)
    if model == "evaluate":
        train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=0)
        fitted = rs.BPR(epochs=1, n_threads=1).fit(train, progress=False)
        rs.evaluate(fitted, test, train=train, k=(10,))
    elif model == "nbpo":
        rs.NBPO(epochs=1, n_threads=1).fit(data, progress=False)
    else:
        cls = getattr(rs, MODELS[model])
        cls(sampler=sampler, epochs=1, n_threads=1).fit(data, progress=False)
    return name, time.perf_counter() - t0


def warmup(pairs=None, jobs=None, progress=True) -> dict:
    """Compile the training loops of ``pairs`` (default: :func:`builtin_pairs`)
    into numba's disk cache, ``jobs`` worker processes at a time (default:
    the cores this process may run on). Returns ``{pair: seconds}``; a pair
    already cached takes about a second. ``progress`` writes one line per
    finished pair to standard error."""
    import sys
    names = builtin_pairs() if pairs is None else [pairs] if isinstance(pairs, str) else list(pairs)
    for name in names:
        parse_pair(name)                       # every name checked before any work
    if jobs is None:
        try:
            jobs = len(os.sched_getaffinity(0))
        except AttributeError:                 # not on Linux
            jobs = os.cpu_count() or 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    jobs = min(jobs, max(1, len(names)))
    done = {}
    start = time.perf_counter()
    # fresh interpreters: numba's threads and compiler state are not forked
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_warm_one, name) for name in names]
        for k, fut in enumerate(as_completed(futures), 1):
            name, seconds = fut.result()
            done[name] = seconds
            if progress:
                print(f"recsample warmup {k}/{len(names)}: {name} in {seconds:.1f} s",
                      file=sys.stderr, flush=True)
    if progress:
        print(f"recsample warmup: {len(names)} pairs in {time.perf_counter() - start:.1f} s "
              f"with {jobs} processes", file=sys.stderr, flush=True)
    return {name: done[name] for name in names}
