"""Sampled softmax over one positive and N sampled negatives.

For a positive i of user u and negatives j_1..j_N drawn by the sampler, with
temperature t and scores x (dot product or cosine):

    L_i = -log( e^{x_ui/t} / (e^{x_ui/t} + sum_n e^{x_uj_n/t - log(N q_jn)}) )

With the logQ correction (Yi et al., RecSys 2019; Bengio & Senecal 2008)
q_j is the probability that one draw of the sampler gives j for this user
(the sampler's ``log_q`` hook): exact for Uniform and Popularity; for samplers
that score uniform candidates (DNS, NBPO) the uniform proposal's, since the
probability of their final pick depends on every candidate's score and has no
closed form. N q_j is the expected number of times j is among the N draws, so
the corrected sum (1/N) sum_n e^{x/t}/q is an unbiased estimate of the full
softmax's sum over the user's non-positives, and as N grows the loss and its
gradient tend to the full softmax's. Without the correction (``logq=False``)
the sum is the plain sum_n e^{x_uj_n/t}: popular items, drawn more often by a
popularity sampler, then weigh more than the full softmax would give them.

Derivatives for a unit of P positives sharing the negatives, with
S = sum_n e^{x_n/t - lq_n} and d_p = e^{x_p/t} + S:

    dL/dx_p = -(S / d_p) / t,     dL/dx_n = e^{x_n/t - lq_n} (sum_p 1/d_p) / t

**Bilateral form** (``bilateral=r``; after BSL: Wu et al., "BSL:
Understanding and improving softmax loss for recommendation", ICDE 2024, in
the form of the authors' released code for matrix factorisation, where a
batch rarely holds two positives of one user). The positive leaves the
denominator and the negatives' log-sum-exp is weighted by r (the authors'
Gowalla setting is about 1.2):

    L_i = -x_ui/t + r log sum_n e^{x_uj_n/t - lq_n}

so dL/dx_p = -1/t for every positive, never saturating, and
dL/dx_n = P r e^{x_n/t - lq_n} / (S t) for a unit of P positives. The
authors read the weight r as the softmax's robust optimisation over the
negatives' distribution extended to the positive side.

**Pairwise form** (``activation`` 'tanh', 'relu' or 'atan', scale s; after
PSL: Yang et al., "PSL: Rethinking and improving softmax loss from pairwise
perspective for recommendation", NeurIPS 2024). The softmax written over
score gaps d_n = (x_n - x_p)/s, each e^{d_n s/t} replaced by
e^{sigma(d_n) s/t} = y_n^k, k = s/t, y = e^{sigma}:

    L_i = log( 1 + sum_n y(d_n)^k e^{-lq_n} )

with y = 1 + tanh(d), max(0, 1 + d) or max(0, 1 + atan(d)). sigma(0) = 0 and
sigma(d) ~ d near 0, so the form is the plain softmax for small gaps and
bends it for large ones (the authors: a tighter bound of DCG, less weight
on the hardest negatives, which are the likeliest false ones). It costs
P x N activations a unit instead of P + N exponentials; when k is an integer
up to 64 the power is taken by repeated squaring over the row of negatives.

**Top-K weighted form** (``top_k_inv_temperature`` 1/t_w > 0, with each
user's threshold beta_u in ``threshold``; after SL@K: Yang et al., "Breaking
the Top-K barrier: advancing top-K ranking metrics optimization in
recommender systems", KDD 2025). Each positive's loss L_p, in the plain or
the pairwise form, is weighted by

    w_p = sigmoid((x_p - beta_u) / t_w),

beta_u the user's K-th largest score, so that positives the user's top K
can still hold count more than those far below it. The trainer estimates
beta_u every few epochs from the user's training positives and a uniform
sample of items (the authors estimate it from the positives and the sampled
negatives; either estimate is biased low). The weight is a constant of each
step: dL/dx_p = w_p dL_p/dx_p. The authors' released code differentiates it
too, adding w_p (1 - w_p) L_p / t_w to dL/dx_p, which pushes down the
positives near the threshold; with that term, a softmax with DNS negatives
collapsed on Gowalla's validation part (recall@20 0.028 after 20 epochs,
t_w = 1). The loop hands the form its unit's user through
:func:`~recsample.losses.base.user_group_gradients`.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit

from ..core.linalg import _FAST
from .._rng import next_int, stream
from ..evaluation.topk import _kth_largest
from .base import group_gradients, implements, user_group_gradients

#: the pairwise form's activations (``SoftmaxLoss.activation``); 0 is the plain softmax
ACTIVATIONS = {"exp": 0, "tanh": 1, "relu": 2, "atan": 3}

#: no user's top-K threshold (``SoftmaxLoss.threshold`` when the weighting is off)
NO_THRESHOLD = np.zeros(0)

SoftmaxLoss = namedtuple("SoftmaxLoss", ["inv_temperature", "logq", "bilateral", "activation",
                                         "pair_scale", "top_k_inv_temperature", "threshold"],
                         defaults=(0.0, 0, 2.0, 0.0, NO_THRESHOLD))
SoftmaxLoss.__doc__ = """The sampled softmax as the loop sees it: 1/t, the logQ correction on or off,
the negatives' weight r of the bilateral form (0: the plain softmax), the pairwise
form's activation (a value of ``ACTIVATIONS``; 0: none) and its scale s, and the
top-K weighting's 1/t_w (0: off) with each user's threshold (float64, one per user)."""
SoftmaxLoss.group = True
SoftmaxLoss.per_user = True


@njit(cache=True, inline="always")
def _negative_terms(it, x, lq, n_pos, n_neg, g, top):
    """The negatives' e^{x_n/t - lq_n - top} into ``g[n_pos:]``, with ``top``
    raised to their largest exponent first (for a stable sum); returns
    (top, their sum S e^{-top})."""
    for n in range(n_neg):
        top = max(top, x[n_pos + n] * it - lq[n])
    s = 0.0
    for n in range(n_neg):
        e = math.exp(x[n_pos + n] * it - lq[n] - top)
        g[n_pos + n] = e
        s += e
    return top, s


@implements(user_group_gradients, SoftmaxLoss)
def _softmax_user_gradients(loss, u, x, lq, n_pos, n_neg, g):
    iw = loss.top_k_inv_temperature
    return _softmax_unit(loss, iw, loss.threshold[u] if iw > 0.0 else 0.0, x, lq, n_pos,
                         n_neg, g)


@implements(group_gradients, SoftmaxLoss)
def _softmax_gradients(loss, x, lq, n_pos, n_neg, g):
    return _softmax_unit(loss, 0.0, 0.0, x, lq, n_pos, n_neg, g)


@njit(cache=True, inline="always")
def _weight(iw, beta, xp):
    """The top-K form's weight of a positive scored ``xp``: sigmoid((xp - beta) iw),
    or 1 when ``iw`` is 0 (the form is off)."""
    if iw > 0.0:
        return 1.0 / (1.0 + math.exp(-(xp - beta) * iw))
    return 1.0


@njit(cache=True, inline="always")
def _softmax_unit(loss, iw, beta, x, lq, n_pos, n_neg, g):
    """The unit's derivatives and loss in the form ``loss`` names, each
    positive weighted by :func:`_weight` (a constant of the step)."""
    it = loss.inv_temperature
    if loss.activation != 0:
        return _pairwise_gradients(it, loss.activation, loss.pair_scale, iw, beta, x, lq,
                                   n_pos, n_neg, g)
    if loss.bilateral > 0.0:
        return _bilateral_gradients(it, loss.bilateral, x, lq, n_pos, n_neg, g)
    top = -math.inf
    for r in range(n_pos):
        top = max(top, x[r] * it)
    top, s = _negative_terms(it, x, lq, n_pos, n_neg, g, top)
    value = 0.0
    inv_sum = 0.0
    for p in range(n_pos):
        z = x[p] * it - top
        d = math.exp(z) + s
        w = _weight(iw, beta, x[p])
        value += w * (math.log(d) - z)
        g[p] = -w * (s / d) * it
        inv_sum += w / d
    scale = inv_sum * it
    for n in range(n_neg):
        g[n_pos + n] *= scale
    return value


@njit(cache=True)
def _bilateral_gradients(it, r, x, lq, n_pos, n_neg, g):
    """The bilateral form's derivatives (module docstring); returns the
    unit's loss summed over its positives."""
    top, s = _negative_terms(it, x, lq, n_pos, n_neg, g, -math.inf)
    value = n_pos * r * (math.log(s) + top)
    for p in range(n_pos):
        value -= x[p] * it
        g[p] = -it
    push = n_pos * r * it / s
    for n in range(n_neg):
        g[n_pos + n] *= push
    return value



@njit(cache=True, inline="always")
def _lifted(kind, d):
    """y = e^{sigma(d)} of the pairwise form and dy/dd (module docstring);
    y <= 0 where the form gives the pair no weight."""
    if kind == 1:
        y = 2.0 / (1.0 + math.exp(-2.0 * d))  # 1 + tanh(d)
        return y, y * (2.0 - y)
    if kind == 2:
        return 1.0 + d, 1.0
    return 1.0 + math.atan(d), 1.0 / (1.0 + d * d)


@njit(cache=True, fastmath=_FAST)
def _pairwise_gradients(it, kind, s, iw, beta, x, lq, n_pos, n_neg, g):
    """The pairwise form's derivatives (module docstring), each positive
    weighted by :func:`_weight`; returns the unit's loss summed over its
    positives.

    Each negative's term e^{k sigma(d) - lq} is written r^k w with
    r = y / ref, y = e^{sigma(d)}, k = s / t, w = e^{-lq - top_w} <= 1 and
    ref >= 1 the largest y of the positive's negatives, so that every term
    is at most 1. The loops over the negatives have no branches, so LLVM
    vectorises them; an integer power is taken bit by bit over the row."""
    k = s * it
    k_int = 0
    if 1.0 <= k <= 64.0 and k == math.floor(k):
        k_int = int(k)
    inv_s = 1.0 / s
    top_x = -math.inf
    top_w = -math.inf
    for n in range(n_neg):
        g[n_pos + n] = 0.0
        top_x = max(top_x, x[n_pos + n])
        top_w = max(top_w, -lq[n])
    scratch = np.empty((6, n_neg))
    w, xs, r, dy, rk, b = scratch[0], scratch[1], scratch[2], scratch[3], scratch[4], scratch[5]
    for n in range(n_neg):
        w[n] = math.exp(-lq[n] - top_w)
        xs[n] = x[n_pos + n] * inv_s
    value = 0.0
    for p in range(n_pos):
        xp = x[p] * inv_s
        ref = max(1.0, _lifted(kind, top_x * inv_s - xp)[0])  # y increases with d
        inv_ref = 1.0 / ref
        # r = y / ref and dy = (dy/dd) / ref, both 0 where the pair has no weight
        if kind == 2:
            for n in range(n_neg):
                y = 1.0 + (xs[n] - xp)
                on = y > 0.0
                r[n] = y * inv_ref if on else 0.0
                dy[n] = inv_ref if on else 0.0
        else:
            for n in range(n_neg):
                y, d1 = _lifted(kind, xs[n] - xp)
                on = y > 0.0
                r[n] = y * inv_ref if on else 0.0
                dy[n] = d1 * inv_ref if on else 0.0
        # rk = r^(k - 1)
        if k_int > 0:
            for n in range(n_neg):
                rk[n] = 1.0
                b[n] = r[n]
            e = k_int - 1
            while e > 0:
                if e & 1:
                    for n in range(n_neg):
                        rk[n] *= b[n]
                e >>= 1
                if e > 0:
                    for n in range(n_neg):
                        b[n] *= b[n]
        else:
            for n in range(n_neg):
                rk[n] = math.exp((k - 1.0) * math.log(r[n])) if r[n] > 0.0 else 0.0
        den = math.exp(-top_w - k * math.log(ref))  # the positive's own term
        pull = 0.0
        for n in range(n_neg):
            wn = rk[n] * w[n]
            den += wn * r[n]
            dy[n] *= wn
            pull += dy[n]
        wp = _weight(iw, beta, x[p])
        scale = wp * it / den
        for n in range(n_neg):
            g[n_pos + n] += dy[n] * scale
        g[p] = -pull * scale
        value += wp * (math.log(den) + k * math.log(ref) + top_w)
    return value


@njit(cache=True, nogil=True, fastmath=_FAST)
def top_k_thresholds(U, V, item_norms, indptr, indices, k, has_bias, cosine, top_k, n_sample,
                     seed, epoch, lo, hi, out):
    """Into ``out[lo:hi]``, each user's top-K threshold: the ``top_k``-th
    largest score (as the loop scores: dot product, or cosine plus the item
    bias) among the user's training positives and ``n_sample`` items drawn
    uniformly (the stream of (seed, epoch, user)). ``item_norms``: the
    length of each item row's first ``k`` columns (read for cosines only)."""
    n_items = V.shape[0]
    for u in range(lo, hi):
        a = indptr[u]
        n_pos = indptr[u + 1] - a
        m = n_pos + n_sample
        sc = np.empty(m)
        st = stream(seed, epoch, u)
        su = 0.0
        for f in range(k):
            su += np.float64(U[u, f]) * U[u, f]
        nu = math.sqrt(max(su, 1e-24))
        for r in range(m):
            j = indices[a + r] if r < n_pos else next_int(st, n_items)
            d = 0.0
            for f in range(k):
                d += np.float64(U[u, f]) * V[j, f]
            v = d / (nu * max(item_norms[j], 1e-12)) if cosine else d
            if has_bias:
                v += V[j, k]
            sc[r] = v
        if m <= top_k:
            out[u] = sc.min()
        else:
            out[u] = _kth_largest(sc, top_k)
