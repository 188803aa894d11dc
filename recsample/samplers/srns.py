"""SRNS: simplify and robustify negative sampling (Ding, Quan, Yao, Li & Jin,
NeurIPS 2020, "Simplify and robustify negative sampling for implicit
collaborative filtering").

Hard negatives help until they are false negatives: items the user would like
but has not met. The paper observes that a false negative keeps a high score
with little variation across epochs, while a true hard negative's score
fluctuates, and so scores a candidate k for the positive i by

    h_k + alpha_t * sd_k,    h_k = sigma(x_uk - x_ui),

with sd_k the standard deviation of sigma(x_uk - x_ui) over the last
``history`` epochs and alpha_t = alpha * min(1, epochs done / warmup).

Each user keeps a memory of ``memory`` candidates (the paper's S1), filled
with uniform non-positives. A draw for (u, i) takes ``subset`` memory slots
uniformly (with replacement) and returns the one with the largest
h_k + alpha_t sd_k. The memory then moves on, as the released code's memory
does after every batch (S2 fresh uniform items join it and S1 of the union
are kept with probabilities softmax(x_uk / temperature)): here each of
``fresh`` uniform non-positives challenges the lowest-scored of the compared
slots and takes it with probability
exp(x_fresh / t) / (exp(x_fresh / t) + exp(x_slot / t)), the same softmax
resampling by score applied to the pair. At the end of every epoch the
scores of the memory items and of the training positives are recorded (a
ring of ``history`` epochs). A slot's record restarts when a fresh item takes
it, so its sd counts as 0 until it has two records.

Differences from the released code, for a sampler that is one compiled draw
per pair: the memory is resampled a pair of items at a time rather than all
S1 + S2 per batch (cost: subset + fresh scores per draw, not S1 + S2), and
the history is kept for the memory slots themselves instead of for a
rotating pool of 3,000 candidates per user, so memory stays near
users x memory x history + positives x history floats. A refresh of the
whole memory once per epoch instead (an earlier version) left each user with
20 negatives for a whole epoch and trained worse than uniform sampling on
movielens-small (NDCG@10 0.165 against 0.211, BPR, 32 factors, 12 epochs).
Under Hogwild threads two draws for one user may update its memory at once;
with one thread the draws are reproducible.

x is the score of the model being trained: the dot product of the rows, or
for a cosine model the cosine plus the item bias, in the draws and in the
recorded history alike.
"""
from collections import namedtuple
import math

import numpy as np
from numba import njit, prange, types

from .._intrinsics import borrow, frame_array, prefetch_at, prefetch_read, prefetch_row
from .._rng import next_float, next_int, peek_float_at, stream
from ..core.hooks import draw, implements, prefetch, refresh
from ..core.linalg import cosine_score, dot, inv_row_norm, model_score
from ..core.positives import (draw_non_positive, position_in_row, positives_arrays, positives_of,
                              uniform_negative)
from ..core.validation import as_csr
from ..losses.pair import sigmoid
from .base import Sampler

#: items (users x S1, int32; -1 for a user with no negative), their score
#: records (users x S1 x T, float32) and record counts (users x S1, uint8, at
#: most T), the positives' records (nnz x T, in CSR order), epochs done (a 1-array)
SRNSState = namedtuple("SRNSState", ["items", "records", "counts", "pos_records",
                                     "epochs_done", "subset", "fresh", "alpha", "warmup",
                                     "inv_temperature"])
SRNSState.refreshes = True  # read by the generic refresh: this state brings its own
#: SRNSState for a model with similarity="cosine" (:meth:`SRNS.scoring_state`):
#: scores are the cosine of the first ``cosine`` = k columns plus the item
#: bias. A type of its own, so that the dot product's draws compile as they
#: did (a ``cosine`` field read in the draw made BPR + SRNS train 1.2-1.4x
#: slower, movielens-small, one thread)
SRNSCosineState = namedtuple("SRNSCosineState", SRNSState._fields + ("cosine",))
SRNSCosineState.refreshes = True

_TAG = 0x53524E53  # keeps SRNS's memory streams apart from the training streams


@njit(cache=True)
def hardness_spread(records, counts, pos_records, u, k, p, epochs_done):
    """sd over the recorded epochs of sigma(x_uk - x_ui), slot k, positive row p."""
    c = counts[u, k]
    if c < 2 or p < 0:
        return 0.0
    T = records.shape[2]
    ring = (epochs_done - 1) % T   # the latest record; older ones step back round the ring
    mean = 0.0
    sq = 0.0
    for _ in range(c):
        h = sigmoid(np.float64(records[u, k, ring]) - np.float64(pos_records[p, ring]), 0.0)
        mean += h
        sq += h * h
        ring = ring - 1 if ring > 0 else T - 1
    mean /= c
    return math.sqrt(max(sq / c - mean * mean, 0.0))


#: longest score history (a slot's record count is one byte)
MAX_HISTORY = 255
#: most memory slots one draw compares (their indices live in the draw's frame)
MAX_SUBSET = 64
_subset_slots = frame_array(types.int64, MAX_SUBSET)


@njit(cache=True)
def srns_negative(state, pos, u, i, U, V, rng, cosine=0):
    # the state's and the positives' arrays are borrowed once: each use of a
    # field takes and releases a reference (an atomic update all threads share)
    indptr, indices, bits = positives_arrays(pos)
    start = indptr[u]
    end = indptr[u + 1]
    if end - start >= pos.n_items:
        return -1
    items = borrow(state.items)
    records = borrow(state.records)
    counts = borrow(state.counts)
    pos_records = borrow(state.pos_records)
    S1 = items.shape[1]
    done = borrow(state.epochs_done)[0]
    a = state.alpha * min(1.0, done / state.warmup) if state.warmup > 0 else state.alpha
    # the slots first, their factor rows requested at once: the loads overlap
    # instead of each waiting for the previous candidate's score
    slots = _subset_slots()
    T = records.shape[2]
    for s in range(state.subset):
        slots[s] = next_int(rng, S1)
        prefetch_read(V, items[u, slots[s]])
        if a > 0.0:   # the slot's score records, read for its spread
            first = (u * S1 + slots[s]) * T
            prefetch_at(records, first)
            prefetch_at(records, first + T - 1)
    # the first proposals of the fresh draws below, read off the stream without
    # advancing it (one float per proposal and one per challenge, so the t-th
    # fresh item's is float 2t + 1 from here when nothing is rejected): their
    # rows and membership words load while the memory is scored. A wrong
    # guess costs a wasted load and changes no value.
    words = pos.words
    n_items = pos.n_items
    if 2 * (end - start) <= n_items:   # the draws below propose uniform items
        for t in range(min(state.fresh, 4)):
            j = np.int64(peek_float_at(rng, 2 * t + 1) * n_items)
            prefetch_read(V, j)
            if words > 0:
                prefetch_row(bits, u * words + (j >> 6))
    # the positive's place in its row, for its score records: needed only when
    # the spread counts (alpha_t > 0; -1 for an item that is not a training
    # positive, a draw from Python, which has no history)
    p = position_in_row(indices, start, end, i) if a > 0.0 else -1
    if p >= 0:
        prefetch_read(pos_records, p)
    # cosine = 0 (omitted: the dot product's draws) is a constant of the
    # compiled function, and each branch below on it is taken at compile
    # time; the scores are then the rows' dot products, called as before
    # (through the inlined model_score, BPR + SRNS trained 5-15% slower)
    inv_nu = inv_row_norm(U, u, cosine)
    if cosine == 0:
        x_ui = np.float64(dot(U, u, V, i))
    else:
        x_ui = cosine_score(U, u, V, i, cosine, inv_nu)
    best = -1
    best_key = -np.inf
    weakest = -1
    weakest_score = np.inf
    for s in range(state.subset):
        k = slots[s]
        if cosine == 0:
            x = np.float64(dot(U, u, V, items[u, k]))
        else:
            x = cosine_score(U, u, V, items[u, k], cosine, inv_nu)
        if x < weakest_score:
            weakest_score = x
            weakest = k
        key = sigmoid(x - x_ui, 0.0)
        if a > 0.0:
            key += a * hardness_spread(records, counts, pos_records, u, k, p, done)
        if key > best_key:
            best_key = key
            best = items[u, k]
    # the memory moves on: fresh uniform items challenge the weakest compared
    # slot and take it with probability softmax over the two of x / temperature
    for _ in range(state.fresh):
        j = draw_non_positive(indices, bits, words, n_items, u, start, end - start, rng)
        if cosine == 0:
            x = np.float64(dot(U, u, V, j))
        else:
            x = cosine_score(U, u, V, j, cosine, inv_nu)
        if next_float(rng) < sigmoid((x - weakest_score) * state.inv_temperature, 0.0):
            items[u, weakest] = j
            counts[u, weakest] = 0
            weakest_score = x
    return best


@implements(draw, SRNSState)
def _draw_srns(state, pos, u, i, U, V, rng):
    return srns_negative(state, pos, u, i, U, V, rng)


@implements(draw, SRNSCosineState)
def _draw_srns_cosine(state, pos, u, i, U, V, rng):
    return srns_negative(state, pos, u, i, U, V, rng, state.cosine)


@implements(prefetch, SRNSState)
def _prefetch_srns(state, pos, u, i, U, V):
    # the user's memory row, whose slots the draw reads first (a miss there
    # held up every later load of the draw), and its record counts
    prefetch_row(borrow(state.items), u)
    if state.alpha > 0.0:
        prefetch_row(borrow(state.counts), u)


implements(prefetch, SRNSCosineState)(_prefetch_srns)


@njit(cache=True)
def fill_memory(pos, items, seed):
    """Every slot a uniform non-positive of its user (-1 for a user with none)."""
    for u in range(items.shape[0]):
        rng = stream(seed, _TAG, u)
        for k in range(items.shape[1]):
            items[u, k] = uniform_negative(pos, u, rng)


@njit(cache=True, parallel=True)
def end_epoch(state, pos, U, V, cosine=0):
    """Record this epoch's scores of the memory items and the positives (as
    the draws score: ``cosine`` as in :func:`srns_negative`)."""
    items = state.items
    records = state.records
    counts = state.counts
    pos_records = state.pos_records
    S1 = items.shape[1]
    T = records.shape[2]
    done = state.epochs_done[0]
    ring = done % T
    for u in prange(items.shape[0]):
        inv_nu = inv_row_norm(U, u, cosine)
        for p in range(pos.indptr[u], pos.indptr[u + 1]):
            pos_records[p, ring] = model_score(U, u, V, pos.indices[p], cosine, inv_nu)
        if pos.indptr[u + 1] - pos.indptr[u] >= pos.n_items:
            continue
        for k in range(S1):
            records[u, k, ring] = model_score(U, u, V, items[u, k], cosine, inv_nu)
            counts[u, k] = min(counts[u, k] + 1, T)
    state.epochs_done[0] = done + 1


@implements(refresh, SRNSState)
def _refresh_srns(state, pos, U, V, seed, epoch, end_of_epoch):
    if end_of_epoch:
        end_epoch(state, pos, U, V)


@implements(refresh, SRNSCosineState)
def _refresh_srns_cosine(state, pos, U, V, seed, epoch, end_of_epoch):
    if end_of_epoch:
        end_epoch(state, pos, U, V, state.cosine)


class SRNS(Sampler):
    """Hard negatives from a per-user memory, favouring candidates whose
    hardness varies across epochs (see the module docstring).

    Parameters
    ----------
    memory : int
        S1, candidates kept per user (the released code's default 20).
    fresh : int
        Uniform items that challenge a memory slot after each draw.
    subset : int
        Memory slots compared per draw (drawn uniformly, with replacement).
    alpha : float
        Weight of the hardness's standard deviation (0: plain hardness).
    warmup : float
        Epochs over which alpha ramps up linearly from 0 (0: no ramp).
    history : int
        Epochs of scores the standard deviation is taken over (the paper's
        5; at most 255).
    temperature : float
        Of the softmax that resamples the memory by score.

    Notes
    -----
    The defaults (memory 20, as the released code; fresh 2, subset 3) were
    the best of a few settings tried with BPR on movielens-small, not tuned.
    """

    name = "srns"
    # benchmarks/studies/tune_per_sampler.py (README, "Defaults per sampler"): chosen
    # as for the other samplers; still 6-10% below uniform on validation, the
    # best of its grid for the worst data set (lr 0.05, reg 0.01: 26-49% below)
    recommended = {"bpr": {"learning_rate": 0.03, "regularization": 0.03, "epochs": 20},
                   "bpo": {"learning_rate": 0.03, "regularization": 0.03, "epochs": 20}}
    # a group loss draws N = 256 negatives per unit: from a memory of 20 slots,
    # the hardest of 3, they were a few items repeated, and both group losses
    # fell below popularity. A memory as large as N, one slot per draw and 8
    # fresh challengers: the best worst share over movielens-small and
    # nbpo-amazon's validation parts for the softmax, within 2.2% of CCL's
    # best (benchmarks/results/group_samplers_grid.csv, docs/defaults.md)
    loss_arguments = {loss: {"memory": 256, "subset": 1, "fresh": 8}
                      for loss in ("ccl", "softmax")}
    needs_model = True
    needs_positive = True

    def __init__(self, memory: int = 20, fresh: int = 2, subset: int = 3,
                 alpha: float = 1.0, warmup: float = 5.0, history: int = 5,
                 temperature: float = 1.0):
        self.memory = memory
        self.fresh = fresh
        self.subset = subset
        self.alpha = alpha
        self.warmup = warmup
        self.history = history
        self.temperature = temperature

    def scoring_state(self, state, cosine, n_factors):
        """Hardness, its spread and the memory's resampling read the
        trainer's own score (a cosine model's cosine plus bias, not the rows'
        dot product, whose lengths the cosine ignores)."""
        return SRNSCosineState(*state, np.int64(n_factors)) if cosine else state

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        def integer(name, low):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
            return int(v)

        def number(name, low, open_=False):
            v = getattr(self, name)
            if isinstance(v, bool) or not np.isscalar(v) or not np.isfinite(v) or \
                    (v <= low if open_ else v < low):
                raise ValueError(f"{name} must be a finite number {'>' if open_ else '>='} "
                                 f"{low}, got {v!r}")
            return float(v)

        S1 = integer("memory", 1)
        S2 = integer("fresh", 0)
        subset = integer("subset", 1)
        if subset > MAX_SUBSET:
            raise ValueError(f"subset must be at most {MAX_SUBSET}, got {subset}")
        T = integer("history", 2)
        if T > MAX_HISTORY:
            raise ValueError(f"history must be at most {MAX_HISTORY}, got {T}")
        alpha = number("alpha", 0.0)
        warmup = number("warmup", 0.0)
        t = number("temperature", 0.0, open_=True)
        m = as_csr(train, "train")
        items = np.empty((m.shape[0], S1), dtype=np.int32)
        fill_memory(positives_of(m), items, np.uint64(seed))
        return SRNSState(items, np.zeros((m.shape[0], S1, T), dtype=np.float32),
                         np.zeros((m.shape[0], S1), dtype=np.uint8),
                         np.zeros((m.nnz, T), dtype=np.float32), np.zeros(1, dtype=np.int64),
                         np.int64(subset), np.int64(S2), np.float64(alpha), np.float64(warmup),
                         np.float64(1.0 / t))
