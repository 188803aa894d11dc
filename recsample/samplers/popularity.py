"""Popularity-biased negatives: P(j) proportional to count_j ** alpha over the
items the user has not interacted with.

alpha = 0 is uniform; alpha = 1 draws in proportion to how many training users
interacted with j (what `implicit`'s BPR does when its sampler follows item
frequency); word2vec's 0.75 sits in between (Mikolov et al., NIPS 2013).
"""
from collections import namedtuple

import numpy as np
from numba import njit

from .._rng import next_float
from .base import Sampler, as_csr, draw, implements, is_positive

PopularityState = namedtuple("PopularityState", ["cdf", "weights"])

# After this many rejected draws the user's positives hold most of the
# popularity mass; switch to an exact scan of the user's non-positives.
_MAX_REJECTIONS = 64


@njit(cache=True)
def _bisect(cdf, x):
    """Smallest j with cdf[j] > x."""
    lo = 0
    hi = cdf.shape[0] - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cdf[mid] > x:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True)
def popularity_negative(cdf, weights, pos, u, rng):
    n_items = pos.n_items
    indices = pos.indices
    start = pos.indptr[u]
    end = pos.indptr[u + 1]
    total = cdf[n_items - 1]
    if end - start >= n_items or total <= 0.0:
        return -1
    for _ in range(_MAX_REJECTIONS):
        j = _bisect(cdf, next_float(rng) * total)
        if not is_positive(pos, u, j):
            return j
    # exact fallback: weights of the user's non-positives only
    free = total
    for k in range(start, end):
        free -= weights[indices[k]]
    if free <= 1e-12 * total:
        return -1
    x = next_float(rng) * free
    k = start
    last = -1
    for j in range(n_items):
        if k < end and indices[k] == j:
            k += 1
            continue
        w = weights[j]
        if w > 0.0:
            last = j
            x -= w
            if x < 0.0:
                return j
    return last  # rounding left x >= 0 after the final item


@implements(draw, PopularityState)
def _draw_popularity(state, pos, u, U, V, rng):
    return popularity_negative(state.cdf, state.weights, pos, u, rng)


class Popularity(Sampler):
    """P(j | u) = count_j ** alpha / sum over items k not in I_u of count_k ** alpha.

    ``count_j`` is the number of training interactions of item j. Items never
    seen in training have probability 0 when alpha > 0. Draws use a CDF and
    bisection (O(log n_items)) with rejection of the user's positives.
    """

    name = "popularity"

    def __init__(self, alpha: float = 0.75):
        self.alpha = alpha

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        alpha = self.alpha
        if not np.isscalar(alpha) or not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
        m = as_csr(train, "train")
        counts = np.bincount(m.indices, minlength=m.shape[1]).astype(np.float64)
        weights = counts ** float(alpha)  # 0 ** 0 == 1: alpha 0 is uniform over all items
        return PopularityState(np.cumsum(weights), weights)

    def probabilities(self, train, user: int) -> np.ndarray:
        """The exact distribution this sampler draws from for ``user``."""
        m = as_csr(train, "train")
        state = self.prepare(m)
        p = state.weights.copy()
        p[m.indices[m.indptr[user]:m.indptr[user + 1]]] = 0.0
        total = p.sum()
        return p / total if total > 0 else p
