"""Top-k selection over full score rows, with per-user exclusions.

The ranking rule used everywhere in recsample: items are ordered by score,
highest first, and equal scores are ordered by item index, lowest first.
Excluded items (a user's training items) are never returned.

Selection is a bounded heap per row rather than a sort, O(n_items + k log k)
per user, fed only from the chunks of the row that can hold a top-k item (see
:func:`select_row`).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .._threads import run_all, shares, threads
# canonical CSR: sorted indices (the exclusion walk of select_row relies on
# them), checked against a shape when given, as the trainers check theirs
from ..core.validation import as_csr

__all__ = ["topk", "topk_scores", "DEFAULT_MEMORY_BUDGET"]

#: bytes of scores held at once when users are scored in blocks
DEFAULT_MEMORY_BUDGET = 256 * 2**20

# Rows per block when the budget allows more. Each block switches the cores
# from BLAS's threads to Numba's and back; on a busy machine a switch can cost
# milliseconds (idle pools spin before sleeping), so blocks are kept large
# enough that switches are few, and small enough to stay well under the budget.
_MAX_BLOCK_ROWS = 1024

# Items per chunk whose maximum is taken in the first pass of select_row.
_CHUNK = 32


# --------------------------------------------------------------------- kernels
@njit(cache=True, inline="always")
def _worse(s_a, i_a, s_b, i_b):
    """True when (score s_a, item i_a) ranks below (s_b, i_b)."""
    return s_a < s_b or (s_a == s_b and i_a > i_b)


@njit(cache=True)
def _sift_down(hs, hi, n, pos):
    # min-heap on rank: the root is the weakest of the current top-k
    while True:
        child = 2 * pos + 1
        if child >= n:
            return
        if child + 1 < n and _worse(hs[child + 1], hi[child + 1], hs[child], hi[child]):
            child += 1
        if _worse(hs[child], hi[child], hs[pos], hi[pos]):
            hs[pos], hs[child] = hs[child], hs[pos]
            hi[pos], hi[child] = hi[child], hi[pos]
            pos = child
        else:
            return


# the heap's two moves mirror each other by nature (down to the better
# child, up to the parent); a shared swap helper would only rename two lines
@njit(cache=True)
def _sift_up(hs, hi, pos):
    while pos > 0:
        parent = (pos - 1) // 2
        if _worse(hs[pos], hi[pos], hs[parent], hi[parent]):
            hs[pos], hs[parent] = hs[parent], hs[pos]
            hi[pos], hi[parent] = hi[parent], hi[pos]
            pos = parent
        else:
            return


@njit(cache=True)
def _chunk_maxima(row, cmax):
    """cmax[c] = highest score in chunk c of the row."""
    n = row.shape[0]
    for c in range(cmax.shape[0]):
        start = c * _CHUNK
        stop = min(start + _CHUNK, n)
        m = row[start]
        for t in range(start + 1, stop):
            v = row[t]
            m = v if v > m else m
        cmax[c] = m


@njit(cache=True)
def _kth_largest(values, k):
    """The k-th largest non-NaN entry of ``values``, or -inf if there are fewer."""
    heap = np.empty(k, dtype=values.dtype)
    count = 0
    for v in values:
        if v != v:
            continue
        if count < k:
            # sift up in a min-heap of plain values
            pos = count
            heap[pos] = v
            count += 1
            while pos > 0 and heap[(pos - 1) // 2] > heap[pos]:
                parent = (pos - 1) // 2
                heap[pos], heap[parent] = heap[parent], heap[pos]
                pos = parent
        elif v > heap[0]:
            heap[0] = v
            pos = 0
            while True:
                child = 2 * pos + 1
                if child >= k:
                    break
                if child + 1 < k and heap[child + 1] < heap[child]:
                    child += 1
                if heap[child] < heap[pos]:
                    heap[pos], heap[child] = heap[child], heap[pos]
                    pos = child
                else:
                    break
    return heap[0] if count == k else -np.inf


@njit(cache=True)
def select_row(row, excluded, k, out_items, out_scores):
    """Write the top-k of ``row`` (skipping the sorted item ids ``excluded``)
    into ``out_items``/``out_scores``, best first; return how many were found.

    Positions past that number are padded with item -1 and score -inf.
    Scores must not be NaN (a NaN compares false and would corrupt the heap).
    The excluded entries of ``row`` are overwritten with -inf: callers pass a
    buffer they own.

    Two passes. The first takes the maximum of each chunk of the row (a loop
    that vectorises). If k chunks have a maximum >= T, then k items score
    >= T, so an item below T, and hence every chunk whose maximum is below
    the k-th largest chunk maximum, cannot make the list. Excluded items are
    set to -inf first, so the maxima need no exclusion test; a chunk whose
    maximum is -inf may hold no allowed item, so the floor is only trusted
    when it is above -inf (otherwise every chunk is walked). The second pass
    offers only the items of the remaining chunks (about k of them) to a
    bounded heap, in increasing item order, so that the strict ``>`` against
    the heap's weakest member also implements the lower-index tie rule.
    """
    n = row.shape[0]
    for e in excluded:
        row[e] = -np.inf
    cmax = np.empty((n + _CHUNK - 1) // _CHUNK, dtype=row.dtype)
    _chunk_maxima(row, cmax)
    floor = _kth_largest(cmax, k)
    hs = np.empty(k, dtype=row.dtype)
    hi = np.empty(k, dtype=np.int64)
    count = 0
    p = 0
    for c in range(cmax.shape[0]):
        if cmax[c] < floor:
            continue
        start = c * _CHUNK
        stop = min(start + _CHUNK, n)
        while p < excluded.shape[0] and excluded[p] < start:
            p += 1
        for t in range(start, stop):
            if p < excluded.shape[0] and excluded[p] == t:
                p += 1
                continue
            s = row[t]
            if count < k:
                hs[count] = s
                hi[count] = t
                _sift_up(hs, hi, count)
                count += 1
            elif s > hs[0]:
                hs[0] = s
                hi[0] = t
                _sift_down(hs, hi, k, 0)
    # pop the weakest repeatedly and fill from the back: best ends up first
    n = count
    while n > 0:
        out_items[n - 1] = hi[0]
        out_scores[n - 1] = hs[0]
        n -= 1
        hs[0] = hs[n]
        hi[0] = hi[n]
        _sift_down(hs, hi, n, 0)
    for t in range(count, k):
        out_items[t] = -1
        out_scores[t] = -np.inf
    return count


@njit(cache=True, nogil=True)
def _topk_rows(scores, users, ex_indptr, ex_indices, k, out_items, out_scores, lo, hi):
    for r in range(lo, hi):
        u = users[r]
        select_row(scores[r], ex_indices[ex_indptr[u]:ex_indptr[u + 1]], k,
                   out_items[r], out_scores[r])


def _topk_block(scores, users, ex_indptr, ex_indices, k, out_items, out_scores):
    """Top-k of each row of ``scores``, its user's excluded items left out;
    rows are shared out over the threads of :mod:`recsample._threads`."""
    run_all([(_topk_rows, (scores, users, ex_indptr, ex_indices, k, out_items, out_scores,
                           lo, hi))
             for lo, hi in shares(scores.shape[0], 4 * threads())])


# ---------------------------------------------------------------- python side
def empty_csr_arrays(n_rows):
    return np.zeros(n_rows + 1, dtype=np.int32), np.zeros(0, dtype=np.int32)


def block_rows(n_items: int, itemsize: int, batch_size=None, memory_budget=None) -> int:
    """Users scored at once: ``batch_size`` if given, else as many rows as fit
    in ``memory_budget`` bytes of scores, capped for cache locality."""
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        return int(batch_size)
    budget = DEFAULT_MEMORY_BUDGET if memory_budget is None else memory_budget
    if not isinstance(budget, (int, float, np.integer, np.floating)) or budget <= 0:
        raise ValueError(f"memory_budget must be a positive number of bytes, got {memory_budget!r}")
    return int(max(1, min(_MAX_BLOCK_ROWS, budget // (n_items * itemsize))))


def check_factors(user_factors, item_factors):
    """float32 C-contiguous copies (or views) of the two factor matrices."""
    U = np.ascontiguousarray(user_factors, dtype=np.float32)
    V = np.ascontiguousarray(item_factors, dtype=np.float32)
    if U.ndim != 2 or V.ndim != 2:
        raise ValueError(f"user_factors and item_factors must be 2-D, got shapes "
                         f"{U.shape} and {V.shape}")
    if U.shape[1] != V.shape[1]:
        raise ValueError(f"user_factors has {U.shape[1]} columns but item_factors has "
                         f"{V.shape[1]}; they must match")
    if not (np.isfinite(U).all() and np.isfinite(V).all()):
        raise ValueError("user_factors/item_factors contain NaN or infinite values")
    return U, V


def factor_blocks(U, V, users, rows):
    """Yield (start, stop, scores) with scores = U[users[start:stop]] @ V.T in
    float32, written into one reused buffer (no allocation per block)."""
    n = len(users)
    buf = np.empty((min(rows, max(n, 1)), V.shape[0]), dtype=np.float32)
    Vt = V.T
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        out = buf[: stop - start]
        np.matmul(U[users[start:stop]], Vt, out=out)
        yield start, stop, out


def topk(user_factors, item_factors, users, k, exclude=None, *, batch_size=None,
         memory_budget=None):
    """Top-k items for ``users`` under the scores ``user_factors @ item_factors.T``.

    Parameters
    ----------
    user_factors, item_factors : array (n_users, f), array (n_items, f)
        Scores are computed in float32 by BLAS, a block of users at a time.
    users : array-like of int, or None
        Internal user ids (rows of ``user_factors``); None means all users.
    k : int
        List length; a ``k`` above the number of items is taken as the
        number of items (anything longer could only be padding, allocated
        for every user).
    exclude : Interactions or scipy.sparse matrix (n_users, n_items), optional
        Items never returned for a user (typically the training items); row
        ``u`` applies to user ``u``.
    batch_size, memory_budget : optional
        Users scored at once, or the bytes of scores allowed at once
        (default 256 MB).

    Returns
    -------
    items : int64 array (len(users), min(k, n_items))
    scores : float32 array (len(users), min(k, n_items))
        Best first; equal scores are ordered by lower item index. When fewer
        than ``k`` items are left after exclusion, the row is padded with item
        ``-1`` and score ``-inf``.
    """
    U, V = check_factors(user_factors, item_factors)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if V.shape[0] == 0:
        raise ValueError("item_factors has no rows: there is no item to rank")
    k = min(int(k), V.shape[0])
    users = np.arange(U.shape[0]) if users is None else np.asarray(users)
    if users.ndim != 1 or (users.size and not np.issubdtype(users.dtype, np.integer)):
        raise ValueError("users must be a 1-D array of integer user ids")
    users = users.astype(np.int64, copy=False)
    if users.size and (users.min() < 0 or users.max() >= U.shape[0]):
        raise ValueError(f"users must be in [0, {U.shape[0]}), got ids outside that range")
    if exclude is None:
        ex_indptr, ex_indices = empty_csr_arrays(U.shape[0])
    else:
        ex = as_csr(exclude, "exclude", (U.shape[0], V.shape[0]))
        ex_indptr, ex_indices = ex.indptr, ex.indices
    items = np.empty((len(users), k), dtype=np.int64)
    scores = np.empty((len(users), k), dtype=np.float32)
    rows = block_rows(V.shape[0], 4, batch_size, memory_budget)
    for start, stop, block in factor_blocks(U, V, users, rows):
        _topk_block(block, users[start:stop], ex_indptr, ex_indices, k,
                    items[start:stop], scores[start:stop])
    return items, scores


def topk_scores(scores, k, exclude=None):
    """Top-k of each row of a dense ``scores`` block (rows x n_items), with
    the same tie rule, padding and clamping of ``k`` to the number of items
    as :func:`topk`; row r of ``exclude`` (a CSR matrix with as many rows)
    lists the items never returned for row r. For models whose scores are
    not a product of two factor matrices."""
    scores = np.ascontiguousarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D block (rows x n_items), got shape {scores.shape}")
    if scores.dtype not in (np.float32, np.float64):
        scores = scores.astype(np.float64)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if scores.shape[1] == 0:
        raise ValueError("scores has no columns: there is no item to rank")
    k = min(int(k), scores.shape[1])
    n = scores.shape[0]
    if exclude is None:
        ex_indptr, ex_indices = empty_csr_arrays(n)
    else:
        ex = as_csr(exclude, "exclude", scores.shape)
        ex_indptr, ex_indices = ex.indptr, ex.indices
    items = np.empty((n, k), dtype=np.int64)
    out = np.empty((n, k), dtype=scores.dtype)
    _topk_block(scores, np.arange(n, dtype=np.int64), ex_indptr, ex_indices, k, items, out)
    return items, out
