"""Full-ranking pass over one block of score rows: top-k hit lists and AUC.

Each row is read once for the top-k selection and, when AUC is asked for,
once more for the pair counts, while it is still in cache.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .topk import select_row


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


@njit(cache=True, parallel=True)
def rank_block(scores, users, tr_indptr, tr_indices, rel_indptr, rel_indices, k,
               want_auc, out_items, out_hits, out_auc):
    """For each row r of ``scores`` (user ``users[r]``): its top-k list without
    training items into ``out_items[r]``, 1/0 relevance of each listed item
    into ``out_hits[r]``, and its AUC into ``out_auc[r]`` if ``want_auc``."""
    for r in prange(scores.shape[0]):
        u = users[r]
        excluded = tr_indices[tr_indptr[u]:tr_indptr[u + 1]]
        relevant = rel_indices[rel_indptr[u]:rel_indptr[u + 1]]
        top_scores = np.empty(k, dtype=scores.dtype)
        n = select_row(scores[r], excluded, k, out_items[r], top_scores)
        for t in range(k):
            out_hits[r, t] = 1 if t < n and _contains(relevant, out_items[r, t]) else 0
        if want_auc:
            out_auc[r] = auc_row(scores[r], excluded, relevant)
