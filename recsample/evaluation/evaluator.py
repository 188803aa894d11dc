"""``evaluate``: full-ranking (or sampled) metrics of a model on a test set."""
from __future__ import annotations

import numbers
import warnings

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from .. import registry
from ..core.validation import as_csr
from .metrics import RANK_METRICS, per_user_metrics
from .ranking import rank_block, rank_factors
from .report import Report
from .sampled import per_positive_values, sampled_ranks_block
from .topk import block_rows, check_factors, empty_csr_arrays, factor_blocks

__all__ = ["evaluate", "METRICS", "DEFAULT_METRICS"]

METRICS = registry.METRICS
DEFAULT_METRICS = METRICS


# ------------------------------------------------------------------ checking
def _check_metrics(metrics, sampled):
    if isinstance(metrics, str):
        metrics = (metrics,)
    try:
        metrics = tuple(metrics)
    except TypeError:
        raise TypeError(f"metrics must be a sequence of metric names, got {metrics!r}") from None
    if not metrics:
        raise ValueError(f"metrics is empty; choose from {', '.join(METRICS)}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown} in metrics; valid metrics are "
                         f"{', '.join(METRICS)}")
    if len(set(metrics)) != len(metrics):
        raise ValueError(f"metrics lists a metric twice: {list(metrics)}")
    if sampled and "coverage" in metrics:
        raise ValueError("metrics: coverage is not defined with sampled negatives "
                         "(there are no full top-k lists); drop it or set negatives=None")
    return metrics


def _check_k(k):
    ks = (k,) if isinstance(k, numbers.Integral) or not np.iterable(k) else tuple(k)
    if not ks:
        raise ValueError("k is empty; give an integer >= 1 or a sequence of them")
    for v in ks:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"k must be an integer >= 1 or a sequence of them, got {k!r}")
    ks = tuple(int(v) for v in ks)
    if len(set(ks)) != len(ks):
        raise ValueError(f"k lists a value twice: {list(ks)}")
    return ks


def _has_factors(model):
    # looked up on the class too, so that a property that raises while the
    # model is unfitted is not mistaken for a missing attribute
    return hasattr(type(model), "user_factors") or "user_factors" in getattr(model, "__dict__", {})


def _scorer(model, n_users, n_items):
    """(blocks function, bytes per score) for a factor model or a callable."""
    if _has_factors(model):
        if getattr(model, "is_fitted", True) is False:
            raise ValueError("model is not fitted: call model.fit(train) before evaluating it")
        try:
            U, V = model.user_factors, model.item_factors
        except Exception as exc:
            raise ValueError(f"model is not fitted ({exc}); call model.fit(train) "
                             "before evaluating it") from exc
        if U is None or V is None:
            raise ValueError("model is not fitted: its user_factors/item_factors are None")
        if hasattr(U, "to_numpy"):
            # implicit's GPU matrices; CPU models already hold numpy arrays
            U, V = U.to_numpy(), V.to_numpy()
        U, V = check_factors(U, V)
        if (U.shape[0], V.shape[0]) != (n_users, n_items):
            raise ValueError(f"test has shape ({n_users:,}, {n_items:,}) but the model has "
                             f"{U.shape[0]:,} users x {V.shape[0]:,} items; test must use "
                             "the model's user and item index")

        def blocks(users, rows):
            return factor_blocks(U, V, users, rows)

        blocks.factors = (U, V)  # lets the full-ranking pass score and rank in one kernel
        return blocks, 4
    if not callable(model):
        raise TypeError("model must have user_factors and item_factors, or be a callable "
                        f"f(user_ids) -> scores (n_users, n_items); got {type(model).__name__}")

    def blocks(users, rows):
        for start in range(0, len(users), rows):
            stop = min(len(users), start + rows)
            s = np.asarray(model(users[start:stop].copy()))
            if s.shape != (stop - start, n_items):
                raise ValueError(f"model(user_ids) returned shape {s.shape} for "
                                 f"{stop - start} users; expected ({stop - start}, {n_items})")
            # a copy: the ranking pass overwrites excluded entries, and the
            # callable may have handed out its own array
            s = np.array(s, dtype=s.dtype if s.dtype in (np.float32, np.float64) else np.float64,
                         order="C", copy=True)
            if np.isnan(s).any():
                raise ValueError("model(user_ids) returned NaN scores")
            yield start, stop, s

    return blocks, 8


def _relevant(test, train):
    """Test items that are not training items: the relevant set R_u."""
    rel = test.copy()
    rel.data = np.ones_like(rel.data, dtype=np.float32)
    if train is not None and train.nnz:
        overlap = rel.multiply(train.astype(bool)).tocsr()
        if overlap.nnz:
            rel = (rel - overlap).tocsr()
            rel.eliminate_zeros()
    rel.sort_indices()
    return rel


# -------------------------------------------------------------------- public
def evaluate(model, test, train=None, k=(10,), metrics=DEFAULT_METRICS, negatives=None,
             seed=0, batch_size=None, memory_budget=None):
    """Rank all items for every test user and score the lists.

    Parameters
    ----------
    model : factor model or callable
        Anything with ``user_factors`` (n_users, f) and ``item_factors``
        (n_items, f): scores are ``user_factors @ item_factors.T`` in float32
        (recsample's models, implicit's CPU models). Or a callable
        ``f(user_ids) -> scores`` of shape (len(user_ids), n_items), called
        on blocks of users.
    test : Interactions or scipy.sparse matrix (n_users, n_items)
        Held-out items. A user's relevant set R_u is its test items that are
        not among its training items; users with empty R_u are skipped and
        counted in ``Report.n_users_skipped``.
    train : Interactions or scipy.sparse matrix, optional
        Items excluded from each user's ranking.
    k : int or sequence of int
        List lengths.
    metrics : sequence of str
        From precision, recall, ndcg, map, mrr, hit_rate, f1, auc, coverage
        (definitions in docs/metrics.md). Ties in score are broken by lower
        item index.
    negatives : int, optional
        Sampled mode: rank each relevant item against this many items drawn
        uniformly without replacement from the user's non-interacted items
        (see :mod:`recsample.evaluation.sampled`); warns, since sampled
        metrics can order models differently from full ranking.
    seed : int
        Seed of the draws in sampled mode.
    batch_size, memory_budget : optional
        Users scored at once, or the bytes of scores held at once (default
        256 MB).

    Returns
    -------
    Report
    """
    sampled = negatives is not None
    if sampled:
        if isinstance(negatives, bool) or not isinstance(negatives, numbers.Integral) \
                or negatives < 1:
            raise ValueError(f"negatives must be a positive integer or None, got {negatives!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if metrics is DEFAULT_METRICS:
            metrics = tuple(m for m in metrics if m != "coverage")
    metrics = _check_metrics(metrics, sampled)
    ks = _check_k(k)
    test_m = as_csr(test, "test")
    n_users, n_items = test_m.shape
    blocks, itemsize = _scorer(model, n_users, n_items)
    if train is not None:
        train_m = as_csr(train, "train", (n_users, n_items))
        tr_indptr, tr_indices = train_m.indptr, train_m.indices
    else:
        train_m = None
        tr_indptr, tr_indices = empty_csr_arrays(n_users)
    rel = _relevant(test_m, train_m)
    n_rel_all = np.diff(rel.indptr)
    users = np.flatnonzero(n_rel_all > 0).astype(np.int64)
    if users.size == 0:
        raise ValueError("test has no user with a test item that is not a training item; "
                         "nothing to evaluate")
    n_rel = n_rel_all[users]
    rows = block_rows(n_items, itemsize, batch_size, memory_budget)
    if sampled:
        warnings.warn(
            "sampled metrics (negatives=%d) are not estimates of the full-ranking metrics "
            "and can order models differently (Krichene & Rendle, KDD 2020, 'On Sampled "
            "Metrics for Item Recommendation'); use negatives=None to rank all items"
            % negatives, UserWarning, stacklevel=2)
        per_user = _run_sampled(blocks, rows, users, n_rel, tr_indptr, tr_indices, rel,
                                int(negatives), int(seed), metrics, ks)
        coverage = {}
    else:
        per_user, coverage = _run_full(blocks, rows, users, n_rel, tr_indptr, tr_indices,
                                       rel, n_items, metrics, ks)
    return Report(users, per_user, coverage, n_users - users.size, metrics, ks, n_items,
                  negatives=int(negatives) if sampled else None,
                  seed=int(seed) if sampled else None)


# users a thread scores and ranks at a time in the fused pass (measured best of
# 32-256 at 100,000 x 20,000 x 64 on 2 cores)
_FUSED_ROWS = 128


def _run_full(blocks, rows, users, n_rel, tr_indptr, tr_indices, rel, n_items, metrics, ks):
    kmax = max(ks)
    want_auc = "auc" in metrics
    want_cov = "coverage" in metrics
    rank_metrics = [m for m in metrics if m in RANK_METRICS]
    hits = np.zeros((users.size, kmax), dtype=np.uint8)
    auc = np.full(users.size, np.nan)
    items = np.empty((min(rows, users.size), kmax), dtype=np.int64)
    # best (lowest) list position at which each item appears, for coverage
    best_pos = np.full(n_items, kmax, dtype=np.int64) if want_cov else None
    pos = np.broadcast_to(np.arange(kmax), items.shape)
    factors = getattr(blocks, "factors", None)
    if factors is not None:
        # one kernel scores and ranks; each thread's buffer holds at most
        # ``sub`` rows, so the budget of ``rows`` rows is kept across threads
        U, V = factors
        Vt = np.ascontiguousarray(V.T)
        sub = max(1, min(_FUSED_ROWS, rows // max(1, numba.get_num_threads())))
        items = np.empty((users.size, kmax), dtype=np.int64)
        with threadpool_limits(1, "blas"):
            for start in range(0, users.size, rows):
                stop = min(users.size, start + rows)
                rank_factors(U, Vt, users[start:stop], tr_indptr, tr_indices, rel.indptr,
                             rel.indices, kmax, want_auc, sub, items[start:stop],
                             hits[start:stop], auc[start:stop])
        if want_cov:
            listed = items >= 0
            np.minimum.at(best_pos, items[listed],
                          np.broadcast_to(np.arange(kmax), items.shape)[listed])
        blocks = ()
    for start, stop, scores in (blocks(users, rows) if callable(blocks) else blocks):
        it = items[: stop - start]
        rank_block(scores, users[start:stop], tr_indptr, tr_indices, rel.indptr,
                   rel.indices, kmax, want_auc, it, hits[start:stop], auc[start:stop])
        if want_cov:
            listed = it >= 0
            np.minimum.at(best_pos, it[listed], pos[: stop - start][listed])
    per_user = {}
    if rank_metrics:
        values = per_user_metrics(hits, n_rel, ks, rank_metrics)
        for c, m in enumerate(rank_metrics):
            for j, k in enumerate(ks):
                per_user[(m, k)] = values[c, j]
    if want_auc:
        per_user[("auc", None)] = auc
    coverage = {k: float(np.count_nonzero(best_pos < k)) / n_items for k in ks} \
        if want_cov else {}
    return _ordered(per_user, metrics, ks), coverage


def _run_sampled(blocks, rows, users, n_rel, tr_indptr, tr_indices, rel, negatives, seed,
                 metrics, ks):
    offsets_all = np.concatenate([[0], np.cumsum(n_rel)]).astype(np.int64)
    n_pos = int(offsets_all[-1])
    rank = np.empty(n_pos, dtype=np.int64)
    auc = np.empty(n_pos, dtype=np.float64)
    drawn = np.empty(n_pos, dtype=np.int64)
    for start, stop, scores in blocks(users, rows):
        offsets = offsets_all[start:stop + 1] - offsets_all[start]
        lo, hi = offsets_all[start], offsets_all[stop]
        sampled_ranks_block(scores, users[start:stop], tr_indptr, tr_indices, rel.indptr,
                            rel.indices, negatives, seed, offsets, rank[lo:hi], auc[lo:hi],
                            drawn[lo:hi])
    owner = np.repeat(np.arange(users.size), n_rel)
    per_user = {}
    for m in metrics:
        if m == "auc":
            # mean over the user's positives that had at least one drawn item
            ok = np.isfinite(auc)
            s = np.bincount(owner[ok], weights=auc[ok], minlength=users.size)
            c = np.bincount(owner[ok], minlength=users.size)
            with np.errstate(invalid="ignore", divide="ignore"):
                per_user[("auc", None)] = np.where(c > 0, s / np.maximum(c, 1), np.nan)
            continue
        for k in ks:
            v = per_positive_values(m, rank, k)
            per_user[(m, k)] = np.bincount(owner, weights=v, minlength=users.size) / n_rel
    return _ordered(per_user, metrics, ks)


def _ordered(per_user, metrics, ks):
    out = {}
    for m in metrics:
        if m == "auc":
            out[("auc", None)] = per_user[("auc", None)]
        elif m != "coverage":
            for k in ks:
                out[(m, k)] = per_user[(m, k)]
    return out
