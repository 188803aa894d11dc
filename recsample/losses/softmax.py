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
"""
from collections import namedtuple
import math

from numba import njit

from .base import group_gradients, implements

SoftmaxLoss = namedtuple("SoftmaxLoss", ["inv_temperature", "logq", "bilateral"],
                         defaults=(0.0,))
SoftmaxLoss.__doc__ = """The sampled softmax as the loop sees it: 1/t, the logQ correction on or off,
and the negatives' weight r of the bilateral form (0: the plain softmax)."""
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
