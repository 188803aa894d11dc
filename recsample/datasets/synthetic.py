"""Power-law synthetic interactions, for scale tests and benchmarks."""
from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ..interactions import Interactions

__all__ = ["synthetic"]

# pairs drawn per vectorised chunk: bounds the temporary float/int arrays
_CHUNK = 1 << 23
# below this share of new pairs per round, the top-up flattens the laws
_LOW_YIELD = 0.1


def synthetic(n_users: int, n_items: int, nnz: int, alpha: float = 1.0,
              seed: int = 0, *, clusters: int = 0, affinity: float = 0.8) -> Interactions:
    """Exactly ``nnz`` distinct (user, item) pairs with power-law activity and popularity.

    User u and item i are drawn independently from power laws of exponent
    alpha over their popularity ranks: P(rank k) proportional to the integral
    of x^-alpha over [k, k+1), k = 1..n, i.e. Zipf's law P(k) ~ k^-alpha for
    all but the first few ranks (see ``_PowerLaw``). Ranks are assigned to ids
    by a seeded random permutation, so ids carry no order; alpha = 0 is
    uniform. Pairs are drawn in vectorised chunks and de-duplicated by
    sorting int64 keys u * n_items + i; rounds top up until at least ``nnz``
    distinct pairs exist, and the surplus of the last round is removed
    uniformly at random. With a steep law the popular corner of the matrix
    fills up and draws mostly repeat pairs; once a round yields under 10% new
    pairs, later rounds halve alpha (same ranking), so the generator always
    finishes and the bulk keeps the requested skew. When ``nnz >= n_users``
    every user first gets one item drawn from the popularity law, so no user
    is empty.

    With ``clusters=0`` (the default) user and item are independent, so the
    popularity ranking is the best any model can learn from the matrix: a
    data set for speed and scale, not for quality. ``clusters=c >= 2``
    plants a structure to learn: user u and item i belong to the clusters
    u mod c and i mod c (ids carry no order, so clusters are random as to
    activity and popularity), and each drawn item is, with probability
    ``affinity``, replaced by an item of its user's cluster: the item of that
    cluster in the same block of c consecutive ids (a member of the block's
    neighbour block when the last block is short). An item's popularity is
    then the summed draw probability of its block, still heavy-tailed, and
    a user's pairs fall in the own cluster about
    affinity + (1 - affinity) / c of the time. When the clusters cannot
    hold ``nnz`` pairs (affinity near 1), the low-yield rounds below halve
    the affinity too, so the share is lower and the generator still ends.

    Weights are float32 ones, indices int32 where they fit; the same
    arguments give the same matrix. Memory stays near 3 x 8 bytes per pair
    at the peak (about 2.5 GB for 100M pairs).
    """
    for arg, val in (("n_users", n_users), ("n_items", n_items), ("nnz", nnz)):
        if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
            raise ValueError(f"{arg} must be a positive integer, got {val!r}")
    n_users, n_items, nnz = int(n_users), int(n_items), int(nnz)
    if n_users * n_items >= 2 ** 62:
        raise ValueError(f"n_users * n_items = {n_users * n_items} is too large for int64 keys")
    if nnz > n_users * n_items:
        raise ValueError(f"nnz={nnz} exceeds n_users * n_items = {n_users * n_items}, the "
                         "number of distinct pairs")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) \
            or not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha!r}")
    plant = _planted(clusters, affinity, n_items)
    rng = np.random.default_rng(seed)
    user_law = _PowerLaw(n_users, alpha, rng)
    item_law = _PowerLaw(n_items, alpha, rng)

    if nnz == n_users * n_items:
        keys = np.arange(nnz, dtype=np.int64)      # every pair: nothing to plant
    else:
        reserved = np.empty(0, dtype=np.int64)
        if nnz >= n_users:
            users = np.arange(n_users, dtype=np.int64)
            reserved = users * n_items + plant(users, item_law.draw(n_users, rng), rng)
        keys = reserved
        yield_rate = 1.0
        while len(keys) < nnz:
            deficit = nnz - len(keys)
            # draw a little more than the deficit, scaled by the last round's
            # share of new distinct pairs, so a round rarely falls short
            n_draw = int(min(deficit / max(yield_rate, 1e-3) * 1.05 + 1024, 4 * nnz + 1024))
            fresh = _draw_keys(user_law, item_law, n_items, n_draw, rng, plant)
            before = len(keys)
            keys = _merge_unique(keys, fresh)
            yield_rate = (len(keys) - before) / n_draw
            if yield_rate < _LOW_YIELD:
                # the popular corner is full and nearly every draw repeats a
                # pair: top up from flatter laws (same ranking) instead
                user_law, item_law = user_law.flatter(), item_law.flatter()
                plant = plant.weaker()
        if len(keys) > nnz:
            keys = _drop_random(keys, len(keys) - nnz, np.sort(reserved), rng)
    return _to_interactions(keys, n_users, n_items)


class _PowerLaw:
    """Draws ids 0..n-1 with P(rank k) = integral of x^-alpha over [k, k+1), normalised.

    The rank is floor(X) for X with density proportional to x^-alpha on
    [1, n + 1), drawn by inverting its CDF in closed form: O(1) per draw and
    no table search, which matters at 100M draws. For large k this is Zipf's
    law P(k) ~ k^-alpha. Ranks map to ids through a seeded random permutation.
    """

    def __init__(self, n: int, alpha: float, rng: np.random.Generator | None, rank_to_id=None):
        self.n = n
        self.alpha = float(alpha)
        self.log_n1 = np.log(n + 1.0)
        self.rank_to_id = (rng.permutation(n).astype(np.int64) if rank_to_id is None
                           else rank_to_id)

    def flatter(self) -> "_PowerLaw":
        """The same ranking with half the exponent."""
        return _PowerLaw(self.n, self.alpha / 2, None, self.rank_to_id)

    def draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(size)
        b = 1.0 - self.alpha
        if abs(b) < 1e-12:
            u *= self.log_n1                          # X = (n+1)^u
        else:
            # X = (1 + u ((n+1)^b - 1))^(1/b), via expm1/log1p to stay exact near b = 0
            u *= np.expm1(b * self.log_n1)
            np.log1p(u, out=u)
            u /= b
        np.exp(u, out=u)
        rank = u.astype(np.int64)
        rank -= 1
        # X can round up to n + 1 at the top end
        np.clip(rank, 0, self.n - 1, out=rank)
        return self.rank_to_id[rank]


def _planted(clusters, affinity, n_items):
    """The item map of ``synthetic``'s clusters, checked: ``(users, items,
    rng) -> items``."""
    if isinstance(clusters, bool) or not isinstance(clusters, numbers.Integral) \
            or clusters < 0 or clusters == 1:
        raise ValueError(f"clusters must be 0 (no structure) or an integer >= 2, got {clusters!r}")
    if clusters > n_items:
        raise ValueError(f"clusters={clusters} exceeds n_items={n_items}: every cluster needs "
                         "an item")
    if isinstance(affinity, bool) or not isinstance(affinity, numbers.Real) \
            or not 0.0 <= affinity <= 1.0:
        raise ValueError(f"affinity must be a probability in [0, 1], got {affinity!r}")
    return _Plant(int(clusters), float(affinity), n_items)


class _Plant:
    """``synthetic``'s item map for ``clusters`` (the identity, drawing
    nothing, for 0)."""

    def __init__(self, clusters: int, affinity: float, n_items: int):
        self.clusters, self.affinity, self.n_items = clusters, affinity, n_items

    def weaker(self) -> "_Plant":
        """The same clusters with half the affinity (every pair reachable
        again once it is below 1)."""
        return _Plant(self.clusters, self.affinity / 2, self.n_items)

    def __call__(self, users, items, rng):
        c = self.clusters
        if c == 0:
            return items
        moved = rng.random(len(items)) < self.affinity
        target = items - items % c + users % c
        target[target >= self.n_items] -= c
        return np.where(moved, target, items)


def _draw_keys(user_law, item_law, n_items: int, size: int, rng, plant) -> np.ndarray:
    """``size`` pair keys, sorted and de-duplicated, drawn chunk by chunk."""
    parts = []
    for start in range(0, size, _CHUNK):
        m = min(_CHUNK, size - start)
        users = user_law.draw(m, rng)
        k = plant(users, item_law.draw(m, rng), rng)
        k += users * n_items
        parts.append(k)
    keys = np.concatenate(parts) if len(parts) > 1 else parts[0]
    del parts
    keys.sort()
    return _unique_sorted(keys)


def _unique_sorted(keys: np.ndarray) -> np.ndarray:
    if len(keys) < 2:
        return keys
    keep = np.empty(len(keys), dtype=bool)
    keep[0] = True
    np.not_equal(keys[1:], keys[:-1], out=keep[1:])
    return keys[keep]


def _merge_unique(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union of two sorted unique key arrays."""
    if len(a) == 0:
        return b
    merged = np.concatenate([a, b])
    # two sorted runs: the stable sort (timsort for int64) merges them in linear time
    merged.sort(kind="stable")
    return _unique_sorted(merged)


def _drop_random(keys: np.ndarray, n_drop: int, reserved: np.ndarray, rng) -> np.ndarray:
    """Remove ``n_drop`` keys chosen uniformly among those not in ``reserved``."""
    res_pos = np.searchsorted(keys, reserved)            # reserved keys are all present
    n_free = len(keys) - len(res_pos)
    ranks = np.sort(rng.choice(n_free, size=n_drop, replace=False))
    # the r-th free key sits after every reserved position p with p - (#reserved before p) <= r
    shift = np.searchsorted(res_pos - np.arange(len(res_pos)), ranks, side="right")
    keep = np.ones(len(keys), dtype=bool)
    keep[ranks + shift] = False
    return keys[keep]


def _to_interactions(keys: np.ndarray, n_users: int, n_items: int) -> Interactions:
    nnz = len(keys)
    small = nnz < np.iinfo(np.int32).max and max(n_users, n_items) < np.iinfo(np.int32).max
    idx_dtype = np.int32 if small else np.int64
    users = keys // n_items
    indptr = np.zeros(n_users + 1, dtype=idx_dtype)
    np.cumsum(np.bincount(users, minlength=n_users), out=indptr[1:])
    users *= n_items
    np.subtract(keys, users, out=users)                # reuse the buffer for item ids
    indices = users.astype(idx_dtype)
    del users
    m = sp.csr_matrix((np.ones(nnz, dtype=np.float32), indices, indptr),
                      shape=(n_users, n_items), copy=False)
    m.has_sorted_indices = True
    return Interactions(m, name=f"synthetic({n_users}, {n_items}, {nnz})")


def hidden_positives(n_users: int = 400, n_items: int = 300, rank: int = 4,
                     positive_fraction: float = 0.1, hiding: str = "uniform",
                     hide: float = 0.3, exposure_rank: int = 2, seed: int = 0):
    """Implicit feedback with known false negatives, for studying samplers
    such as NBPO that model them.

    Each user's true positives are the top ``positive_fraction`` of items
    under a rank-``rank`` Gaussian preference plus Gumbel(0.5) noise. Each
    true positive is then hidden from the training matrix with probability
    h_ui: ``hiding="uniform"`` uses h = ``hide`` everywhere;
    ``hiding="exposure"`` uses h_ui = sigma(3 A_u . B_i / sqrt(r) - 1) with a
    rank-``exposure_rank`` Gaussian "exposure" A, B drawn independently of the
    preference (hiding is likelier where exposure is low; ``hide`` is unused).

    Returns ``(train, hidden, h)``: the CSR matrix of observed positives
    (float32 ones), the boolean users x items mask of hidden true positives,
    and the users x items array of hiding probabilities.
    """
    for name, value in (("n_users", n_users), ("n_items", n_items), ("rank", rank),
                        ("exposure_rank", exposure_rank)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if not 0.0 < positive_fraction < 1.0 or int(positive_fraction * n_items) < 1:
        raise ValueError(f"positive_fraction must be in (0, 1) and leave each user at least "
                         f"one positive of {n_items} items, got {positive_fraction!r}")
    if hiding not in ("uniform", "exposure"):
        raise ValueError(f"hiding must be 'uniform' or 'exposure', got {hiding!r}")
    if not 0.0 <= hide <= 1.0:
        raise ValueError(f"hide must be a probability in [0, 1], got {hide!r}")
    rng = np.random.default_rng(seed)
    S = rng.normal(size=(n_users, rank)) @ rng.normal(size=(n_items, rank)).T
    S += 0.5 * rng.gumbel(size=S.shape)
    top = np.argsort(-S, axis=1)[:, : int(positive_fraction * n_items)]
    truth = np.zeros(S.shape, bool)
    np.put_along_axis(truth, top, True, axis=1)
    if hiding == "uniform":
        h = np.full(S.shape, float(hide))
    else:
        A = rng.normal(size=(n_users, exposure_rank))
        B = rng.normal(size=(n_items, exposure_rank))
        h = 1.0 / (1.0 + np.exp(-(3.0 * (A @ B.T) / np.sqrt(exposure_rank) - 1.0)))
    hidden = truth & (rng.random(S.shape) < h)
    return sp.csr_matrix((truth & ~hidden).astype(np.float32)), hidden, h
