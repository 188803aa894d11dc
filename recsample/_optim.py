"""How a row of factors moves, for every loss: SGD, the batch sums, or Adam.

The training loop hands each touched row its descent direction ``grad`` (the
derivative of the loss, without the L2 term) and the optimizer adds the L2
term ``reg * W[r]`` itself:

SGD      W[r] -= lr (grad + reg W[r])                      (Hogwild across threads)
BATCH    dW[r] -= grad; at the end of the batch W += lr (dW - reg W) on every row
         (the NBPO authors' scheme, see ``_train.apply_batch``)
ADAM     lazy Adam (Kingma & Ba, ICLR 2015) on the touched rows only: each row
         keeps its own first and second moments and its own step count t, so a
         row's bias correction counts the steps it took, not the steps of the
         whole run; a row no step touches costs nothing.

             m = b1 m + (1 - b1) d;  v = b2 v + (1 - b2) d^2,   d = grad + reg W[r]
             W[r] -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

Only the first ``n_cols`` columns of a row move: the constant 1 that turns the
last column of V into an item bias stays 1 in U.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit

SGD = 0
BATCH = 1
ADAM = 2
OPTIMIZERS = {"sgd": SGD, "batch": BATCH, "adam": ADAM}

#: The optimizer as the compiled loop sees it. ``dU``/``dV`` are the batch
#: sums (BATCH), ``mU``, ``vU``, ``mV``, ``vV`` the Adam moments and ``tU``,
#: ``tV`` the per-row step counts (ADAM); arrays a kind does not use are empty.
Optim = namedtuple("Optim", ["kind", "dU", "dV", "mU", "vU", "mV", "vV", "tU", "tV",
                             "beta1", "beta2", "eps"])

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def make_optim(kind, U, V, beta1=ADAM_BETAS[0], beta2=ADAM_BETAS[1], eps=ADAM_EPS):
    """The :class:`Optim` for factor matrices ``U``, ``V`` ("sgd", "batch" or "adam")."""
    code = OPTIMIZERS[kind]
    width = U.shape[1]
    empty = np.zeros((0, width), dtype=np.float32)
    none = np.zeros(0, dtype=np.int64)
    if code == BATCH:
        return Optim(code, np.zeros_like(U), np.zeros_like(V), empty, empty, empty, empty,
                     none, none, 0.0, 0.0, 0.0)
    if code == ADAM:
        return Optim(code, empty, empty, np.zeros_like(U), np.zeros_like(U), np.zeros_like(V),
                     np.zeros_like(V), np.zeros(U.shape[0], dtype=np.int64),
                     np.zeros(V.shape[0], dtype=np.int64), float(beta1), float(beta2),
                     float(eps))
    return Optim(code, empty, empty, empty, empty, empty, empty, none, none, 0.0, 0.0, 0.0)


@njit(cache=True, inline="always")
def _adam_row(W, m, v, t, r, grad, lr, reg, n_cols, beta1, beta2, eps):
    t[r] += 1
    step = t[r]
    rate = np.float32(lr * math.sqrt(1.0 - beta2 ** step) / (1.0 - beta1 ** step))
    b1 = np.float32(beta1)
    b2 = np.float32(beta2)
    c1 = np.float32(1.0 - beta1)
    c2 = np.float32(1.0 - beta2)
    e = np.float32(eps)
    rg = np.float32(reg)
    w = W[r]
    mr = m[r]
    vr = v[r]
    for f in range(n_cols):
        d = grad[f] + rg * w[f]
        mf = b1 * mr[f] + c1 * d
        vf = b2 * vr[f] + c2 * d * d
        mr[f] = mf
        vr[f] = vf
        w[f] -= rate * mf / (np.sqrt(vf) + e)


@njit(cache=True, inline="always")
def apply_user(opt, U, r, grad, lr, reg, n_cols):
    """Move user row ``r`` by the descent direction ``grad`` (see module doc)."""
    if opt.kind == ADAM:
        _adam_row(U, opt.mU, opt.vU, opt.tU, r, grad, lr, reg, n_cols, opt.beta1,
                  opt.beta2, opt.eps)
    elif opt.kind == BATCH:
        d = opt.dU[r]
        for f in range(n_cols):
            d[f] -= grad[f]
    else:
        w = U[r]
        a = np.float32(lr)
        keep = np.float32(1.0 - lr * reg)
        for f in range(n_cols):
            w[f] = keep * w[f] - a * grad[f]


@njit(cache=True, inline="always")
def apply_item(opt, V, r, grad, lr, reg, reg_b, n_factors, has_bias):
    """Move item row ``r``; its bias column (when there is one) decays with ``reg_b``."""
    if opt.kind == ADAM:
        # the bias column shares the row's moments; its decay is reg_b, not reg
        if has_bias:
            grad[n_factors] += np.float32(reg_b - reg) * V[r, n_factors]
        _adam_row(V, opt.mV, opt.vV, opt.tV, r, grad, lr, reg, n_factors + has_bias,
                  opt.beta1, opt.beta2, opt.eps)
    elif opt.kind == BATCH:
        d = opt.dV[r]
        for f in range(n_factors + has_bias):
            d[f] -= grad[f]
    else:
        w = V[r]
        a = np.float32(lr)
        keep = np.float32(1.0 - lr * reg)
        for f in range(n_factors):
            w[f] = keep * w[f] - a * grad[f]
        if has_bias:
            w[n_factors] = np.float32(1.0 - lr * reg_b) * w[n_factors] - a * grad[n_factors]
