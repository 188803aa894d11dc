"""Folding new users into a fitted factor model: their factor rows learned
with the item factors held fixed, by the model's own loss and sampler.
``FoldIn`` is the mixin of ``FactorModel`` with ``fold_in`` and
``partial_fit_users``; ``fold_in_rows`` is the loop below them.

The users are trained by the same compiled loop as ``fit``, run with the
batch optimizer: each epoch visits every given positive once (its negatives
drawn by the model's sampler, from a state whose item side is the model's,
see ``Sampler.fold_in_state``) and only sums the gradients. The item sums
are dropped, so the item factors never move; each user's sum, divided by
the user's number of positives, takes one Adam step (Kingma & Ba, 2015) on
that user's row. With the items fixed the users are independent problems,
so one step per epoch on the mean gradient is plain gradient descent on each
user's own loss, and Adam's per-coordinate scale makes one learning rate
serve users with 1 or 1,000 positives alike. A user's row starts from the
mean of the rows of the user's items (plus a tenth of a random start).

Threads take contiguous shares of the epoch's blocks, each with gradient
sums of its own, added in worker order: one thread gives bit-identical rows
for a seed; more threads can differ in the last bits (a user whose positives
straddle two shares has its sum added in another order).
"""
from __future__ import annotations

import numbers

import numba
import numpy as np

from .._optim import make_optim
from ..losses import Hyper
from ..core.positives import positives_of
from ..core.validation import as_csr, check_int, check_users
from ..samplers.base import run_refresh
from . import _train
from ._order import BLOCK_SIZE, _packed_positives

#: the stream of the new rows' initial factors, apart from fit's
_FOLD_STREAM = 0x464F4C44
#: Adam's constants for the users' steps
_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8


def check_rows(user_items, n_items, name="user_items"):
    """The canonical CSR of the new users' interaction rows over the model's
    ``n_items`` items."""
    rows = as_csr(user_items, name)
    if rows.shape[1] != n_items:
        raise ValueError(f"{name} has {rows.shape[1]:,} item columns but the model scores "
                         f"{n_items:,} items: give the rows over the model's item index "
                         "(Interactions built with the training data's item ids)")
    return rows


def _positive_float(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def fold_in_rows(model, user_items, epochs, learning_rate, seed):
    """The internal factor rows (float32, n_new x width) of the users in
    ``user_items``; see ``FactorModel.fold_in``."""
    model._require_fitted()
    epochs = check_int("epochs", epochs, 1)
    learning_rate = _positive_float("learning_rate", learning_rate)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    V = model._item_factors
    rows = check_rows(user_items, V.shape[0])
    p = model._validated()
    k = p["factors"]
    n_new = rows.shape[0]
    rng = np.random.default_rng([int(seed), _FOLD_STREAM])
    U = np.zeros((n_new, V.shape[1]), dtype=np.float32)
    s = p["init_scale"]
    if model.init == "normal":
        U[:, :k] = rng.normal(0.0, s, size=(n_new, k))
    else:
        U[:, :k] = rng.uniform(0.0, s, size=(n_new, k))
    if model.use_bias:
        U[:, k] = 1.0
    counts = np.diff(rows.indptr)
    # start from the mean of the user's items' rows, plus a tenth of the
    # model's random start: on movielens-small's validation part this start
    # alone ranked held-out users as well as training them (Softmax) or better
    # (CCL), and passes from it beat passes from the random start alone
    mean = rows.astype(np.float32) @ V[:, :k]
    mean /= np.maximum(counts, 1).astype(np.float32)[:, None]
    U[:, :k] = U[:, :k] * np.float32(0.1) + mean
    # a user without history gets no factors: the score is the item bias alone
    U[counts == 0, :k] = 0.0
    if rows.nnz == 0 or n_new == 0:
        return U
    sampler = model.sampler_
    loss = model._loss_state(p, sampler)
    state = sampler.scoring_state(
        sampler.fold_in_state(model.sampler_state_, rows, getattr(model, "item_counts_", None),
                              n_factors=k, seed=seed),
        model.similarity == "cosine", k)
    pos = positives_of(rows)
    group_size = p["group_size"]
    order = _packed_positives(rows)
    n_blocks = (order.shape[0] + BLOCK_SIZE - 1) // BLOCK_SIZE
    blocks = np.arange(n_blocks, dtype=np.int64)
    n_threads = min(p["n_threads"], max(1, n_blocks))
    # one optimizer per thread: the users' gradient sums apart, the items'
    # (never applied) shared
    first = make_optim("batch", U, V)
    opts = [first] + [first._replace(dU=np.zeros_like(U)) for _ in range(n_threads - 1)]
    workers = [sampler.worker_state(state, w) for w in range(numba.config.NUMBA_NUM_THREADS)]
    label = (f"folding users into {type(model).__name__} with sampler "
             f"{type(sampler).__name__}")
    memo = {}
    out = np.zeros((n_blocks, 4))
    m = np.zeros((n_new, k), dtype=np.float32)
    v = np.zeros((n_new, k), dtype=np.float32)
    inv_count = (1.0 / np.maximum(counts, 1)).astype(np.float32)[:, None]
    reg = np.float32(p["user_regularization"])
    threads_before = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        for epoch in range(epochs):
            # the loss and a learning sampler's own parameters see the model's
            # learning rate, as in fit; the users' rows move by Adam below
            hp = Hyper(p["learning_rate"], p["user_regularization"], p["item_regularization"],
                       p["bias_regularization"], p["clip_sigmoid"], k, model.use_bias,
                       p["negatives"], model.similarity == "cosine")
            if group_size > 1:
                _train.grouped_order(rows.indptr, rows.indices, np.arange(n_new, dtype=np.int64),
                                     seed, epoch, order)
            run_refresh(state, pos, U, V, seed, epoch, False)
            _train.run_blocks(state, loss, pos, order, blocks, BLOCK_SIZE, U, V, first, hp,
                              group_size, False, seed, epoch, out, workers.__getitem__, label,
                              memo, opts.__getitem__, warmed=False)
            if sampler.learns:
                _train.finish_batch(state, p["learning_rate"])
            run_refresh(state, pos, U, V, seed, epoch, True)
            # dU holds minus the summed gradients: the mean gradient plus L2
            g = opts[0].dU[:, :k].copy()
            opts[0].dU.fill(0.0)
            for o in opts[1:]:
                g += o.dU[:, :k]
                o.dU.fill(0.0)
            first.dV.fill(0.0)
            g *= -inv_count
            g += reg * U[:, :k]
            t = epoch + 1
            m *= _BETA1
            m += (1 - _BETA1) * g
            v *= _BETA2
            v += (1 - _BETA2) * g * g
            rate = learning_rate * np.sqrt(1 - _BETA2 ** t) / (1 - _BETA1 ** t)
            U[:, :k] -= (rate * m / (np.sqrt(v) + _EPS)).astype(np.float32)
    finally:
        numba.set_num_threads(threads_before)
    if not np.isfinite(U).all():
        raise FloatingPointError("folding in diverged: the new rows became non-finite; "
                                 "lower learning_rate")
    U[counts == 0, :k] = 0.0
    return U


class FoldIn:
    """Mixin of ``FactorModel``: rows for users outside the model (or with a
    grown history), learned with the item factors fixed."""

    #: ``fold_in``'s defaults, chosen on a validation part carved from
    #: movielens-small's training data (three draws of 10% of its users held
    #: out of training and folded in; epochs 1-80 x learning rate 0.001-0.2,
    #: BPR, Softmax and CCL): one learning rate that serves the three, and
    #: the fewest passes within noise of more (see docs/pipelines.md; the
    #: group losses' GroupModel takes 10)
    FOLD_IN_EPOCHS = 20
    FOLD_IN_LEARNING_RATE = 0.02

    def fold_in(self, user_items, *, epochs=None, learning_rate=None, seed=None) -> np.ndarray:
        """Factor rows for users given by their interactions, learned with
        the item factors fixed, by this model's loss and sampler.

        Parameters
        ----------
        user_items : Interactions or scipy.sparse matrix (n_new, n_items)
            One row per user, over the model's item index (a new user's
            history, or an existing user's grown one). Checked as ``fit``
            checks ``train``; its values are not weights here.
        epochs : int, optional
            Passes over the given interactions (default
            ``FOLD_IN_EPOCHS``). Each pass draws every positive's negatives
            with the model's sampler and takes one Adam step per user on
            the mean gradient of the user's loss.
        learning_rate : float, optional
            Adam's step size (default ``FOLD_IN_LEARNING_RATE``).
        seed : int, optional
            Seeds the initial rows and the draws (default: the model's
            ``seed``). With one thread (``n_threads=1``) a seed gives
            bit-identical rows.

        Returns
        -------
        float32 array (n_new, factors [+1])
            Rows in the form of ``user_factors`` (the constant 1 of the
            bias column; unit length with cosine similarity), so
            ``rows @ item_factors.T`` are the scores; a row without any
            interaction scores by the item bias alone. Use them with
            ``recommend(user_factors=rows)`` or store them with
            :meth:`partial_fit_users`.
        """
        return self._exported(self._fold_in(user_items, epochs, learning_rate, seed))

    def _fold_in(self, user_items, epochs, learning_rate, seed):
        return fold_in_rows(self, user_items,
                            self.FOLD_IN_EPOCHS if epochs is None else epochs,
                            self.FOLD_IN_LEARNING_RATE if learning_rate is None else learning_rate,
                            self.seed if seed is None else seed)

    def partial_fit_users(self, user_ids, user_items, *, epochs=None, learning_rate=None,
                          seed=None):
        """Fold the users ``user_ids`` in from their interaction rows
        ``user_items`` (see :meth:`fold_in`) and store their rows in the
        model: an existing user's row is replaced, an id at or beyond
        ``n_users`` grows ``user_factors`` (rows between the old end and a
        new id score by the item bias alone until they are fitted). The
        item factors do not change. Returns self.

        The name and the arguments are ``implicit``'s, so code written for
        its ALS carries over."""
        self._require_fitted()
        ids = check_users(user_ids, None, "user_ids")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("user_ids has repeated ids: give each user once")
        rows = check_rows(user_items, self.n_items)
        if rows.shape[0] != len(ids):
            raise ValueError(f"user_items has {rows.shape[0]:,} rows for {len(ids):,} "
                             "user_ids: give one row per id")
        new = self._fold_in(rows, epochs, learning_rate, seed)
        U = self._user_factors
        need = int(ids.max()) + 1 if ids.size else 0
        if need > U.shape[0]:
            grown = np.zeros((need, U.shape[1]), dtype=np.float32)
            grown[:U.shape[0]] = U
            if self.use_bias:
                grown[U.shape[0]:, -1] = 1.0
            self._user_factors = U = grown
        U[ids] = new
        return self
