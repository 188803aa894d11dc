"""Cosine contrastive loss (CCL; Mao et al., "SimpleX: A Simple and Strong
Baseline for Collaborative Filtering", CIKM 2021).

For a positive i of user u and negatives j_1..j_N, with similarity x (cosine
by default, where the margin has its meaning), margin m and negative weight w:

    L_i = max(0, 1 - x_ui) + (w / N) sum_n max(0, x_uj_n - m)

Only negatives more similar than the margin carry a gradient, so a large N
mostly costs the scoring; the loop skips the rows with a zero derivative.

The negatives' term is meant as w times the mean hinge over the user's
non-positives, which uniform draws estimate. A sampler that draws item j
with probability q_j (Popularity) would instead weigh popular items more
and push them below the rest, so that CCL trained on popularity-drawn
negatives ranks worse than popularity itself. With ``logq`` (the default)
each negative's hinge is weighted by (1/q_j) / mean_n(1/q_n),
self-normalised over the unit's draws: the estimate of the uniform mean
again. For uniform draws, and for the samplers that score uniform
candidates (DNS, NBPO, ...), whose q is the uniform proposal's, the weights
would be exactly 1, so ``rs.CCL`` turns them off (``Sampler.own_log_q``). Importance reports its proposal's q, whose popularity its
resampling has already taken out, so with a popularity proposal these
weights take it out a second time (not measured; ``logq=False`` keeps the
plain mean).
"""
import math
from collections import namedtuple

from .base import group_gradients, implements

CCLLoss = namedtuple("CCLLoss", ["margin", "negative_weight", "logq"], defaults=(False,))
CCLLoss.group = True


@implements(group_gradients, CCLLoss)
def _ccl_gradients(loss, x, lq, n_pos, n_neg, g):
    value = 0.0
    for p in range(n_pos):
        h = 1.0 - x[p]
        if h > 0.0:
            value += h
            g[p] = -1.0
        else:
            g[p] = 0.0
    # every positive of the unit has the same N negatives: their term counts
    # once per positive
    w = loss.negative_weight * n_pos / n_neg
    low = 0.0
    if loss.logq:
        # lq = ln(N q): weights (1/q_n) / mean(1/q), from the smallest lq up
        low = math.inf
        for n in range(n_neg):
            low = min(low, lq[n])
        total = 0.0
        for n in range(n_neg):
            total += math.exp(low - lq[n])
        w = w * (n_neg / total)  # exactly w when the weights are equal
    for n in range(n_neg):
        h = x[n_pos + n] - loss.margin
        if h > 0.0:
            c = w * math.exp(low - lq[n]) if loss.logq else w
            value += c * h
            g[n_pos + n] = c
        else:
            g[n_pos + n] = 0.0
    return value
