"""The :class:`Sampler` base class and the kernels that run a sampler's hooks
from Python (for ``Sampler.sample``, inspection and tests).

The sampler contract itself (the compiled hooks, their defaults and
:func:`implements`) is in :mod:`recsample.core.hooks`; the training positives
and the uniform draws over them in :mod:`recsample.core.positives`; dot
products and the model's score in :mod:`recsample.core.linalg`; input checks in
:mod:`recsample.core.validation`; the pair losses' maths (``sigmoid``,
``BPR_LOSS``, ...) in :mod:`recsample.losses.pair`. Every name a sampler
file needs is importable from here as well, as it always was::

    from recsample.samplers.base import Sampler, draw, implements, is_positive
"""
from __future__ import annotations

import numpy as np

from .._params import Params
from .._rng import stream
from ..core.hooks import (choose_positive, draw, draw_each, draw_group, draw_group_scored,
                          end_batch, implements, is_blind, log_q, pair_loss, pair_step,
                          pair_weight, peek, prefetch, refresh, state_dispatch, state_kernel)
from ..core.linalg import _FAST  # noqa: F401 (re-exported for older sampler files)
from ..core.linalg import cosine_score, dot, dot2, inv_row_norm, model_score
from ..core.positives import (BITMAP_MIN_BUDGET, Positives, bit_is_set, draw_non_positive,
                              in_sorted_row, is_positive, nth_negative, position_in_row,
                              positives_arrays, positives_of, uniform_negative)
from ..core.validation import as_csr, check_users
from ..losses.pair import (BPO_LOSS, BPR_LOSS, LOSSES, log_sigmoid, loss_gradients, loss_value,
                           sigmoid)

__all__ = [
    # the Python side, defined here
    "Sampler", "sample_users", "choose_users", "group_users", "log_q_users", "run_refresh",
    # the contract (recsample.core.hooks)
    "draw", "draw_group", "draw_group_scored", "draw_each", "choose_positive", "pair_weight",
    "refresh", "pair_step",
    "end_batch", "pair_loss",
    "peek", "prefetch", "log_q", "implements", "state_kernel", "state_dispatch", "is_blind",
    # positives and draws over them (recsample.core.positives)
    "Positives", "BITMAP_MIN_BUDGET", "positives_of", "in_sorted_row", "position_in_row",
    "positives_arrays", "bit_is_set", "is_positive", "nth_negative", "draw_non_positive",
    "uniform_negative",
    # scores of factor rows (recsample.core.linalg), input checks (recsample.core.validation)
    "dot", "dot2", "model_score", "cosine_score", "inv_row_norm", "as_csr", "check_users",
    # the pair losses' maths (recsample.losses.pair)
    "BPR_LOSS", "BPO_LOSS", "LOSSES", "sigmoid", "log_sigmoid", "loss_gradients", "loss_value",
]


# ------------------------------------------------------------ harness kernels
@state_kernel()
def _visit_users(state, pos, users, items, U, V, seed, choose):
    """For each (users[t], items[t]) on a single stream (seed, 0, 0), after
    one refresh of the state: the ``choose_positive`` hook when ``choose``,
    else one ``draw``."""
    refresh(state, pos, U, V, seed, 0, False)
    out = np.empty(users.shape[0], dtype=np.int64)
    rng = stream(seed, 0, 0)
    for t in range(users.shape[0]):
        if choose:
            out[t] = choose_positive(state, pos, users[t], items[t], U, V, rng)
        else:
            out[t] = draw(state, pos, users[t], items[t], U, V, rng)
    return out


def sample_users(state, pos, users, items, U, V, seed):
    """One draw per entry of ``users`` (for the positive in ``items``, or -1)
    on a single stream (seed, 0, 0), after one refresh of the state."""
    return _visit_users(state, pos, users, items, U, V, seed, False)


@state_kernel()
def group_users(state, pos, users, items, n, U, V, seed):
    """``draw_group`` of ``n`` negatives for each (users[t], items[t]) on a
    single stream (seed, 0, 0), after one refresh of the state: row t of the
    result, or -1s when the user had none (for inspection and tests)."""
    refresh(state, pos, U, V, seed, 0, False)
    out = np.full((users.shape[0], n), -1, dtype=np.int64)
    rng = stream(seed, 0, 0)
    row = np.empty(n, dtype=np.int64)
    for t in range(users.shape[0]):
        if draw_group(state, pos, users[t], items[t], U, V, rng, row, 0, n):
            out[t] = row
    return out


def choose_users(state, pos, users, items, U, V, seed):
    """``choose_positive`` for each (users[t], items[t]) on a single stream
    (seed, 0, 0), after one refresh of the state (for inspection and tests)."""
    return _visit_users(state, pos, users, items, U, V, seed, True)


@state_kernel()
def log_q_users(state, pos, users, items):
    """``log_q`` for aligned arrays of users and items (for inspection and tests)."""
    out = np.empty(users.shape[0])
    for t in range(users.shape[0]):
        out[t] = log_q(state, pos, users[t], items[t])
    return out


@state_kernel()
def run_refresh(state, pos, U, V, seed, epoch, end_of_epoch):
    """The trainers' entry point to the ``refresh`` hook."""
    refresh(state, pos, U, V, seed, epoch, end_of_epoch)


# ------------------------------------------------------------ Python side
class Sampler(Params):
    """Base class of the negative samplers.

    Subclasses set ``name``, declare their hyper-parameters as keyword
    arguments of ``__init__`` with their defaults (and only store them there,
    each under its own name: ``get_params``, ``set_params``, ``repr`` and
    equality read that signature) and implement :meth:`prepare`, which returns the
    state the compiled hooks read. ``needs_model`` marks samplers whose draw
    reads the current factors.
    """

    name = "base"
    needs_model = False
    needs_positive = False
    learns = False
    #: replaces the positive of each pair (the ``choose_positive`` hook); the
    #: group losses refuse such a sampler
    chooses_positive = False
    #: its ``log_q`` hook is its own: it draws some non-positives more often
    #: than others. False: ln q is the uniform proposal's, the same for every
    #: negative of a user, which CCL's weights need not read
    own_log_q = False
    #: Ranges ``rs.tune`` searches for this sampler's parameters (see
    #: recsample.search_space); empty for a sampler without any.
    search_space = {}
    #: Trainer settings this sampler recommends, per pair loss:
    #: ``{"bpr": {"learning_rate": ..., "regularization": ..., "epochs": ...}}``
    #: (any subset of the three). A pair trainer (``rs.BPR``, ``rs.BPO``)
    #: trained with ``optimizer="sgd"`` and dot-product scores takes them for
    #: the parameters its user left at None (their default); a value the user
    #: passes always wins, and a loss or optimizer without an entry keeps the
    #: trainer's own default. Each entry states where it was measured
    #: (``benchmarks/studies/tune_per_sampler.py``); it was measured at the sampler's
    #: own default parameters. Empty: the trainer's defaults.
    recommended = {}
    #: The sampler's own arguments per loss, for a trainer given its name
    #: (``rs.CCL(sampler="dns")``): ``{"ccl": {"candidates": 2}}``. A loss
    #: that already weighs its negatives by how hard they are (the group
    #: losses) can want a milder sampler than a pair loss does. An instance
    #: passed as ``sampler=`` is used as it is; ``model.sampler_`` is the one
    #: a fit used. Each entry states where it was chosen. Empty: the
    #: constructor's defaults for every loss.
    loss_arguments = {}

    def space(self) -> dict:
        """The ranges ``rs.tune`` searches for this instance: the class's
        ``search_space``, narrowed by a sampler whose other parameters bound
        them (DNS(M, N) needs N >= M; k-OS needs k <= K)."""
        return dict(type(self).search_space)

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        """Build the compiled state for ``train`` (Interactions or CSR).

        ``n_factors`` is the width of the model's factor rows, ``seed`` seeds
        any parameters the sampler learns, and ``batch`` says the trainer runs
        the batch optimizer (a learning sampler then keeps gradient buffers).
        """
        raise NotImplementedError

    def fold_in_state(self, state, rows, item_counts, n_factors=None, seed=0):
        """The state that folds new users in (``FactorModel.fold_in``): the
        item side as the model was trained, the user side for ``rows`` (a
        canonical CSR of the new users over the model's items). ``state`` is
        the state the model was trained with (None for a loaded model whose
        sampler keeps none), ``item_counts`` the training positives per item
        (None for a model saved by an older recsample). The folding runs the
        batch optimizer, so a learning sampler keeps gradient buffers.
        Default: ``prepare(rows)``, right for a sampler whose state depends
        on nothing but each user's own row and the factors."""
        return self.prepare(rows, n_factors=n_factors, seed=seed, batch=True)

    def scoring_state(self, state, cosine: bool, n_factors: int):
        """``state`` for a trainer whose score is ``cosine`` (the cosine of
        the rows' first ``n_factors`` columns, plus the item bias after them)
        or the dot product of the whole rows. A sampler that ranks candidates
        by the model's score returns a state that scores them the same way
        (DNS, WARP, SRNS and Importance record ``n_factors`` in it when
        ``cosine`` is true and score with
        :func:`recsample.core.linalg.model_score`); the default returns
        ``state``: the draws ignore the score or rank by the dot product."""
        return state

    def refresh_interval(self, state) -> int:
        """Draws between two calls of the ``refresh`` hook within an epoch;
        0 (the default) refreshes only at the epoch's start and end."""
        return 0

    def worker_state(self, state, worker):
        """The state training thread ``worker`` (0, 1, ... below
        ``numba.config.NUMBA_NUM_THREADS``) draws with. The trainer runs its
        blocks on a pool of threads; a sampler that keeps scratch per thread
        (WARP's last weight, DNS's Softmax-v keys) returns ``state`` with
        that thread's own rows, each of the same type as the whole. Default:
        ``state`` itself, shared."""
        return state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_params().items()))))

    def sample(self, train, users, seed=0, model=None, positives=None) -> np.ndarray:
        """Draw one negative per entry of ``users`` with the same compiled draw
        the trainers use. Returns int64 item ids (-1 for a user with every item
        positive). ``model`` (a fitted recsample model, or any object with
        ``user_factors``/``item_factors``) is needed by samplers that score
        candidates; ``positives`` (one item per entry of ``users``) is the
        positive each negative is drawn against, needed by samplers that
        compare with its score (``needs_positive``)."""
        matrix = as_csr(train, "train")
        users = check_users(users, matrix.shape[0])
        if seed is None or int(seed) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if positives is None:
            if self.needs_positive:
                raise ValueError(f"{type(self).__name__} compares each negative with the score "
                                 "of a positive: pass positives= (one item per user entry)")
            items = np.full(users.shape[0], -1, dtype=np.int64)
        else:
            items = np.asarray(positives).reshape(-1)
            if items.size and (not np.issubdtype(items.dtype, np.integer) or items.min() < 0
                               or items.max() >= matrix.shape[1]):
                raise ValueError(f"positives must be integer item ids in [0, {matrix.shape[1]})")
            items = items.astype(np.int64, copy=False)
            if items.shape != users.shape:
                raise ValueError(f"positives must have one item per entry of users, got "
                                 f"{items.shape} for {users.shape}")
        U, V = _factors_for(self, model, matrix)
        state = self.prepare(matrix, n_factors=U.shape[1], seed=int(seed))
        return sample_users(state, positives_of(matrix), users, items, U, V, np.uint64(seed))


def _factors_for(sampler, model, matrix):
    n_users, n_items = matrix.shape
    if model is None:
        if sampler.needs_model:
            raise ValueError(f"{type(sampler).__name__} scores candidates with the model's factors: "
                             "pass model= (a fitted model or an object with user_factors/item_factors)")
        return (np.zeros((n_users, 1), dtype=np.float32), np.zeros((n_items, 1), dtype=np.float32))
    U = getattr(model, "user_factors", None)
    V = getattr(model, "item_factors", None)
    if U is None or V is None:
        raise ValueError("model has no user_factors/item_factors: fit it first")
    U = np.ascontiguousarray(U, dtype=np.float32)
    V = np.ascontiguousarray(V, dtype=np.float32)
    if U.shape[0] != n_users or V.shape[0] != n_items or U.shape[1] != V.shape[1]:
        raise ValueError(f"model factors {U.shape} / {V.shape} do not match train's shape "
                         f"{matrix.shape}")
    return U, V
