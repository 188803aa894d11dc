"""WARP sampling (Weston, Bengio & Usunier, IJCAI 2011, "WSABIE: scaling up to
large vocabulary image annotation"), as LightFM uses it for recommendation.

For a positive i of user u, draw uniform non-positives j_1, j_2, ... until one
violates the margin, x_uj > x_ui - margin, or ``max_draws`` have been drawn.
A violator found at draw d gives the pair (i, j) the weight

    L(r) = sum_{k=1..r} 1/k,    r = max(1, floor(n_neg / d)),

where n_neg = |I| - |I_u| is the number of items the draws are taken from:
the violators are a fraction rank/n_neg of them, so d is geometric with mean
n_neg / rank and n_neg / d estimates the positive's rank among them (the
paper's (Y - 1)/N with its Y - 1 labels other than the one true label). LightFM
used all items minus one as the numerator, which over-counts for users with
many positives (the point of its pull request #265). L(r) with alpha_k = 1/k
weights the top of the ranking most (the paper's choice).

When no violator turns up within ``max_draws`` draws the last draw is returned
with weight 0: the pair moves nothing but the trainer's weight decay, as
LightFM skips such a positive. The weight multiplies the trainer's own pair
objective (BPR's ln sigma(x_ui - x_uj), BPO's point-wise terms), not the
paper's hinge.

x is the score of the model being trained: the dot product of the rows, or
for a cosine model (``similarity="cosine"``, the group losses' default) the
cosine plus the item bias, so that ``margin`` is then in cosine units. The
group losses draw with WARP but do not use its weight (a weight belongs to a
pair; see :mod:`recsample.losses.base`).
"""
from collections import namedtuple

import numba
import numpy as np
from numba import njit

from .._intrinsics import borrow
from .._rng import stream
from ..core.hooks import draw, implements, pair_weight, state_kernel
from ..core.linalg import inv_row_norm, model_score
from ..core.positives import draw_non_positive, positives_arrays, positives_of
from ..core.validation import as_csr, check_users
from .base import Sampler, _factors_for

#: ``harmonic[r]`` = L(r); ``weights`` holds the weight of the last draw of
#: each training thread, every STRIDE-th entry (one cache line per thread);
#: a thread's state (``WARP.worker_state``) sees its own line as ``weights[0:STRIDE]``
WARPState = namedtuple("WARPState", ["margin", "max_draws", "harmonic", "weights"])
WARPState.weighs = True  # read by the generic pair_weight: this state brings its own
#: WARPState for a model with similarity="cosine" (:meth:`WARP.scoring_state`):
#: scores are the cosine of the first ``cosine`` = k columns plus the item
#: bias. A type of its own, so that the dot product's draws compile as they
#: did: a ``cosine`` field in WARPState itself, read in the draw, made BPR +
#: WARP train 1.1-1.5x slower (movielens-small, one thread)
WARPCosineState = namedtuple("WARPCosineState", WARPState._fields + ("cosine",))
WARPCosineState.weighs = True

STRIDE = 8


@njit(cache=True)
def warp_negative(state, slot, pos, u, i, U, V, rng, cosine=0):
    """The first margin violator among up to ``max_draws`` uniform
    non-positives, its weight L(max(1, n_neg // draws)) stored in
    state.weights[slot]; or the last draw, with weight 0. Scores are dot
    products, or with ``cosine`` = k > 0 the cosine of the first k columns
    plus the item bias (:func:`recsample.core.linalg.model_score`).

    The draws are uniform_negative's, made by draw_non_positive on arrays
    taken out of ``pos`` once: uniform_negative(pos, ...) in the loop took
    and released references on the positives' arrays at every draw (atomic
    updates of counters all threads share), a sixth of WARP's time on one
    thread. The draws do not change. (Requesting the memory of the next draws early, read off the
    stream by peeking, measured no faster and was left out.)

    The weight is stored here, in a function of its own: a store written
    directly in the hook (inlined into the trainer's prange loop) into an
    array held by the state was dropped (numba 0.68), a store in a called
    function is kept."""
    weights = borrow(state.weights)
    harmonic = borrow(state.harmonic)
    max_draws = state.max_draws
    indptr, indices, bits = positives_arrays(pos)
    words = pos.words
    n_items = pos.n_items
    start = indptr[u]
    deg = indptr[u + 1] - start
    n_neg = n_items - deg
    weights[slot] = 0.0
    if n_neg <= 0:
        return -1
    # cosine = 0 (omitted: the dot product's draws) is a constant of the
    # compiled function, and the scores below are the dot products
    inv_nu = inv_row_norm(U, u, cosine)
    threshold = model_score(U, u, V, i, cosine, inv_nu) - state.margin
    j = -1
    found = 0
    for d in range(1, max_draws + 1):
        j = draw_non_positive(indices, bits, words, n_items, u, start, deg, rng)
        if model_score(U, u, V, j, cosine, inv_nu) > threshold:
            found = d
            break
    if found:
        weights[slot] = harmonic[max(1, n_neg // found)]
    return j


@implements(draw, WARPState)
def _draw_warp(state, pos, u, i, U, V, rng):
    return warp_negative(state, 0, pos, u, i, U, V, rng)


@implements(pair_weight, WARPState)
def _pair_weight_warp(state, u, i, j):
    return state.weights[0]


@implements(draw, WARPCosineState)
def _draw_warp_cosine(state, pos, u, i, U, V, rng):
    return warp_negative(state, 0, pos, u, i, U, V, rng, state.cosine)


implements(pair_weight, WARPCosineState)(_pair_weight_warp)


@state_kernel()
def _sample_weighted(state, pos, users, items, U, V, seed):
    out = np.empty(users.shape[0], dtype=np.int64)
    w = np.empty(users.shape[0])
    rng = stream(seed, 0, 0)
    for t in range(users.shape[0]):
        out[t] = draw(state, pos, users[t], items[t], U, V, rng)
        w[t] = pair_weight(state, users[t], items[t], out[t])
    return out, w


class WARP(Sampler):
    """Draw until a negative violates the margin; weight the pair by L(rank
    estimate) (see the module docstring).

    Parameters
    ----------
    max_draws : int
        Cap on the draws per positive (LightFM's ``max_sampled``, default 10).
    margin : float
        A negative violates when x_uj > x_ui - margin (the paper's 1).
    """

    name = "warp"
    # The rank weights reach L(n_neg) ~ 10, and at BPR's learning rate 0.05
    # training diverged on movielens-small. Chosen on 2026-12-05 by the best
    # worst share of validation NDCG@10 over movielens-small and nbpo-amazon
    # (benchmarks/studies/group_defaults.py grid; lr 0.003 / 0.01 x reg
    # 0.01-1.0, benchmarks/results/warp_grid_2026-12-05.csv; docs/defaults.md,
    # "WARP"). The earlier entry (reg 0.01, 30 / 20 epochs) came from
    # tune_per_sampler.py's grid of reg 0.01 and 0.03, too weak a decay for
    # WARP's large rank-weighted steps.
    recommended = {"bpr": {"learning_rate": 0.003, "regularization": 0.5, "epochs": 80},
                   "bpo": {"learning_rate": 0.003, "regularization": 0.5, "epochs": 120}}
    # with a cosine model the margin is in cosine units: for CCL (whose own
    # margin is 0.9) 0.1 had the best worst share over movielens-small and
    # nbpo-amazon's validation parts of 1.0, 0.3 and 0.1; the softmax keeps 1.0
    # (benchmarks/results/group_samplers_cosine_grid_2026-12-04.csv, docs/defaults.md)
    loss_arguments = {"ccl": {"margin": 0.1}}
    needs_model = True
    needs_positive = True

    def __init__(self, max_draws: int = 10, margin: float = 1.0):
        self.max_draws = max_draws
        self.margin = margin

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        return WARPState(*self._warp_fields(train))

    def scoring_state(self, state, cosine, n_factors):
        """Scores compared as the trainer scores: with a cosine model the
        margin is in cosine units (plus the item bias), and the dot product of
        the rows, which the cosine ignores the length of, would find violators
        among long rows rather than among items ranked high."""
        return WARPCosineState(*state, np.int64(n_factors)) if cosine else state

    def worker_state(self, state, worker):
        """``state`` with thread ``worker``'s own line of ``weights``."""
        return state._replace(weights=state.weights[worker * STRIDE:(worker + 1) * STRIDE])

    def _warp_fields(self, train):
        """(margin, max_draws, harmonic numbers, per-thread weights), checked."""
        m = self.max_draws
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"max_draws must be an integer >= 1, got {m!r}")
        g = self.margin
        if isinstance(g, bool) or not np.isscalar(g) or not np.isfinite(g) or g < 0:
            raise ValueError(f"margin must be a finite number >= 0, got {g!r}")
        n_items = as_csr(train, "train").shape[1]
        harmonic = np.zeros(n_items + 1)
        harmonic[1:] = np.cumsum(1.0 / np.arange(1, n_items + 1))
        weights = np.zeros(numba.config.NUMBA_NUM_THREADS * STRIDE)
        return np.float64(g), np.int64(m), harmonic, weights

    def sample_weighted(self, train, users, positives, seed=0, model=None):
        """(items, weights): the draws of :meth:`sample` with the weight the
        trainer gives each pair (L(rank estimate), or 0 without a violator)."""
        matrix = as_csr(train, "train")
        users = check_users(users, matrix.shape[0])
        items = np.asarray(positives).reshape(-1).astype(np.int64)
        if items.shape != users.shape or (items.size and (items.min() < 0 or
                                                          items.max() >= matrix.shape[1])):
            raise ValueError(f"positives must hold one item id in [0, {matrix.shape[1]}) per "
                             "entry of users")
        U, V = _factors_for(self, model, matrix)
        state = self.prepare(matrix, n_factors=U.shape[1], seed=int(seed))
        return _sample_weighted(state, positives_of(matrix), users, items, U, V,
                                np.uint64(seed))
