"""Telling the user when a kernel compiles, and where numba keeps it.

The training loop is compiled once for each (loss, sampler) pair and kept in
numba's disk cache, so only the first fit of a pair on a machine waits for the
compiler (about 10-15 s; ``recsample warmup`` does it ahead of time). That
first fit says so in one line on standard error, which a terminal, a notebook
cell and a log file all show; ``RECSAMPLE_COMPILE_NOTICE=0`` silences it.

Where the cache lives is numba's choice (``numba.core.caching``): beside the
package's sources in ``__pycache__`` when that folder is writable (an editable
install), else in numba's user-wide cache folder, ``$NUMBA_CACHE_DIR`` when
set, otherwise ``~/.cache/numba`` (``$XDG_CACHE_HOME/numba``). A read-only
install therefore still caches, in the user's cache folder.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from contextlib import contextmanager

from numba.core import event

__all__ = ["cache_dir", "compile_notice", "notices_enabled"]

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

    def __init__(self, what, where, stream):
        self.what, self.where, self.stream = what, where, stream
        self.depth = 0
        self.started = None

    def on_start(self, ev):
        if threading.current_thread() is not self.thread:
            return
        self.depth += 1
        if self.started is None:
            self.started = time.perf_counter()
            self._write(f"recsample: compiling {self.what} once; later runs load it from "
                        f"the cache in {self.where} (`recsample warmup` compiles ahead)")

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
def compile_notice(what, dispatcher, stream=None):
    """While the body runs, a compilation that starts in this thread writes
    ``recsample: compiling <what> once ...`` and, when it ends, the seconds it
    took (to ``stream``, default standard error). Nothing is written when the
    compiled code is already in memory or loaded from the disk cache."""
    if not notices_enabled():
        yield
        return
    listener = _Notice(what, cache_dir(dispatcher), sys.stderr if stream is None else stream)
    listener.thread = threading.current_thread()
    listener.done = False
    with _lock:
        event.register("numba:compile", listener)
    try:
        yield
    finally:
        with _lock:
            event.unregister("numba:compile", listener)
