"""The training positives as compiled code reads them, and negatives drawn
against them.

:class:`Positives` is the CSR (row pointers, sorted item indices) plus an
optional users x items bitmap; :func:`is_positive`, :func:`in_sorted_row` and
:func:`position_in_row` test membership exactly, and :func:`uniform_negative`,
:func:`draw_non_positive` and :func:`nth_negative` draw j ~ U(items \\ I_u)
over them. Every sampler's ``draw`` is built from these.
"""
from collections import namedtuple

import numpy as np
from numba import njit

from .._intrinsics import borrow
from .._rng import next_int

#: The training positives as the compiled code sees them: the CSR row
#: pointers and sorted column indices, the number of items, and optionally a
#: users x items bitmap (``words`` uint64 words per user) that answers
#: membership with one memory read instead of a bisection of the row.
Positives = namedtuple("Positives", ["indptr", "indices", "n_items", "bits", "words"])

#: A bitmap is built when it needs at most this many bytes, or at most as many
#: as the CSR's column indices, whichever is larger.
BITMAP_MIN_BUDGET = 16 * 2**20


@njit(cache=True)
def _fill_bitmap(indptr, indices, bits, words):
    for u in range(indptr.shape[0] - 1):
        base = u * words
        for k in range(indptr[u], indptr[u + 1]):
            j = indices[k]
            bits[base + (j >> 6)] |= np.uint64(1) << np.uint64(j & 63)


def positives_of(matrix, bitmap=None) -> Positives:
    """The :class:`Positives` of a canonical CSR matrix. ``bitmap=None``
    builds the membership bitmap when it fits the budget above; True/False
    force it on or off."""
    n_users, n_items = matrix.shape
    words = (n_items + 63) // 64
    size = n_users * words * 8
    if bitmap is None:
        bitmap = size <= max(BITMAP_MIN_BUDGET, matrix.indices.nbytes)
    if bitmap:
        bits = np.zeros(n_users * words, dtype=np.uint64)
        _fill_bitmap(matrix.indptr, matrix.indices, bits, words)
    else:
        bits = np.zeros(0, dtype=np.uint64)
        words = 0
    return Positives(matrix.indptr, matrix.indices, np.int64(n_items), bits, np.int64(words))


@njit(cache=True, inline="always")
def _last_at_most(indices, start, n, j):
    """The last position p in the sorted row indices[start:start + n] (n >= 1)
    with indices[p] <= j, or ``start`` when there is none. A bisection whose
    steps depend only on the row's length: each step is a conditional move,
    not a branch the processor would mispredict half the time (a uniform
    draw on Gowalla: 70-108 -> 43-46 ns)."""
    base = start
    while n > 1:
        half = n >> 1
        base = base + half if indices[base + half] <= j else base
        n -= half
    return base


@njit(cache=True, inline="always")
def in_sorted_row(indices, start, end, j):
    """Exact membership of item ``j`` in the sorted CSR row indices[start:end]."""
    if end <= start:
        return False
    return indices[_last_at_most(indices, start, end - start, j)] == j


@njit(cache=True, inline="always")
def position_in_row(indices, start, end, j):
    """Index of item ``j`` in the sorted CSR row indices[start:end], or -1."""
    if end <= start:
        return -1
    p = _last_at_most(indices, start, end - start, j)
    return p if indices[p] == j else -1


@njit(cache=True, inline="always")
def positives_arrays(pos):
    """(indptr, indices, bits) of ``pos``, borrowed (``_intrinsics.borrow``):
    for draws that read them in a loop without a reference count per read."""
    return borrow(pos.indptr), borrow(pos.indices), borrow(pos.bits)


@njit(cache=True, inline="always")
def bit_is_set(bits, row, j):
    """Bit j of the bitmap row starting at word ``row``."""
    w = bits[row + (j >> 6)]
    return (w >> np.uint64(j & 63)) & np.uint64(1) != np.uint64(0)


@njit(cache=True, inline="always")
def is_positive(pos, u, j):
    """Is item ``j`` a training positive of user ``u``? Exact either way."""
    if pos.words > 0:
        return bit_is_set(pos.bits, u * pos.words, j)
    return in_sorted_row(pos.indices, pos.indptr[u], pos.indptr[u + 1], j)


@njit(cache=True, inline="always")
def nth_negative(indices, start, end, r):
    """The r-th (0-based) item not in the sorted row indices[start:end].

    Before the k-th positive p_k there are p_k - k non-positives, so the answer
    is r + (number of positives with p_k - k <= r), found by bisection.
    """
    lo = 0
    hi = end - start
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[start + mid] - mid <= r:
            lo = mid + 1
        else:
            hi = mid
    return r + lo


@njit(cache=True, inline="always")
def draw_non_positive(indices, bits, words, n_items, u, start, deg, rng):
    """j ~ U(items \\ I_u) for u, whose deg >= 1 positives are the sorted
    indices[start:start + deg] (and its bitmap row when ``words`` > 0), with
    at least one non-positive. Sparse rows use rejection (fewer than two
    tries expected); rows holding more than half of the catalogue map a
    uniform rank to the r-th non-positive instead, so the cost stays
    O(log |I_u|) for any density.

    It takes the positives' arrays rather than ``pos`` so that a draw loop
    can take them out of ``pos`` once: each use of ``pos.bits`` or
    ``pos.indices`` inside a loop takes and releases a reference on the
    array (an atomic update of a counter every thread shares), which WARP's
    draw loop paid per draw."""
    if 2 * deg <= n_items:
        row = u * words
        while True:
            j = next_int(rng, n_items)
            if words > 0:
                if not bit_is_set(bits, row, j):
                    return j
            elif not in_sorted_row(indices, start, start + deg, j):
                return j
    return nth_negative(indices, start, start + deg, next_int(rng, n_items - deg))


@njit(cache=True, inline="always")
def uniform_negative(pos, u, rng):
    """j ~ U(items \\ I_u), or -1 when u has every item (see
    :func:`draw_non_positive`)."""
    n_items = pos.n_items
    start = pos.indptr[u]
    end = pos.indptr[u + 1]
    deg = end - start
    if deg >= n_items:
        return -1
    # written out rather than calling draw_non_positive: taking the arrays
    # out of ``pos`` for every draw cost the uniform trainer 1.5% of its time
    # in reference counts (perf, one thread, movielens-small)
    if 2 * deg <= n_items:
        while True:
            j = next_int(rng, n_items)
            if not is_positive(pos, u, j):
                return j
    return nth_negative(pos.indices, start, end, next_int(rng, n_items - deg))
