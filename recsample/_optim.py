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

ADAGRAD  row-wise Adagrad (Duchi, Hazan & Singer, JMLR 2011, with one
         accumulator per row, as large embedding tables are often trained):

             a += mean_f d_f^2;   W[r] -= lr d / (sqrt(a) + eps)

         One float of state per row instead of Adam's two rows, so on data
         larger than the caches a step touches a third of Adam's memory
         (measured on Gowalla, softmax N = 256: see README, "Losses").

         An item bias (the last column of V with ``use_bias``) is a parameter
         of its own kind and keeps an accumulator of its own, a += d_b^2
         (``adagrad_item_row``). Sharing the row's, the bias's derivative,
         as large as the sum of the factors' and alone in its column,
         dominated the mean and shrank every factor step of the row: on
         Gowalla's validation part the softmax with the bias reached recall@20
         0.1980 at 40 epochs with the shared accumulator and 0.2062 with its
         own (docs/results-gowalla.md).

Only the first ``n_cols`` columns of a row move: the constant 1 that turns the
last column of V into an item bias stays 1 in U.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit

#: Adam's bias correction sqrt(1 - b2^t) / (1 - b1^t) is tabulated for the
#: first steps of a row; beyond them it is 1 to float32 precision for the
#: usual betas (0.999^20000 < 3e-9)
_BIAS_FREE_STEPS = 20000

SGD = 0
BATCH = 1
ADAM = 2
ADAGRAD = 3
OPTIMIZERS = {"sgd": SGD, "batch": BATCH, "adam": ADAM, "adagrad": ADAGRAD}

#: The optimizer as the compiled loop sees it. ``dU``/``dV`` are the batch
#: sums (BATCH), ``mU``, ``vU``, ``mV``, ``vV`` the Adam moments and ``tU``,
#: ``tV`` the per-row step counts (ADAM); for ADAGRAD ``mU`` has one column,
#: the rows' accumulators, and ``mV`` two, the rows' and their item biases';
#: arrays a kind does not use are empty.
Optim = namedtuple("Optim", ["kind", "dU", "dV", "mU", "vU", "mV", "vV", "tU", "tV",
                             "beta1", "beta2", "eps", "correction"])
#: the same fields for plain SGD, as a type of its own: the pair loss's loop
#: then compiles without the row-wise optimizers' step (``_optim_pair``, a
#: fifth of a cold first fit), which SGD never takes
SGDOptim = namedtuple("SGDOptim", Optim._fields)

#: flags that let LLVM vectorise the row loops; the row functions also use
#: numpy's error model, since the default check of every float division for
#: zero keeps a loop with a division from vectorising (measured: Adam's row
#: update 357 -> 48 ns for 64 factors)
_FAST = {"reassoc", "contract", "nsz", "arcp", "afn"}

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8


def make_optim(kind, U, V, beta1=ADAM_BETAS[0], beta2=ADAM_BETAS[1], eps=ADAM_EPS):
    """The :class:`Optim` for factor matrices ``U``, ``V`` ("sgd", "batch" or "adam")."""
    code = OPTIMIZERS[kind]
    width = U.shape[1]
    empty = np.zeros((0, width), dtype=np.float32)
    none = np.zeros(0, dtype=np.int64)
    flat = np.zeros(0)
    if code == BATCH:
        return Optim(code, np.zeros_like(U), np.zeros_like(V), empty, empty, empty, empty,
                     none, none, 0.0, 0.0, 0.0, flat)
    if code == ADAM:
        t = np.arange(_BIAS_FREE_STEPS, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            correction = np.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
        correction[0] = 0.0  # step counts start at 1
        return Optim(code, empty, empty, np.zeros_like(U), np.zeros_like(U), np.zeros_like(V),
                     np.zeros_like(V), np.zeros(U.shape[0], dtype=np.int64),
                     np.zeros(V.shape[0], dtype=np.int64), float(beta1), float(beta2),
                     float(eps), correction)
    if code == ADAGRAD:
        return Optim(code, empty, empty, np.zeros((U.shape[0], 1), dtype=np.float32), empty,
                     np.zeros((V.shape[0], 2), dtype=np.float32), empty, none, none, 0.0, 0.0,
                     float(eps), flat)
    return SGDOptim(code, empty, empty, empty, empty, empty, empty, none, none, 0.0, 0.0, 0.0,
                    flat)


@njit(cache=True, inline="always")
def adagrad_row(W, acc, r, grad, n_cols, lr, reg, eps):
    """Row-wise Adagrad step of row ``r`` (``grad`` is overwritten with the
    decayed direction)."""
    rg = np.float32(reg)
    s = np.float32(0.0)
    for f in range(n_cols):
        d = grad[f] + rg * W[r, f]
        grad[f] = d
        s += d * d
    a = acc[r, 0] + s / np.float32(n_cols)
    acc[r, 0] = a
    rate = np.float32(lr) / (np.float32(np.sqrt(a)) + np.float32(eps))
    for f in range(n_cols):
        W[r, f] -= rate * grad[f]


@njit(cache=True, inline="always")
def adagrad_item_row(W, acc, r, grad, k, has_bias, lr, reg, eps):
    """Row-wise Adagrad step of item row ``r``: its ``k`` factors with the
    row's accumulator ``acc[r, 0]``, and, when ``has_bias``, its bias in
    column ``k`` with the bias's own ``acc[r, 1]`` (see the module
    docstring). ``grad[k]`` is the bias's direction without the L2 term
    ``reg * W[r, k]``, as for the factors."""
    if has_bias:
        d = grad[k] + np.float32(reg) * W[r, k]
        b = acc[r, 1] + d * d
        acc[r, 1] = b
        W[r, k] -= np.float32(lr) * d / (np.float32(np.sqrt(b)) + np.float32(eps))
    adagrad_row(W, acc, r, grad, k, lr, reg, eps)


@njit(cache=True, inline="always")
def move_row(kind, W, m, v, t, dW, corr, beta1, beta2, eps, r, grad, n_cols, lr, reg):
    """Move row ``r`` of ``W`` (the first ``n_cols`` columns) by the descent
    direction ``grad`` plus ``reg * W[r]``, as optimizer ``kind`` does (see
    the module docstring; ``m``, ``v``, ``t`` are Adam's, ``dW`` the batch
    sums). Compiled on its own with fastmath flags, where its loops
    vectorise (inlined into a strict caller they would not)."""
    if kind == ADAM:
        # written out once more in losses.base.update_unit, for speed (see there)
        t[r] += 1
        step = t[r]
        rate = np.float32(lr * (corr[step] if step < corr.shape[0] else 1.0))
        b1 = np.float32(beta1)
        b2 = np.float32(beta2)
        c1 = np.float32(1.0 - beta1)
        c2 = np.float32(1.0 - beta2)
        e = np.float32(eps)
        rg = np.float32(reg)
        for f in range(n_cols):
            d = grad[f] + rg * W[r, f]
            mf = b1 * m[r, f] + c1 * d
            vf = b2 * v[r, f] + c2 * d * d
            m[r, f] = mf
            v[r, f] = vf
            W[r, f] -= rate * mf / (np.float32(math.sqrt(vf)) + e)
    elif kind == ADAGRAD:
        adagrad_row(W, m, r, grad, n_cols, lr, reg, eps)
    elif kind == BATCH:
        for f in range(n_cols):
            dW[r, f] -= grad[f]
    else:
        a = np.float32(lr)
        keep = np.float32(1.0 - lr * reg)
        for f in range(n_cols):
            W[r, f] = keep * W[r, f] - a * grad[f]
