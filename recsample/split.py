"""Train/validation/test splits of an :class:`~recsample.Interactions`.

Every split returns parts over the full user/item index space of its input
(same shape, same ids, same item metadata), the parts are disjoint and their
union is the input, with weights and timestamps carried over. Splits are
vectorised over the stored interactions (one sort, no loop over users), so they
run at the scale of the data: about one ``argsort`` of nnz keys.
"""
from __future__ import annotations

import numbers

import numpy as np

from .interactions import Interactions

__all__ = ["random_holdout", "leave_one_out", "temporal"]


def random_holdout(data: Interactions, test_fraction: float = 0.2,
                   valid_fraction: float | None = None, seed=0):
    """Per-user random holdout: ``(train, test)`` or ``(train, valid, test)``.

    For a user with n interactions, n_test = floor(n * test_fraction + 0.5)
    (rounding half up) of them, drawn uniformly at random, go to test, and
    likewise n_valid = floor(n * valid_fraction + 0.5) to validation. A user
    always keeps at least one interaction in train: when
    n_test + n_valid > n - 1, validation gives way first, then test, so a user
    with a single interaction stays entirely in train.

    ``seed`` (int or ``numpy.random.Generator``) fixes the draw: the same seed
    on the same data gives the same split.
    """
    _check_data(data)
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    if valid_fraction is not None:
        valid_fraction = _check_fraction(valid_fraction, "valid_fraction")
        if test_fraction + valid_fraction >= 1:
            raise ValueError(f"test_fraction + valid_fraction must be < 1 so train keeps some "
                             f"data, got {test_fraction} + {valid_fraction}")
    counts = data.user_counts().astype(np.int64)
    room = np.maximum(counts - 1, 0)                       # train keeps >= 1
    n_test = np.minimum(_round_half_up(counts * test_fraction), room)
    n_valid = np.zeros_like(n_test)
    if valid_fraction is not None:
        n_valid = np.minimum(_round_half_up(counts * valid_fraction), room - n_test)
    rank = _random_rank_in_row(data, np.random.default_rng(seed))
    users = data.entry_users()
    test = rank < n_test[users]
    if valid_fraction is None:
        return data.select(~test), data.select(test)
    valid = ~test & (rank < (n_test + n_valid)[users])
    return data.select(~(test | valid)), data.select(valid), data.select(test)


def leave_one_out(data: Interactions, seed=0, valid: bool = False):
    """Hold out one interaction per user: ``(train, test)`` or ``(train, valid, test)``.

    With timestamps, the test item is the user's latest interaction; among
    interactions sharing the latest timestamp, the one with the lower internal
    item index is taken. Without timestamps it is drawn uniformly at random
    (``seed``). With ``valid=True`` the next one in the same order (the
    next-latest, or a second random one) goes to validation.

    A user with a single interaction stays in train; with ``valid=True`` a user
    with two interactions gives one to test and none to validation, so train
    always keeps at least one interaction per user who has any.
    """
    _check_data(data)
    if not isinstance(valid, (bool, np.bool_)):
        raise TypeError(f"valid must be True or False, got {valid!r}")
    if data.timestamps is not None:
        users = data.entry_users()
        # newest first within each user; lexsort is stable and entries are
        # already in item order within a row, so ties go to the lower item index
        order = np.lexsort((-data.timestamps, users))
        rank = np.empty(data.nnz, dtype=np.int64)
        rank[order] = np.arange(data.nnz, dtype=np.int64) - data.matrix.indptr[users[order]]
    else:
        rank = _random_rank_in_row(data, np.random.default_rng(seed))
    counts = data.user_counts()
    users = data.entry_users()
    test = (rank == 0) & (counts[users] >= 2)
    if not valid:
        return data.select(~test), data.select(test)
    held_valid = (rank == 1) & (counts[users] >= 3)
    return data.select(~(test | held_valid)), data.select(held_valid), data.select(test)


def temporal(data: Interactions, test_fraction: float = 0.2,
             valid_fraction: float | None = None):
    """One global time cut: ``(train, test)`` or ``(train, valid, test)``.

    With the timestamps sorted as t_(0) <= ... <= t_(nnz-1), the test cut is
    c_test = t_(k) with k = nnz - floor(nnz * test_fraction + 0.5); test holds
    every interaction with timestamp >= c_test. With ``valid_fraction`` the
    validation cut c_valid is placed the same way at
    test_fraction + valid_fraction and validation holds c_valid <= t < c_test.
    Interactions sharing the cut time all fall on the later side, so a part
    can be a little larger than its fraction. Unlike the per-user splits, a
    user may have no train interaction (it only appears after the cut).

    Raises ValueError when ties leave a part empty (e.g. all timestamps equal).
    """
    _check_data(data)
    if data.timestamps is None:
        raise ValueError("temporal split needs timestamps; this Interactions has none "
                         "(build it with from_pandas(..., timestamp=...), or use "
                         "random_holdout / leave_one_out)")
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    later = test_fraction
    if valid_fraction is not None:
        valid_fraction = _check_fraction(valid_fraction, "valid_fraction")
        later = test_fraction + valid_fraction
        if later >= 1:
            raise ValueError(f"test_fraction + valid_fraction must be < 1 so train keeps some "
                             f"data, got {test_fraction} + {valid_fraction}")
    ts = data.timestamps
    sorted_ts = np.sort(ts)

    def cut(fraction):
        k = data.nnz - int(_round_half_up(np.array([data.nnz * fraction]))[0])
        return sorted_ts[min(k, data.nnz - 1)]

    c_test = cut(test_fraction)
    test = ts >= c_test
    parts = {"test": test}
    if valid_fraction is not None:
        c_valid = cut(later)
        parts["valid"] = (ts >= c_valid) & ~test
        train = ts < c_valid
    else:
        train = ~test
    for part_name, mask in {"train": train, **parts}.items():
        if not mask.any():
            raise ValueError(f"the time cut leaves {part_name} empty: too many interactions "
                             f"share a timestamp (cut at {c_test}); use a per-user split")
    if valid_fraction is None:
        return data.select(train), data.select(test)
    return data.select(train), data.select(parts["valid"]), data.select(test)


# --------------------------------------------------------------------- helpers
def _check_data(data) -> None:
    if not isinstance(data, Interactions):
        raise TypeError(f"data must be a recsample.Interactions, got {type(data).__name__}")


def _check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not (0.0 < float(value) < 1.0):
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def _round_half_up(x: np.ndarray) -> np.ndarray:
    # np.round rounds half to even (0.5 -> 0, 2.5 -> 2); half up is the
    # rule users expect from "20% of 5 items" and of 2.5 items alike
    return np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)


def _random_rank_in_row(data: Interactions, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random rank 0..n_u-1 for every entry within its user's row.

    One argsort of int64 keys (user in the high bits, random low bits): the
    position of an entry in that order minus its row start is its rank. Equal
    random bits (chance ~ n_u^2 / 2^bits) only make the order among those two
    arbitrary, never the counts wrong.
    """
    users = data.entry_users()
    user_bits = max(int(data.n_users).bit_length(), 1)
    rand_bits = 63 - user_bits
    key = (users.astype(np.int64) << rand_bits) | rng.integers(
        0, 1 << rand_bits, size=data.nnz, dtype=np.int64)
    order = np.argsort(key)
    del key
    rank = np.empty(data.nnz, dtype=np.int64)
    rank[order] = np.arange(data.nnz, dtype=np.int64) - data.matrix.indptr[users[order]]
    return rank
