"""Cosine contrastive loss (CCL; Mao et al., "SimpleX: A Simple and Strong
Baseline for Collaborative Filtering", CIKM 2021).

For a positive i of user u and negatives j_1..j_N, with similarity x (cosine
by default, where the margin has its meaning), margin m and negative weight w:

    L_i = max(0, 1 - x_ui) + (w / N) sum_n max(0, x_uj_n - m)

Only negatives more similar than the margin carry a gradient, so a large N
mostly costs the scoring; the loop skips the rows with a zero derivative.
"""
from collections import namedtuple

from .base import group_gradients, implements

CCLLoss = namedtuple("CCLLoss", ["margin", "negative_weight"])
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
    for n in range(n_neg):
        h = x[n_pos + n] - loss.margin
        if h > 0.0:
            value += w * h
            g[n_pos + n] = w
        else:
            g[n_pos + n] = 0.0
    return value
