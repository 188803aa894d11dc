"""Compilation: saying when the training loop compiles, where numba keeps it,
and compiling it ahead of time.

The training loop is compiled once for each (loss, sampler) pair and kept in
numba's disk cache, so only the first fit of a pair on a machine waits for the
compiler (about 8-12 s on 2 cores; ``benchmarks/peers/bench_compile.py``). That
first fit says so in one line on standard error, which a terminal, a notebook
cell and a log file all show; ``RECSAMPLE_COMPILE_NOTICE=0`` (or the command
line's ``--quiet``) silences it.

Where the cache lives is numba's choice (``numba.core.caching``; see
:func:`cache_dir`): ``$NUMBA_CACHE_DIR`` when it is set; otherwise beside the
package's sources in ``__pycache__`` when that folder is writable (an
editable install); otherwise numba's user-wide cache folder,
``~/.cache/numba`` (``$XDG_CACHE_HOME/numba``). A read-only install therefore
still caches, in the user's cache folder.

:func:`warmup` does those first fits ahead, one tiny fit per pair, spread over
worker processes so that every core it is given compiles (e.g. in a Docker
build)::

    rs.warmup()                                   # every built-in pair
    rs.warmup(["bpr+uniform", "softmax+dns"])     # just these

or from a shell: ``recsample warmup`` / ``recsample warmup bpr+dns --jobs 4``.

A pair is ``"<model>+<sampler>"``: the model one of ``bpr``, ``bpo``,
``softmax``, ``ccl`` or ``nbpo`` (the NBPO model with its paper settings),
the sampler a name of ``recsample.samplers.SAMPLERS``. BPR and BPO share one
training loop per sampler. ``"evaluate"`` compiles the evaluation kernels.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager

from numba.core import event

__all__ = ["warmup", "builtin_pairs", "parse_pair", "cache_dir", "compile_notice",
           "notices_enabled"]

_lock = threading.Lock()


def notices_enabled() -> bool:
    """False when ``RECSAMPLE_COMPILE_NOTICE`` is set to 0, no or off."""
    return os.environ.get("RECSAMPLE_COMPILE_NOTICE", "1").strip().lower() not in (
        "0", "no", "off", "false")


def cache_dir(dispatcher) -> str:
    """The folder where numba keeps ``dispatcher``'s compiled code (a
    disk-cached ``njit`` function), or ``"memory only"``."""
    cache = getattr(dispatcher, "_cache", None)
    path = getattr(cache, "_cache_path", None)
    return str(path) if path else "memory only"


class _Notice(event.Listener):
    """Writes one line when the first compilation starts, one when it ends."""

    def __init__(self, what, where, stream, hint=True):
        self.what, self.where, self.stream, self.hint = what, where, stream, hint
        self.depth = 0
        self.started = None

    def on_start(self, ev):
        if threading.current_thread() is not self.thread:
            return
        self.depth += 1
        if self.started is None:
            self.started = time.perf_counter()
            ahead = " (`recsample warmup` compiles ahead)" if self.hint else ""
            self._write(f"recsample: compiling {self.what} once; later runs load it from "
                        f"the cache in {self.where}{ahead}")

    def on_end(self, ev):
        if threading.current_thread() is not self.thread:
            return
        self.depth -= 1
        if self.depth == 0 and self.started is not None and not self.done:
            self.done = True
            self._write(f"recsample: compiled {self.what} in "
                        f"{time.perf_counter() - self.started:.1f} s")

    def _write(self, line):
        try:
            print(line, file=self.stream, flush=True)
        except (OSError, ValueError):   # a closed or broken stream: say nothing
            pass


@contextmanager
def compile_notice(what, dispatcher, stream=None, hint=True):
    """While the body runs, a compilation that starts in this thread writes
    ``recsample: compiling <what> once ...`` and, when it ends, the seconds it
    took (to ``stream``, default standard error). Nothing is written when the
    compiled code is already in memory or loaded from the disk cache.
    ``hint`` adds that ``recsample warmup`` compiles it ahead (not for
    what warmup does not compile, such as fold-in's loop)."""
    if not notices_enabled():
        yield
        return
    listener = _Notice(what, cache_dir(dispatcher), sys.stderr if stream is None else stream,
                       hint)
    listener.thread = threading.current_thread()
    listener.done = False
    with _lock:
        event.register("numba:compile", listener)
    try:
        yield
    finally:
        with _lock:
            event.unregister("numba:compile", listener)


# ------------------------------------------------------------------ warmup

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
