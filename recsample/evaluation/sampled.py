"""Sampled-negatives evaluation: each relevant item ranked against N drawn items.

For user u with training items I_u and relevant (test) items R_u, each p in
R_u gets its own N items drawn uniformly without replacement from
items \\ (I_u ∪ R_u) (all of them if fewer than N are left). p's rank is
1 + #{drawn j : s_j > s_p} + #{drawn j : s_j = s_p and j < p}: the same
"lower item index first" tie rule as full ranking. The per-positive metric
values (one relevant item in a list of N + 1) are averaged over R_u.

Sampled metrics are not a cheap estimate of the full-ranking ones: they can
order models differently (Krichene & Rendle, "On Sampled Metrics for Item
Recommendation", KDD 2020). Prefer full ranking when it is affordable.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .._threads import run_all, shares, threads

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def _mix(z):
    # splitmix64 finaliser (Steele, Lea & Flood, OOPSLA 2014)
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _below(state, n):
    """Uniform integer in [0, n) from the splitmix64 stream in state[0]."""
    state[0] += _GOLDEN
    return np.int64((_mix(state[0]) >> np.uint64(11)) * (1.0 / 9007199254740992.0) * n)


@njit(cache=True)
def _union_sorted(a, b):
    out = np.empty(a.shape[0] + b.shape[0], dtype=np.int64)
    i = j = t = 0
    while i < a.shape[0] or j < b.shape[0]:
        if j == b.shape[0] or (i < a.shape[0] and a[i] < b[j]):
            out[t] = a[i]
            i += 1
        else:
            out[t] = b[j]
            j += 1
        t += 1
    return out


def sampled_ranks_block(scores, users, tr_indptr, tr_indices, rel_indptr, rel_indices,
                        n_negatives, seed, offsets, out_rank, out_auc, out_drawn):
    """Rank of every relevant item of the block's users among its drawn items.

    Results for row r go to positions offsets[r]..offsets[r+1]-1 of the out
    arrays, in the order of the user's relevant items. The draws depend only
    on (seed, user), not on blocks or threads (rows are shared out over the
    threads of :mod:`recsample._threads`).
    """
    run_all([(_sampled_ranks_rows, (scores, users, tr_indptr, tr_indices, rel_indptr,
                                    rel_indices, n_negatives, seed, offsets, out_rank, out_auc,
                                    out_drawn, lo, hi))
             for lo, hi in shares(scores.shape[0], 4 * threads())])


@njit(cache=True, nogil=True)
def _sampled_ranks_rows(scores, users, tr_indptr, tr_indices, rel_indptr, rel_indices,
                        n_negatives, seed, offsets, out_rank, out_auc, out_drawn, lo, hi):
    n_items = scores.shape[1]
    for r in range(lo, hi):
        u = users[r]
        row = scores[r]
        relevant = rel_indices[rel_indptr[u]:rel_indptr[u + 1]]
        taken = _union_sorted(tr_indices[tr_indptr[u]:tr_indptr[u + 1]], relevant)
        n_free = n_items - taken.shape[0]
        n_draw = min(n_negatives, n_free)
        # the f-th free item is f + #{i : taken[i] - i <= f}
        gaps = taken - np.arange(taken.shape[0])
        mark = np.zeros(max(n_free, 1), dtype=np.bool_)
        drawn = np.empty(max(n_draw, 1), dtype=np.int64)
        state = np.empty(1, dtype=np.uint64)
        state[0] = _mix(np.uint64(seed) ^ _mix(np.uint64(u) + _GOLDEN))
        for t in range(relevant.shape[0]):
            p = relevant[t]
            sp = row[p]
            # Floyd's algorithm: n_draw distinct free ranks
            for d in range(n_draw):
                top = n_free - n_draw + d
                f = _below(state, top + 1)
                if mark[f]:
                    f = top
                mark[f] = True
                drawn[d] = f
            greater = 0
            ties_before = 0
            ties = 0
            for d in range(n_draw):
                f = drawn[d]
                mark[f] = False
                j = f + np.searchsorted(gaps, f, side="right")
                s = row[j]
                if s > sp:
                    greater += 1
                elif s == sp:
                    ties += 1
                    if j < p:
                        ties_before += 1
            o = offsets[r] + t
            out_rank[o] = 1 + greater + ties_before
            out_drawn[o] = n_draw
            if n_draw > 0:
                out_auc[o] = (n_draw - greater - ties + 0.5 * ties) / n_draw
            else:
                out_auc[o] = np.nan


def per_positive_values(metric, rank, k):
    """Value of ``metric`` for one relevant item at ``rank`` in a list where it
    is the only relevant item (|R| = 1)."""
    rank = np.asarray(rank, dtype=np.float64)
    hit = (rank <= k).astype(np.float64)
    if metric == "precision":
        return hit / k
    if metric in ("recall", "hit_rate"):
        return hit
    if metric == "f1":
        return hit * 2.0 / (k + 1.0)
    if metric == "ndcg":
        return hit / np.log2(rank + 1.0)
    if metric in ("map", "mrr"):
        return hit / rank
    raise ValueError(f"no sampled form for metric {metric!r}")
