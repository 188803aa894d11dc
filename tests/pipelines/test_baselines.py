"""Reference models: EASE against its formula, its memory refusal, popularity, ALS."""
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs
from recsample.baselines import ALS, EASE, MostPopular, ease_bytes


def _random_matrix(n_users=40, n_items=25, density=0.2, seed=0):
    rng = np.random.default_rng(seed)
    m = sp.random(n_users, n_items, density=density, random_state=rng, format="csr",
                  dtype=np.float32)
    m.data[:] = 1.0
    return m


def _ease_reference(X, l2):
    X = X.toarray().astype(np.float64)
    P = np.linalg.inv(X.T @ X + l2 * np.eye(X.shape[1]))
    return np.eye(X.shape[1]) - P @ np.diag(1.0 / np.diag(P))


def test_ease_weights_equal_the_closed_form():
    X = _random_matrix()
    model = EASE(regularization=3.0).fit(X)
    np.testing.assert_allclose(model.weights, _ease_reference(X, 3.0), atol=1e-6)


def test_ease_scores_are_data_times_weights():
    X = _random_matrix()
    model = EASE(regularization=3.0).fit(X)
    users = np.array([0, 5, 7])
    np.testing.assert_allclose(model(users), X.toarray()[users] @ _ease_reference(X, 3.0),
                               atol=1e-5)


def test_ease_refuses_before_allocating_and_names_the_bytes():
    n_items = 200_000                            # 2 x 10^5 squared: ~480 GB
    X = sp.csr_matrix((np.ones(3, np.float32), ([0, 1, 2], [0, 5, 199_999])),
                      shape=(3, n_items))
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match=f"{ease_bytes(n_items):,} bytes"):
            EASE(memory_limit=10 ** 9).fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 ** 6


def test_ease_peak_memory_stays_within_its_own_estimate():
    X = _random_matrix(n_users=200, n_items=400, density=0.05)
    tracemalloc.start()
    try:
        EASE(regularization=10.0).fit(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= ease_bytes(400) * 1.1


def test_ease_rejects_a_bad_l2():
    with pytest.raises(ValueError, match="regularization"):
        EASE(regularization=0.0).fit(_random_matrix())


def test_most_popular_recommends_by_training_count_excluding_seen_items():
    X = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [1, 0, 0, 0]],
                               dtype=np.float32))
    model = MostPopular().fit(X)
    items, _ = model.recommend([0, 3], k=2, exclude=X)
    # counts: item 1: 3, items 0 and 2: 2 (tie to the lower index), item 3: 0
    assert items.tolist() == [[2, 3], [1, 2]]


def test_baselines_evaluate_like_factor_models():
    X = _random_matrix(seed=1)
    test = _random_matrix(seed=2)
    for model in (MostPopular(), EASE(regularization=2.0)):
        model.fit(X)
        items, _ = model.recommend(np.arange(X.shape[0]), k=10, exclude=X)
        report = rs.evaluate(model, test, train=X, k=10, metrics=("hit_rate",))
        hits = [len(set(items[u]) & set(test[u].indices)) > 0
                for u in report.users]
        assert report.per_user[("hit_rate", 10)].mean() == pytest.approx(np.mean(hits))


def test_baseline_rejects_unknown_parameters():
    with pytest.raises(TypeError, match="l3"):
        EASE(l3=1.0)


def test_als_wraps_implicit_with_factor_interface():
    pytest.importorskip("implicit", reason="ALS needs implicit (pip install -e .[bench])")
    X = _random_matrix(n_users=60, n_items=30, seed=3)
    model = ALS(factors=8, epochs=3, n_threads=1).fit(X)
    assert model.user_factors.shape == (60, 8) and model.item_factors.shape == (30, 8)
    items, scores = model.recommend([0], k=5, exclude=X)
    expected = model.user_factors[0] @ model.item_factors.T
    expected[X[0].indices] = -np.inf
    np.testing.assert_allclose(scores[0], np.sort(expected)[::-1][:5], rtol=1e-5)
