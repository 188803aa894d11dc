"""Interactions: building from rows or sparse matrices, and the derived views."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsample.interactions import Interactions


def _rows(**extra):
    df = pd.DataFrame({"user_id": ["bob", "amy", "bob", "cat", "amy"],
                       "item_id": ["x", "y", "z", "x", "x"]})
    for k, v in extra.items():
        df[k] = v
    return df


def _canonical(m):
    return m.has_canonical_format and m.dtype == np.float32


# ------------------------------------------------------------------ from_pandas
def test_from_pandas_string_ids_map_to_sorted_internal_ids():
    data = Interactions.from_pandas(_rows())
    assert list(data.user_ids) == ["amy", "bob", "cat"]
    assert list(data.item_ids) == ["x", "y", "z"]
    assert data.matrix.toarray().tolist() == [[1, 1, 0], [1, 0, 1], [1, 0, 0]]


def test_from_pandas_matrix_is_canonical_float32_with_int32_indices():
    m = Interactions.from_pandas(_rows()).matrix
    assert sp.isspmatrix_csr(m) and _canonical(m)
    assert m.indices.dtype == np.int32 and m.indptr.dtype == np.int32


def test_from_pandas_aggregates_duplicates_and_counts_them():
    df = pd.DataFrame({"user_id": [1, 1, 1, 2], "item_id": [5, 5, 6, 5],
                       "w": [1.0, 2.5, 1.0, 4.0], "t": [10, 30, 20, 5]})
    data = Interactions.from_pandas(df, weight="w", timestamp="t")
    assert data.n_duplicates == 1
    assert data.nnz == 3
    assert data.matrix[0, 0] == pytest.approx(3.5)          # weights summed
    assert data.timestamps.tolist() == [30, 20, 5]          # latest time kept


def test_from_pandas_weight_and_timestamp_round_trip_through_to_pandas():
    df = _rows(w=[1.0, 2.0, 3.0, 4.0, 5.0], t=[50, 40, 30, 20, 10])
    data = Interactions.from_pandas(df, weight="w", timestamp="t")
    back = data.to_pandas().sort_values(["user", "item"]).reset_index(drop=True)
    want = (df.rename(columns={"user_id": "user", "item_id": "item", "w": "weight",
                               "t": "timestamp"})
            .sort_values(["user", "item"]).reset_index(drop=True))
    assert back["user"].tolist() == want["user"].tolist()
    assert back["item"].tolist() == want["item"].tolist()
    assert back["weight"].tolist() == want["weight"].tolist()
    assert back["timestamp"].tolist() == want["timestamp"].tolist()


def test_from_pandas_without_weight_gives_ones():
    assert set(Interactions.from_pandas(_rows()).matrix.data) == {1.0}


def test_from_pandas_datetime_timestamps_keep_their_order():
    t = pd.to_datetime(["2020-01-01", "2020-01-03", "2020-01-02", "2019-12-31", "2021-06-01"])
    data = Interactions.from_pandas(_rows(t=t), timestamp="t")
    frame = data.to_pandas()
    by_pair = dict(zip(zip(frame.user, frame.item), frame.timestamp))
    assert by_pair[("bob", "z")] > by_pair[("bob", "x")] > by_pair[("cat", "x")]


def test_from_pandas_item_metadata_follows_item_ids():
    meta = pd.DataFrame({"title": ["Zed", "Ex", "Why"]}, index=["z", "x", "y"])
    data = Interactions.from_pandas(_rows(), item_metadata=meta)
    assert data.item_metadata["title"].tolist() == ["Ex", "Why", "Zed"]


@pytest.mark.parametrize("df, kwargs, match", [
    (pd.DataFrame({"user_id": [], "item_id": []}), {}, "empty"),
    (_rows(), {"item": "movie"}, "item='movie' is not a column"),
    (_rows(), {"weight": "rating"}, "weight='rating' is not a column"),
    (pd.DataFrame({"user_id": [1, None], "item_id": [1, 2]}), {}, "user column .* missing"),
    (pd.DataFrame({"user_id": [1, 2], "item_id": [1, np.nan]}), {}, "item column .* missing"),
    (pd.DataFrame({"user_id": [1, -2], "item_id": [1, 2]}), {}, "negative ids"),
    (_rows(w=[1, -1, 1, 1, 1]), {"weight": "w"}, "negative values"),
    (_rows(w=[1, np.nan, 1, 1, 1]), {"weight": "w"}, "missing"),
    (_rows(w=[1, np.inf, 1, 1, 1]), {"weight": "w"}, "infinite"),
    (_rows(w=[1, 0, 1, 1, 1]), {"weight": "w"}, "is 0"),
    (_rows(t=[1, None, 3, 4, 5]), {"timestamp": "t"}, "timestamp column .* missing"),
    (_rows(t=[1.5, 2, 3, 4, 5]), {"timestamp": "t"}, "non-integer"),
])
def test_from_pandas_rejects_bad_input(df, kwargs, match):
    with pytest.raises(ValueError, match=match):
        Interactions.from_pandas(df, **kwargs)


def test_from_pandas_rejects_a_non_dataframe():
    with pytest.raises(TypeError, match="df must be a pandas DataFrame"):
        Interactions.from_pandas({"user_id": [1], "item_id": [1]})


# -------------------------------------------------------------------- from_csr
def test_from_csr_sums_duplicates_and_drops_explicit_zeros():
    coo = sp.coo_matrix(([1.0, 2.0, 0.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 3))
    data = Interactions.from_csr(coo)
    assert data.n_duplicates == 1
    assert data.matrix.toarray().tolist() == [[0, 3, 0], [0, 0, 0]]
    assert _canonical(data.matrix)


@pytest.mark.parametrize("values", [[-1.0], [np.nan], [np.inf]])
def test_from_csr_rejects_negative_or_non_finite_weights(values):
    with pytest.raises(ValueError, match="finite and non-negative"):
        Interactions.from_csr(sp.csr_matrix((values, ([0], [0])), shape=(1, 1)))


def test_from_csr_rejects_dense_input():
    with pytest.raises(TypeError, match="scipy.sparse"):
        Interactions.from_csr(np.ones((2, 2)))


def test_constructor_rejects_misaligned_timestamps():
    with pytest.raises(ValueError, match="one entry per stored interaction"):
        Interactions(sp.csr_matrix(np.eye(2, dtype=np.float32)), timestamps=[1, 2, 3])


def test_constructor_rejects_misaligned_item_metadata():
    with pytest.raises(ValueError, match="one per item"):
        Interactions(sp.csr_matrix(np.eye(2, dtype=np.float32)),
                     item_metadata=pd.DataFrame({"title": ["a"]}))


# --------------------------------------------------------------------- derived
def _timed():
    df = pd.DataFrame({"user_id": [0, 0, 0, 1, 1, 2], "item_id": [0, 1, 2, 0, 2, 1],
                       "r": [5.0, 3.0, 4.0, 1.0, 4.5, 2.0], "t": [1, 2, 3, 4, 5, 6]})
    return Interactions.from_pandas(df, weight="r", timestamp="t")


def test_select_keeps_shape_ids_weights_and_timestamps_of_kept_entries():
    data = _timed()
    part = data.select(data.timestamps % 2 == 0)
    assert part.shape == data.shape and part.user_ids.equals(data.user_ids)
    assert part.timestamps.tolist() == [2, 4, 6]
    assert part.matrix.data.tolist() == [3.0, 1.0, 2.0]
    assert _canonical(part.matrix)


def test_select_rejects_a_mask_of_the_wrong_length():
    with pytest.raises(ValueError, match="length nnz=6"):
        _timed().select(np.ones(5, dtype=bool))


def test_binarize_keeps_weights_at_or_above_threshold_as_ones():
    data = _timed()
    pos = data.binarize(4)
    assert pos.shape == data.shape
    assert pos.nnz == 3 and set(pos.matrix.data) == {1.0}
    assert pos.timestamps.tolist() == [1, 3, 5]


def test_binarize_rejects_a_non_numeric_threshold():
    with pytest.raises(ValueError, match="threshold"):
        _timed().binarize("4")


def test_k_core_repeats_until_stable():
    # dropping user 2 (1 item) leaves item 1 with one user, which then drops,
    # which leaves user 0 with two items: still a 2-core
    data = _timed()
    core = data.k_core(min_user=2, min_item=2)
    assert list(core.user_ids) == [0, 1] and list(core.item_ids) == [0, 2]
    assert core.matrix.toarray().tolist() == [[5.0, 4.0], [1.0, 4.5]]
    assert core.timestamps.tolist() == [1, 3, 4, 5]


def test_k_core_rejects_thresholds_below_one():
    with pytest.raises(ValueError, match="min_item must be an integer >= 1"):
        _timed().k_core(min_user=2, min_item=0)


def test_k_core_that_removes_everything_raises():
    with pytest.raises(ValueError, match="no interaction survives"):
        _timed().k_core(5)


def test_entry_users_follow_csr_order():
    assert _timed().entry_users().tolist() == [0, 0, 0, 1, 1, 2]


def test_repr_names_the_size():
    assert "users=3, items=3, interactions=6" in repr(_timed())
