"""recsample.ann.ItemIndex: approximate top-k from a faiss HNSW graph, with
the return contract of ``model.recommend``."""
import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs

from helpers import Factors

faiss = pytest.importorskip("faiss", reason="the ann extra: pip install -e .[ann]")

from recsample.ann import ItemIndex  # noqa: E402

N_USERS, N_ITEMS = 300, 2000


def _recall(approx, exact):
    """Mean share of each exact list found in the approximate one (padding ignored)."""
    out = []
    for a, e in zip(approx, exact):
        e = set(e[e >= 0].tolist())
        if e:
            out.append(len(e & set(a.tolist())) / len(e))
    return float(np.mean(out))


def _graph_only(monkeypatch, index):
    """Make the exact scan fail, so a test sees the graph's answers only."""
    def refuse(*args, **kwargs):
        raise AssertionError("rows were ranked by the exact scan, not by the graph")
    monkeypatch.setattr(index, "_exact_rows", refuse)


def _assert_graph_top10_is_the_models(model, index):
    """The index's top 10 for every user: nearly all of the exact top 10,
    each with exactly the model's score."""
    users = np.arange(N_USERS)
    items, scores = index.recommend(users, k=10)
    assert _recall(items, model.recommend(users, k=10)[0]) >= 0.98
    expected = model.predict(np.repeat(users, 10), items.ravel()).reshape(items.shape)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)


def _top_rows(model, users, k):
    """CSR (len(users) rows over users' ids) of each user's exact top-k."""
    items, _ = model.recommend(users, k=k)
    rows = np.repeat(users, k)
    return sp.csr_matrix((np.ones(rows.size, np.float32), (rows, items.ravel())),
                         shape=(model.n_users, model.n_items))


@pytest.fixture(scope="module")
def data():
    return rs.datasets.synthetic(N_USERS, N_ITEMS, 15_000, alpha=0.8, seed=0)


@pytest.fixture(scope="module")
def model(data):
    return rs.BPR(factors=16, epochs=5, seed=0, n_threads=1).fit(data, progress=False)


@pytest.fixture(scope="module")
def index(model):
    return ItemIndex.build(model, M=16, ef_construction=100, ef_search=200)


# ------------------------------------------------------------- (a) agreement
def test_top10_agrees_with_exact_recommend(model, index, monkeypatch):
    _graph_only(monkeypatch, index)
    users = np.arange(N_USERS)
    exact_items, exact_scores = model.recommend(users, k=10)
    items, scores = index.recommend(users, k=10)
    assert items.shape == scores.shape == (N_USERS, 10)
    assert items.dtype == np.int64 and scores.dtype == np.float32
    assert _recall(items, exact_items) >= 0.98
    # the scores are the model's own, best first
    expected = model.predict(np.repeat(users, 10), items.ravel()).reshape(items.shape)
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 0).all()
    np.testing.assert_allclose(scores[:, 0], exact_scores[:, 0], rtol=1e-5, atol=1e-5)


def test_one_user_per_call_equals_the_batch(index):
    users = np.arange(0, N_USERS, 7)
    batch = index.recommend(users, k=10)
    for r, u in enumerate(users):
        one = index.recommend(int(u), k=10)
        np.testing.assert_array_equal(one[0][0], batch[0][r])
        np.testing.assert_array_equal(one[1][0], batch[1][r])


def test_k_beyond_the_catalogue_is_clamped_and_exact(model, index):
    users = np.arange(5)
    items, scores = index.recommend(users, k=N_ITEMS + 50)
    assert items.shape == (5, N_ITEMS)
    exact = model.recommend(users, k=N_ITEMS + 50)
    np.testing.assert_array_equal(items, exact[0])


def test_inner_product_graph_agrees_with_exact_recommend(model, monkeypatch):
    index = ItemIndex.build(model, M=16, ef_construction=100, ef_search=200,
                            mips="inner_product")
    assert index.mips == "inner_product"
    _graph_only(monkeypatch, index)
    _assert_graph_top10_is_the_models(model, index)


# ------------------------------------------------------------- (b) the bias
def _bias_case():
    """Items 100-129 have the largest dot products with every user but a
    bias of -10; item 11 a smaller one and a bias of +3. With the bias item
    11 is first and the decoys last; without it the first 30 places would
    all be decoys."""
    rng = np.random.default_rng(1)
    n_items, f = 500, 8
    V = np.zeros((n_items, f + 1), np.float32)
    V[:, :f] = 0.05 * rng.standard_normal((n_items, f))
    U = np.zeros((20, f + 1), np.float32)
    U[:, 0] = 1.0 + 0.1 * rng.random(20)
    U[:, -1] = 1.0
    decoys = np.arange(100, 130)
    V[decoys, 0] = 5.0 + 0.1 * rng.random(30)
    V[decoys, -1] = -10.0
    V[11, 0], V[11, -1] = 4.0, 3.0
    return Factors(U, V), decoys


@pytest.mark.parametrize("mips", ["l2_reduction", "inner_product"])
def test_the_bias_column_is_part_of_the_score(mips, monkeypatch):
    factors, decoys = _bias_case()
    index = ItemIndex.build(factors, M=4, ef_search=16, mips=mips)
    _graph_only(monkeypatch, index)
    items, scores = index.recommend(np.arange(20), k=3)
    assert (items[:, 0] == 11).all()
    assert not np.isin(items, decoys).any()
    U, V = factors.user_factors, factors.item_factors
    np.testing.assert_allclose(scores[:, 0], U @ V[11], rtol=1e-6)


@pytest.mark.parametrize("mips", ["l2_reduction", "inner_product"])
def test_equal_scores_go_to_the_lower_item_index(mips, monkeypatch):
    """Items 3 and 150-159 have the same row, the best for every user: the
    model's rule orders them by item index."""
    rng = np.random.default_rng(2)
    V = 0.1 * rng.standard_normal((400, 9)).astype(np.float32)
    V[3] = 2.0
    V[150:160] = V[3]
    U = np.abs(rng.standard_normal((15, 9))).astype(np.float32)
    index = ItemIndex.build(Factors(U, V), M=4, ef_search=64, mips=mips)
    _graph_only(monkeypatch, index)
    items, scores = index.recommend(np.arange(15), k=11)
    assert (items == [3, *range(150, 160)]).all()
    assert (scores == scores[:, :1]).all()


# ------------------------------------------------------------- (c) cosine
def test_cosine_model(data, monkeypatch):
    model = rs.BPR(factors=16, epochs=5, seed=0, n_threads=1, similarity="cosine").fit(
        data, progress=False)
    index = ItemIndex.build(model, M=16, ef_construction=100, ef_search=200)
    _graph_only(monkeypatch, index)
    _assert_graph_top10_is_the_models(model, index)


# ------------------------------------------------------------- (d) exclude
def _check_excluded(items, scores, X, rows, k):
    for r, u in enumerate(rows):
        seen = X.indices[X.indptr[u]:X.indptr[u + 1]]
        real = items[r][items[r] >= 0]
        assert not np.isin(real, seen).any(), f"row {r}: an excluded item was returned"
        assert len(real) == min(k, X.shape[1] - len(seen)), f"row {r}: {len(real)} items"
        assert len(set(real.tolist())) == len(real)
        assert (items[r][len(real):] == -1).all() and np.isneginf(scores[r][len(real):]).all()


def test_exclude_drops_the_excluded_top_items_and_keeps_k(model, index, monkeypatch):
    """Each user's exact top-20 excluded: the graph's best candidates are
    all excluded, and k real items must still come back."""
    _graph_only(monkeypatch, index)
    users = np.arange(N_USERS)
    X = _top_rows(model, users, 20)
    items, scores = index.recommend(users, k=10, exclude=X)
    _check_excluded(items, scores, X, users, 10)
    assert _recall(items, model.recommend(users, k=10, exclude=X)[0]) >= 0.98


def test_exclude_training_data(model, index, data):
    users = np.arange(N_USERS)
    items, scores = index.recommend(users, k=10, exclude=data)
    _check_excluded(items, scores, data.matrix, users, 10)
    assert _recall(items, model.recommend(users, k=10, exclude=data)[0]) >= 0.98
    # a raw scipy matrix is taken as the model takes it
    raw = index.recommend(users, k=10, exclude=data.matrix.tocoo())
    np.testing.assert_array_equal(raw[0], items)


def test_exclude_pads_only_when_the_catalogue_runs_out(model, index):
    X = sp.lil_matrix((model.n_users, model.n_items), dtype=np.float32)
    X[0, 3:] = 1.0                       # user 0: items 0, 1, 2 left
    X[1, :N_ITEMS - 12] = 1.0            # user 1: 12 left, so 10 real items
    X = X.tocsr()
    items, scores = index.recommend([0, 1, 2], k=10, exclude=X)
    assert sorted(items[0][:3].tolist()) == [0, 1, 2]
    assert (items[0][3:] == -1).all() and np.isneginf(scores[0][3:]).all()
    _check_excluded(items, scores, X, [0, 1, 2], 10)


def test_short_graph_answers_are_completed(model, index, monkeypatch):
    """When the graph returns fewer items than asked for (faiss pads with -1),
    rows are searched again with a larger ask, then scanned, and still get
    k real items. Here the graph never returns more than 8."""
    real = index.faiss_index

    class Stingy:
        calls = []

        def search(self, Q, k, params=None):
            dist, ids = real.search(Q, k, params=params)
            Stingy.calls.append(k)
            ids[:, 8:] = -1
            return dist, ids

    monkeypatch.setattr(index, "_index", Stingy())
    users = np.arange(40)
    X = _top_rows(model, users, 5)
    items, scores = index.recommend(users, k=10, exclude=X)
    _check_excluded(items, scores, X, users, 10)
    assert len(Stingy.calls) >= 2 and Stingy.calls[-1] > Stingy.calls[0]   # a retry first
    exact = model.recommend(users, k=10, exclude=X)
    np.testing.assert_array_equal(items, exact[0])   # then the exact scan


def test_user_factors_rows_and_their_exclude(model, index, data):
    rows = model.user_factors[:25] * 1.0
    items, _ = index.recommend(user_factors=rows, k=10)
    np.testing.assert_array_equal(items, index.recommend(np.arange(25), k=10)[0])
    X = data.matrix[:25]
    items, scores = index.recommend(user_factors=rows, k=10, exclude=X)
    _check_excluded(items, scores, X.tocsr(), range(25), 10)


def test_user_items_are_folded_in_by_the_model(model, index, data):
    X = data.matrix[:10]
    a = index.recommend(user_items=X, k=10, exclude=X)
    b = index.recommend(user_factors=model.fold_in(X), k=10, exclude=X)
    np.testing.assert_array_equal(a[0], b[0])


def test_refresh_users_after_partial_fit_users(data):
    model = rs.BPR(factors=8, epochs=2, seed=0, n_threads=1).fit(data, progress=False)
    index = ItemIndex.build(model, M=8)
    model.partial_fit_users([N_USERS], data.matrix[:1])
    with pytest.raises(ValueError, match=r"users must lie in \[0, 300\)"):
        index.recommend([N_USERS])
    index.refresh_users()
    items, _ = index.recommend([N_USERS], k=10)
    assert _recall(items, model.recommend([N_USERS], k=10)[0]) >= 0.9


# ------------------------------------------------------------- (e) save / load
def test_save_load_round_trip(model, index, data, tmp_path):
    path = model.save(tmp_path / "model.npz")
    written = index.save(path)
    assert written == tmp_path / "model.faiss"
    assert (tmp_path / "model.faiss.json").is_file()
    assert faiss.read_index(str(written)).ntotal == N_ITEMS   # plain faiss reads it
    loaded = ItemIndex.load(path)
    assert type(loaded.model) is type(model) and loaded.ef_search == index.ef_search
    assert loaded.fingerprint == index.fingerprint and loaded.M == 16
    users = np.arange(N_USERS)
    for kw in ({}, {"exclude": data}):
        a, b = index.recommend(users, k=10, **kw), loaded.recommend(users, k=10, **kw)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    # the same files, reached by the index's own name and with the model given
    again = ItemIndex.load(tmp_path / "model.faiss", model=model)
    np.testing.assert_array_equal(again.recommend(users, k=10)[0],
                                  index.recommend(users, k=10)[0])


def test_load_refuses_another_models_factors(model, index, data, tmp_path):
    index.save(tmp_path / "model.npz")
    other = rs.BPR(factors=16, epochs=5, seed=1, n_threads=1).fit(data, progress=False)
    with pytest.raises(ValueError, match=r"model\.faiss was not built from the given model: "
                                         r".*same shape but other values"):
        ItemIndex.load(tmp_path / "model.npz", model=other)
    narrow = rs.BPR(factors=8, epochs=1, seed=0, n_threads=1).fit(data, progress=False)
    with pytest.raises(ValueError, match=r"2,000 items x 9 columns, the index 2,000 x 17"):
        ItemIndex.load(tmp_path / "model.npz", model=narrow)
    # the model file beside the index is another model's
    other.save(tmp_path / "model.npz")
    with pytest.raises(ValueError, match=r"model\.faiss was not built from the model in "
                                         r".*model\.npz"):
        ItemIndex.load(tmp_path / "model.npz")


def test_load_without_a_model_serves_factor_rows_only(model, index, tmp_path):
    index.save(tmp_path / "items.faiss")
    loaded = ItemIndex.load(tmp_path / "items.faiss")
    assert loaded.model is None
    with pytest.raises(ValueError, match="pass model= to ItemIndex.load"):
        loaded.recommend([0], k=10)
    rows = model.user_factors[:20]
    np.testing.assert_array_equal(loaded.recommend(user_factors=rows, k=10)[0],
                                  index.recommend(np.arange(20), k=10)[0])


def test_load_refuses_index_files_from_two_saves(model, index, data, tmp_path):
    index.save(tmp_path / "a.npz")
    other = rs.BPR(factors=16, epochs=5, seed=1, n_threads=1).fit(data, progress=False)
    ItemIndex.build(other, M=8).save(tmp_path / "b.npz")
    meta = json.loads((tmp_path / "b.faiss.json").read_text())
    meta["M"] = 16
    (tmp_path / "a.faiss.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"a\.faiss does not match .*a\.faiss\.json"):
        ItemIndex.load(tmp_path / "a.npz", model=model)


def test_load_reports_missing_and_damaged_files(index, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.faiss"):
        ItemIndex.load(tmp_path / "nothing.npz")
    index.save(tmp_path / "m")
    (tmp_path / "m.faiss").write_bytes(b"not an index")
    with pytest.raises(ValueError, match=r"m\.faiss is not a faiss index file"):
        ItemIndex.load(tmp_path / "m")
    (tmp_path / "m.faiss.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match=r"m\.faiss\.json is not an ItemIndex metadata file"):
        ItemIndex.load(tmp_path / "m")


# ------------------------------------------------------------- (f) no faiss
def _hide_faiss(monkeypatch):
    for name in list(sys.modules):
        if name == "faiss" or name.startswith("faiss."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "faiss", None)


def test_missing_faiss_names_the_extra_before_any_work(monkeypatch, tmp_path):
    _hide_faiss(monkeypatch)
    # an unfitted model: the missing dependency is reported first
    with pytest.raises(ImportError, match=r'needs faiss.*pip install "recsample\[ann\]"'):
        ItemIndex.build(rs.BPR())
    with pytest.raises(ImportError, match=r'pip install "recsample\[ann\]"'):
        rs.ItemIndex.load(tmp_path / "absent.npz")


def test_import_needs_no_faiss():
    code = ("import sys, recsample, recsample.ann; recsample.ItemIndex; "
            "print('faiss' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert rs.ItemIndex is ItemIndex and rs.ann.ItemIndex is ItemIndex


# ------------------------------------------------------------- (g) bad arguments
@pytest.mark.parametrize("kw, match", [
    (dict(M=1), r"M must be an integer >= 2, got 1"),
    (dict(M=16.0), r"M must be an integer >= 2"),
    (dict(ef_construction=0), r"ef_construction must be an integer >= 1, got 0"),
    (dict(ef_search=True), r"ef_search must be an integer >= 1, got True"),
    (dict(mips="cosine"), r"mips must be one of \('l2_reduction', 'inner_product'\)"),
    (dict(n_threads=0), r"n_threads must be an integer >= 1, got 0"),
])
def test_bad_build_arguments(model, kw, match):
    with pytest.raises(ValueError, match=match):
        ItemIndex.build(model, **kw)


def test_build_needs_a_fitted_factor_model():
    with pytest.raises(RuntimeError, match="needs a fitted model; this BPR is not fitted yet"):
        ItemIndex.build(rs.BPR())
    with pytest.raises(TypeError, match="needs a factor model .* object has no item_factors"):
        ItemIndex.build(object())
    with pytest.raises(ValueError, match="item_factors contain NaN"):
        ItemIndex.build(Factors(np.ones((2, 3)), np.full((4, 3), np.nan)))
    with pytest.raises(ValueError, match=r"user_factors must be a float array \(n_users, 3\)"):
        ItemIndex.build(Factors(np.ones((2, 4)), np.ones((4, 3))))
    with pytest.raises(ValueError, match="user_factors contain NaN"):
        ItemIndex.build(Factors(np.full((2, 3), np.inf), np.ones((4, 3))))


@pytest.mark.parametrize("call, error, match", [
    (lambda ix: ix.recommend([0], k=0), ValueError, r"k must be an integer >= 1, got 0"),
    (lambda ix: ix.recommend([0], k=2.5), ValueError, r"k must be an integer >= 1, got 2.5"),
    (lambda ix: ix.recommend([0], k=None), ValueError, r"k must be an integer >= 1, got None"),
    (lambda ix: ix.recommend([N_USERS]), ValueError, r"users must lie in \[0, 300\)"),
    (lambda ix: ix.recommend([-1]), ValueError, r"users must lie in \[0, 300\)"),
    (lambda ix: ix.recommend([0.5]), TypeError, r"users must be a 1-d array of integer"),
    (lambda ix: ix.recommend(), ValueError, (r"give exactly one of users, user_items and "
                                             r"user_factors; got 0")),
    (lambda ix: ix.recommend([0], user_factors=np.ones((1, 17))), ValueError,
     r"give exactly one .* got 2"),
    (lambda ix: ix.recommend(user_factors=np.ones((1, 16))), ValueError,
     r"user_factors must be a float array \(n_rows, 17\)"),
    (lambda ix: ix.recommend(user_factors=np.full((1, 17), np.nan)), ValueError,
     r"user_factors has NaN"),
    (lambda ix: ix.recommend([0], exclude=sp.csr_matrix((5, 5))), ValueError,
     r"exclude has shape \(5, 5\) but the model scores 300 users x 2,000 items"),
    (lambda ix: ix.recommend(user_factors=np.ones((2, 17)), exclude=sp.csr_matrix((300, 2000))),
     ValueError, r"exclude has shape \(300, 2000\) but the model scores 2 users"),
    (lambda ix: ix.recommend([0], exclude=np.ones((300, 2000))), TypeError,
     r"exclude must be an Interactions or a scipy.sparse matrix"),
    (lambda ix: setattr(ix, "ef_search", 0), ValueError, r"ef_search must be an integer >= 1"),
])
def test_bad_query_arguments(index, call, error, match):
    with pytest.raises(error, match=match):
        call(index)


def test_empty_query_and_repr(index):
    items, scores = index.recommend(np.array([], dtype=np.int64), k=10)
    assert items.shape == scores.shape == (0, 10)
    assert repr(index) == ("ItemIndex(n_items=2,000, dim=17, mips='l2_reduction', M=16, "
                           "ef_construction=100, ef_search=200)")
