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
up to 64 the power is taken by repeated multiplication.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit

from .base import group_gradients, implements

#: the pairwise form's activations (``SoftmaxLoss.activation``); 0 is the plain softmax
ACTIVATIONS = {"exp": 0, "tanh": 1, "relu": 2, "atan": 3}

SoftmaxLoss = namedtuple("SoftmaxLoss", ["inv_temperature", "logq", "bilateral", "activation",
                                         "pair_scale"],
                         defaults=(0.0, 0, 2.0))
SoftmaxLoss.__doc__ = """The sampled softmax as the loop sees it: 1/t, the logQ correction on or off,
the negatives' weight r of the bilateral form (0: the plain softmax), the pairwise
form's activation (a value of ``ACTIVATIONS``; 0: none) and its scale s."""
SoftmaxLoss.group = True


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


@implements(group_gradients, SoftmaxLoss)
def _softmax_gradients(loss, x, lq, n_pos, n_neg, g):
    it = loss.inv_temperature
    if loss.activation != 0:
        return _pairwise_gradients(it, loss.activation, loss.pair_scale, x, lq, n_pos, n_neg, g)
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
        value += math.log(d) - z
        g[p] = -(s / d) * it
        inv_sum += 1.0 / d
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


@njit(cache=True, inline="always")
def _power(r, k, k_int):
    """r^k for r >= 0: by repeated squaring when k is the integer k_int > 0."""
    if k_int > 0:
        out = 1.0
        base = r
        e = k_int
        while e > 0:
            if e & 1:
                out *= base
            base *= base
            e >>= 1
        return out
    if r <= 0.0:
        return 0.0
    return math.exp(k * math.log(r))


@njit(cache=True)
def _pairwise_gradients(it, kind, s, x, lq, n_pos, n_neg, g):
    """The pairwise form's derivatives (module docstring); returns the
    unit's loss summed over its positives.

    Each negative's term e^{k sigma(d) - lq} is written (y / ref)^k w with
    y = e^{sigma(d)}, k = s / t, w = e^{-lq - top_w} <= 1 and ref >= 1 the
    largest y of the positive's negatives, so that every term is at most 1."""
    k = s * it
    k_int = 0
    if 1.0 <= k <= 64.0 and k == math.floor(k):
        k_int = int(k)
    k_less = k - 1.0
    k_less_int = k_int - 1 if k_int > 1 else 0
    top_x = -math.inf
    top_w = -math.inf
    for n in range(n_neg):
        g[n_pos + n] = 0.0
        top_x = max(top_x, x[n_pos + n])
        top_w = max(top_w, -lq[n])
    w = np.empty(n_neg)
    a = np.empty(n_neg)
    for n in range(n_neg):
        w[n] = math.exp(-lq[n] - top_w)
    value = 0.0
    for p in range(n_pos):
        xp = x[p]
        ref = max(1.0, _lifted(kind, (top_x - xp) / s)[0])  # y increases with d
        inv_ref = 1.0 / ref
        den = math.exp(-top_w) * _power(inv_ref, k, k_int)  # the positive's own term
        for n in range(n_neg):
            y, dy = _lifted(kind, (x[n_pos + n] - xp) / s)
            if y <= 0.0:
                a[n] = 0.0
                continue
            r = y * inv_ref
            rk1 = _power(r, k_less, k_less_int) if k_int != 1 else 1.0
            a[n] = rk1 * w[n] * dy * inv_ref
            den += rk1 * r * w[n]
        push = 0.0
        scale = it / den
        for n in range(n_neg):
            gn = a[n] * scale
            g[n_pos + n] += gn
            push += gn
        g[p] = -push
        value += math.log(den) + k * math.log(ref) + top_w
    return value
