"""Power-law synthetic interactions, for scale tests and benchmarks."""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ..interactions import Interactions

__all__ = ["synthetic"]

# pairs drawn per vectorised chunk: bounds the temporary float/int arrays
_CHUNK = 1 << 23


def synthetic(n_users: int, n_items: int, nnz: int, alpha: float = 1.0,
              seed: int = 0) -> Interactions:
    """Exactly ``nnz`` distinct (user, item) pairs with power-law activity and popularity.

    User u and item i are drawn independently with P(u) proportional to
    rank_u^-alpha and P(i) proportional to rank_i^-alpha (Zipf's law; ranks
    1..n are assigned by a seeded random permutation, so ids carry no order;
    alpha = 0 is uniform). Pairs are drawn in vectorised chunks and
    de-duplicated by sorting int64 keys u * n_items + i; rounds top up until
    at least ``nnz`` distinct pairs exist, and the surplus of the last round
    is removed uniformly at random. When ``nnz >= n_users`` every user first
    gets one item drawn from the popularity law, so no user is empty.

    Weights are float32 ones, indices int32 where they fit; the same
    arguments give the same matrix. Memory stays near 3 x 8 bytes per pair
    at the peak (about 2.5 GB for 100M pairs).
    """
    for arg, val in (("n_users", n_users), ("n_items", n_items), ("nnz", nnz)):
        if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
            raise ValueError(f"{arg} must be a positive integer, got {val!r}")
    n_users, n_items, nnz = int(n_users), int(n_items), int(nnz)
    if n_users * n_items >= 2 ** 62:
        raise ValueError(f"n_users * n_items = {n_users * n_items} is too large for int64 keys")
    if nnz > n_users * n_items:
        raise ValueError(f"nnz={nnz} exceeds n_users * n_items = {n_users * n_items}, the "
                         "number of distinct pairs")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    rng = np.random.default_rng(seed)
    user_cdf = _zipf_cdf(n_users, alpha, rng)
    item_cdf = _zipf_cdf(n_items, alpha, rng)

    if nnz == n_users * n_items:
        keys = np.arange(nnz, dtype=np.int64)
    else:
        reserved = np.empty(0, dtype=np.int64)
        if nnz >= n_users:
            reserved = (np.arange(n_users, dtype=np.int64) * n_items
                        + _draw(item_cdf, n_users, rng))
        keys = reserved
        yield_rate = 1.0
        while len(keys) < nnz:
            deficit = nnz - len(keys)
            # draw a little more than the deficit, scaled by the last round's
            # share of new distinct pairs, so a round rarely falls short
            n_draw = int(min(deficit / max(yield_rate, 1e-3) * 1.05 + 1024, 4 * nnz + 1024))
            fresh = _draw_keys(user_cdf, item_cdf, n_items, n_draw, rng)
            before = len(keys)
            keys = _merge_unique(keys, fresh)
            yield_rate = (len(keys) - before) / n_draw
        if len(keys) > nnz:
            keys = _drop_random(keys, len(keys) - nnz, np.sort(reserved), rng)
    return _to_interactions(keys, n_users, n_items)


def _zipf_cdf(n: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """CDF over ids 0..n-1 of Zipf weights rank^-alpha, ranks randomly permuted."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -alpha
    weights = weights[rng.permutation(n)]
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return cdf


def _draw(cdf: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    idx = np.searchsorted(cdf, rng.random(size), side="right")
    # rounding at the top of the cdf can give n; clamp to the last id
    np.minimum(idx, len(cdf) - 1, out=idx)
    return idx.astype(np.int64)


def _draw_keys(user_cdf, item_cdf, n_items: int, size: int, rng) -> np.ndarray:
    """``size`` pair keys, sorted and de-duplicated, drawn chunk by chunk."""
    parts = []
    for start in range(0, size, _CHUNK):
        m = min(_CHUNK, size - start)
        k = _draw(user_cdf, m, rng)
        k *= n_items
        k += _draw(item_cdf, m, rng)
        parts.append(k)
    keys = np.concatenate(parts) if len(parts) > 1 else parts[0]
    del parts
    keys.sort()
    return _unique_sorted(keys)


def _unique_sorted(keys: np.ndarray) -> np.ndarray:
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _merge_unique(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union of two sorted unique key arrays."""
    if len(a) == 0:
        return b
    merged = np.concatenate([a, b])
    # two sorted runs: the stable sort (timsort for int64) merges them in linear time
    merged.sort(kind="stable")
    return _unique_sorted(merged)


def _drop_random(keys: np.ndarray, n_drop: int, reserved: np.ndarray, rng) -> np.ndarray:
    """Remove ``n_drop`` keys chosen uniformly among those not in ``reserved``."""
    res_pos = np.searchsorted(keys, reserved)            # reserved keys are all present
    n_free = len(keys) - len(res_pos)
    ranks = np.sort(rng.choice(n_free, size=n_drop, replace=False))
    # the r-th free key sits after every reserved position p with p - (#reserved before p) <= r
    shift = np.searchsorted(res_pos - np.arange(len(res_pos)), ranks, side="right")
    keep = np.ones(len(keys), dtype=bool)
    keep[ranks + shift] = False
    return keys[keep]


def _to_interactions(keys: np.ndarray, n_users: int, n_items: int) -> Interactions:
    nnz = len(keys)
    small = nnz < np.iinfo(np.int32).max and max(n_users, n_items) < np.iinfo(np.int32).max
    idx_dtype = np.int32 if small else np.int64
    users = keys // n_items
    indptr = np.zeros(n_users + 1, dtype=idx_dtype)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    users *= n_items
    np.subtract(keys, users, out=users)                # reuse the buffer for item ids
    indices = users.astype(idx_dtype)
    del users
    m = sp.csr_matrix((np.ones(nnz, dtype=np.float32), indices, indptr),
                      shape=(n_users, n_items), copy=False)
    m.has_sorted_indices = True
    return Interactions(m, name=f"synthetic({n_users}, {n_items}, {nnz})")
