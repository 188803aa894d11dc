"""The one training loop every (loss, sampler) pair runs.

An epoch visits every training positive once. The positives are kept as one
int64 array of packed (user << 32 | item) pairs, so the loop reads them in
sequence and never searches for a positive's user. It is split into fixed
blocks; each block gets its own random stream from (seed, epoch, block), so
the draws do not depend on which thread ran the block. A block is cut into
units, runs of at most ``group_size`` consecutive positives of one user, and
each unit goes to the loss's ``train_unit`` (:mod:`recsample.losses`): a pair
loss (BPR, BPO) trains each positive with its negatives pair by pair, a group
loss (sampled softmax, CCL) scores a unit's positives against N negatives
drawn once for the unit. The optimizer (:mod:`recsample._optim`) moves the
rows: Hogwild SGD across threads, Adam on the touched rows, or sums over a
block applied with ``apply_batch`` as the NBPO authors' code does.

For pair losses ``group_size`` is 1 and the epoch order is shuffled inside
each block; for group losses the order is built user by user
(:func:`grouped_order`) so that a unit can hold several positives of a user.

The item bias lives in the last column of V with a constant 1 in the last
column of U, so U @ V.T is the model's score.
"""
import warnings

import numpy as np
from numba import njit
from numba.core.errors import NumbaPerformanceWarning

from ..compilation import compile_notice
from .._intrinsics import borrow, borrow_all, prefetch_row
from .._threads import run_all, shares, threads
from .._rng import frame_stream, next_int
from ..losses import LOSS_EVERY, train_unit  # noqa: F401 (LOSS_EVERY: re-exported)
from ..losses.base import group_unit, new_scratch
from ..losses.pair import _sgd_apply
from ..core.hooks import end_batch, pair_loss, pair_step, prefetch, state_kernel
from ..core.linalg import dot2

#: the factor rows (and, without a bitmap, the CSR row) of the positive this
#: many places ahead are requested early, so that on data larger than the
#: caches their loads overlap the current pair's work (20% less time per pair
#: at 10M interactions, benchmarks/ab/bench_kernel.py-style harness; no change in
#: values)
PREFETCH_AHEAD = 8
#: the block number of the stream that shuffles the group losses' epoch order
#: (far above any real block number)
ORDER_STREAM = 1 << 40


@njit(cache=True, inline="always")
def shuffle_block(order, lo, hi, seed, epoch, blk, n_blocks):
    """Fisher-Yates of order[lo:hi] on the block's own shuffle stream (apart
    from its draw stream), done by the thread that then trains the block."""
    rng = frame_stream(seed, epoch, blk + n_blocks)
    for t in range(hi - 1, lo, -1):
        s = lo + next_int(rng, t - lo + 1)
        tmp = order[t]
        order[t] = order[s]
        order[s] = tmp


# parallel=True with no parallel loop: numba's parfor passes simplify the IR
# that the loss's and sampler's inlined functions leave (copies of arrays and
# tuples, each a reference count taken and released in the hot loop); without
# them an epoch took 3x as long (BPR + uniform on movielens-small, one thread:
# 26 ms against 8-9 ms). They cost about half a second of the compilation.
# The threads are recsample._threads' pool (run_blocks), not a prange.
@state_kernel(nogil=True, parallel=True)
def run_block_list(state, loss, pos, order, blocks, block_size, U, V, opt, hp, group_size,
                   shuffle, seed, epoch, out):
    """Visit the positives of the listed blocks in turn (each first shuffled
    in place when ``shuffle`` is true), unit by unit. Per block, into
    ``out[blk]``: summed loss over the units' reported terms, how many terms
    were summed, pairs trained, positives whose user had no negative left.
    Runs without the GIL: :func:`run_blocks` gives each thread a share."""
    # the caller holds every argument for the whole call: the arrays are read
    # without reference counts (a parallel loop's body got them so too, and
    # each draw that calls a compiled function with them, as DNS's does, paid
    # atomic updates of counters both threads share: DNS's epoch 33 -> 40 ms).
    # Not the optimizer's: with its arrays borrowed, the batch optimizer's
    # sums of the bias column were lost (the test against NumPy catches it)
    state = borrow_all(state)
    pos = borrow_all(pos)
    U = borrow(U)
    V = borrow(V)
    order = borrow(order)
    out = borrow(out)
    n = order.shape[0]
    n_blocks = (n + block_size - 1) // block_size
    for b in range(blocks.shape[0]):
        blk = blocks[b]
        lo = blk * block_size
        hi = min(lo + block_size, n)
        if shuffle:
            shuffle_block(order, lo, hi, seed, epoch, blk, n_blocks)
        rng = frame_stream(seed, epoch, blk)
        scratch = new_scratch(group_size + hp.negatives, hp.negatives, U.shape[1])
        total = 0.0
        sampled = 0
        pairs = 0
        skipped = 0
        t = lo
        while t < hi:
            u = order[t] >> 32
            e = t + 1
            while e < hi and e - t < group_size and (order[e] >> 32) == u:
                e += 1
            if PREFETCH_AHEAD > 0:
                if t + 2 * PREFETCH_AHEAD < hi:
                    prefetch_row(pos.indptr, order[t + 2 * PREFETCH_AHEAD] >> 32)
                if t + PREFETCH_AHEAD < hi:
                    ahead = order[t + PREFETCH_AHEAD]
                    au = ahead >> 32
                    prefetch_row(U, au)
                    prefetch_row(V, ahead & 0xFFFFFFFF)
                    prefetch(state, pos, au, ahead & 0xFFFFFFFF, U, V)
                    if pos.words == 0:
                        # the row the draw will bisect: its middle and quartiles
                        a_ = pos.indptr[au]
                        e_ = pos.indptr[au + 1]
                        if e_ > a_:
                            q = (e_ - a_) >> 2
                            prefetch_row(pos.indices, a_ + q)
                            prefetch_row(pos.indices, a_ + 2 * q)
                            prefetch_row(pos.indices, a_ + 3 * q)
            v, c, p, s = train_unit(loss, state, pos, U, V, opt, hp, order, t, e, lo, rng,
                                    scratch)
            total += v
            sampled += c
            pairs += p
            skipped += s
            t = e
        out[blk, 0] = total
        out[blk, 1] = sampled
        out[blk, 2] = pairs
        out[blk, 3] = skipped


def run_blocks(state, loss, pos, order, blocks, block_size, U, V, opt, hp, group_size, shuffle,
               seed, epoch, out, worker_states=None, label=None, memo=None, worker_opts=None,
               warmed=True):
    """Train the listed blocks on ``numba.get_num_threads()`` threads
    (Hogwild), each thread taking a contiguous share of ``blocks`` in order,
    as a static ``prange`` schedule would; with one thread, in this thread.
    The threads are :mod:`recsample._threads`' pool rather than a ``prange``
    loop, which cost the cold compilation 40% more (see that module).

    ``worker_states`` (a function of the worker's index) gives each thread
    the state it draws with, for samplers that keep scratch per thread
    (``Sampler.worker_state``); by default every thread shares ``state``.
    ``worker_opts`` likewise gives each thread its own optimizer (batch
    sums of its own, as ``fold_in`` keeps them); by default ``opt``.
    ``warmed`` says whether ``recsample warmup`` compiles this loop (the
    compile notice then says so).
    The kernel is compiled (or loaded from the disk cache) in this thread
    first; a real compilation says so on standard error, naming ``label``
    (see :mod:`recsample.compilation`). ``memo``, a dict the caller keeps
    between calls with arguments of the same types (a fit's epochs), holds
    the compiled function, so later calls skip numba's typing of the
    arguments (0.2 ms, under the GIL, per call and thread).
    """
    args = [state if worker_states is None else worker_states(0), loss, pos, order, blocks,
            block_size, U, V, opt, hp, group_size, shuffle, seed, epoch, out]
    fn = None if memo is None else memo.get("kernel")
    if fn is None:
        own = type(state).__module__.startswith("recsample.")
        kernel = run_block_list.cached if own else run_block_list.fresh
        sig = tuple(kernel.typeof_pyval(a) for a in args)
        with compile_notice(label or "the training loop", kernel, hint=warmed), \
                warnings.catch_warnings():
            # "parallel=True was specified but no transformation for parallel
            # execution was possible": intended, see run_block_list
            warnings.simplefilter("ignore", NumbaPerformanceWarning)
            kernel.compile(sig)
        fn = kernel.overloads[sig].entry_point
        if memo is not None:
            memo["kernel"] = fn
    calls = []
    for w, (lo, hi) in enumerate(shares(blocks.shape[0], threads())):
        args[0] = state if worker_states is None else worker_states(w)
        args[8] = opt if worker_opts is None else worker_opts(w)
        args[4] = blocks[lo:hi]
        calls.append((fn, tuple(args)))
    run_all(calls)


@njit(cache=True)
def grouped_order(indptr, indices, users, seed, epoch, out):
    """The epoch order for group losses: the users in the order given, each
    user's positives contiguous and shuffled (so that the units cut from them
    are random subsets), packed as (user << 32 | item) into ``out``."""
    rng = frame_stream(seed, epoch, ORDER_STREAM)
    t = 0
    for r in range(users.shape[0]):
        u = users[r]
        a = indptr[u]
        e = indptr[u + 1]
        for k in range(a, e):
            out[t + k - a] = (np.int64(u) << 32) | indices[k]
        for k in range(e - a - 1, 0, -1):
            s = next_int(rng, k + 1)
            tmp = out[t + k]
            out[t + k] = out[t + s]
            out[t + s] = tmp
        t += e - a


@state_kernel()
def apply_batch(state, U, V, dU, dV, lr, reg_u, reg_i, reg_b, n_factors, has_bias):
    """End of a batch: W += lr (dW - reg W) on every row; clear the sums."""
    eta = np.float32(lr)
    for r in range(U.shape[0]):
        for f in range(n_factors):
            U[r, f] += eta * (dU[r, f] - np.float32(reg_u) * U[r, f])
            dU[r, f] = 0.0
    for r in range(V.shape[0]):
        for f in range(n_factors):
            V[r, f] += eta * (dV[r, f] - np.float32(reg_i) * V[r, f])
            dV[r, f] = 0.0
        if has_bias:
            V[r, n_factors] += eta * (dV[r, n_factors] - np.float32(reg_b) * V[r, n_factors])
            dV[r, n_factors] = 0.0
    end_batch(state, lr)


@state_kernel()
def finish_batch(state, lr):
    """End of a batch for the sampler's own state only (``fold_in``: the
    factors are moved by the caller)."""
    end_batch(state, lr)


@state_kernel()
def single_step(state, loss, U, V, u, i, j, lr, reg_u, reg_i, reg_b, clip, n_factors, has_bias):
    """One SGD step on a given pair, exactly as the epoch loop takes it (for
    gradient checks and inspection). Returns the pair's loss before the step."""
    xi, xj = dot2(U, u, V, i, j)
    value = pair_loss(state, loss, u, i, j, np.float64(xi), np.float64(xj), clip)
    g_i, g_j = pair_step(state, loss, u, i, j, np.float64(xi), np.float64(xj), lr, clip, False)
    _sgd_apply(U, V, u, i, j, g_i, g_j, lr, reg_u, reg_i, reg_b, n_factors, has_bias)
    return value


@state_kernel()
def unit_step(state, loss, pos, U, V, opt, hp, u, positives, negatives):
    """One step of a group loss on given items, exactly as the epoch loop
    takes it once the negatives are drawn (for gradient checks and
    inspection). Returns the unit's loss before the step."""
    n_pos = positives.shape[0]
    n_neg = negatives.shape[0]
    scratch = new_scratch(n_pos + n_neg, n_neg, U.shape[1])
    items = scratch[0]
    for p in range(n_pos):
        items[p] = positives[p]
    for n in range(n_neg):
        items[n_pos + n] = negatives[n]
    return group_unit(loss, state, pos, U, V, opt, hp, u, n_pos, n_neg, scratch)


@njit(cache=True)
def all_finite(A):
    """No NaN or infinity in ``A`` (a scan at memory speed; one thread)."""
    for r in range(A.shape[0]):
        for f in range(A.shape[1]):
            if not np.isfinite(A[r, f]):
                return False
    return True
