"""The loss contract: what the training loop does with one unit of work.

The loop (``recsample.models._train``) walks the epoch's positives in blocks
and cuts each block into *units*: runs of consecutive positives of one user,
at most ``group_size`` long. It hands every unit to the generic
:func:`train_unit`, which each kind of loss implements:

* **pair losses** (BPR, BPO; :mod:`.pair`): a unit is one positive; each of
  its ``negatives`` draws gives a pair (i, j) whose score derivatives come
  from the sampler's ``pair_step`` hook (so a learning sampler such as NBPO
  can reweight the pair and learn), and one optimizer step per pair.
* **group losses** (sampled softmax, CCL): a unit is up to ``group_size``
  positives of one user and N negatives drawn *once for the unit* from the
  sampler (``draw_group_scored``, N draws given the unit's first positive,
  and ``log_q`` for the logQ correction). A sampler's per-pair hooks
  (``pair_step``, ``pair_weight``: NBPO's flip model, WARP's rank weight)
  belong to pairs and are not called for groups; such a sampler's draw still
  serves. All their scores are computed (the negatives' taken from the draw
  when the sampler scored them as the loop scores: DNS), the loss file's
  :func:`group_gradients` turns them into derivatives, and those are taken
  back through the similarity (dot or cosine) to the factor rows, each row
  moved once by the optimizer.

Sharing the N negatives between the positives of a unit leaves what each
positive sees unchanged in distribution (N draws from the sampler for its own
user), only correlated with the other positives of the unit; it divides the
cost of the negatives, the whole cost when N is large, by the unit's size.

A group loss is one file: a namedtuple state class with ``group = True`` and
the class attributes ``logq`` (whether it needs ln q of its negatives), and
its :func:`group_gradients` registered with ``implements``. A loss that
also reads a state of the unit's user (the softmax's per-user top-K
threshold) sets ``per_user = True`` and registers :func:`user_group_gradients`,
which the loop then calls instead.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit

from .._inline import inline_overload
from .._intrinsics import prefetch_row
from .._optim import ADAGRAD, ADAM, BATCH, adagrad_item_row, move_row
from ..core.hooks import draw_group_scored, implements, log_q
from ..core.linalg import _FAST

#: What the loop's units read besides the data: step size, L2 weights,
#: sigmoid clip (pair losses), factor width (without the bias column), whether
#: V's last column is an item bias, negatives per unit, cosine scoring.
Hyper = namedtuple("Hyper", ["lr", "reg_u", "reg_i", "reg_b", "clip", "n_factors", "has_bias",
                             "negatives", "cosine"])

__all__ = ["Hyper", "train_unit", "group_gradients", "user_group_gradients", "implements"]


def train_unit(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):  # pragma: no cover
    """Train on the positives order[a:b] (one user); returns (summed loss,
    positives or pairs the loss was summed over, pairs trained, positives
    skipped because their user has no negative left)."""
    raise NotImplementedError("train_unit() is only callable from compiled code")


def group_gradients(loss, x, lq, n_pos, n_neg, g):  # pragma: no cover
    """For one unit: scores ``x[:n_pos]`` of the positives and
    ``x[n_pos:n_pos + n_neg]`` of the negatives (dot product or cosine),
    ``lq[:n_neg]`` = ln(N q_j) of each negative (0 when the loss does not ask
    for it). Writes dL/dx into ``g[:n_pos + n_neg]`` and returns the unit's
    loss summed over its positives."""
    raise NotImplementedError("group_gradients() is only callable from compiled code")


def user_group_gradients(loss, u, x, lq, n_pos, n_neg, g):  # pragma: no cover
    """:func:`group_gradients` for a loss that also reads a state of the
    unit's user ``u`` (a group loss class with ``per_user = True`` implements
    this hook instead of that one)."""
    raise NotImplementedError("user_group_gradients() is only callable from compiled code")


def _loss_class(loss):
    return getattr(loss, "instance_class", None)


def is_group(loss_class) -> bool:
    return bool(getattr(loss_class, "group", False))


#: the item rows a unit scores are known before scoring starts: the rows this
#: many places ahead are requested early, so that their loads from a table
#: larger than the caches overlap the current row's arithmetic (Gowalla,
#: cosine, 264 rows per unit: 110-165 -> 60-90 ns per row, one thread, under load)
SCORE_AHEAD = 8


@njit(cache=True)
def new_scratch(n_items_unit, n_neg, width):
    """Per-block buffers of a unit: item ids, scores, derivatives, row norms,
    ln q of the negatives, and three factor-width vectors. The item ids start
    as -2: a pair loss with a blind sampler keeps its negative drawn ahead in
    the first (-2: none yet)."""
    return (np.full(n_items_unit, -2, dtype=np.int64), np.empty(n_items_unit),
            np.empty(n_items_unit), np.empty(n_items_unit), np.empty(max(n_neg, 1)),
            np.empty((3, width), dtype=np.float32))


@njit(cache=True, inline="always")
def _prefetch_first(V, items, total):
    """Request the rows of the first SCORE_AHEAD items of a unit."""
    for r in range(min(SCORE_AHEAD, total)):
        prefetch_row(V, items[r])


@njit(cache=True, inline="always")
def _prefetch_ahead(V, items, r, total):
    """While row ``r`` is scored, request the row SCORE_AHEAD places later."""
    if r + SCORE_AHEAD < total:
        prefetch_row(V, items[r + SCORE_AHEAD])


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def score_unit(U, u, V, items, total, k, width, cosine, x, norms):
    """Scores of user ``u`` against the rows ``items[:total]`` into ``x``:
    dot products over ``width`` columns, or cosines over the first ``k`` (the
    rows' norms into ``norms``) plus the item bias in column ``k`` when
    ``width > k``. Returns |U_u| (1 for dot products)."""
    if cosine:
        has_bias = width > k
        su = np.float32(0.0)
        for f in range(k):
            su += U[u, f] * U[u, f]
        nu = math.sqrt(max(np.float64(su), 1e-24))
        _prefetch_first(V, items, total)
        for r in range(total):
            _prefetch_ahead(V, items, r, total)
            j = items[r]
            d = np.float32(0.0)
            s = np.float32(0.0)
            for f in range(k):
                d += U[u, f] * V[j, f]
                s += V[j, f] * V[j, f]
            nv = math.sqrt(max(np.float64(s), 1e-24))
            norms[r] = nv
            x[r] = np.float64(d) / (nu * nv)
            if has_bias:
                x[r] += np.float64(V[j, k])
        return nu
    _prefetch_first(V, items, total)
    for r in range(total):
        _prefetch_ahead(V, items, r, total)
        j = items[r]
        d = np.float32(0.0)
        for f in range(width):
            d += U[u, f] * V[j, f]
        x[r] = np.float64(d)
    return 1.0


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def update_unit(kind, U, V, mU, vU, mV, vV, tU, tV, dU, dV, corr, beta1, beta2, eps,
                u, items, total, g, x, norms, nu, vec, k, has_bias, cosine, lr, reg_u, reg_i,
                reg_b):
    """Take the score derivatives ``g[:total]`` back through the similarity
    to the factor rows and move each row once with the optimizer ``kind``
    (see :mod:`recsample._optim`; its arrays are passed one by one, since
    reading them from the tuple inside the loop costs a reference count per
    row): every item row from its value before the step, the user's row
    last, from its old copy. Rows whose derivative is 0 (a negative inside
    CCL's margin) are skipped."""
    u0 = vec[0]
    gu = vec[1]
    gv = vec[2]
    for f in range(k):
        u0[f] = U[u, f]
        gu[f] = 0.0
    iu = 1.0 / nu
    b1 = np.float32(beta1)
    b2 = np.float32(beta2)
    c1 = np.float32(1.0 - beta1)
    c2 = np.float32(1.0 - beta2)
    e = np.float32(eps)
    rg_i = np.float32(reg_i)
    lr32 = np.float32(lr)
    keep_i = np.float32(1.0 - lr * reg_i)
    keep_b = np.float32(1.0 - lr * reg_b)
    if cosine and has_bias:
        # x holds cosine + bias; the cosine's derivative needs the cosine alone,
        # so take the biases out before any row (a repeated negative too) moves
        for r in range(total):
            x[r] -= np.float64(V[items[r], k])
    for r in range(total):
        gr = g[r]
        if gr == 0.0:
            continue
        j = items[r]
        if cosine:
            # c = u.v / (|u||v|): dc/du = v/(|u||v|) - c u/|u|^2, dc/dv = u/(|u||v|) - c v/|v|^2
            c = x[r]
            iv = 1.0 / norms[r]
            a = np.float32(gr * iu * iv)
            bu = np.float32(gr * c * iu * iu)
            bv = np.float32(gr * c * iv * iv)
            for f in range(k):
                vf = V[j, f]
                gu[f] += a * vf - bu * u0[f]
                gv[f] = a * u0[f] - bv * vf
            if has_bias:
                gv[k] = np.float32(gr)
        else:
            s = np.float32(gr)
            for f in range(k):
                gu[f] += s * V[j, f]
                gv[f] = s * u0[f]
            if has_bias:
                gv[k] = s
        # the optimizer's step for item row j, written out here: calling
        # move_row inside this loop (inlined or not) costs reference counts
        # of its arrays on every row, 5-10x the row's arithmetic. So the Adam
        # branch repeats _optim.move_row's on purpose: a change to one is a
        # change to both
        if has_bias and (kind == ADAM or kind == ADAGRAD):
            # the bias's decay is reg_b (the step below adds reg_i)
            gv[k] += np.float32(reg_b - reg_i) * V[j, k]
        if kind == ADAGRAD:
            adagrad_item_row(V, mV, j, gv, k, has_bias, lr, reg_i, eps)
        elif kind == ADAM:
            tV[j] += 1
            step = tV[j]
            rate = np.float32(lr * (corr[step] if step < corr.shape[0] else 1.0))
            for f in range(k + has_bias):
                d = gv[f] + rg_i * V[j, f]
                mf = b1 * mV[j, f] + c1 * d
                vf = b2 * vV[j, f] + c2 * d * d
                mV[j, f] = mf
                vV[j, f] = vf
                V[j, f] -= rate * mf / (np.sqrt(vf) + e)
        elif kind == BATCH:
            for f in range(k + has_bias):
                dV[j, f] -= gv[f]
        else:
            for f in range(k):
                V[j, f] = keep_i * V[j, f] - lr32 * gv[f]
            if has_bias:
                V[j, k] = keep_b * V[j, k] - lr32 * gv[k]
    move_row(kind, U, mU, vU, tU, dU, corr, beta1, beta2, eps, u, gu, k, lr, reg_u)


def group_unit(loss, state, pos, U, V, opt, hp, u, n_pos, n_neg, scratch,
               scored=False):  # pragma: no cover
    """Score, differentiate and step one unit whose items are already in
    ``scratch[0]``: the ``n_pos`` positives first, then the ``n_neg``
    negatives (``scored``: the negatives' scores and, for cosines, their
    rows' lengths already in ``scratch[1]`` and ``scratch[3]``, as
    ``draw_group_scored`` leaves them). Returns the unit's loss summed over
    its positives."""
    raise NotImplementedError("group_unit() is only callable from compiled code")


@njit(cache=True, inline="always")
def _unit_gradients(loss, u, x, lq, n_pos, n_neg, g):
    return group_gradients(loss, x, lq, n_pos, n_neg, g)


@njit(cache=True, inline="always")
def _user_gradients(loss, u, x, lq, n_pos, n_neg, g):
    return user_group_gradients(loss, u, x, lq, n_pos, n_neg, g)


@inline_overload(group_unit)
def _group_unit(loss, state, pos, U, V, opt, hp, u, n_pos, n_neg, scratch, scored=False):
    if not is_group(_loss_class(loss)):
        return None
    wants_logq = "logq" in getattr(_loss_class(loss), "_fields", ())
    gradients = (_user_gradients if getattr(_loss_class(loss), "per_user", False)
                 else _unit_gradients)

    def impl(loss, state, pos, U, V, opt, hp, u, n_pos, n_neg, scratch, scored=False):
        items, x, g, norms, lq, vec = scratch
        total = n_pos + n_neg
        nu = score_unit(U, u, V, items, n_pos if scored else total, hp.n_factors,
                        hp.n_factors + hp.has_bias, hp.cosine, x, norms)
        if wants_logq and loss.logq:
            ln_n = math.log(n_neg)
            for n in range(n_neg):
                lq[n] = log_q(state, pos, u, items[n_pos + n]) + ln_n
        else:
            for n in range(n_neg):
                lq[n] = 0.0
        value = gradients(loss, u, x, lq, n_pos, n_neg, g)
        update_unit(opt.kind, U, V, opt.mU, opt.vU, opt.mV, opt.vV, opt.tU, opt.tV, opt.dU,
                    opt.dV, opt.correction, opt.beta1, opt.beta2, opt.eps, u, items, total, g,
                    x, norms, nu, vec, hp.n_factors, hp.has_bias, hp.cosine, hp.lr, hp.reg_u,
                    hp.reg_i, hp.reg_b)
        return value
    return impl


@inline_overload(train_unit)
def _train_group(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
    if not is_group(_loss_class(loss)):
        return None

    def impl(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
        items = scratch[0]
        u = order[a] >> 32
        first = order[a] & 0xFFFFFFFF  # the positive a draw that reads one is given
        n_pos = b - a
        n_neg = hp.negatives
        drawn = draw_group_scored(state, pos, u, first, U, V, rng, items, n_pos, n_neg,
                                  scratch[1], scratch[3], hp.n_factors if hp.cosine else 0,
                                  hp.n_factors + hp.has_bias)
        if drawn == 0:
            return 0.0, 0, 0, n_pos
        for p in range(n_pos):
            items[p] = order[a + p] & 0xFFFFFFFF
        value = group_unit(loss, state, pos, U, V, opt, hp, u, n_pos, n_neg, scratch,
                           drawn == 2)
        return value, n_pos, n_pos * n_neg, 0
    return impl
