"""Splits: disjoint parts whose union is the input, over the input's index space."""
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import recsample as rs
from recsample.interactions import Interactions

SETTINGS = settings(max_examples=60, deadline=None)


def _random_interactions(n_users, n_items, density, seed, timestamps=True):
    rng = np.random.default_rng(seed)
    mask = rng.random((n_users, n_items)) < density
    mask[0, 0] = True                                   # never empty
    rows, cols = np.nonzero(mask)
    df = pd.DataFrame({"u": rows, "i": cols, "w": rng.integers(1, 6, len(rows)).astype(float),
                       # few distinct times, so ties happen
                       "t": rng.integers(0, 8, len(rows))})
    data = Interactions.from_pandas(df, user="u", item="i", weight="w",
                                    timestamp="t" if timestamps else None)
    return data


shapes = st.tuples(st.integers(1, 25), st.integers(1, 15), st.floats(0.05, 0.9),
                   st.integers(0, 2**32 - 1))


def _frame(part):
    return part.to_pandas().sort_values(["user", "item"]).reset_index(drop=True)


def _assert_partition(data, parts):
    for p in parts:
        assert p.shape == data.shape
        assert p.user_ids.equals(data.user_ids) and p.item_ids.equals(data.item_ids)
        assert p.matrix.has_canonical_format
    pattern = [(p.matrix > 0).astype(np.int32) for p in parts]
    assert (sum(pattern) > 1).nnz == 0, "parts overlap"
    union = pd.concat([_frame(p) for p in parts]).sort_values(["user", "item"])
    pd.testing.assert_frame_equal(union.reset_index(drop=True), _frame(data))


def _half_up(x):
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(int)


# -------------------------------------------------------------- random_holdout
@SETTINGS
@given(shapes, st.floats(0.01, 0.99))
def test_random_holdout_parts_partition_the_input(shape, frac):
    data = _random_interactions(*shape)
    _assert_partition(data, rs.split.random_holdout(data, test_fraction=frac, seed=shape[3]))


@SETTINGS
@given(shapes, st.floats(0.01, 0.99))
def test_random_holdout_test_count_per_user_is_the_rounded_fraction(shape, frac):
    data = _random_interactions(*shape)
    train, test = rs.split.random_holdout(data, test_fraction=frac, seed=1)
    n = data.user_counts()
    assert (test.user_counts() == np.minimum(_half_up(n * frac), np.maximum(n - 1, 0))).all()


@SETTINGS
@given(shapes, st.floats(0.01, 0.6), st.floats(0.01, 0.39))
def test_random_holdout_with_validation_partitions_and_counts(shape, f_test, f_valid):
    data = _random_interactions(*shape)
    train, valid, test = rs.split.random_holdout(data, f_test, valid_fraction=f_valid, seed=2)
    _assert_partition(data, [train, valid, test])
    n = data.user_counts()
    room = np.maximum(n - 1, 0)
    want_test = np.minimum(_half_up(n * f_test), room)
    assert (test.user_counts() == want_test).all()
    assert (valid.user_counts() == np.minimum(_half_up(n * f_valid), room - want_test)).all()


@SETTINGS
@given(shapes)
def test_random_holdout_every_user_with_data_keeps_a_train_item(shape):
    data = _random_interactions(*shape)
    train, _, _ = rs.split.random_holdout(data, 0.5, valid_fraction=0.45, seed=3)
    has_data = data.user_counts() > 0
    assert (train.user_counts()[has_data] >= 1).all()


def test_random_holdout_single_interaction_users_stay_in_train():
    data = Interactions.from_csr(sp.csr_matrix(np.eye(4, dtype=np.float32)))
    train, test = rs.split.random_holdout(data, test_fraction=0.9, seed=0)
    assert train.nnz == 4 and test.nnz == 0


@SETTINGS
@given(shapes)
def test_random_holdout_same_seed_same_split(shape):
    data = _random_interactions(*shape)
    a = rs.split.random_holdout(data, 0.3, seed=shape[3])[1]
    b = rs.split.random_holdout(data, 0.3, seed=shape[3])[1]
    assert (a.matrix != b.matrix).nnz == 0


def test_random_holdout_different_seeds_differ_on_real_data(movielens):
    a = rs.split.random_holdout(movielens, 0.2, seed=0)[1]
    b = rs.split.random_holdout(movielens, 0.2, seed=1)[1]
    assert (a.matrix != b.matrix).nnz > 0


def test_random_holdout_picks_items_uniformly_within_a_user():
    # one user with 10 items, 3 to test: each item lands in test with p = 0.3
    data = Interactions.from_csr(sp.csr_matrix(np.ones((1, 10), dtype=np.float32)))
    hits = np.zeros(10)
    for seed in range(2000):
        hits += rs.split.random_holdout(data, 0.3, seed=seed)[1].matrix.toarray()[0]
    # binomial(2000, 0.3): sd ~ 20.5; 5 sd tolerance
    assert np.all(np.abs(hits - 600) < 103)


def test_movielens_holdout_is_fast_and_partitions(movielens):
    start = time.perf_counter()
    train, test = rs.split.random_holdout(movielens, 0.2, seed=0)
    assert time.perf_counter() - start < 1.0
    assert train.nnz + test.nnz == movielens.nnz
    assert test.nnz == pytest.approx(0.2 * movielens.nnz, rel=0.01)


def test_movielens_split_fixture_keeps_timestamps_aligned(movielens, movielens_split):
    train, test = movielens_split
    original = _frame(movielens).set_index(["user", "item"])["timestamp"]
    got = _frame(test).set_index(["user", "item"])["timestamp"]
    assert (original.loc[got.index] == got).all()


# --------------------------------------------------------------- leave_one_out
@SETTINGS
@given(shapes, st.booleans(), st.booleans())
def test_leave_one_out_partitions_the_input(shape, with_valid, with_time):
    data = _random_interactions(*shape, timestamps=with_time)
    _assert_partition(data, rs.split.leave_one_out(data, seed=5, valid=with_valid))


@SETTINGS
@given(shapes)
def test_leave_one_out_holds_the_latest_item_ties_to_lower_index(shape):
    data = _random_interactions(*shape)
    train, test = rs.split.leave_one_out(data)
    frame = data.to_pandas()
    frame["item_idx"] = data.matrix.indices
    frame["user_idx"] = data.entry_users()
    multi = frame.groupby("user_idx").filter(lambda g: len(g) >= 2)
    want = (multi.sort_values(["user_idx", "timestamp", "item_idx"],
                              ascending=[True, False, True])
            .groupby("user_idx").head(1))
    got = test.to_pandas()
    assert sorted(zip(got.user, got.item)) == sorted(zip(want.user, want.item))


def test_leave_one_out_valid_is_the_next_latest():
    df = pd.DataFrame({"u": [0, 0, 0, 0], "i": [3, 1, 2, 0], "t": [40, 10, 30, 20]})
    data = Interactions.from_pandas(df, user="u", item="i", timestamp="t")
    train, valid, test = rs.split.leave_one_out(data, valid=True)
    assert list(test.matrix.indices) == [3]
    assert list(valid.matrix.indices) == [2]
    assert sorted(train.matrix.indices) == [0, 1]


@SETTINGS
@given(shapes, st.booleans())
def test_leave_one_out_one_per_user_with_two_or_more(shape, with_time):
    data = _random_interactions(*shape, timestamps=with_time)
    train, valid, test = rs.split.leave_one_out(data, seed=0, valid=True)
    n = data.user_counts()
    assert (test.user_counts() == (n >= 2)).all()
    assert (valid.user_counts() == (n >= 3)).all()


def test_leave_one_out_without_timestamps_depends_only_on_seed():
    data = _random_interactions(30, 20, 0.4, 7, timestamps=False)
    a = rs.split.leave_one_out(data, seed=4)[1]
    b = rs.split.leave_one_out(data, seed=4)[1]
    c = rs.split.leave_one_out(data, seed=5)[1]
    assert (a.matrix != b.matrix).nnz == 0 and (a.matrix != c.matrix).nnz > 0


# -------------------------------------------------------------------- temporal
@SETTINGS
@given(shapes, st.floats(0.05, 0.5))
def test_temporal_is_one_global_cut(shape, frac):
    data = _random_interactions(*shape)
    try:
        train, test = rs.split.temporal(data, test_fraction=frac)
    except ValueError as exc:                        # ties can leave a part empty
        assert "empty" in str(exc)
        return
    _assert_partition(data, [train, test])
    assert train.timestamps.max() < test.timestamps.min()


def test_temporal_with_validation_orders_the_three_parts(movielens):
    train, valid, test = rs.split.temporal(movielens, 0.2, valid_fraction=0.1)
    _assert_partition(movielens, [train, valid, test])
    assert train.timestamps.max() < valid.timestamps.min()
    assert valid.timestamps.max() < test.timestamps.min()
    assert test.nnz == pytest.approx(0.2 * movielens.nnz, rel=0.01)
    assert valid.nnz == pytest.approx(0.1 * movielens.nnz, rel=0.01)


def test_temporal_needs_timestamps():
    data = _random_interactions(5, 5, 0.5, 0, timestamps=False)
    with pytest.raises(ValueError, match="needs timestamps"):
        rs.split.temporal(data)


def test_temporal_with_a_single_time_raises():
    df = pd.DataFrame({"u": [0, 1, 2], "i": [0, 1, 2], "t": [5, 5, 5]})
    data = Interactions.from_pandas(df, user="u", item="i", timestamp="t")
    with pytest.raises(ValueError, match="train empty"):
        rs.split.temporal(data, 0.3)


# ------------------------------------------------------------------- bad input
@pytest.mark.parametrize("split", [rs.split.random_holdout, rs.split.leave_one_out,
                                   rs.split.temporal])
def test_splits_reject_a_non_interactions(split):
    with pytest.raises(TypeError, match="recsample.Interactions"):
        split(sp.csr_matrix(np.eye(3)))


@pytest.mark.parametrize("kwargs, name", [
    ({"test_fraction": 0.0}, "test_fraction"),
    ({"test_fraction": 1.0}, "test_fraction"),
    ({"test_fraction": -0.2}, "test_fraction"),
    ({"test_fraction": "0.2"}, "test_fraction"),
    ({"test_fraction": True}, "test_fraction"),
    ({"test_fraction": 0.2, "valid_fraction": 1.5}, "valid_fraction"),
    ({"test_fraction": 0.6, "valid_fraction": 0.4}, "test_fraction \\+ valid_fraction"),
])
@pytest.mark.parametrize("split", [rs.split.random_holdout, rs.split.temporal])
def test_splits_reject_bad_fractions_naming_the_argument(split, kwargs, name):
    data = _random_interactions(5, 5, 0.5, 0)
    with pytest.raises(ValueError, match=name):
        split(data, **kwargs)
