"""Popularity-biased negatives: P(j) proportional to count_j ** alpha over the
items the user has not interacted with.

alpha = 0 is uniform; alpha = 1 draws in proportion to how many training users
interacted with j (what `implicit`'s BPR does when its sampler follows item
frequency); word2vec's 0.75 sits in between (Mikolov et al., NIPS 2013).
"""
from collections import namedtuple

import numpy as np
from numba import njit

from .._rng import next_float, peek_float
from ..core.hooks import draw, implements, log_q, peek
from ..core.positives import is_positive
from ..core.validation import as_csr
from ..search_space import Uniform
from .base import Sampler

PopularityState = namedtuple("PopularityState", ["prob", "alias", "weights", "total", "free",
                                                 "log_weights", "log_free"])
PopularityState.blind = True  # draw reads only pos, u and rng: drawn one pair ahead
PopularityState.has_log_q = True  # registers its own log_q below

# After this many rejected draws the user's positives hold most of the
# popularity mass; switch to an exact scan of the user's non-positives.
_MAX_REJECTIONS = 64


@njit(cache=True)
def alias_table(weights):
    """Walker's alias table (Vose's construction) for P(j) = w_j / sum(w).

    Slot k keeps item k with probability prob[k] and gives alias[k] otherwise;
    a draw is one uniform slot and one comparison, O(1) for any catalogue.
    """
    n = weights.shape[0]
    total = weights.sum()
    prob = np.ones(n)
    alias = np.arange(n)
    if total <= 0.0:
        return prob, alias
    scaled = weights * (n / total)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    ns = 0
    nl = 0
    for k in range(n):
        if scaled[k] < 1.0:
            small[ns] = k
            ns += 1
        else:
            large[nl] = k
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        s_ = small[ns]
        g = large[nl - 1]
        prob[s_] = scaled[s_]
        alias[s_] = g
        scaled[g] = (scaled[g] + scaled[s_]) - 1.0
        if scaled[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    # leftovers are 1 up to rounding: they keep their own item
    return prob, alias


@njit(cache=True, inline="always")
def popularity_negative(prob, alias, weights, total, pos, u, rng):
    """One draw: alias-table proposals rejected while they are positives of
    ``u``, then the exact scan. Inlined into the trainer's loop: called there
    as a function, passing its arrays cost more than the draw."""
    n_items = pos.n_items
    if pos.indptr[u + 1] - pos.indptr[u] >= n_items or total <= 0.0:
        return -1
    for _ in range(_MAX_REJECTIONS):
        x = next_float(rng) * n_items
        k = np.int64(x)
        # both table entries are read before the choice, so that it compiles
        # to a select: a branch on a value still coming from memory is
        # mispredicted half the time and stops the next draws' loads
        keep = prob[k]
        other = alias[k]
        j = k if x - k < keep else other
        if not is_positive(pos, u, j):
            return j
    return _exact_negative(weights, total, pos, u, rng)


@njit(cache=True)
def _exact_negative(weights, total, pos, u, rng):
    """The fallback of ``popularity_negative`` for users whose positives hold
    most of the popularity mass: a draw over the weights of the user's
    non-positives only."""
    n_items = pos.n_items
    indices = pos.indices
    start = pos.indptr[u]
    end = pos.indptr[u + 1]
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
def _draw_popularity(state, pos, u, i, U, V, rng):
    return popularity_negative(state.prob, state.alias, state.weights, state.total, pos, u,
                               rng)


@implements(peek, PopularityState)
def _peek_popularity(state, pos, rng):
    # popularity_negative's first proposal, from the same alias slot
    x = peek_float(rng) * pos.n_items
    k = np.int64(x)
    keep = state.prob[k]      # both read before the choice: a select, not a branch
    other = state.alias[k]
    return k if x - k < keep else other


@implements(log_q, PopularityState)
def _log_q_popularity(state, pos, u, j):
    # ln w_j - ln free_u from tables: two logarithms per negative were a tenth
    # of a sampled-softmax epoch. -inf when w_j = 0 or free_u = 0 (+inf there).
    return state.log_weights[j] - state.log_free[u]


@njit(cache=True)
def _log_tables(weights, free):
    """ln w (-inf where w = 0) and ln free (+inf where free = 0), computed
    with the same logarithm the compiled code would call per draw."""
    log_w = np.empty(weights.shape[0])
    for j in range(weights.shape[0]):
        log_w[j] = np.log(weights[j]) if weights[j] > 0.0 else -np.inf
    log_f = np.empty(free.shape[0])
    for u in range(free.shape[0]):
        log_f[u] = np.log(free[u]) if free[u] > 0.0 else np.inf
    return log_w, log_f


@njit(cache=True)
def _free_mass(indptr, indices, weights, total):
    """Per user: the popularity mass of the items the user has not interacted with."""
    n_users = indptr.shape[0] - 1
    free = np.empty(n_users)
    for u in range(n_users):
        s = total
        for k in range(indptr[u], indptr[u + 1]):
            s -= weights[indices[k]]
        free[u] = max(s, 0.0)
    return free


class Popularity(Sampler):
    """P(j | u) = count_j ** alpha / sum over items k not in I_u of count_k ** alpha.

    ``count_j`` is the number of training interactions of item j. Items never
    seen in training have probability 0 when alpha > 0. Draws use an alias
    table (O(1)) with rejection of the user's positives; a user whose
    positives hold most of the mass falls back to an exact scan.

    Parameters
    ----------
    alpha : float, default 0.75
        The exponent of the counts (0: uniform over the items; 1:
        proportional to the counts).
    """

    own_log_q = True

    name = "popularity"
    search_space = {"alpha": Uniform(0.0, 1.0)}
    # benchmarks/studies/tune_per_sampler.py (README, "Defaults per sampler"): the grid
    # point whose worst validation NDCG@10 over movielens-small, the synthetic
    # set and nbpo-amazon, relative to uniform at BPR's defaults, is highest
    # (at lr 0.05, reg 0.01 popularity fell 20-60% below uniform)
    # ("bpo": the same search and rule with rs.BPO and its defaults, `--trainer bpo`)
    recommended = {"bpr": {"learning_rate": 0.01, "regularization": 0.03, "epochs": 55},
                   "bpo": {"learning_rate": 0.03, "regularization": 0.1, "epochs": 50}}

    def __init__(self, alpha: float = 0.75):
        self.alpha = alpha

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        m = as_csr(train, "train")
        return self._state(np.bincount(m.indices, minlength=m.shape[1]), m)

    def fold_in_state(self, state, rows, item_counts, n_factors=None, seed=0):
        """The training data's popularity (``item_counts``), with the
        per-user tables of the new ``rows``."""
        if item_counts is None:
            raise ValueError("folding users in with the popularity sampler needs the training "
                             "data's item counts, which this model does not keep (a model "
                             "saved by an older recsample): refit it")
        return self._state(np.asarray(item_counts), rows)

    def _state(self, counts, m):
        alpha = self.alpha
        if not np.isscalar(alpha) or not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
        counts = counts.astype(np.float64)
        weights = counts ** float(alpha)  # 0 ** 0 == 1: alpha 0 is uniform over all items
        prob, alias = alias_table(weights)
        total = float(weights.sum())
        free = _free_mass(m.indptr, m.indices, weights, total)
        return PopularityState(prob, alias, weights, total, free, *_log_tables(weights, free))

    def probabilities(self, train, user: int) -> np.ndarray:
        """The exact distribution this sampler draws from for ``user``."""
        m = as_csr(train, "train")
        state = self.prepare(m)
        p = state.weights.copy()
        p[m.indices[m.indptr[user]:m.indptr[user + 1]]] = 0.0
        total = p.sum()
        return p / total if total > 0 else p
