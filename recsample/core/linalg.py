"""Small compiled linear-algebra helpers shared by the samplers and losses:
dot products of factor rows, indexed in two dimensions (no row views, so no
reference counts), and the fastmath flags that let LLVM vectorise them.
"""
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
