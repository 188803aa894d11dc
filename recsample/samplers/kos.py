"""k-OS: the k-order statistic loss (Weston, Yee & Weiss, RecSys 2013,
"Learning to rank recommendations with the k-order statistic loss").

WARP (:mod:`.warp`) trains every positive of a user alike. k-OS chooses which
positive a pair is trained on: for a visit of user u,

1. take K of u's training positives uniformly at random, without replacement
   (all of them when u has at most K);
2. order them by the current score x_ui, highest first, and keep the k-th
   (the last one when fewer than k were taken);
3. draw its negative and weight the pair exactly as WARP does: uniform
   non-positives until one scores above x_ui - margin or ``max_draws`` were
   drawn, the pair weighted by L(floor(n_neg / draws)), 0 without a violator.

k = 1 pushes up the positives the model already ranks best; a larger k
concentrates on the ones it ranks worse among a user's positives; K = k = 1
is WARP with a random positive of the user. The paper draws k from a
distribution P(k) in general; this sampler takes one fixed k, the case its
experiments report.

Two differences from the paper's algorithm, both from the training loop:
the loop visits every training positive once per epoch, so user u is picked
in proportion to |I_u| rather than uniformly, and the visited positive
itself only names the user (it is one of the K candidates only by chance).
The default K = 10, k = 5 are LightFM's (``n`` and ``k`` of its
``warp-kos`` loss, per its documentation).

The choice of the positive is the sampler contract's ``choose_positive``
hook; only the pair losses (BPR, BPO) call it. The group losses train a
unit's positives as given and refuse this sampler.
"""
from collections import namedtuple

import numpy as np
from numba import njit, types

from .._intrinsics import frame_array
from .._rng import next_int
from ..core.hooks import choose_positive, draw, implements, pair_weight
from ..core.linalg import dot
from ..core.positives import positives_of
from ..core.validation import as_csr, check_users
from ..search_space import IntRange
from .base import _factors_for, choose_users
from .warp import WARP, _draw_warp, _pair_weight_warp

KOSState = namedtuple("KOSState", ["K", "k", "margin", "max_draws", "harmonic", "weights"])
KOSState.chooses = True  # read by the generic choose_positive: this state brings its own
KOSState.weighs = True   # and the generic pair_weight

#: most positives one choice compares (they live in the choice's stack frame)
MAX_K = 128
_picked = frame_array(types.int64, MAX_K)
_scores = frame_array(types.float64, MAX_K)


@njit(cache=True)
def kth_of_sampled(K, k, pos, u, U, V, rng):
    """The k-th highest-scored of K positives of u drawn without replacement
    (Floyd's algorithm over the CSR row's positions); ties go to the lower
    item id."""
    start = pos.indptr[u]
    deg = pos.indptr[u + 1] - start
    m = min(K, deg)
    picked = _picked()
    if m == deg:
        for c in range(m):
            picked[c] = c
    else:
        # Floyd: for t = deg - m .. deg - 1 take a uniform s <= t, or t itself
        # when s is taken already; every m-subset is equally likely
        for c in range(m):
            t = deg - m + c
            s = next_int(rng, t + 1)
            for d in range(c):
                if picked[d] == s:
                    s = t
                    break
            picked[c] = s
    scores = _scores()
    for c in range(m):
        picked[c] = pos.indices[start + picked[c]]
        scores[c] = np.float64(dot(U, u, V, picked[c]))
    want = min(k, m) - 1          # 0-based rank wanted, highest score first
    for c in range(m):
        above = 0
        for d in range(m):
            if scores[d] > scores[c] or (scores[d] == scores[c] and picked[d] < picked[c]):
                above += 1
        if above == want:
            return picked[c]
    return picked[0]   # not reached: the ranks are a permutation of 0..m-1


@implements(choose_positive, KOSState)
def _choose_kos(state, pos, u, i, U, V, rng):
    return kth_of_sampled(state.K, state.k, pos, u, U, V, rng)


# the negative and the pair's rank weight are WARP's, read from the same fields
implements(draw, KOSState)(_draw_warp)
implements(pair_weight, KOSState)(_pair_weight_warp)


class KOS(WARP):
    """WARP on the k-th highest-scored of K sampled positives of the user
    (see the module docstring). Pair losses only (BPR, BPO).

    Parameters
    ----------
    n_positives : int, default 10
        K, the positives of the user sampled per visit (without
        replacement), at most 128. Formerly ``K``, still accepted with a
        FutureWarning.
    k : int, default 5
        Which of them, by score, highest first, is trained:
        1 <= k <= n_positives.
    max_draws, margin
        As for :class:`WARP`.

    Notes
    -----
    The rank weights reach L(n_neg) (about 9.7 on movielens-small), so, as
    with WARP, BPR wants a smaller learning rate than with uniform sampling.

    Named by a pair trainer (``rs.BPR(sampler="kos")``), k-OS is built with
    its arguments for that loss (``KOS.loss_arguments``): the best of 2
    positives with BPR, of 3 with BPO, and the trainer takes learning rate
    0.003, regularization 0.3 and 80 (BPR) or 120 (BPO) epochs from
    ``KOS.recommended``. ``KOS()`` itself keeps LightFM's K = 10, k = 5.
    """

    name = "kos"
    # Both chosen on 2026-12-04 by the best worst share of validation NDCG@10
    # over movielens-small and nbpo-amazon (10% of each user's training
    # positives, seed 0; benchmarks/studies/group_defaults.py grid, the grid
    # in benchmarks/results/kos_grid_2026-12-04.csv; docs/defaults.md, "k-OS").
    # The earlier entry (lr 0.003, reg 0.03 / 0.01, 25 / 20 epochs, from
    # tune_per_sampler.py's grid of reg 0.01 and 0.03) left k-OS below the
    # popularity ranking on nbpo-amazon; reg 0.3 lifted every k-OS setting
    # there. k = 1 of 2 (BPR) or 3 (BPO) positives: K = 1 scored as well on
    # validation but is WARP with a random positive, not an order statistic.
    recommended = {"bpr": {"learning_rate": 0.003, "regularization": 0.3, "epochs": 80},
                   "bpo": {"learning_rate": 0.003, "regularization": 0.3, "epochs": 120}}
    chooses_positive = True
    search_space = {"k": IntRange(1, 10)}   # over the default K = 10; see space()
    _renamed = {"K": "n_positives"}
    # the pair losses' own (above); the group losses refuse a sampler that
    # chooses the positive
    loss_arguments = {"bpr": {"n_positives": 2, "k": 1},
                      "bpo": {"n_positives": 3, "k": 1}}

    def scoring_state(self, state, cosine, n_factors):
        """``state`` itself: k-OS trains only dot-product models (its choice
        of positive scores by the dot product), so WARP's cosine scores do not
        apply."""
        return state

    def __init__(self, n_positives: int = 10, k: int = 5, max_draws: int = 10,
                 margin: float = 1.0):
        self.n_positives = n_positives
        self.k = k
        self.max_draws = max_draws
        self.margin = margin

    def space(self) -> dict:
        # k is searched over 1..K of this instance (nothing to search when K = 1)
        K = self.n_positives
        if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
            return super().space()
        return {"k": IntRange(1, int(K))} if K > 1 else {}

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        K = self.n_positives
        if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= MAX_K:
            raise ValueError(f"n_positives must be an integer in [1, {MAX_K}], got {K!r}")
        k = self.k
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= K:
            raise ValueError(f"k must be an integer in [1, n_positives] = [1, {K}], got {k!r}")
        return KOSState(np.int64(K), np.int64(k), *self._warp_fields(train))

    def sample_positives(self, train, users, seed=0, model=None) -> np.ndarray:
        """The positive chosen for one visit of each entry of ``users``, by the
        same compiled hook the trainers call (int64 item ids)."""
        matrix = as_csr(train, "train")
        users = check_users(users, matrix.shape[0])
        if seed is None or int(seed) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        empty = np.diff(matrix.indptr)[users] == 0
        if empty.any():
            raise ValueError(f"users must have training positives; user {users[empty][0]} "
                             "has none")
        U, V = _factors_for(self, model, matrix)
        state = self.prepare(matrix, n_factors=U.shape[1], seed=int(seed))
        return choose_users(state, positives_of(matrix), users,
                            np.full(users.shape[0], -1, dtype=np.int64), U, V, np.uint64(seed))
