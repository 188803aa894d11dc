"""Dynamic negative sampling (Zhang, Chen, Wang & Yu, SIGIR 2013): draw M
uniform non-positive candidates and keep the one the current model ranks
highest, or, with a temperature t, sample it from softmax(x_uc / t)."""
from collections import namedtuple
import math

import numpy as np
from numba import njit, types

from .._intrinsics import frame_array
from .._rng import frame_word, next_float, next_int
from ..search_space import IntRange
from .base import _FAST, Sampler, draw, implements, is_positive, nth_negative

DNSState = namedtuple("DNSState", ["candidates", "inv_temperature"])

#: candidates are drawn and scored in chunks of this many
CHUNK = 32
_chunk_slots = frame_array(types.int64, CHUNK)


@njit(cache=True, fastmath=_FAST, inline="always")
def _dot4(a, b, c, d, e):
    """(a . b, a . c, a . d, a . e) in one pass over a."""
    x0 = np.float32(0.0)
    x1 = np.float32(0.0)
    x2 = np.float32(0.0)
    x3 = np.float32(0.0)
    for f in range(a.shape[0]):
        x0 += a[f] * b[f]
        x1 += a[f] * c[f]
        x2 += a[f] * d[f]
        x3 += a[f] * e[f]
    return (x0, x1, x2, x3)


@njit(cache=True, fastmath=_FAST)
def dns_negative(candidates, inv_temperature, pos, u, U, V, rng):
    """argmax over M uniform candidates of x_uc (first wins ties), or of
    x_uc / t + Gumbel noise, which is an exact draw from softmax(x_uc / t)
    (the Gumbel-max trick).

    Up to CHUNK candidates are drawn first, into slots in this call's stack
    frame, and scored afterwards: their factor rows are then independent
    reads the processor can overlap (about 1.7x faster than scoring each as
    it is drawn), and no memory is shared with another thread. They are
    scored four per pass over U[u]. The stream is worked on through a copy in
    this frame, which LLVM keeps in a register.
    """
    n_items = pos.n_items
    start = pos.indptr[u]
    deg = pos.indptr[u + 1] - start
    if deg >= n_items:
        return -1
    picked = _chunk_slots()
    local = frame_word()
    local[0] = rng[0]
    best = -1
    best_key = -np.inf
    for first in range(0, candidates, CHUNK):
        m = min(CHUNK, candidates - first)
        # the draw of uniform_negative, written out: calling it here (inlined)
        # measured 1.7x slower per DNS(16) draw
        if 2 * deg <= n_items:
            for k in range(m):
                while True:  # rejection: fewer than two tries expected
                    j = next_int(local, n_items)
                    if not is_positive(pos, u, j):
                        break
                picked[k] = j
        else:
            for k in range(m):
                picked[k] = nth_negative(pos.indices, start, start + deg,
                                         next_int(local, n_items - deg))
        for k in range(0, m, 4):
            # four candidates per pass over U[u]: four independent sums in flight
            x = _dot4(U[u], V[picked[k]], V[picked[min(k + 1, m - 1)]],
                      V[picked[min(k + 2, m - 1)]], V[picked[min(k + 3, m - 1)]])
            for c in range(min(4, m - k)):
                key = np.float64(x[c])
                if inv_temperature > 0.0:
                    g = next_float(local)
                    key = key * inv_temperature - math.log(-math.log(g + 1e-300) + 1e-300)
                # selects, not a branch: which candidate wins is unpredictable
                better = key > best_key
                best = picked[k + c] if better else best
                best_key = key if better else best_key
    rng[0] = local[0]
    return best


@implements(draw, DNSState)
def _draw_dns(state, pos, u, U, V, rng):
    return dns_negative(state.candidates, state.inv_temperature, pos, u, U, V, rng)


class DNS(Sampler):
    """Hardest of ``candidates`` uniform negatives under the current model.

    ``temperature=None`` returns the argmax; a positive temperature samples
    candidate c with probability exp(x_uc / t) / sum_c' exp(x_uc' / t).
    Candidates are drawn with replacement, as in the paper.
    """

    name = "dns"
    needs_model = True
    search_space = {"candidates": IntRange(2, 64, log=True)}

    def __init__(self, candidates: int = 16, temperature: float | None = None):
        self.candidates = candidates
        self.temperature = temperature

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        m = self.candidates
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise ValueError(f"candidates must be an integer >= 1, got {m!r}")
        t = self.temperature
        if t is None:
            inv = 0.0
        else:
            if not np.isscalar(t) or not np.isfinite(t) or t <= 0:
                raise ValueError(f"temperature must be None or a finite number > 0, got {t!r}")
            inv = 1.0 / float(t)
        return DNSState(np.int64(m), np.float64(inv))
