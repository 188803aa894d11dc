"""Per-user ranking metrics computed from hit lists.

Input everywhere is a hit matrix ``hits`` (n_users x L, uint8): ``hits[u, r]``
is 1 when the item at rank r+1 of user u's list is relevant; ``n_rel[u]`` is
|R_u|, the number of relevant (test) items the user has. A list shorter than
k is simply padded with zeros (no hit), and precision still divides by k.

Three layers, as in ranx: one ``@njit`` function per metric for one user,
one parallel loop over users shared by all metrics (it picks the per-user
function by a code, so the loop is written once), and a documented
high-level function per metric. Full definitions: docs/metrics.md.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .. import registry

__all__ = ["precision", "recall", "f1", "ndcg", "average_precision", "reciprocal_rank",
           "hit_rate", "per_user_metrics", "RANK_METRICS"]

# codes used by the shared loop; order is the order of RANK_METRICS
PRECISION, RECALL, F1, NDCG, MAP, MRR, HIT_RATE = range(7)
RANK_METRICS = registry.RANK_METRICS


# ----------------------------------------------------------- per-user kernels
@njit(cache=True)
def _hits_in(hits, k):
    n = min(k, hits.shape[0])
    c = 0
    for r in range(n):
        c += hits[r]
    return c


@njit(cache=True)
def _precision_u(hits, n_rel, k):
    return _hits_in(hits, k) / k


@njit(cache=True)
def _recall_u(hits, n_rel, k):
    return _hits_in(hits, k) / n_rel


@njit(cache=True)
def _f1_u(hits, n_rel, k):
    h = _hits_in(hits, k)
    # 2PR/(P+R) with P = h/k, R = h/n_rel simplifies to 2h/(k + n_rel)
    return 2.0 * h / (k + n_rel)


@njit(cache=True)
def _ndcg_u(hits, n_rel, k):
    n = min(k, hits.shape[0])
    dcg = 0.0
    for r in range(n):
        if hits[r]:
            dcg += 1.0 / np.log2(r + 2.0)
    idcg = 0.0
    for r in range(min(k, n_rel)):
        idcg += 1.0 / np.log2(r + 2.0)
    return dcg / idcg


@njit(cache=True)
def _average_precision_u(hits, n_rel, k):
    n = min(k, hits.shape[0])
    found = 0
    total = 0.0
    for r in range(n):
        if hits[r]:
            found += 1
            total += found / (r + 1.0)
    return total / min(k, n_rel)


@njit(cache=True)
def _reciprocal_rank_u(hits, n_rel, k):
    for r in range(min(k, hits.shape[0])):
        if hits[r]:
            return 1.0 / (r + 1.0)
    return 0.0


@njit(cache=True)
def _hit_rate_u(hits, n_rel, k):
    return 1.0 if _hits_in(hits, k) > 0 else 0.0


# one branch per metric code: compiled code cannot index a table of
# functions, so the dispatch is written out (RANK_METRICS' order)
@njit(cache=True)
def _metric_u(code, hits, n_rel, k):
    if code == PRECISION:
        return _precision_u(hits, n_rel, k)
    if code == RECALL:
        return _recall_u(hits, n_rel, k)
    if code == F1:
        return _f1_u(hits, n_rel, k)
    if code == NDCG:
        return _ndcg_u(hits, n_rel, k)
    if code == MAP:
        return _average_precision_u(hits, n_rel, k)
    if code == MRR:
        return _reciprocal_rank_u(hits, n_rel, k)
    return _hit_rate_u(hits, n_rel, k)


# ------------------------------------------------------- loop over the users
@njit(cache=True)
def _per_user(hits, n_rel, ks, codes):
    # one thread: a few operations per user and list position, a fraction of
    # the ranking pass's time, and a parallel loop costs seconds to compile
    out = np.empty((codes.shape[0], ks.shape[0], hits.shape[0]), dtype=np.float64)
    for u in range(hits.shape[0]):
        for c in range(codes.shape[0]):
            for j in range(ks.shape[0]):
                out[c, j, u] = _metric_u(codes[c], hits[u], n_rel[u], ks[j])
    return out


def _check_inputs(hits, n_rel):
    hits = np.ascontiguousarray(hits, dtype=np.uint8)
    if hits.ndim != 2:
        raise ValueError(f"hits must be a 2-D array (users x list positions), got {hits.ndim}-D")
    n_rel = np.ascontiguousarray(n_rel, dtype=np.int64)
    if n_rel.shape != (hits.shape[0],):
        raise ValueError(f"n_rel must have one entry per row of hits ({hits.shape[0]}), "
                         f"got shape {n_rel.shape}")
    if hits.shape[0] and n_rel.min() < 1:
        raise ValueError("n_rel must be >= 1 for every user (users without relevant "
                         "items have no ranking metric)")
    return hits, n_rel


def per_user_metrics(hits, n_rel, ks, metrics):
    """Array (len(metrics), len(ks), n_users) of per-user values.

    ``metrics`` are names from :data:`RANK_METRICS`.
    """
    hits, n_rel = _check_inputs(hits, n_rel)
    codes = np.array([RANK_METRICS.index(m) for m in metrics], dtype=np.int64)
    ks = np.asarray(ks, dtype=np.int64)
    return _per_user(hits, n_rel, ks, codes)


def _one(code, hits, n_rel, k):
    return per_user_metrics(hits, n_rel, [k], [RANK_METRICS[code]])[0, 0]


# ------------------------------------------------------ high-level functions
def precision(hits, n_rel, k):
    r"""precision@k = (hits in the top k) / k.

    The divisor is k even when the list is shorter than k (fewer than k items
    were left after excluding the training items).
    """
    return _one(PRECISION, hits, n_rel, k)


def recall(hits, n_rel, k):
    r"""recall@k = (hits in the top k) / |R|."""
    return _one(RECALL, hits, n_rel, k)


def f1(hits, n_rel, k):
    r"""f1@k = 2 P R / (P + R) with P = precision@k, R = recall@k; 0 without a hit.

    Equivalently 2 hits / (k + |R|).
    """
    return _one(F1, hits, n_rel, k)


def ndcg(hits, n_rel, k):
    r"""ndcg@k with binary gains (Järvelin & Kekäläinen, TOIS 2002).

    DCG@k = sum_{r=1..k} hit_r / log2(r + 1);
    IDCG@k = sum_{r=1..min(k, |R|)} 1 / log2(r + 1); ndcg@k = DCG@k / IDCG@k.
    With binary gains the Burges et al. (ICML 2005) gain 2^rel - 1 is the same.
    """
    return _one(NDCG, hits, n_rel, k)


def average_precision(hits, n_rel, k):
    r"""AP@k = (sum over hit ranks r <= k of precision@r) / min(k, |R|).

    The divisor min(k, |R|) makes a perfect list score 1 even when |R| > k.
    (ranx's ``map@k`` divides by |R| instead; the two agree when |R| <= k.)
    Its mean over users is map@k.
    """
    return _one(MAP, hits, n_rel, k)


def reciprocal_rank(hits, n_rel, k):
    r"""RR@k = 1 / (rank of the first hit) if it is within the top k, else 0.
    Its mean over users is mrr@k."""
    return _one(MRR, hits, n_rel, k)


def hit_rate(hits, n_rel, k):
    r"""hit_rate@k = 1 if any of the top k items is relevant, else 0."""
    return _one(HIT_RATE, hits, n_rel, k)
