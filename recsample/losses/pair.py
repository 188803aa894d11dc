"""The pair losses, BPR and BPO: a unit is one positive, each negative a pair.

Per visited positive (u, i), replaced by the sampler's ``choose_positive``
(the visited one unless the sampler chooses, as k-OS does), and each of its
negatives j = draw(...), the sampler's
``pair_step`` gives the ascent directions g_i = dL/dx_ui and g_j = dL/dx_uj
(BPR: ln sigma(x_ui - x_uj); BPO: ln sigma(x_ui) + ln(1 - sigma(x_uj)); a
learning sampler may reweight them) and the factors move at once:

    U_u += lr (g_i V_i + g_j V_j - reg_u U_u)
    V_i += lr (g_i U_u - reg_i V_i)          (and the same for V_j with g_j)
    b_i += lr (g_i - reg_b b_i)              (item bias, when there is one)

all from the values before the step; or, with the batch optimizer, the
directions are summed, or, with Adam, each row takes an Adam step.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit
from numba.extending import overload

from .._inline import inline_overload
from .._intrinsics import prefetch_row
from .._optim import ADAGRAD, ADAM, BATCH, SGDOptim, adagrad_item_row, move_row
from ..core.hooks import (_learns, choose_positive, draw, implements, is_blind, pair_loss,
                          pair_step, pair_weight, peek)
from ..core.linalg import _FAST, dot2
from .base import _loss_class, group_gradients, is_group, train_unit

#: the sampler contract's loss numbers: which objective ``pair_step`` and
#: ``pair_loss`` differentiate or report
BPR_LOSS = 0
BPO_LOSS = 1
LOSSES = {"bpr": BPR_LOSS, "bpo": BPO_LOSS}

#: the loss is reported from every LOSS_EVERY-th positive of a block: a
#: logarithm per pair would cost more than a tenth of the epoch
LOSS_EVERY = 8

#: ``code`` is the sampler contract's loss number (BPR_LOSS or BPO_LOSS)
PairLoss = namedtuple("PairLoss", ["code"])
PairLoss.group = False

PAIR_LOSSES = LOSSES


def pair_loss_state(name):
    return PairLoss(np.int64(PAIR_LOSSES[name]))


# ------------------------------------------------------ the pair objectives
@njit(cache=True, inline="always")
def sigmoid(x, clip):
    """Logistic function, without a data-dependent branch in the common path.
    With ``clip`` > 0 it is 0 below -clip and 1 above clip, as in the NBPO
    authors' code (their clip is 10)."""
    e = math.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    s = r if x >= 0.0 else e * r
    if clip > 0.0:
        if x > clip:
            s = 1.0
        elif x < -clip:
            s = 0.0
    return s


@njit(cache=True, inline="always")
def log_sigmoid(x):
    """ln sigma(x), stable for large |x|."""
    return -math.log1p(math.exp(-abs(x))) + min(x, 0.0)


@njit(cache=True, inline="always")
def loss_gradients(loss, x_ui, x_uj, clip):
    """(d/dx_ui, d/dx_uj) of one pair for the trainer's own objective.

    BPR: maximise ln sigma(x_ui - x_uj)      -> g_i = sigma(x_uj - x_ui) = -g_j
    BPO: maximise ln sigma(x_ui) + ln(1 - sigma(x_uj))
                                              -> g_i = sigma(-x_ui), g_j = -sigma(x_uj)
    """
    if loss == BPR_LOSS:
        g = sigmoid(x_uj - x_ui, clip)
        return g, -g
    return sigmoid(-x_ui, clip), -sigmoid(x_uj, clip)


@njit(cache=True, inline="always")
def loss_value(loss, x_ui, x_uj):
    """The negative of the maximised term: -ln sigma(x_ui - x_uj) for BPR,
    -ln sigma(x_ui) - ln(1 - sigma(x_uj)) for BPO."""
    if loss == BPR_LOSS:
        return -log_sigmoid(x_ui - x_uj)
    return -log_sigmoid(x_ui) - log_sigmoid(-x_uj)


# ------------------------------------------ the default pair_step / pair_loss
# The sampler contract's defaults (see recsample.core.hooks) for every state
# class that does not set ``learns = True``: the objective's derivatives and
# value for a fixed pair, scaled by the sampler's pair_weight.
@overload(pair_step)
def _pair_step_fixed(state, loss, u, i, j, x_ui, x_uj, lr, clip, accumulate):
    if _learns(state):
        return None

    def impl(state, loss, u, i, j, x_ui, x_uj, lr, clip, accumulate):
        g_i, g_j = loss_gradients(loss, x_ui, x_uj, clip)
        w = pair_weight(state, u, i, j)
        return w * g_i, w * g_j
    return impl


@overload(pair_loss)
def _pair_loss_fixed(state, loss, u, i, j, x_ui, x_uj, clip):
    if _learns(state):
        return None

    def impl(state, loss, u, i, j, x_ui, x_uj, clip):
        return pair_weight(state, u, i, j) * loss_value(loss, x_ui, x_uj)
    return impl


@njit(cache=True, fastmath=_FAST, inline="always")
def _sgd_apply(U, V, u, i, j, g_i, g_j, lr, reg_u, reg_i, reg_b, n_factors, has_bias):
    a = np.float32(lr * g_i)
    b = np.float32(lr * g_j)
    ru = np.float32(1.0 - lr * reg_u)
    ri = np.float32(1.0 - lr * reg_i)
    # indexed in two dimensions, not through row views: each view would
    # take and release a reference to the array (two atomic operations)
    for f in range(n_factors):
        uf = U[u, f]
        U[u, f] = ru * uf + a * V[i, f] + b * V[j, f]
        V[i, f] = ri * V[i, f] + a * uf
        V[j, f] = ri * V[j, f] + b * uf
    if has_bias:
        rb = np.float32(1.0 - lr * reg_b)
        V[i, n_factors] = rb * V[i, n_factors] + a
        V[j, n_factors] = rb * V[j, n_factors] + b


@njit(cache=True, inline="always")
def _accumulate(U, V, dU, dV, u, i, j, g_i, g_j, n_factors, has_bias):
    a = np.float32(g_i)
    b = np.float32(g_j)
    for f in range(n_factors):
        uf = U[u, f]
        dU[u, f] += a * V[i, f] + b * V[j, f]
        dV[i, f] += a * uf
        dV[j, f] += b * uf
    if has_bias:
        dV[i, n_factors] += a
        dV[j, n_factors] += b


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _optim_pair(kind, U, V, mU, vU, mV, vV, tU, tV, dU, dV, corr, beta1, beta2, eps, u, i, j,
                g_i, g_j, lr, reg_u, reg_i, reg_b, k, has_bias, vec):
    """One pair through a row-wise optimizer (Adam, Adagrad): descent
    directions of the three rows from the values before the step. A function
    of its own, not inlined into the loop: there, stores into the optimizer's
    arrays were lost (seen with Adagrad's accumulators)."""
    gu = vec[0]
    gi = vec[1]
    gj = vec[2]
    a = np.float32(-g_i)
    b = np.float32(-g_j)
    for f in range(k):
        uf = U[u, f]
        gu[f] = a * V[i, f] + b * V[j, f]
        gi[f] = a * uf
        gj[f] = b * uf
    if has_bias:
        # the bias's decay is reg_b (the step adds reg_i)
        gi[k] = a + np.float32(reg_b - reg_i) * V[i, k]
        gj[k] = b + np.float32(reg_b - reg_i) * V[j, k]
    if kind == ADAGRAD:
        # the bias has an accumulator of its own (see recsample._optim)
        adagrad_item_row(V, mV, i, gi, k, has_bias, lr, reg_i, eps)
        adagrad_item_row(V, mV, j, gj, k, has_bias, lr, reg_i, eps)
    else:
        move_row(kind, V, mV, vV, tV, dV, corr, beta1, beta2, eps, i, gi, k + has_bias, lr,
                 reg_i)
        move_row(kind, V, mV, vV, tV, dV, corr, beta1, beta2, eps, j, gj, k + has_bias, lr,
                 reg_i)
    move_row(kind, U, mU, vU, tU, dU, corr, beta1, beta2, eps, u, gu, k, lr, reg_u)


def row_optim_pair(opt, U, V, u, i, j, g_i, g_j, hp, scratch):  # pragma: no cover
    """``_optim_pair`` for a row-wise optimizer's state; nothing for SGD's,
    whose type (``SGDOptim``) says the branch is never taken, so that its
    loop does not compile the row-wise step."""
    raise NotImplementedError("row_optim_pair() is only callable from compiled code")


@inline_overload(row_optim_pair)
def _row_optim_pair(opt, U, V, u, i, j, g_i, g_j, hp, scratch):
    if getattr(opt, "instance_class", None) is SGDOptim:
        def nothing(opt, U, V, u, i, j, g_i, g_j, hp, scratch):
            return None
        return nothing

    def impl(opt, U, V, u, i, j, g_i, g_j, hp, scratch):
        _optim_pair(opt.kind, U, V, opt.mU, opt.vU, opt.mV, opt.vV, opt.tU, opt.tV, opt.dU,
                    opt.dV, opt.correction, opt.beta1, opt.beta2, opt.eps, u, i, j, g_i, g_j,
                    hp.lr, hp.reg_u, hp.reg_i, hp.reg_b, hp.n_factors, hp.has_bias,
                    scratch[5])
    return impl


@njit(cache=True, inline="always")
def _train_pair_one(loss, state, U, V, opt, hp, u, i, j, report, scratch):
    """Score, step and move one pair (u, i, j); returns the reported loss
    (0 unless ``report``). ``scratch[5]`` is read only by the row-wise
    optimizers: taking it out of the tuple for every pair cost a reference
    count taken and released (7% of an SGD pair on movielens-small)."""
    accumulate = opt.kind == BATCH
    xi, xj = dot2(U, u, V, i, j)
    x_ui = np.float64(xi)
    x_uj = np.float64(xj)
    value = 0.0
    if report:
        value = pair_loss(state, loss.code, u, i, j, x_ui, x_uj, hp.clip)
    g_i, g_j = pair_step(state, loss.code, u, i, j, x_ui, x_uj, hp.lr, hp.clip, accumulate)
    if accumulate:
        _accumulate(U, V, opt.dU, opt.dV, u, i, j, g_i, g_j, hp.n_factors, hp.has_bias)
    elif opt.kind == ADAM or opt.kind == ADAGRAD:
        row_optim_pair(opt, U, V, u, i, j, g_i, g_j, hp, scratch)
    else:
        _sgd_apply(U, V, u, i, j, g_i, g_j, hp.lr, hp.reg_u, hp.reg_i, hp.reg_b, hp.n_factors,
                   hp.has_bias)
    return value


@inline_overload(train_unit)
def _train_pair(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
    cls = _loss_class(loss)
    if cls is None or is_group(cls) or cls is not PairLoss or is_blind(state):
        return None

    def impl(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
        u = order[a] >> 32
        # the visited positive, unless the sampler picks another of u's (k-OS)
        i = choose_positive(state, pos, u, order[a] & 0xFFFFFFFF, U, V, rng)
        total = 0.0
        sampled = 0
        pairs = 0
        skipped = 0
        report = (a - lo) % LOSS_EVERY == 0
        for _ in range(hp.negatives):
            j = draw(state, pos, u, i, U, V, rng)
            if j < 0:
                skipped += 1
                break
            total += _train_pair_one(loss, state, U, V, opt, hp, u, i, j, report, scratch)
            sampled += report
            pairs += 1
        return total, sampled, pairs, skipped
    return impl


#: ``scratch[0][0]`` between the units of a blind sampler: no negative drawn
#: ahead (the block's first unit)
NOT_DRAWN = -2


@njit(cache=True)
def _keep(slot, value):
    """Store the negative drawn ahead for the next unit. A function of its
    own: a store from the inlined unit into the block's scratch could be lost
    (as Adagrad's were, see _optim_pair)."""
    slot[0] = value


@inline_overload(train_unit)
def _train_pair_blind(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
    """The pair loss for a sampler whose draws depend only on the positives
    and the random stream (``blind``: Uniform, Popularity). Each draw is made
    one pair early, so its item row is on its way from memory while the
    current pair trains: the draws come in the same order from the same
    stream, so the results are the same values as drawing on demand."""
    cls = _loss_class(loss)
    if cls is not PairLoss or not is_blind(state):
        return None

    def impl(loss, state, pos, U, V, opt, hp, order, a, b, lo, rng, scratch):
        u = order[a] >> 32
        i = order[a] & 0xFFFFFFFF
        n = hp.negatives
        # the next visited positive: its first negative is drawn here, at the
        # end (past the block's end it is a harmless extra draw of this
        # block's stream, which the next block does not use)
        has_next = a + 1 < order.shape[0]
        nu = order[a + 1] >> 32 if has_next else 0
        ni = order[a + 1] & 0xFFFFFFFF if has_next else 0
        total = 0.0
        sampled = 0
        pairs = 0
        skipped = 0
        report = (a - lo) % LOSS_EVERY == 0
        cur = scratch[0][0]
        made = 0                      # of this unit's negatives drawn; n once u ran out
        if cur != NOT_DRAWN:
            made = 1 if cur >= 0 else n
        nxt = NOT_DRAWN
        while True:
            mine = made < n
            nxt = NOT_DRAWN
            if mine or has_next:
                nxt = draw(state, pos, u if mine else nu, i if mine else ni, U, V, rng)
                if nxt >= 0:
                    prefetch_row(V, nxt)
                if mine:
                    made = made + 1 if nxt >= 0 else n
                # the draw after this one: its likely item's row and the
                # membership word it will test start loading now, two pairs
                # early (the test was a third of the time per pair)
                h = peek(state, pos, rng)
                if h >= 0:
                    prefetch_row(V, h)
                    if pos.words > 0:
                        if made < n:
                            hu = u
                        elif mine or n > 1:
                            hu = nu
                        else:
                            hu = order[a + 2] >> 32 if a + 2 < order.shape[0] else 0
                        prefetch_row(pos.bits, hu * pos.words + (h >> 6))
            if cur != NOT_DRAWN:
                if cur < 0:
                    skipped += 1
                else:
                    total += _train_pair_one(loss, state, U, V, opt, hp, u, i, cur, report,
                                             scratch)
                    sampled += report
                    pairs += 1
            if not mine:
                break
            cur = nxt
        _keep(scratch[0], nxt)
        return total, sampled, pairs, skipped
    return impl


# ------------------------------------------------- pairs in the group form
#: BPR or BPO written over a unit of positives and N negatives: every
#: (positive, negative) of the unit is a pair, all scored at the same
#: parameter values. Used where the pair path cannot serve: cosine scoring.
PairGroupLoss = namedtuple("PairGroupLoss", ["code"])
PairGroupLoss.group = True


def pair_group_loss_state(name):
    return PairGroupLoss(np.int64(PAIR_LOSSES[name]))


@implements(group_gradients, PairGroupLoss)
def _pair_group_gradients(loss, x, lq, n_pos, n_neg, g):
    value = 0.0
    for r in range(n_pos + n_neg):
        g[r] = 0.0
    if loss.code == BPR_LOSS:
        for p in range(n_pos):
            for n in range(n_neg):
                d = x[p] - x[n_pos + n]
                value -= log_sigmoid(d)
                s = sigmoid(-d, 0.0)          # -dL/dd
                g[p] -= s
                g[n_pos + n] += s
        return value
    for p in range(n_pos):
        value -= n_neg * log_sigmoid(x[p])
        g[p] = -n_neg * sigmoid(-x[p], 0.0)
    for n in range(n_neg):
        value -= n_pos * log_sigmoid(-x[n_pos + n])
        g[n_pos + n] = n_pos * sigmoid(x[n_pos + n], 0.0)
    return value
