"""The NBPO authors' evaluation, epoch by epoch.

Why not ``rs.evaluate``: the reproduction must score every epoch exactly as
the authors' ``Library.py`` and ``test_model.py`` do, and two of their choices
differ from recsample's evaluation. Their ``test`` ranking excludes only the
training items (validation items stay in the list), and their precision
divides by the items actually listed when fewer than k remain. The ``test_strict``
ranking, recsample's own protocol, uses the library's
:func:`recsample.evaluation.metrics.per_user_metrics`. The top 20 of each
ranking is computed once per epoch and every (metric, k) read from it, which
keeps 200 epochs x 3 models x 10 seeds affordable.
"""
from __future__ import annotations

import numpy as np

from .._checks import check_int as _check_int

__all__ = ["authors_f1", "authors_ndcg", "AuthorsRanker", "KS", "METRICS", "SPLITS"]

#: cut-offs of the paper's tables (the authors' code also logs 50 and 100)
KS = (2, 5, 10, 20)
#: metrics, in the order of the evaluator's output
METRICS = ("f1", "ndcg")
#: rankings, in the order of the evaluator's output (see :class:`AuthorsRanker`)
SPLITS = ("valid", "test", "test_strict")

_EPS = 1e-10  # the authors' guard against division by zero (0.1 ** 10)


def authors_f1(hits, n_rel, k, n_listed=None):
    """Per-user F1@k with the authors' definitions (``Library.py``,
    ``evaluation_F1``): P = h / max(L, eps), R = h / max(|R|, eps),
    F1 = 2 P R / max(P + R, eps), eps = 1e-10, where h is the number of the
    user's relevant items among the first k of the ranking, L the number of
    items in those first k (k unless fewer items were left to rank) and |R|
    the number of distinct relevant items. With L = k this is recsample's f1@k.

    ``hits``: bool (n_users, >= k), ``hits[u, r]`` true when the item at rank
    r + 1 is relevant; ``n_rel``: |R| per user; ``n_listed``: items ranked per
    user (None: at least k).
    """
    hits = np.asarray(hits, dtype=bool)
    _check_int("k", k, 1)
    if hits.ndim != 2 or hits.shape[1] < k:
        raise ValueError(f"hits must be 2-D with at least k={k} columns, got shape {hits.shape}")
    h = hits[:, :k].sum(axis=1).astype(np.float64)
    listed = np.full(len(h), float(k)) if n_listed is None else \
        np.minimum(np.asarray(n_listed, dtype=np.float64), k)
    p = h / np.maximum(listed, _EPS)
    r = h / np.maximum(np.asarray(n_rel, dtype=np.float64), _EPS)
    return 2.0 * p * r / np.maximum(p + r, _EPS)


def authors_ndcg(hits, n_rel, k):
    """Per-user NDCG@k with the authors' definitions (``Library.py``,
    ``evaluation_NDCG``): DCG = sum_{r=1..k} hit_r / log2(r + 1),
    IDCG = sum_{r=1..min(|R|, k)} 1 / log2(r + 1), NDCG = DCG / max(IDCG, eps).
    Binary gains and an IDCG over min(|R|, k) positions: recsample's ndcg@k.
    (The authors count |R| as the length of the user's list, repeats
    included; the Amazon split has no repeats.)
    """
    hits = np.asarray(hits, dtype=bool)
    _check_int("k", k, 1)
    if hits.ndim != 2 or hits.shape[1] < k:
        raise ValueError(f"hits must be 2-D with at least k={k} columns, got shape {hits.shape}")
    disc = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    dcg = hits[:, :k].astype(np.float64) @ disc
    ideal = np.concatenate([[0.0], np.cumsum(disc)])
    idcg = ideal[np.minimum(np.asarray(n_rel, dtype=np.int64), k)]
    return dcg / np.maximum(idcg, _EPS)


class AuthorsRanker:
    """Per-epoch evaluation: the top 20 per user from the current factors,
    once per ranking, and every (metric, k) derived from it.

    Rankings (``SPLITS``): ``valid``, validation items with the user's
    training items excluded, the authors' definitions; ``test``, test items
    with training items excluded (validation items stay in the ranking, as in
    the authors' code), the authors' definitions; ``test_strict``, test items
    with training *and* validation items excluded, recsample's definitions.
    Users without items in a split are left out of it."""

    def __init__(self, train, valid, test, ks=KS):
        from recsample.samplers.base import as_csr
        self.ks = tuple(int(k) for k in ks)
        self.kmax = max(self.ks)
        tr, va, te = (as_csr(x, n)
                      for x, n in ((train, "train"), (valid, "valid"), (test, "test")))
        self.train = tr
        self.train_valid = (tr + va).tocsr()
        self.train_valid.data[:] = 1.0
        self.rel = {}
        self.users = {}
        self.n_rel = {}
        for name, m in (("valid", va), ("test", te)):
            n = np.diff(m.indptr)
            self.users[name] = np.flatnonzero(n > 0)  # users without items are left out
            self.n_rel[name] = n[self.users[name]]
            self.rel[name] = m.toarray().astype(bool)
        self.all_users = np.union1d(self.users["valid"], self.users["test"])
        self.pos = {s: np.searchsorted(self.all_users, self.users[s]) for s in ("valid", "test")}

    def _hits(self, split, users, items):
        ok = items >= 0
        hits = self.rel[split][users[:, None], np.where(ok, items, 0)] & ok
        return hits, ok.sum(axis=1)

    def evaluate(self, U, V):
        """(split, metric, k) array of user-averaged values, splits as SPLITS."""
        from recsample.evaluation.metrics import per_user_metrics
        from recsample.evaluation.topk import topk

        out = np.empty((len(SPLITS), len(METRICS), len(self.ks)))
        items, _ = topk(U, V, self.all_users, self.kmax, exclude=self.train)
        for s, split in enumerate(("valid", "test")):
            users = self.users[split]
            hits, listed = self._hits(split, users, items[self.pos[split]])
            for j, k in enumerate(self.ks):
                out[s, 0, j] = authors_f1(hits, self.n_rel[split], k, listed).mean()
                out[s, 1, j] = authors_ndcg(hits, self.n_rel[split], k).mean()
        users = self.users["test"]
        items, _ = topk(U, V, users, self.kmax, exclude=self.train_valid)
        hits, _ = self._hits("test", users, items)
        vals = per_user_metrics(hits.view(np.uint8), self.n_rel["test"], self.ks, METRICS)
        out[2] = vals.mean(axis=2)
        return out
