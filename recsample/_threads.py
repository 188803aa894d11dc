"""One pool of threads for the kernels that release the GIL.

The trainer's epoch and the evaluator's scoring pass split their work into
contiguous shares and run one compiled, ``nogil`` kernel per share on these
threads, instead of a numba ``prange`` loop. A kernel with a parallel loop is
compiled twice over (numba's parallel passes, then the loop's body again as a
function of its own, which links and re-optimises everything the body calls);
that was about 40% of a cold first fit and three quarters of a cold first
evaluation (see CHANGELOG). The thread count is numba's
(``numba.get_num_threads()``, which ``numba.set_num_threads`` and the models'
``n_threads`` set), so one setting still governs both.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait

import numba

__all__ = ["threads", "shares", "run_all"]

_POOL = None


def threads() -> int:
    """The number of threads a parallel pass may use now."""
    return max(1, numba.get_num_threads())


def shares(n, parts):
    """``parts`` contiguous (start, stop) ranges covering range(n) in order,
    the first ones one longer when ``parts`` does not divide ``n`` (as
    ``numpy.array_split`` cuts), none empty unless ``n`` is 0; a static
    ``prange`` schedule cuts a loop alike."""
    parts = max(1, min(int(parts), int(n)))
    size, extra = divmod(int(n), parts)
    out, lo = [], 0
    for p in range(parts):
        hi = lo + size + (1 if p < extra else 0)
        out.append((lo, hi))
        lo = hi
    return out


def _pool():
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=numba.config.NUMBA_NUM_THREADS,
                                   thread_name_prefix="recsample")
    return _POOL


def run_all(calls):
    """Run each ``(function, args)`` of ``calls``: one in this thread when
    there is only one, else all on the pool, and wait for every one. An
    exception (or Ctrl-C while waiting) is raised only after every call has
    finished, so none is still writing into shared arrays when the caller
    moves on."""
    if len(calls) == 1:
        fn, args = calls[0]
        fn(*args)
        return
    futures = [_pool().submit(fn, *args) for fn, args in calls]
    try:
        for f in futures:
            f.result()
    finally:
        wait(futures)
