"""Importance resampling of negatives (PRIS: Lian, Liu & Chen, WWW 2020,
"Personalized ranking with importance sampling"; AdaSIR: Chen, Lian, Lin,
Gao, Wang & Chen, WWW 2022, "Learning recommenders for implicit feedback with
importance resampling").

The negative PRIS and AdaSIR want is j ~ p(j | u) proportional to
exp(x_uj / t) over the user's non-positives: the harder an item, the likelier.
Drawing from p exactly would score the whole catalogue, so draw ``candidates``
items c_1..c_C from a cheap proposal q (uniform over the non-positives, or
popularity count_j^alpha as :class:`Popularity` draws it) and return one of
them with probability

    softmax_c(x_uc / t - ln q(c)),

sampling-importance-resampling with self-normalised weights p/q: as C grows
the returned item's distribution tends to p. Uniform q makes the correction a
constant (the draw is then DNS's softmax of candidates); popularity q takes
back the popularity the proposal adds, so popular items are not over-drawn
as negatives twice.

``log_q``: the probability that one draw returns j depends on the other
candidates and has no closed form; the sampler registers the proposal's
ln q(j | u) (exact for the proposal, as :class:`Popularity` gives it), the
best value available without scoring: the logQ correction of a sampled
softmax then removes the proposal's bias, and the resampling's own tilt
towards exp(x / t) is left in, as PRIS and AdaSIR intend.

x is the score of the model being trained: the dot product of the rows, or
for a cosine model the cosine plus the item bias (so t is then in cosine
units).
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit

from .._rng import next_float
from ..core.hooks import draw, implements, log_q
from ..core.linalg import inv_row_norm, model_score
from ..core.validation import as_csr
from .base import Sampler
from .dns import dns_cosine_negative, dns_negative
from .popularity import Popularity, popularity_negative

#: the popularity arrays are those of PopularityState (empty for uniform q)
ImportanceState = namedtuple("ImportanceState", [
    "candidates", "inv_temperature", "popular", "prob", "alias", "weights", "total", "free",
    "log_weights", "log_free"])
ImportanceState.has_log_q = True  # registers its own log_q below
#: ImportanceState for a model with similarity="cosine"
#: (:meth:`Importance.scoring_state`): candidates scored by the cosine of the
#: first ``cosine`` = k columns plus the item bias; a type of its own, so
#: that the dot product's draws compile as they did
ImportanceCosineState = namedtuple("ImportanceCosineState",
                                   ImportanceState._fields + ("cosine",))
ImportanceCosineState.has_log_q = True


@njit(cache=True)
def importance_negative(state, pos, u, U, V, rng, cosine=0):
    """The popularity-proposal draw: C alias-table draws, Gumbel-max over
    x_uc / t - ln w_c."""
    if pos.indptr[u + 1] - pos.indptr[u] >= pos.n_items:
        return -1
    inv_nu = inv_row_norm(U, u, cosine)   # cosine = 0 (omitted): dot products
    best = -1
    best_key = -np.inf
    for _ in range(state.candidates):
        j = popularity_negative(state.prob, state.alias, state.weights, state.total,
                                pos, u, rng)
        if j < 0:
            return -1
        # ln q(j) = ln w_j - ln(free mass of u); the second term is the same
        # for every candidate and drops out of the softmax
        correction = state.log_weights[j]
        g = next_float(rng)
        # Gumbel-max: argmax of logit + Gumbel noise is a softmax draw
        key = (model_score(U, u, V, j, cosine, inv_nu) * state.inv_temperature - correction
               - math.log(-math.log(g + 1e-300) + 1e-300))
        if key > best_key:
            best_key = key
            best = j
    return best


@implements(draw, ImportanceState)
def _draw_importance(state, pos, u, i, U, V, rng):
    if state.popular:
        return importance_negative(state, pos, u, U, V, rng)
    # uniform q: -ln q is the same for every candidate, and the draw is DNS's
    # softmax over uniform candidates, whose chunked scoring is faster
    return dns_negative(state.candidates, state.inv_temperature, pos, u, U, V, rng)


@implements(log_q, ImportanceState)
def _log_q_importance(state, pos, u, j):
    if state.popular:
        return state.log_weights[j] - state.log_free[u]   # as Popularity's log_q
    free = pos.n_items - (pos.indptr[u + 1] - pos.indptr[u])
    return -math.log(max(free, 1))


@implements(draw, ImportanceCosineState)
def _draw_importance_cosine(state, pos, u, i, U, V, rng):
    if state.popular:
        return importance_negative(state, pos, u, U, V, rng, state.cosine)
    return dns_cosine_negative(state.candidates, state.inv_temperature, pos, u, U, V, rng,
                               state.cosine)


implements(log_q, ImportanceCosineState)(_log_q_importance)


class Importance(Sampler):
    """One of ``candidates`` proposal draws, resampled with probability
    softmax(x_uc / temperature - ln q(c)) (see the module docstring).

    Parameters
    ----------
    candidates : int
        C, proposal draws per negative.
    proposal : {"uniform", "popularity"}
        q: uniform over the user's non-positives, or count_j^alpha.
    alpha : float
        Exponent of the popularity proposal.
    temperature : float
        t of the target exp(x_uj / t).
    """

    own_log_q = True   # with proposal="popularity"; uniform otherwise

    name = "importance"
    # benchmarks/studies/tune_per_sampler.py (README, "Defaults per sampler"), as for
    # AOBPR (at lr 0.05, reg 0.01 it fell 14-33% below uniform on two sets)
    recommended = {"bpr": {"learning_rate": 0.03, "regularization": 0.03, "epochs": 35},
                   "bpo": {"learning_rate": 0.03, "regularization": 0.1, "epochs": 60}}
    # a group loss draws its N negatives through this: for CCL, 4 candidates
    # at temperature 0.1 (cosine units) had the best worst share over
    # movielens-small and nbpo-amazon's validation parts of (16, 1.0),
    # (4, 1.0) and (4, 0.1); the softmax keeps (16, 1.0)
    # (benchmarks/results/group_samplers_cosine_grid_2026-12-04.csv, docs/defaults.md)
    loss_arguments = {"ccl": {"candidates": 4, "temperature": 0.1}}
    needs_model = True

    def __init__(self, candidates: int = 16, proposal: str = "uniform", alpha: float = 0.75,
                 temperature: float = 1.0):
        self.candidates = candidates
        self.proposal = proposal
        self.alpha = alpha
        self.temperature = temperature

    def scoring_state(self, state, cosine, n_factors):
        """Candidates weighed by the trainer's own score: exp(x / t) of a
        cosine model's cosine plus bias, not of the rows' dot product, whose
        lengths the cosine ignores."""
        return ImportanceCosineState(*state, np.int64(n_factors)) if cosine else state

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        c = self.candidates
        if isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 1:
            raise ValueError(f"candidates must be an integer >= 1, got {c!r}")
        if self.proposal not in ("uniform", "popularity"):
            raise ValueError(f"proposal must be 'uniform' or 'popularity', got "
                             f"{self.proposal!r}")
        t = self.temperature
        if isinstance(t, bool) or not np.isscalar(t) or not np.isfinite(t) or t <= 0:
            raise ValueError(f"temperature must be a finite number > 0, got {t!r}")
        return self._state(as_csr(train, "train"), None)

    def fold_in_state(self, state, rows, item_counts, n_factors=None, seed=0):
        """With the popularity proposal, the training data's popularity
        (``item_counts``) and the new ``rows``' per-user tables."""
        return self._state(rows, item_counts)

    def _state(self, m, item_counts):
        c = self.candidates
        t = self.temperature
        if self.proposal == "popularity":
            pop = Popularity(alpha=self.alpha)     # validates alpha
            pop = pop.prepare(m) if item_counts is None else \
                pop.fold_in_state(None, m, item_counts)
            return ImportanceState(np.int64(c), np.float64(1.0 / t), True, pop.prob, pop.alias,
                                   pop.weights, np.float64(pop.total), pop.free,
                                   pop.log_weights, pop.log_free)
        empty = np.zeros(0)
        return ImportanceState(np.int64(c), np.float64(1.0 / t), False, empty,
                               np.zeros(0, dtype=np.int64), empty, np.float64(0.0), empty, empty,
                               empty)
