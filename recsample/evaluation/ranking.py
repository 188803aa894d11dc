"""Full-ranking pass over one block of score rows: top-k hit lists and AUC.

Each row is read once for the top-k selection and, when AUC is asked for,
once more for the pair counts, while it is still in cache.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .._threads import run_all, shares, threads
from .topk import select_row

#: rows are cut into this many shares per thread, so that a thread whose rows
#: are quicker (fewer training items, no AUC pairs) takes another share
_SHARES_PER_THREAD = 4


@njit(cache=True)
def _contains(sorted_ids, x):
    i = np.searchsorted(sorted_ids, x)
    return i < sorted_ids.shape[0] and sorted_ids[i] == x


@njit(cache=True)
def auc_row(row, excluded, relevant):
    """AUC of one user: the share of (relevant item p, negative item j) pairs
    with score_p > score_j, a tie counting 1/2.

    Negatives are the items neither in ``excluded`` (training items) nor in
    ``relevant``; both id lists are sorted and disjoint. Counting against the
    sorted relevant scores makes this O(n_items log |R|), with no sort of the
    row. NaN when the user has no negative item.
    """
    n_items = row.shape[0]
    m = relevant.shape[0]
    n_neg = n_items - excluded.shape[0] - m
    if n_neg <= 0 or m == 0:
        return np.nan
    pos = np.empty(m, dtype=np.float64)
    for t in range(m):
        pos[t] = row[relevant[t]]
    pos.sort()
    lo_pos = pos[0]
    hi_pos = pos[m - 1]
    above = 0   # pairs where the positive scores higher
    ties = 0
    p = 0
    q = 0
    for j in range(n_items):
        if p < excluded.shape[0] and excluded[p] == j:
            p += 1
            continue
        if q < m and relevant[q] == j:
            q += 1
            continue
        s = row[j]
        if s < lo_pos:
            above += m
        elif s <= hi_pos:
            left = np.searchsorted(pos, s, side="left")
            right = np.searchsorted(pos, s, side="right")
            above += m - right
            ties += right - left
    return (above + 0.5 * ties) / (float(m) * float(n_neg))


@njit(cache=True)
def _rank_row(row, u, tr_indptr, tr_indices, rel_indptr, rel_indices, k, want_auc, top_scores,
              out_items, out_hits, out_auc, r):
    """Top-k list, hit flags and AUC of one user's full score row."""
    excluded = tr_indices[tr_indptr[u]:tr_indptr[u + 1]]
    relevant = rel_indices[rel_indptr[u]:rel_indptr[u + 1]]
    n = select_row(row, excluded, k, out_items[r], top_scores)
    for t in range(k):
        out_hits[r, t] = 1 if t < n and _contains(relevant, out_items[r, t]) else 0
    if want_auc:
        out_auc[r] = auc_row(row, excluded, relevant)


@njit(cache=True, nogil=True)
def _rank_rows(scores, users, tr_indptr, tr_indices, rel_indptr, rel_indices, k, want_auc,
               lo, hi, out_items, out_hits, out_auc):
    top_scores = np.empty(k, dtype=scores.dtype)
    for r in range(lo, hi):
        _rank_row(scores[r], users[r], tr_indptr, tr_indices, rel_indptr, rel_indices, k,
                  want_auc, top_scores, out_items, out_hits, out_auc, r)


def rank_block(scores, users, tr_indptr, tr_indices, rel_indptr, rel_indices, k,
               want_auc, out_items, out_hits, out_auc):
    """For each row r of ``scores`` (user ``users[r]``): its top-k list without
    training items into ``out_items[r]``, 1/0 relevance of each listed item
    into ``out_hits[r]``, and its AUC into ``out_auc[r]`` if ``want_auc``.
    Rows are shared out over the threads of :mod:`recsample._threads`."""
    n = scores.shape[0]
    run_all([(_rank_rows, (scores, users, tr_indptr, tr_indices, rel_indptr, rel_indices, k,
                           want_auc, lo, hi, out_items, out_hits, out_auc))
             for lo, hi in shares(n, _SHARES_PER_THREAD * threads())])


@njit(cache=True, nogil=True)
def _rank_factor_blocks(U, Vt, users, tr_indptr, tr_indices, rel_indptr, rel_indices, k,
                        want_auc, sub, b_lo, b_hi, out_items, out_hits, out_auc):
    n = users.shape[0]
    for b in range(b_lo, b_hi):
        lo = b * sub
        hi = min(lo + sub, n)
        A = np.empty((hi - lo, U.shape[1]), dtype=U.dtype)
        for r in range(lo, hi):
            # element by element: a row assignment compiles numba's shape
            # check and its error message, 2.6 s of a cold first evaluation
            for f in range(U.shape[1]):
                A[r - lo, f] = U[users[r], f]
        S = np.dot(A, Vt)
        top_scores = np.empty(k, dtype=S.dtype)
        for r in range(lo, hi):
            _rank_row(S[r - lo], users[r], tr_indptr, tr_indices, rel_indptr, rel_indices, k,
                      want_auc, top_scores, out_items, out_hits, out_auc, r)


def rank_factors(U, Vt, users, tr_indptr, tr_indices, rel_indptr, rel_indices, k, want_auc,
                 sub, out_items, out_hits, out_auc):
    """rank_block for a factor model, with the scores computed inside.

    Each thread takes ``sub`` users at a time, computes their scores with one
    single-threaded BLAS product (``np.dot``) into a buffer of its own and
    ranks them while the buffer is still in cache. Against a multi-threaded
    product of large blocks followed by a separate ranking pass this saves a
    round trip of every score through main memory and the hand-over between
    the BLAS and the ranking threads. Callers limit BLAS to one thread.
    """
    n_sub = (users.shape[0] + sub - 1) // sub
    run_all([(_rank_factor_blocks, (U, Vt, users, tr_indptr, tr_indices, rel_indptr,
                                    rel_indices, k, want_auc, sub, lo, hi, out_items, out_hits,
                                    out_auc))
             for lo, hi in shares(n_sub, _SHARES_PER_THREAD * threads())])
