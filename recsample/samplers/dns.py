"""Dynamic negative sampling (Zhang, Chen, Wang & Yu, SIGIR 2013) and its
controllable-hardness variants (Shi, Chen, Feng, Zhang, Wu, Gao & He, WWW 2023,
"On the theories behind hard negative sampling for recommendation").

Every variant draws N uniform non-positive candidates c (with replacement) and
then picks one by its score x_uc under the current model:

- DNS: the highest-scored candidate (the argmax);
- DNS with a temperature t: c ~ softmax(x_uc / t) over the candidates;
- DNS(M, N) (Shi et al., Algorithm 1): a candidate drawn uniformly among the
  M highest-scored of the N (M = 1 is DNS);
- Softmax-v(rho, N) (Shi et al., Algorithm 2): c ~ softmax(Z_c / tau) with
  Z_c = ln(1 + exp(x_uc - x_ui)), the BPR loss of the pair (i, c), and a
  temperature that adapts to the candidates,
  tau = sqrt(Var_c(Z_c) / (2 rho))  (their Theorem 2, eq. 17, with beta = e^-rho).

How they relate (Shi et al., Sections 3 and 5): BPR trained on negatives drawn
uniformly among the user's top fraction beta of non-positives maximises the
one-way partial AUC with false-positive range [0, beta], OPAUC(beta), a
quantity tied more closely to top-K metrics than the AUC that uniform BPR
maximises. Taking the top M of N uniform candidates approximates that draw
with beta ~ M / N: smaller M or larger N is harder, and top-K metrics with
a small K want a small beta. The softmax draws are the smooth (KL-ball)
counterpart; with tau chosen as in eq. 17 the estimated quantity keeps
beta = e^-rho fixed while the spread of the scores changes during training,
whereas a fixed temperature t (softmax(x_uc / t), the paper's eq. 3) lets the
effective beta drift as the scores spread out. Larger rho is harder.

The letters follow the paper: N candidates, the M hardest. Here they are
``candidates`` (N) and ``hardest`` (M).
"""
from collections import namedtuple
import math

import numba
import numpy as np
from numba import njit, types

from .._intrinsics import frame_array, prefetch_row
from .._rng import frame_word, next_float, next_int
from ..core.hooks import draw, draw_each, draw_group, draw_group_scored, implements
from ..core.linalg import _FAST, dot, inv_row_norm, model_score
from ..core.positives import is_positive, nth_negative
from ..losses.pair import log_sigmoid
from ..search_space import IntRange
from .base import Sampler

#: ``keys``/``slots``: per-thread scratch rows (training thread x candidates)
#: where Softmax-v keeps every candidate's loss when there are more than
#: MAX_RANKED, empty otherwise; a thread's state (``DNS.worker_state``) holds
#: its own row as row 0
DNSState = namedtuple("DNSState", ["candidates", "inv_temperature", "hardest", "rho",
                                   "keys", "slots"])
DNSState.__doc__ = """DNS's settings as the draws read them; candidates are scored by the
dot product of the whole rows (the score of a model with similarity="dot")."""
DNSCosineState = namedtuple("DNSCosineState", DNSState._fields + ("cosine",))
DNSCosineState.__doc__ = """DNSState for a model with similarity="cosine" (from
:meth:`DNS.scoring_state`): candidates scored by the cosine of their first
``cosine`` = k columns, plus the item bias in column k when the rows are
wider. A type of its own, so that the dot product's draws are compiled
without a choice in them."""

#: candidates are drawn and scored in chunks of this many
CHUNK = 32
_chunk_slots = frame_array(types.int64, CHUNK)


# dot2's shape with four rows (core.linalg): written out, not a loop over
# rows, so that the four sums stay in registers and vectorise together
@njit(cache=True, fastmath=_FAST, inline="always")
def _dot4(U, u, V, b, c, d, e):
    """(U[u] . V[b], U[u] . V[c], U[u] . V[d], U[u] . V[e]) in one pass over
    U[u], indexed in two dimensions (no row views: see base.dot)."""
    x0 = np.float32(0.0)
    x1 = np.float32(0.0)
    x2 = np.float32(0.0)
    x3 = np.float32(0.0)
    for f in range(U.shape[1]):
        a = U[u, f]
        x0 += a * V[b, f]
        x1 += a * V[c, f]
        x2 += a * V[d, f]
        x3 += a * V[e, f]
    return (x0, x1, x2, x3)


@njit(cache=True, fastmath=_FAST, inline="always")
def _cos4(U, u, V, b, c, d, e, k, inv_nu):
    """The four scores of _dot4 as a cosine model gives them: the cosine of
    the first ``k`` columns (``inv_nu`` = 1 / |U[u, :k]|) plus the item bias
    in column k when V is wider."""
    return _cos4_lengths(U, u, V, b, c, d, e, k, inv_nu)[0]


@njit(cache=True, fastmath=_FAST, inline="always")
def _cos4_lengths(U, u, V, b, c, d, e, k, inv_nu):
    """(_cos4's four scores, the four rows' lengths |V[row, :k]|)."""
    x0 = x1 = x2 = x3 = np.float32(0.0)      # U[u] . V[row]
    n0 = n1 = n2 = n3 = np.float32(0.0)      # |V[row]|^2
    for f in range(k):
        a = U[u, f]
        x0 += a * V[b, f]
        x1 += a * V[c, f]
        x2 += a * V[d, f]
        x3 += a * V[e, f]
        n0 += V[b, f] * V[b, f]
        n1 += V[c, f] * V[c, f]
        n2 += V[d, f] * V[d, f]
        n3 += V[e, f] * V[e, f]
    l0 = math.sqrt(max(np.float64(n0), 1e-24))
    l1 = math.sqrt(max(np.float64(n1), 1e-24))
    l2 = math.sqrt(max(np.float64(n2), 1e-24))
    l3 = math.sqrt(max(np.float64(n3), 1e-24))
    s0 = np.float64(x0) * inv_nu / l0
    s1 = np.float64(x1) * inv_nu / l1
    s2 = np.float64(x2) * inv_nu / l2
    s3 = np.float64(x3) * inv_nu / l3
    if V.shape[1] > k:
        s0 += np.float64(V[b, k])
        s1 += np.float64(V[c, k])
        s2 += np.float64(V[d, k])
        s3 += np.float64(V[e, k])
    return (s0, s1, s2, s3), (l0, l1, l2, l3)


@njit(cache=True, fastmath=_FAST, inline="always")
def _scores4(U, u, V, b, c, d, e, k, inv_nu):
    """Four candidates' scores as float64: dot products (k = 0) or cosines."""
    return _scores4_lengths(U, u, V, b, c, d, e, k, inv_nu)[0]


@njit(cache=True, fastmath=_FAST, inline="always")
def _scores4_lengths(U, u, V, b, c, d, e, k, inv_nu):
    """(_scores4's four scores, the rows' lengths |V[row, :k]|: 1.0 for dot
    products)."""
    if k == 0:
        x = _dot4(U, u, V, b, c, d, e)
        return ((np.float64(x[0]), np.float64(x[1]), np.float64(x[2]), np.float64(x[3])),
                (1.0, 1.0, 1.0, 1.0))
    return _cos4_lengths(U, u, V, b, c, d, e, k, inv_nu)


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
    this frame, which LLVM keeps in a register. Scores are dot products; a
    cosine model's draws are :func:`dns_cosine_negative`'s (DNSCosineState, a state
    type of its own: a choice between the two inside the draws, even in the
    hook, made DNS(16) with BPR 3-8% slower, movielens-small, one thread).
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
            x = _dot4(U, u, V, picked[k], picked[min(k + 1, m - 1)],
                      picked[min(k + 2, m - 1)], picked[min(k + 3, m - 1)])
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


@njit(cache=True, inline="always")
def _fill_chunk(picked, m, pos, u, start, deg, local):
    """m uniform non-positives of u into picked[:m], drawn as dns_negative
    draws them (so every variant sees the same candidates for a stream)."""
    n_items = pos.n_items
    if 2 * deg <= n_items:
        for k in range(m):
            while True:
                j = next_int(local, n_items)
                if not is_positive(pos, u, j):
                    break
            picked[k] = j
    else:
        for k in range(m):
            picked[k] = nth_negative(pos.indices, start, start + deg,
                                     next_int(local, n_items - deg))


@njit(cache=True, fastmath=_FAST)
def scored_candidates(candidates, keys, slots, pos, u, U, V, rng, cosine=0):
    """Draw ``candidates`` uniform non-positives of u (as dns_negative draws
    them) into slots[:candidates] and their scores into keys[:candidates].
    Returns how many, or -1 when u has no non-positive."""
    # the scan of dns_negative, repeated on purpose: one inlined scan serving
    # both (its keys branch chosen at compile time) drew the same candidates
    # but made DNS(16) training about 10% slower (movielens-small, one thread)
    n_items = pos.n_items
    start = pos.indptr[u]
    deg = pos.indptr[u + 1] - start
    if deg >= n_items:
        return -1
    picked = _chunk_slots()
    local = frame_word()
    local[0] = rng[0]
    inv_nu = inv_row_norm(U, u, cosine)
    for first in range(0, candidates, CHUNK):
        m = min(CHUNK, candidates - first)
        _fill_chunk(picked, m, pos, u, start, deg, local)
        for k in range(0, m, 4):
            x = _scores4(U, u, V, picked[k], picked[min(k + 1, m - 1)],
                         picked[min(k + 2, m - 1)], picked[min(k + 3, m - 1)], cosine, inv_nu)
            for c in range(min(4, m - k)):
                keys[first + k + c] = np.float64(x[c])
                slots[first + k + c] = picked[k + c]
    rng[0] = local[0]
    return candidates


_LOW = np.uint64(0xFFFFFFFF)
_SIGN = np.uint32(0x80000000)
#: most candidates DNS(M, N) draws (N): their scores and items live in the
#: draw's stack frame (4 KB; 6 KB with the rows' lengths of
#: dns_group_negatives). A row of a state array per thread instead cost
#: DNS(4, 16) 20% over DNS(16) with two threads: taking the row out of the
#: state updates a reference count both threads share.
MAX_RANKED = 256
_ranked_keys = frame_array(types.float64, MAX_RANKED)
_ranked_slots = frame_array(types.int64, MAX_RANKED)
_ranked_lengths = frame_array(types.float64, MAX_RANKED)


@njit(cache=True)
def dns_cosine_negative(candidates, inv_temperature, pos, u, U, V, rng, cosine):
    """dns_negative for a cosine model: the candidates drawn as it draws them
    (the same for a stream), scored by :func:`_cos4` and picked alike (the
    first of equal keys wins; Gumbel noise with a temperature). Candidates
    beyond MAX_RANKED are taken in further batches of at most that many."""
    keys = _ranked_keys()
    slots = _ranked_slots()
    best = -1
    best_key = -np.inf
    done = 0
    while done < candidates:
        n = scored_candidates(min(MAX_RANKED, candidates - done), keys, slots, pos, u, U, V,
                              rng, cosine)
        if n < 0:
            return -1
        for c in range(n):
            key = keys[c]
            if inv_temperature > 0.0:
                g = next_float(rng)
                key = key * inv_temperature - math.log(-math.log(g + 1e-300) + 1e-300)
            if key > best_key:
                best_key = key
                best = slots[c]
        done += n
    return best


@njit(cache=True)
def hardest_few_negative(candidates, hardest, pos, u, U, V, rng, cosine=0):
    """DNS(M, N): uniform among the M highest-scored of N uniform candidates.

    The candidates are drawn and scored as dns_negative draws them (same
    candidates for a stream) into arrays in this frame; then a rank
    q ~ U{0..M-1} is drawn and the candidate of rank q returned, an earlier
    candidate ranking above a later one with the same score. Each
    score (a float32) becomes an unsigned key that sorts as the score does,
    with the candidate's position below it, so all keys differ; q + 1 passes
    of a running maximum below the previous pass's find the rank-q key, and
    its low bits name the candidate. The passes vectorise; keeping a sorted
    top M instead (an insertion per candidate) made DNS(4, 16) cost 1.1-1.2x
    DNS(16)."""
    keys = _ranked_keys()
    slots = _ranked_slots()
    n = scored_candidates(candidates, keys, slots, pos, u, U, V, rng, cosine)
    if n < 0:
        return -1
    q = next_int(rng, min(hardest, n))
    packed = keys.view(np.uint64)
    for c in range(n):
        b = np.float32(keys[c]).view(np.uint32)
        b = ~b if b & _SIGN else b | _SIGN
        packed[c] = (np.uint64(b) << np.uint64(32)) | (_LOW - np.uint64(c))
    below = ~np.uint64(0)
    for _ in range(q + 1):
        top = np.uint64(0)
        for d in range(n):
            v = packed[d]
            top = max(top, v if v < below else np.uint64(0))
        below = top
    return slots[np.int64(_LOW - (below & _LOW))]


@njit(cache=True)
def softmax_v_negative(state, pos, u, i, U, V, rng, cosine=0):
    """Softmax-v(rho, N): c ~ softmax(Z_c / tau) over N uniform candidates,
    Z_c = ln(1 + exp(x_uc - x_ui)), tau = sqrt(Var(Z) / (2 rho)); the variance
    is the unbiased one over the N candidates, as in the authors' code. A
    draw by the Gumbel-max trick; equal Z's (zero variance) give a uniform pick.

    Up to MAX_RANKED candidates are kept in this frame, more in the thread's
    row of the state (row 0 of the thread's own state, ``DNS.worker_state``)."""
    candidates = state.candidates
    rho = state.rho
    if candidates <= MAX_RANKED:
        keys = _ranked_keys()
        slots = _ranked_slots()
    else:
        keys = state.keys[0]
        slots = state.slots[0]
    n = scored_candidates(candidates, keys, slots, pos, u, U, V, rng, cosine)
    if n < 0:
        return -1
    x_ui = model_score(U, u, V, i, cosine, inv_row_norm(U, u, cosine))
    mean = 0.0
    for c in range(n):
        keys[c] = -log_sigmoid(x_ui - keys[c])
        mean += keys[c]
    mean /= n
    var = 0.0
    for c in range(n):
        var += (keys[c] - mean) ** 2
    var /= max(n - 1, 1)
    if not var > 0.0:
        return slots[next_int(rng, n)]
    inv_tau = math.sqrt(2.0 * rho / var)
    best = -1
    best_key = -np.inf
    for c in range(n):
        g = next_float(rng)
        key = keys[c] * inv_tau - math.log(-math.log(g + 1e-300) + 1e-300)
        if key > best_key:
            best_key = key
            best = slots[c]
    return best


@implements(draw, DNSState)
def _draw_dns(state, pos, u, i, U, V, rng):
    if state.rho > 0.0:
        return softmax_v_negative(state, pos, u, i, U, V, rng)
    if state.hardest > 1:
        return hardest_few_negative(state.candidates, state.hardest, pos, u, U, V, rng)
    return dns_negative(state.candidates, state.inv_temperature, pos, u, U, V, rng)


@implements(draw, DNSCosineState)
def _draw_dns_cosine(state, pos, u, i, U, V, rng):
    k = state.cosine
    if state.rho > 0.0:
        return softmax_v_negative(state, pos, u, i, U, V, rng, k)
    if state.hardest > 1:
        return hardest_few_negative(state.candidates, state.hardest, pos, u, U, V, rng, k)
    return dns_cosine_negative(state.candidates, state.inv_temperature, pos, u, U, V, rng, k)


#: rows of a unit's candidates requested this many candidates ahead of the
#: one being scored (dns_group_negatives)
GROUP_AHEAD = 8


@njit(cache=True, fastmath=_FAST)
def dns_group_negatives(candidates, pos, u, U, V, rng, items, start, n, cosine, x=None,
                        norms=None):
    """The ``n`` negatives of a group loss's unit, each the highest-scored of
    ``candidates`` uniform non-positives of u (DNS without a temperature),
    into items[start:start + n]; False when u has no non-positive. With
    ``x`` and ``norms`` given (both, or neither), each pick's score goes to
    x[start + r] and its row's length |V[j, :cosine]| (1.0 for dot
    products) to norms[start + r].

    The same draws as ``n`` calls of :func:`dns_negative` (dot products) or
    :func:`dns_cosine_negative` (``cosine`` = k > 0) on the same stream:
    the candidates are drawn in the same order and scored by the same
    functions, the first of equal scores wins. What changes is the work per
    unit: |U[u]| is taken once instead of once per negative, the candidates
    of up to MAX_RANKED // candidates negatives are scored four per pass
    (dns_cosine_negative's pass over two candidates scores four rows, two
    of them repeats) and each row is requested GROUP_AHEAD candidates before
    it is scored. ``candidates`` must lie in 1..MAX_RANKED (ValueError
    otherwise; the hook falls back to ``draw`` beyond it). A unit whose candidates all score NaN
    or -inf (a diverged model) is dropped, as a -1 from the single draws
    drops it; the stream then stands where these draws left it, not where
    the single draws would have."""
    if candidates < 1 or candidates > MAX_RANKED:
        raise ValueError("dns_group_negatives: candidates must lie in 1..MAX_RANKED")
    n_items = pos.n_items
    s = pos.indptr[u]
    deg = pos.indptr[u + 1] - s
    if deg >= n_items:
        return False
    keys = _ranked_keys()
    slots = _ranked_slots()
    lengths = _ranked_lengths()
    local = frame_word()
    local[0] = rng[0]
    inv_nu = inv_row_norm(U, u, cosine)
    per = MAX_RANKED // candidates
    done = 0
    while done < n:
        m = min(per, n - done)
        total = m * candidates
        _fill_chunk(slots, total, pos, u, s, deg, local)
        for k in range(min(GROUP_AHEAD, total)):
            prefetch_row(V, slots[k])
        for k in range(0, total, 4):
            for a in range(k + GROUP_AHEAD, min(k + GROUP_AHEAD + 4, total)):
                prefetch_row(V, slots[a])
            sc, ln = _scores4_lengths(U, u, V, slots[k], slots[min(k + 1, total - 1)],
                                      slots[min(k + 2, total - 1)],
                                      slots[min(k + 3, total - 1)], cosine, inv_nu)
            for c in range(min(4, total - k)):
                keys[k + c] = np.float64(sc[c])
                lengths[k + c] = ln[c]
        for r in range(m):
            best = -1
            best_key = -np.inf
            best_length = 1.0
            for c in range(r * candidates, (r + 1) * candidates):
                better = keys[c] > best_key
                best = slots[c] if better else best
                best_key = keys[c] if better else best_key
                best_length = lengths[c] if better else best_length
            if best < 0:  # every score NaN or -inf: dns_negative's -1
                rng[0] = local[0]
                return False
            items[start + done + r] = best
            if x is not None:
                x[start + done + r] = best_key
                norms[start + done + r] = best_length
        done += m
    rng[0] = local[0]
    return True


@njit(cache=True, inline="always")
def _batched_argmax(state):
    """Whether a unit's draws go through dns_group_negatives: the plain
    argmax of at most MAX_RANKED candidates (no temperature, DNS(M, N) or
    Softmax-v)."""
    return (state.rho <= 0.0 and state.hardest <= 1 and state.inv_temperature <= 0.0
            and state.candidates <= MAX_RANKED)


@njit(cache=True, inline="always")
def _draw_group_dns(state, pos, u, i, U, V, rng, items, start, n, cosine):
    """draw_group for DNS's states: the plain argmax by dns_group_negatives,
    the softened variants (temperature, DNS(M, N), Softmax-v) and more than
    MAX_RANKED candidates draw by draw."""
    if not _batched_argmax(state):
        return draw_each(state, pos, u, i, U, V, rng, items, start, n)
    return dns_group_negatives(state.candidates, pos, u, U, V, rng, items, start, n, cosine)


@implements(draw_group, DNSState)
def _draw_group_dot(state, pos, u, i, U, V, rng, items, start, n):
    return _draw_group_dns(state, pos, u, i, U, V, rng, items, start, n, 0)


@implements(draw_group, DNSCosineState)
def _draw_group_cosine(state, pos, u, i, U, V, rng, items, start, n):
    return _draw_group_dns(state, pos, u, i, U, V, rng, items, start, n, state.cosine)


@njit(cache=True, inline="always")
def _draw_group_scored_dns(state, pos, u, i, U, V, rng, items, start, n, x, norms, cosine,
                           same_scores):
    """draw_group_scored for DNS's states: the plain argmax hands over its
    picks' scores when they are the loop's (``same_scores``); the other
    variants draw as draw_group does, unscored."""
    if not (same_scores and _batched_argmax(state)):
        return 1 if _draw_group_dns(state, pos, u, i, U, V, rng, items, start, n, cosine) else 0
    if dns_group_negatives(state.candidates, pos, u, U, V, rng, items, start, n, cosine, x,
                           norms):
        return 2
    return 0


@implements(draw_group_scored, DNSState)
def _draw_group_scored_dot(state, pos, u, i, U, V, rng, items, start, n, x, norms, k, width):
    # the dot product of all of U's columns is the loop's when it scores dot
    # products over exactly those columns
    return _draw_group_scored_dns(state, pos, u, i, U, V, rng, items, start, n, x, norms, 0,
                                  k == 0 and width == U.shape[1])


@implements(draw_group_scored, DNSCosineState)
def _draw_group_scored_cosine(state, pos, u, i, U, V, rng, items, start, n, x, norms, k,
                              width):
    # the cosine of the first k columns, plus column k when V is wider
    return _draw_group_scored_dns(state, pos, u, i, U, V, rng, items, start, n, x, norms,
                                  state.cosine,
                                  k == state.cosine and (width > k) == (V.shape[1] > k))


def _is_int(v):
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


class DNS(Sampler):
    """Hard negatives among ``candidates`` uniform non-positives, scored by
    the current model (see the module docstring for the papers).

    Parameters
    ----------
    candidates : int
        N, the uniform candidates drawn (with replacement) per negative.
    temperature : float or None
        None: the highest-scored candidate (DNS). t > 0: candidate c with
        probability exp(x_uc / t) / sum_c' exp(x_uc' / t).
    hardest : int
        M of DNS(M, N): a candidate drawn uniformly among the M highest
        scored. 1 (the default) is DNS.
    rho : float or None
        Softmax-v(rho, N): c ~ softmax(Z_c / tau), Z_c = ln(1 + exp(x_uc -
        x_ui)), tau = sqrt(Var(Z) / (2 rho)); needs candidates >= 2 and the
        positive i (the trainers pass it). Larger rho is harder.

    Notes
    -----
    ``temperature``, ``hardest`` > 1 and ``rho`` are three ways of softening
    the argmax: give at most one.
    """

    name = "dns"
    needs_model = True
    search_space = {"candidates": IntRange(2, 64, log=True)}
    # benchmarks/studies/tune_per_sampler.py (README, "Defaults per sampler"), measured
    # with 16 candidates: hard negatives want a smaller step and more decay
    # ("bpo": the same search and rule with rs.BPO and its defaults, `--trainer bpo`)
    recommended = {"bpr": {"learning_rate": 0.03, "regularization": 0.03, "epochs": 35},
                   "bpo": {"learning_rate": 0.03, "regularization": 0.03, "epochs": 30}}
    # the group losses weigh their N negatives by score themselves: the
    # hardest of 16 each made CCL and the softmax fall below popularity on
    # nbpo-amazon's validation part; the hardest of 2 is the best worst share
    # over movielens-small and nbpo-amazon (benchmarks/results/group_samplers_grid.csv,
    # docs/defaults.md#group-losses-ccl-and-sampled-softmax)
    loss_arguments = {"ccl": {"candidates": 2}, "softmax": {"candidates": 2}}

    def __init__(self, candidates: int = 16, temperature: float | None = None,
                 hardest: int = 1, rho: float | None = None):
        self.candidates = candidates
        self.temperature = temperature
        self.hardest = hardest
        self.rho = rho

    @property
    def needs_positive(self):
        return self.rho is not None

    def space(self) -> dict:
        # DNS(M, N) needs at least M candidates: search N from M up
        h = self.hardest
        if _is_int(h) and h > 1:
            return {"candidates": IntRange(int(h), min(MAX_RANKED, max(64, 2 * int(h))),
                                           log=True)}
        return super().space()

    def worker_state(self, state, worker):
        """``state`` with thread ``worker``'s own scratch rows (as row 0)."""
        if state.keys.shape[1] == 0:
            return state
        return state._replace(keys=state.keys[worker:worker + 1],
                              slots=state.slots[worker:worker + 1])

    def scoring_state(self, state, cosine, n_factors):
        """Candidates ranked by the trainer's own score: with cosine scores, a
        row's length says nothing of how the model ranks it, and the dot
        product would pick long rows rather than hard items."""
        return DNSCosineState(*state, np.int64(n_factors)) if cosine else state

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        m = self.candidates
        if not _is_int(m) or m < 1:
            raise ValueError(f"candidates must be an integer >= 1, got {m!r}")
        t = self.temperature
        if t is None:
            inv = 0.0
        else:
            if not np.isscalar(t) or not np.isfinite(t) or t <= 0:
                raise ValueError(f"temperature must be None or a finite number > 0, got {t!r}")
            inv = 1.0 / float(t)
        h = self.hardest
        if not _is_int(h) or not 1 <= h <= m:
            raise ValueError(f"hardest must be an integer in [1, candidates={m}], got {h!r}")
        if h > 1 and m > MAX_RANKED:
            raise ValueError(f"candidates must be at most {MAX_RANKED} with hardest > 1 "
                             f"(DNS(M, N) ranks them in the draw's stack frame), got {m}")
        rho = self.rho
        if rho is not None:
            if isinstance(rho, bool) or not np.isscalar(rho) or not np.isfinite(rho) or rho <= 0:
                raise ValueError(f"rho must be None or a finite number > 0, got {rho!r}")
            if m < 2:
                raise ValueError(f"rho needs candidates >= 2 (a variance over the candidates), "
                                 f"got candidates={m}")
        if sum((t is not None, h > 1, rho is not None)) > 1:
            raise ValueError(f"give at most one of temperature, hardest > 1 and rho; got "
                             f"temperature={t!r}, hardest={h!r}, rho={rho!r}")
        width = m if rho is not None and m > MAX_RANKED else 0
        threads = numba.config.NUMBA_NUM_THREADS
        return DNSState(np.int64(m), np.float64(inv), np.int64(h),
                        np.float64(0.0 if rho is None else rho),
                        np.zeros((threads, width)), np.zeros((threads, width), dtype=np.int64))
