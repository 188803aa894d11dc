"""Trainers: exact gradient steps, reproducibility, errors, persistence."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs
from recsample.models import _train
from recsample.samplers.base import BPO_LOSS, BPR_LOSS
from recsample.samplers.uniform import UniformState


def _objective(loss, U, V, u, i, j, reg_u, reg_i, reg_b, k, has_bias):
    """The stated per-pair objective in float64, written independently."""
    x_ui = U[u] @ V[i]
    x_uj = U[u] @ V[j]
    if loss == BPR_LOSS:
        fit = -np.logaddexp(0.0, -(x_ui - x_uj))              # ln sigma(x_ui - x_uj)
    else:
        fit = -np.logaddexp(0.0, -x_ui) - np.logaddexp(0.0, x_uj)  # ln s(x_ui) + ln(1 - s(x_uj))
    penalty = reg_u * U[u, :k] @ U[u, :k] + reg_i * (V[i, :k] @ V[i, :k] + V[j, :k] @ V[j, :k])
    if has_bias:
        penalty += reg_b * (V[i, k] ** 2 + V[j, k] ** 2)
    return fit - 0.5 * penalty


@pytest.mark.parametrize("loss", [BPR_LOSS, BPO_LOSS])
@pytest.mark.parametrize("has_bias", [False, True])
def test_one_sgd_step_is_lr_times_the_objective_gradient(loss, has_bias):
    rng = np.random.default_rng(loss * 2 + has_bias)
    k = 6
    width = k + has_bias
    U = rng.normal(0, 0.5, (3, width)).astype(np.float32)
    V = rng.normal(0, 0.5, (5, width)).astype(np.float32)
    if has_bias:
        U[:, k] = 1.0
    u, i, j = 1, 2, 4
    lr, reg_u, reg_i, reg_b = 0.01, 0.3, 0.2, 0.1
    U64, V64 = U.astype(np.float64), V.astype(np.float64)
    # central differences of the objective for every learned parameter
    expected_U = np.zeros_like(U64)
    expected_V = np.zeros_like(V64)
    h = 1e-6
    for M, out, rows, cols in ((U64, expected_U, [u], range(k)), (V64, expected_V, [i, j], range(width))):
        for r in rows:
            for c in cols:
                M[r, c] += h
                up = _objective(loss, U64, V64, u, i, j, reg_u, reg_i, reg_b, k, has_bias)
                M[r, c] -= 2 * h
                down = _objective(loss, U64, V64, u, i, j, reg_u, reg_i, reg_b, k, has_bias)
                M[r, c] += h
                out[r, c] = lr * (up - down) / (2 * h)
    U1, V1 = U.copy(), V.copy()
    value = _train.single_step(UniformState(), loss, U1, V1, u, i, j, lr, reg_u, reg_i, reg_b, 0.0,
                               k, has_bias)
    unpenalised = _objective(loss, U64, V64, u, i, j, 0.0, 0.0, 0.0, k, has_bias)
    assert value == pytest.approx(-unpenalised, rel=1e-5)  # the reported loss
    np.testing.assert_allclose(U1 - U, expected_U, rtol=2e-3, atol=2e-6)
    np.testing.assert_allclose(V1 - V, expected_V, rtol=2e-3, atol=2e-6)
    if has_bias:
        assert (U1[:, k] == 1.0).all()  # the bias' partner column never moves


def _exactly_one_negative(n_users=6, n_items=5):
    """Each user owns every item but one, so every draw is known in advance."""
    dense = np.ones((n_users, n_items), dtype=np.float32)
    free = np.arange(n_users) % n_items
    dense[np.arange(n_users), free] = 0
    return rs.Interactions.from_csr(sp.csr_matrix(dense)), free


@pytest.mark.parametrize("use_bias", [False, True], ids=["no-bias", "bias"])
@pytest.mark.parametrize("cls", [rs.BPR, rs.BPO])
def test_batch_optimizer_sums_gradients_then_decays_every_row(cls, use_bias):
    """One batch against NumPy, the item bias included (its sums were once
    dropped by the parallel loop's compilation, so the bias never moved)."""
    data, free = _exactly_one_negative()
    params = dict(factors=3, epochs=1, learning_rate=0.1, regularization=0.2, negatives=2,
                  use_bias=use_bias, optimizer="batch", batch_size=10_000, init="uniform",
                  init_scale=0.5, seed=3)
    model = cls(**params).fit(data, progress=False)
    rng = np.random.default_rng(3)
    k = 3 + use_bias
    U = np.zeros((6, k))
    V = np.zeros((5, k))
    U[:, :3] = rng.uniform(0, 0.5, (6, 3))
    V[:, :3] = rng.uniform(0, 0.5, (5, 3))  # same draws as the model's initialisation
    if use_bias:
        U[:, 3] = 1.0                            # the constant that makes V[:, 3] a bias
    dU, dV = np.zeros_like(U), np.zeros_like(V)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    m = data.matrix
    for u in range(6):
        for i in m.indices[m.indptr[u]:m.indptr[u + 1]]:
            j = free[u]
            for _ in range(2):
                xi, xj = U[u] @ V[i], U[u] @ V[j]
                if cls is rs.BPR:
                    gi = sig(xj - xi)
                    gj = -gi
                else:
                    gi, gj = sig(-xi), -sig(xj)
                dU[u, :3] += gi * V[i, :3] + gj * V[j, :3]
                dV[i] += gi * U[u]
                dV[j] += gj * U[u]
    U[:, :3] += 0.1 * (dU[:, :3] - 0.2 * U[:, :3])
    V += 0.1 * (dV - 0.2 * V)
    if use_bias:
        assert np.abs(V[:, 3]).max() > 1e-3      # the reference's biases did move
    np.testing.assert_allclose(model.user_factors, U, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.item_factors, V, rtol=1e-4, atol=1e-6)


def test_one_thread_is_bit_exact_and_seed_matters(movielens):
    kw = dict(factors=16, epochs=2, n_threads=1, sampler="dns")
    a = rs.BPR(seed=5, **kw).fit(movielens, progress=False)
    b = rs.BPR(seed=5, **kw).fit(movielens, progress=False)
    c = rs.BPR(seed=6, **kw).fit(movielens, progress=False)
    assert np.array_equal(a.user_factors, b.user_factors)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert not np.array_equal(a.item_factors, c.item_factors)


def test_visit_by_user_is_bit_exact_with_one_thread_and_learns(movielens_split):
    train, test = movielens_split
    kw = dict(factors=16, epochs=15, n_threads=1, visit="user")
    a = rs.BPR(seed=5, **kw).fit(train, progress=False)
    b = rs.BPR(seed=5, **kw).fit(train, progress=False)
    assert np.array_equal(a.item_factors, b.item_factors)
    assert a.history_[-1]["pairs"] == train.nnz
    shuffled = rs.BPR(seed=5, **dict(kw, visit="random")).fit(train, progress=False)
    assert not np.array_equal(a.item_factors, shuffled.item_factors)
    popular = rs.baselines.MostPopular().fit(train)
    ndcg = {name: float(rs.evaluate(m, test, train=train, k=(10,), metrics=("ndcg",))
                        .summary()["mean"].iloc[0]) for name, m in
            [("user", a), ("random", shuffled), ("popular", popular)]}
    assert ndcg["user"] > 1.1 * ndcg["popular"], ndcg


def test_visit_auto_is_random_on_small_data_and_user_on_large(movielens_split):
    """The default order follows the data's size: movielens-small (a few MB
    of factors and indices) is visited in the shuffled order, bit for bit;
    tables beyond AUTO_USER_BYTES are visited user by user."""
    from recsample.models._order import AUTO_USER_BYTES, resolve_visit
    train, _ = movielens_split
    kw = dict(factors=8, epochs=2, n_threads=1, seed=3)
    auto = rs.BPR(**kw).fit(train, progress=False)
    assert auto.get_params()["visit"] == "auto" and auto.visit_ == "random"
    shuffled = rs.BPR(visit="random", **kw).fit(train, progress=False)
    assert np.array_equal(auto.item_factors, shuffled.item_factors)
    # the rule reads the shapes and the indices: 65 floats per row of
    # n_users + n_items rows, just above and just below the limit
    rows = AUTO_USER_BYTES // (4 * 65)
    big = sp.csr_matrix((rows - 9, 10), dtype=np.float32)
    assert resolve_visit("auto", big, 64) == "user"
    assert resolve_visit("auto", sp.csr_matrix((rows - 11, 10), dtype=np.float32), 64) == "random"
    assert resolve_visit("random", big, 64) == "random"
    # the CSR order (shuffle=False) and the batch optimizer keep "random"
    assert resolve_visit("auto", big, 64, shuffle=False) == "random"
    assert resolve_visit("auto", big, 64, batch=True) == "random"
    assert rs.BPR(visit="user", **kw).fit(train, progress=False).visit_ == "user"


def test_visit_auto_above_the_limit_trains_as_visit_user(movielens_split, monkeypatch, tmp_path):
    """With the limit at 0 every set is "large": an auto fit must be the
    user-order fit bit for bit, and say so, also after save and load; the
    group losses report the user order they always use."""
    from recsample.models import _order
    train, _ = movielens_split
    kw = dict(factors=8, epochs=2, n_threads=1, seed=3)
    monkeypatch.setattr(_order, "AUTO_USER_BYTES", 0)
    auto = rs.BPR(**kw).fit(train, progress=False)
    user = rs.BPR(visit="user", **kw).fit(train, progress=False)
    assert auto.visit_ == "user"
    assert np.array_equal(auto.item_factors, user.item_factors)
    assert rs.load_model(auto.save(tmp_path / "m")).visit_ == "user"
    monkeypatch.setattr(_order, "AUTO_USER_BYTES", 2**62)
    grouped = rs.Softmax(factors=8, epochs=1, n_threads=1, negatives=4, group_size=2)
    assert grouped.fit(train, progress=False).visit_ == "user"


def test_epoch_trains_one_pair_per_positive_and_negative(movielens):
    model = rs.BPO(factors=8, epochs=2, negatives=3).fit(movielens, progress=False)
    assert [h["pairs"] for h in model.history_] == [3 * movielens.nnz] * 2
    assert model.history_[1]["loss"] < model.history_[0]["loss"]


def test_fully_positive_user_is_skipped_and_counted():
    dense = np.array([[1, 1, 1], [1, 0, 0], [0, 1, 0]], dtype=np.float32)
    model = rs.BPR(factors=2, epochs=1).fit(sp.csr_matrix(dense), progress=False)
    assert model.history_[0]["skipped"] == 3  # user 0's three positives
    assert model.history_[0]["pairs"] == 2


def test_divergence_names_the_learning_rate(movielens):
    with pytest.raises(FloatingPointError, match="learning_rate=1e"):
        rs.BPO(factors=8, epochs=3, learning_rate=1e30, init_scale=10.0).fit(movielens, progress=False)


def test_callbacks_see_every_epoch_and_can_stop(movielens):
    seen = []

    def cb(epoch, model, losses, elapsed):
        seen.append((epoch, losses["loss"], elapsed))
        return epoch == 2

    model = rs.BPR(factors=8, epochs=10).fit(movielens, callbacks=[cb], progress=False)
    assert [s[0] for s in seen] == [0, 1, 2]
    assert len(model.history_) == 3
    assert all(s[2] > 0 for s in seen)


def test_exception_in_a_callback_keeps_finished_epochs(movielens):
    def boom(epoch, model, losses, elapsed):
        if epoch == 1:
            raise KeyboardInterrupt

    model = rs.BPR(factors=8, epochs=5)
    with pytest.raises(KeyboardInterrupt):
        model.fit(movielens, callbacks=[boom], progress=False)
    assert len(model.history_) == 2 and model.is_fitted


@pytest.mark.parametrize("params, message", [
    (dict(factors=0), "factors"),
    (dict(factors=2.5), "factors"),
    (dict(learning_rate=0.0), "learning_rate"),
    (dict(learning_rate=-1), "learning_rate"),
    (dict(regularization=-0.1), "regularization"),
    (dict(item_regularization=-0.1), "item_regularization"),
    (dict(negatives=0), "negatives"),
    (dict(optimizer="lbfgs"), "optimizer"),
    (dict(visit="users"), "visit"),
    (dict(sampler="dsn"), "did you mean 'dns'"),
    (dict(sampler="dns", epochs=1, n_threads=0), "n_threads"),
])
def test_bad_parameters_raise_naming_the_argument(params, message):
    data = sp.csr_matrix(np.eye(3, dtype=np.float32))
    with pytest.raises(ValueError, match=message):
        rs.BPR(**params).fit(data, progress=False)


def test_unknown_parameter_is_a_type_error():
    with pytest.raises(TypeError, match="valid ones"):
        rs.BPR(factor=3)


def test_empty_training_set_is_rejected():
    with pytest.raises(ValueError, match="no interactions"):
        rs.BPR().fit(sp.csr_matrix((3, 4), dtype=np.float32), progress=False)


def test_train_must_be_sparse_or_interactions():
    with pytest.raises(TypeError, match="train must be"):
        rs.BPR().fit(np.eye(3), progress=False)


def test_recommend_before_fit_and_bad_users():
    model = rs.BPR()
    with pytest.raises(RuntimeError, match="not fitted"):
        model.recommend([0])
    model.fit(sp.csr_matrix(np.eye(4, dtype=np.float32)), progress=False)
    with pytest.raises(ValueError, match="users must lie in"):
        model.recommend([4])


def test_user_factors_dot_item_factors_is_the_ranking_score(movielens_split):
    train, test = movielens_split
    model = rs.BPR(factors=8, epochs=2).fit(train, progress=False)
    items, scores = model.recommend(np.arange(5), k=10, exclude=train)
    full = model.user_factors[:5] @ model.item_factors.T
    np.testing.assert_allclose(scores, np.take_along_axis(full, items, axis=1), rtol=1e-5)
    for u in range(5):
        assert not set(items[u]) & set(train.matrix[u].indices)
        allowed = np.setdiff1d(np.arange(train.n_items), train.matrix[u].indices)
        best = allowed[np.argsort(-full[u, allowed], kind="stable")[:10]]
        np.testing.assert_array_equal(items[u], best)
    assert model.item_bias is not None
    np.testing.assert_array_equal(model.user_factors[:, -1], 1.0)


def test_similar_items_excludes_the_item_itself(movielens):
    model = rs.BPR(factors=8, epochs=2).fit(movielens, progress=False)
    items, sims = model.similar_items([0, 1], k=5)
    assert items.shape == (2, 5)
    assert 0 not in items[0] and 1 not in items[1]
    assert (np.diff(sims, axis=1) <= 1e-6).all()


def test_save_and_load_round_trip(tmp_path, movielens):
    model = rs.BPR(factors=8, epochs=2, sampler=rs.samplers.DNS(candidates=4)).fit(
        movielens, progress=False)
    path = model.save(tmp_path / "m.npz")
    loaded = rs.load_model(path)
    assert type(loaded) is rs.BPR and loaded.get_params()["factors"] == 8
    assert loaded.sampler == rs.samplers.DNS(candidates=4)
    np.testing.assert_array_equal(loaded.user_factors, model.user_factors)
    np.testing.assert_array_equal(loaded.item_factors, model.item_factors)
    np.testing.assert_array_equal(loaded.recommend([0, 1], k=5)[0], model.recommend([0, 1], k=5)[0])
    with np.load(path, allow_pickle=False) as npz:  # readable without pickles
        assert "__metadata__" in npz.files


def test_loading_a_newer_format_fails_clearly(tmp_path, movielens):
    model = rs.BPR(factors=4, epochs=1).fit(movielens, progress=False)
    path = model.save(tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["__metadata__"]))
    meta["format_version"] = 99
    arrays["__metadata__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "new.npz", **arrays)
    with pytest.raises(ValueError, match="upgrade recsample"):
        rs.load_model(tmp_path / "new.npz")
    meta["format_version"] = 1
    meta["class"] = "Word2Vec"
    arrays["__metadata__"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "other.npz", **arrays)
    with pytest.raises(ValueError, match="unknown model class"):
        rs.load_model(tmp_path / "other.npz")


def test_second_process_loads_the_compiled_trainer_from_cache():
    # this process compiles the trainer (or loads it) and so leaves it in the
    # disk cache; a fresh process must then load it instead of compiling it.
    # (The cache is the one every other test uses: a private cache directory
    # would cost a whole cold compilation, about a minute.)
    script = textwrap.dedent("""
        import numpy as np, scipy.sparse as sp, recsample as rs
        from recsample.models import _train
        m = sp.random(50, 40, density=0.1, random_state=0, format="csr", dtype=np.float32)
        m.data[:] = 1
        rs.BPR(factors=4, epochs=1, sampler="popularity").fit(m, progress=False)
        s = _train.run_block_list.cached.stats
        print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))
    """)
    m = sp.random(50, 40, density=0.1, random_state=0, format="csr", dtype=np.float32)
    m.data[:] = 1
    rs.BPR(factors=4, epochs=1, sampler="popularity").fit(m, progress=False)
    assert _train.run_block_list.cached.signatures, "the trainer was not compiled in this process"
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    hits, misses = map(int, second.stdout.split())
    assert hits >= 1 and misses == 0
