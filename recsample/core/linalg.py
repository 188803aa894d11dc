"""Small compiled linear-algebra helpers shared by the samplers and losses:
dot products of factor rows, indexed in two dimensions (no row views, so no
reference counts), and the fastmath flags that let LLVM vectorise them.
"""
import math

import numpy as np
from numba import njit

_FAST = {"reassoc", "contract", "nsz", "arcp"}  # lets LLVM vectorise the reductions


@njit(cache=True, fastmath=_FAST)
def dot(U, u, V, j):
    """U[u] . V[j] in float32.

    Indexed in two dimensions, not through row views: a view takes and
    releases a reference on the array (an atomic update of a counter all
    threads share) that LLVM does not always remove, and WARP's draw loop
    paid eight of them per candidate."""
    acc = np.float32(0.0)
    for f in range(U.shape[1]):
        acc += U[u, f] * V[j, f]
    return acc


@njit(cache=True, fastmath=_FAST)
def dot2(U, u, V, i, j):
    """(U[u] . V[i], U[u] . V[j]) in one pass over U[u] (indexed as in :func:`dot`)."""
    x = np.float32(0.0)
    y = np.float32(0.0)
    for f in range(U.shape[1]):
        a = U[u, f]
        x += a * V[i, f]
        y += a * V[j, f]
    return x, y


@njit(cache=True, inline="always")
def inv_row_norm(U, u, k):
    """1 / |U[u, :k]| for a cosine score of the first k columns, or 1.0 for
    k = 0 (dot products: no norm is taken)."""
    if k == 0:
        return 1.0
    s = np.float32(0.0)
    for f in range(k):
        s += U[u, f] * U[u, f]
    return 1.0 / math.sqrt(max(np.float64(s), 1e-24))


@njit(cache=True, fastmath=_FAST)
def cosine_score(U, u, V, j, k, inv_nu):
    """The cosine of U[u, :k] and V[j, :k] (``inv_nu`` = 1 / |U[u, :k]|),
    plus V[j, k] when V is wider (the item bias), in float64."""
    x = np.float32(0.0)
    n = np.float32(0.0)
    for f in range(k):
        x += U[u, f] * V[j, f]
        n += V[j, f] * V[j, f]
    s = np.float64(x) * inv_nu / math.sqrt(max(np.float64(n), 1e-24))
    if V.shape[1] > k:
        s += np.float64(V[j, k])
    return s


@njit(cache=True, inline="always")
def model_score(U, u, V, j, k, inv_nu):
    """x_uj as the model ranks by it, in float64: the dot product of the
    whole rows (k = 0), or the cosine of their first k columns
    (``inv_nu`` = :func:`inv_row_norm` of U[u]) plus the item bias in column
    k when V is wider (:func:`cosine_score`). What a sampler that scores
    candidates compares, so that it ranks them as the model it trains does.
    Inlined into its caller, the two sums in functions of their own (which
    keep their fastmath flags). A draw whose dot-product speed matters may
    branch on k itself and call :func:`dot` or :func:`cosine_score`: SRNS's
    draws scored through this function trained BPR 5-15% slower than with
    the branch written out (movielens-small, one thread)."""
    if k == 0:
        return np.float64(dot(U, u, V, j))
    return cosine_score(U, u, V, j, k, inv_nu)
