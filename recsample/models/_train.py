"""The one training loop every (trainer, sampler) pair runs.

An epoch visits every training positive once. The positives are kept as one
int64 array of packed (user << 32 | item) pairs, shuffled, so the loop reads
them in sequence and never searches for a positive's user. It is split into
fixed blocks; each block gets its own random stream from (seed, epoch, block), so
the draws do not depend on which thread ran the block. Per positive (u, i)
and each of its negatives j = draw(...), the sampler's ``pair_step`` gives the
ascent directions g_i = dL/dx_ui and g_j = dL/dx_uj, and the factors move:

    U_u += lr (g_i V_i + g_j V_j - reg_u U_u)
    V_i += lr (g_i U_u - reg_i V_i)          (and the same for V_j with g_j)
    b_i += lr (g_i - reg_b b_i)              (item bias, when there is one)

all from the values before the step. The item bias lives in the last column
of V with a constant 1 in the last column of U, so U @ V.T is the model's
score. The SGD optimizer applies each step at once (Hogwild across threads);
the batch optimizer sums the directions over a block and then applies
W += lr (dW - reg W) to every row, as the NBPO authors' code does.
"""
import numpy as np
from numba import njit, prange

from .._intrinsics import prefetch_row
from .._rng import frame_stream, next_int
from ..samplers.base import (_FAST, dot2, draw, end_batch, pair_loss, pair_step,
                             state_kernel)

#: the loss is reported from every LOSS_EVERY-th positive of a block
LOSS_EVERY = 8
#: the factor rows (and, without a bitmap, the CSR row) of the positive this
#: many places ahead are requested early, so that on data larger than the
#: caches their loads overlap the current pair's work (20% less time per pair
#: at 10M interactions, benchmarks/bench_kernel.py-style harness; no change in
#: values)
PREFETCH_AHEAD = 8


@njit(cache=True, fastmath=_FAST, inline="always")
def _sgd_apply(U, V, u, i, j, g_i, g_j, lr, reg_u, reg_i, reg_b, n_factors, has_bias):
    a = np.float32(lr * g_i)
    b = np.float32(lr * g_j)
    ru = np.float32(1.0 - lr * reg_u)
    ri = np.float32(1.0 - lr * reg_i)
    urow = U[u]
    vi = V[i]
    vj = V[j]
    for f in range(n_factors):
        uf = urow[f]
        urow[f] = ru * uf + a * vi[f] + b * vj[f]
        vi[f] = ri * vi[f] + a * uf
        vj[f] = ri * vj[f] + b * uf
    if has_bias:
        rb = np.float32(1.0 - lr * reg_b)
        vi[n_factors] = rb * vi[n_factors] + a
        vj[n_factors] = rb * vj[n_factors] + b


@njit(cache=True, inline="always")
def _accumulate(U, V, dU, dV, u, i, j, g_i, g_j, n_factors, has_bias):
    a = np.float32(g_i)
    b = np.float32(g_j)
    for f in range(n_factors):
        uf = U[u, f]
        dU[u, f] += a * V[i, f] + b * V[j, f]
        dV[i, f] += a * uf
        dV[j, f] += b * uf
    if has_bias:
        dV[i, n_factors] += a
        dV[j, n_factors] += b


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


@state_kernel(parallel=True)
def run_blocks(state, loss, pos, order, blocks, block_size,
               U, V, dU, dV, n_factors, has_bias, negatives, lr, reg_u, reg_i, reg_b,
               clip, accumulate, shuffle, seed, epoch, loss_out, pairs_out, sampled_out,
               skipped_out):
    """Visit the positives of the listed blocks, each first shuffled in
    place when ``shuffle`` is true. Per block: summed loss over the sampled
    pairs (pairs of every LOSS_EVERY-th positive), pairs trained, and
    positives whose user had no negative left."""
    n = order.shape[0]
    n_blocks = (n + block_size - 1) // block_size
    for b in prange(blocks.shape[0]):
        blk = blocks[b]
        lo = blk * block_size
        hi = min(lo + block_size, n)
        if shuffle:
            shuffle_block(order, lo, hi, seed, epoch, blk, n_blocks)
        rng = frame_stream(seed, epoch, blk)
        total = 0.0
        pairs = 0
        sampled = 0
        skipped = 0
        for t in range(lo, hi):
            u = order[t] >> 32
            i = order[t] & 0xFFFFFFFF
            if PREFETCH_AHEAD > 0:
                if t + 2 * PREFETCH_AHEAD < hi:
                    prefetch_row(pos.indptr, order[t + 2 * PREFETCH_AHEAD] >> 32)
                if t + PREFETCH_AHEAD < hi:
                    ahead = order[t + PREFETCH_AHEAD]
                    au = ahead >> 32
                    prefetch_row(U, au)
                    prefetch_row(V, ahead & 0xFFFFFFFF)
                    if pos.words == 0:
                        # the row the draw will bisect: its middle and quartiles
                        a = pos.indptr[au]
                        e = pos.indptr[au + 1]
                        if e > a:
                            q = (e - a) >> 2
                            prefetch_row(pos.indices, a + q)
                            prefetch_row(pos.indices, a + 2 * q)
                            prefetch_row(pos.indices, a + 3 * q)
            for _ in range(negatives):
                j = draw(state, pos, u, i, U, V, rng)
                if j < 0:
                    skipped += 1
                    break
                xi, xj = dot2(U, u, V, i, j)
                x_ui = np.float64(xi)
                x_uj = np.float64(xj)
                if (t - lo) % LOSS_EVERY == 0:
                    total += pair_loss(state, loss, u, i, j, x_ui, x_uj, clip)
                    sampled += 1
                g_i, g_j = pair_step(state, loss, u, i, j, x_ui, x_uj, lr, clip, accumulate)
                if accumulate:
                    _accumulate(U, V, dU, dV, u, i, j, g_i, g_j, n_factors, has_bias)
                else:
                    _sgd_apply(U, V, u, i, j, g_i, g_j, lr, reg_u, reg_i, reg_b,
                               n_factors, has_bias)
                pairs += 1
        loss_out[blk] = total
        pairs_out[blk] = pairs
        sampled_out[blk] = sampled
        skipped_out[blk] = skipped


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
def single_step(state, loss, U, V, u, i, j, lr, reg_u, reg_i, reg_b, clip, n_factors, has_bias):
    """One SGD step on a given pair, exactly as the epoch loop takes it (for
    gradient checks and inspection). Returns the pair's loss before the step."""
    xi, xj = dot2(U, u, V, i, j)
    value = pair_loss(state, loss, u, i, j, np.float64(xi), np.float64(xj), clip)
    g_i, g_j = pair_step(state, loss, u, i, j, np.float64(xi), np.float64(xj), lr, clip, False)
    _sgd_apply(U, V, u, i, j, g_i, g_j, lr, reg_u, reg_i, reg_b, n_factors, has_bias)
    return value


@njit(cache=True, parallel=True)
def all_finite(A):
    bad = 0
    for r in prange(A.shape[0]):
        for f in range(A.shape[1]):
            if not np.isfinite(A[r, f]):
                bad += 1
    return bad == 0
