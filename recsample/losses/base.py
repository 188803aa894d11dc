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
  sampler (``draw``, and ``log_q`` for the logQ correction). All their scores
  are computed, the loss file's :func:`group_gradients` turns them into
  derivatives, and those are taken back through the similarity (dot or
  cosine) to the factor rows, each row moved once by the optimizer.

Sharing the N negatives between the positives of a unit leaves what each
positive sees unchanged in distribution (N draws from the sampler for its own
user), only correlated with the other positives of the unit; it divides the
cost of the negatives, the whole cost when N is large, by the unit's size.

A group loss is one file: a namedtuple state class with ``group = True`` and
the class attributes ``logq`` (whether it needs ln q of its negatives), and
its :func:`group_gradients` registered with ``implements``.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit
from numba.extending import overload

from .._optim import apply_item, apply_user
from ..samplers.base import _FAST, draw, implements, log_q

#: What the loop's units read besides the data: step size, L2 weights,
#: sigmoid clip (pair losses), factor width (without the bias column), whether
#: V's last column is an item bias, negatives per unit, cosine scoring.
Hyper = namedtuple("Hyper", ["lr", "reg_u", "reg_i", "reg_b", "clip", "n_factors", "has_bias",
                             "negatives", "cosine"])

__all__ = ["Hyper", "train_unit", "group_gradients", "implements"]


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


def _loss_class(loss):
    return getattr(loss, "instance_class", None)


def is_group(loss_class) -> bool:
    return bool(getattr(loss_class, "group", False))


@njit(cache=True)
def new_scratch(n_items_unit, n_neg, width):
    """Per-block buffers of a unit: item ids, scores, derivatives, row norms,
    ln q of the negatives, and three factor-width vectors."""
    return (np.empty(n_items_unit, dtype=np.int64), np.empty(n_items_unit),
            np.empty(n_items_unit), np.empty(n_items_unit), np.empty(max(n_neg, 1)),
            np.empty((3, width), dtype=np.float32))


@njit(cache=True, fastmath=_FAST)
def dot_norm(a, b, n):
    """(a[:n] . b[:n], |b[:n]|^2) in one pass."""
    x = np.float32(0.0)
    s = np.float32(0.0)
    for f in range(n):
        x += a[f] * b[f]
        s += b[f] * b[f]
    return x, s


@njit(cache=True, fastmath=_FAST)
def dot_n(a, b, n):
    x = np.float32(0.0)
    for f in range(n):
        x += a[f] * b[f]
    return x


@overload(train_unit, inline="always")
def _train_group(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
    if not is_group(_loss_class(loss)):
        return None
    wants_logq = "logq" in getattr(_loss_class(loss), "_fields", ())

    def impl(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
        items, x, g, norms, lq, vec = scratch
        u = order[a] >> 32
        n_pos = b - a
        n_neg = hp.negatives
        k = hp.n_factors
        for n in range(n_neg):
            j = draw(state, pos, u, U, V, rng)
            if j < 0:
                return 0.0, 0, 0, n_pos
            items[n_pos + n] = j
        for p in range(n_pos):
            items[p] = order[a + p] & 0xFFFFFFFF
        urow = U[u]
        total = n_pos + n_neg
        if hp.cosine:
            nu = math.sqrt(max(np.float64(dot_n(urow, urow, k)), 1e-24))
            for r in range(total):
                d, s = dot_norm(urow, V[items[r]], k)
                nv = math.sqrt(max(np.float64(s), 1e-24))
                norms[r] = nv
                x[r] = np.float64(d) / (nu * nv)
        else:
            nu = 1.0
            width = k + hp.has_bias
            for r in range(total):
                x[r] = np.float64(dot_n(urow, V[items[r]], width))
        if wants_logq and loss.logq:
            ln_n = math.log(n_neg)
            for n in range(n_neg):
                lq[n] = log_q(state, pos, u, items[n_pos + n]) + ln_n
        else:
            for n in range(n_neg):
                lq[n] = 0.0
        value = group_gradients(loss, x, lq, n_pos, n_neg, g)
        # back through the similarity to the rows, each moved from its value
        # before the step; the user's row moves last, from its old copy
        u0 = vec[0]
        gu = vec[1]
        gv = vec[2]
        for f in range(k):
            u0[f] = urow[f]
            gu[f] = 0.0
        for r in range(total):
            gr = g[r]
            if gr == 0.0:
                continue  # e.g. a negative inside CCL's margin: no gradient
            j = items[r]
            vr = V[j]
            if hp.cosine:
                c = x[r]
                iu = 1.0 / nu
                iv = 1.0 / norms[r]
                a_u = np.float32(gr * iv * iu)       # coefficient of v in dL/du
                b_u = np.float32(gr * c * iu * iu)   # of u
                a_v = np.float32(gr * iu * iv)       # of u in dL/dv
                b_v = np.float32(gr * c * iv * iv)   # of v
                for f in range(k):
                    gu[f] += a_u * vr[f] - b_u * u0[f]
                    gv[f] = a_v * u0[f] - b_v * vr[f]
            else:
                s = np.float32(gr)
                for f in range(k):
                    gu[f] += s * vr[f]
                    gv[f] = s * u0[f]
                if hp.has_bias:
                    gv[k] = s
            apply_item(opt, V, j, gv, hp.lr, hp.reg_i, hp.reg_b, k, hp.has_bias)
        apply_user(opt, U, u, gu, hp.lr, hp.reg_u, k)
        return value, n_pos, n_pos * n_neg, 0
    return impl
