"""Adaptive oversampling (Rendle & Freudenthaler, WSDM 2014, "Improving
pairwise learning for item recommendation from implicit feedback").

A negative for user u is drawn in three steps:

1. a rank r in {0, ..., |I| - 1} with p(r) proportional to exp(-r / lambda),
   lambda = ``rank_scale`` * |I| (the paper's lambda, given here as a fraction
   of the catalogue so one value serves catalogues of any size);
2. a factor f with p(f | u) proportional to |u_f| * sd_f, sd_f the standard
   deviation of column f of the item factors over all items;
3. the item at rank r of the items ordered by their value in factor f,
   largest first when u_f > 0 and smallest first otherwise.

Items with a large |u_f v_jf| are the ones scored high through factor f, so the
draw approximates "an item the model ranks near r for u" without scoring the
catalogue. A training positive is rejected and the three steps redrawn; after
``MAX_REJECTIONS`` rejections in a row (a user whose positives crowd the top of
every ordering) the draw falls back to a uniform non-positive.

The orderings and deviations are rebuilt from the current item factors every
``refresh_every`` * |I| ln |I| draws (the paper's |I| log |I|, which makes their
O(F |I| log |I|) cost constant per draw when amortised) and at every epoch's
start. Every column of the factors takes part, the folded item-bias column
included (the user's constant 1 there makes it "the items with the largest
bias"), so the factors sum to exactly the score the model ranks by.

Step 1 is sampled by inverting the truncated geometric distribution in
floating point: r = floor(-lambda ln(1 + U (e^(-|I|/lambda) - 1))). (A widely
copied Java port computes exp(-r / lambda) with integer division, which
samples a step function instead.)
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit, prange, types

from .._intrinsics import borrow, frame_array, prefetch_row
from .._rng import next_float
from ..core.hooks import draw, implements, refresh
from ..core.linalg import _FAST
from ..core.positives import bit_is_set, draw_non_positive, in_sorted_row, positives_arrays
from ..core.validation import as_csr
from .base import Sampler

#: ``order[f]`` the items sorted by V[:, f] (largest first), ``spread[f]`` the
#: standard deviation of V[:, f]
#: ``tail`` = expm1(-|I| / lam), the one constant of the rank draw
AOBPRState = namedtuple("AOBPRState", ["lam", "tail", "order", "spread"])
AOBPRState.refreshes = True  # read by the generic refresh: this state brings its own

MAX_REJECTIONS = 64


@njit(cache=True, inline="always")
def geometric_rank(lam, tail, n_items, u01):
    """r in [0, n_items) with p(r) proportional to exp(-r / lam), by inversion;
    ``tail`` = expm1(-n_items / lam)."""
    r = np.int64(-lam * math.log1p(u01 * tail))
    return min(r, n_items - 1)


#: factor weights of one draw live in its frame when there are at most this many
MAX_FRAME_FACTORS = 256
_cumulative = frame_array(types.float64, MAX_FRAME_FACTORS)


@njit(cache=True)
def aobpr_negative(state, pos, u, U, V, rng):
    # the arrays are borrowed out of the tuples once per draw: reading them
    # there takes and releases a shared reference count, which stalled the
    # draw behind its loads (perf); expm1 is the state's
    lam = state.lam
    tail = state.tail
    order = borrow(state.order)
    spread = borrow(state.spread)
    indptr, indices, bits = positives_arrays(pos)
    words = pos.words
    n_items = pos.n_items
    start = indptr[u]
    deg = indptr[u + 1] - start
    if deg >= n_items:
        return -1
    n_factors = min(order.shape[0], U.shape[1], MAX_FRAME_FACTORS)
    # cumulative |u_f| sd_f, once per draw: a rejected item redraws only the search
    cum = _cumulative()
    total = 0.0
    for f in range(n_factors):
        total += abs(np.float64(U[u, f])) * spread[f]
        cum[f] = total
    if total > 0.0:
        row = u * words
        for _ in range(MAX_REJECTIONS):
            r = geometric_rank(lam, tail, n_items, next_float(rng))
            target = next_float(rng) * total
            # the first f with target < cum[f], counted without branches (a
            # bisection mispredicts about every other step); rounding can
            # leave target >= the final sum: then the last factor (and so for
            # a NaN target, as the bisection did)
            f = 0
            for k in range(n_factors):
                f += not (target < cum[k])
            f = min(f, n_factors - 1)
            j = order[f, r] if U[u, f] > 0 else order[f, n_items - 1 - r]
            # the trainer reads j's row next: load it while j's membership is tested
            prefetch_row(V, j)
            if words > 0:
                if not bit_is_set(bits, row, j):
                    return j
            elif not in_sorted_row(indices, start, start + deg, j):
                return j
    return draw_non_positive(indices, bits, words, n_items, u, start, deg, rng)


#: digit widths of the radix sort of 32-bit keys: three passes of at most 11
#: bits (2,048 counters: they stay in the first-level cache)
_SHIFTS = (0, 11, 22)
_DIGIT = 2048


@njit(cache=True)
def _radix_order(keys, out):
    """out = the indices 0..n-1 sorted by uint32 ``keys`` (ascending, ties by
    index): a stable LSD radix sort, three passes of 11 bits. Each key
    travels packed with its index in one 64-bit word (key above, index
    below), so a pass reads and writes one array in sequence; the three
    histograms come from the same read of the keys that packs them; a pass
    whose digit is the same for every key (the top bits of values of one
    magnitude) is skipped."""
    n = keys.shape[0]
    count = np.zeros((3, _DIGIT + 1), dtype=np.int64)
    mask = np.uint32(_DIGIT - 1)
    a = np.empty(n, dtype=np.uint64)
    for t in range(n):
        k = keys[t]
        count[0, (k & mask) + 1] += 1
        count[1, ((k >> np.uint32(11)) & mask) + 1] += 1
        count[2, (k >> np.uint32(22)) + 1] += 1
        a[t] = (np.uint64(k) << np.uint64(32)) | np.uint64(t)
    b = np.empty(n, dtype=np.uint64)
    mask64 = np.uint64(_DIGIT - 1)
    for p in range(3):
        c = count[p]
        if c.max() == n:
            continue   # one digit value for every key: the order stays as it is
        for d in range(_DIGIT):
            c[d + 1] += c[d]
        shift = np.uint64(32 + _SHIFTS[p])
        for t in range(n):
            x = a[t]
            d = (x >> shift) & mask64
            dst = c[d]
            c[d] = dst + 1
            b[dst] = x
        a, b = b, a
    for t in range(n):
        out[t] = np.int32(a[t] & np.uint64(0xFFFFFFFF))


@njit(cache=True, fastmath=_FAST)
def _spread(col):
    """The standard deviation of a float32 column, summed in float64 (in
    any order: the sums are left to vectorise)."""
    n = col.shape[0]
    total = 0.0
    for j in range(n):
        total += np.float64(col[j])
    mean = total / n
    var = 0.0
    for j in range(n):
        var += (np.float64(col[j]) - mean) ** 2
    return math.sqrt(var / n)


#: rows of V copied per step of the transposition (64 rows of 65 floats stay
#: in the first-level cache while their columns are written out)
_TILE = 64


@njit(cache=True, parallel=True)
def _columns(V, cols, width):
    """cols[f, j] = V[j, f], copied tile by tile of V's rows: V is read once,
    in sequence, instead of once per column with a stride of a whole row."""
    n_items = V.shape[0]
    for t in prange((n_items + _TILE - 1) // _TILE):
        lo = t * _TILE
        hi = min(lo + _TILE, n_items)
        for f in range(width):
            for j in range(lo, hi):
                cols[f, j] = V[j, f]


@njit(cache=True, parallel=True)
def rebuild_orderings(V, order, spread):
    """order[f] = the items by V[:, f], largest first (ties by item index);
    spread[f] = sd of V[:, f]. Rows of ``order`` beyond V's columns get
    spread 0 and are never chosen.

    The columns are copied out of V in tiles, their float32 values mapped to
    unsigned integers that sort the other way round, and radix-sorted
    (:func:`_radix_order`). The refreshes are most of what AOBPR costs
    beyond uniform sampling; docs/performance.md gives the measured times."""
    n_items = V.shape[0]
    width = min(V.shape[1], order.shape[0])
    spread[width:] = 0.0
    cols = np.empty((width, n_items), dtype=np.float32)
    _columns(V, cols, width)
    for f in prange(width):
        col = cols[f]
        spread[f] = _spread(col)
        bits = col.view(np.uint32)
        keys = np.empty(n_items, dtype=np.uint32)
        for j in range(n_items):
            b = bits[j]
            # IEEE bits made to sort as the values do, then flipped: largest first
            b = ~b if b >> np.uint32(31) else b | np.uint32(0x80000000)
            keys[j] = ~b
        _radix_order(keys, order[f])


@implements(draw, AOBPRState)
def _draw_aobpr(state, pos, u, i, U, V, rng):
    return aobpr_negative(state, pos, u, U, V, rng)


@implements(refresh, AOBPRState)
def _refresh_aobpr(state, pos, U, V, seed, epoch, end_of_epoch):
    if not end_of_epoch:  # the next epoch's start rebuilds them anyway
        rebuild_orderings(V, state.order, state.spread)


class AOBPR(Sampler):
    """Adaptive, context-dependent oversampling of items ranked high by the
    current model (see the module docstring).

    At most 256 factor columns take part in the draw (the rest are never
    chosen).

    Parameters
    ----------
    rank_scale : float
        lambda / |I|: ranks are drawn with p(r) proportional to
        exp(-r / (rank_scale |I|)), so the mean rank is about rank_scale |I|
        (for rank_scale well below 1). Smaller is harder.
    refresh_every : float
        The orderings are rebuilt every refresh_every * |I| ln |I| draws
        (1, the paper's schedule) and at the start of every epoch.
    """

    name = "aobpr"
    # benchmarks/studies/tune_per_sampler.py (README, "Defaults per sampler"): the grid
    # point whose worst validation NDCG@10 over movielens-small, the synthetic
    # set and nbpo-amazon, relative to uniform at BPR's defaults, is highest
    # (at lr 0.05, reg 0.01 AOBPR fell 7-30% below uniform on two of them)
    recommended = {"bpr": {"learning_rate": 0.03, "regularization": 0.03, "epochs": 30},
                   "bpo": {"learning_rate": 0.03, "regularization": 0.1, "epochs": 55}}
    # the group losses: ranks drawn from the top 5% put CCL's 256 negatives
    # inside its margin (0.46 x popularity on nbpo-amazon's test part) and the
    # softmax at 0.99 x there. Of 0.05, 0.2 and 1.0, the best worst share over
    # movielens-small and nbpo-amazon's validation parts: 0.2 for CCL, 1.0
    # for the softmax (benchmarks/results/group_samplers_grid.csv)
    loss_arguments = {"ccl": {"rank_scale": 0.2}, "softmax": {"rank_scale": 1.0}}
    needs_model = True

    def __init__(self, rank_scale: float = 0.05, refresh_every: float = 1.0):
        self.rank_scale = rank_scale
        self.refresh_every = refresh_every

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        for name in ("rank_scale", "refresh_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or not np.isscalar(v) or not np.isfinite(v) or v <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        n_items = as_csr(train, "train").shape[1]
        # one row per factor, and one for a folded item-bias column
        width = (1 if n_factors is None else int(n_factors)) + 1
        lam = np.float64(self.rank_scale * n_items)
        return AOBPRState(lam, np.float64(math.expm1(-n_items / lam)),
                          np.zeros((width, n_items), dtype=np.int32), np.zeros(width))

    def refresh_interval(self, state) -> int:
        n_items = state.order.shape[1]
        return max(1, int(self.refresh_every * n_items * math.log(max(n_items, 2))))
