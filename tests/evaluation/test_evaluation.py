"""Full-ranking evaluation against an independent brute-force implementation.

The reference below sorts every row completely (numpy's stable argsort on the
negated scores, so equal scores keep lower item index first) and computes
each metric with explicit loops, straight from the definitions in
docs/metrics.md. Integer-valued factors make many exact ties.
"""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from recsample.evaluation import METRICS, Report, evaluate
from recsample.evaluation.topk import topk
from recsample.interactions import Interactions


class FactorModel:
    def __init__(self, user_factors, item_factors):
        self.user_factors = user_factors
        self.item_factors = item_factors


def random_problem(seed, n_users=40, n_items=60, f=3, train_density=0.15,
                   test_density=0.1, integer=True):
    rng = np.random.default_rng(seed)
    if integer:
        U = rng.integers(-2, 3, (n_users, f)).astype(np.float32)
        V = rng.integers(-2, 3, (n_items, f)).astype(np.float32)
    else:
        U = rng.standard_normal((n_users, f)).astype(np.float32)
        V = rng.standard_normal((n_items, f)).astype(np.float32)
    train = sp.random(n_users, n_items, density=train_density, format="csr", random_state=seed,
                      data_rvs=np.ones, dtype=np.float32)
    test = sp.random(n_users, n_items, density=test_density, format="csr",
                     random_state=seed + 1000, data_rvs=np.ones, dtype=np.float32)
    test = (test - test.multiply(train)).tocsr()  # a holdout split never overlaps
    test.eliminate_zeros()
    return U, V, train, test


# ----------------------------------------------------------------- reference
def brute_force(U, V, train, test, ks):
    """(users, {(metric, k): values}, {k: coverage}) by full sorting."""
    S = U.astype(np.float32) @ V.astype(np.float32).T
    n_users, n_items = S.shape
    users, values, lists = [], {}, {k: set() for k in ks}
    for u in range(n_users):
        excluded = set(train[u].indices.tolist())
        relevant = set(test[u].indices.tolist()) - excluded
        if not relevant:
            continue
        users.append(u)
        order = np.argsort(-S[u], kind="stable")
        ranked = [int(j) for j in order if j not in excluded]
        for k in ks:
            top = ranked[:k]
            lists[k].update(top)
            hits = [1 if j in relevant else 0 for j in top]
            h = sum(hits)
            p, r = h / k, h / len(relevant)
            dcg = sum(hits[i] / np.log2(i + 2) for i in range(len(top)))
            idcg = sum(1 / np.log2(i + 2) for i in range(min(k, len(relevant))))
            ap, seen = 0.0, 0
            for i, hit in enumerate(hits):
                if hit:
                    seen += 1
                    ap += seen / (i + 1)
            first = next((i for i, hit in enumerate(hits) if hit), None)
            row = {"precision": p, "recall": r, "f1": 0.0 if h == 0 else 2 * p * r / (p + r),
                   "ndcg": dcg / idcg, "map": ap / min(k, len(relevant)),
                   "mrr": 0.0 if first is None else 1 / (first + 1),
                   "hit_rate": float(h > 0)}
            for m, v in row.items():
                values.setdefault((m, k), []).append(v)
        negatives = [j for j in range(n_items) if j not in excluded and j not in relevant]
        pairs = 0.0
        for pos in relevant:
            for neg in negatives:
                pairs += 1.0 if S[u, pos] > S[u, neg] else (0.5 if S[u, pos] == S[u, neg] else 0.0)
        auc = pairs / (len(relevant) * len(negatives)) if negatives else np.nan
        values.setdefault(("auc", None), []).append(auc)
    coverage = {k: len(lists[k]) / n_items for k in ks}
    return np.array(users), {key: np.array(v) for key, v in values.items()}, coverage


def assert_matches_reference(U, V, train, test, ks, **kwargs):
    report = evaluate(FactorModel(U, V), test, train=train, k=ks, **kwargs)
    users, expected, coverage = brute_force(U, V, train, test, ks)
    np.testing.assert_array_equal(report.users, users)
    for key, want in expected.items():
        if key[0] not in report.metrics:
            continue
        np.testing.assert_allclose(report.per_user[key], want, rtol=1e-12, atol=1e-12,
                                   err_msg=str(key))
    for k in ks:
        if "coverage" in report.metrics:
            assert report.coverage[k] == pytest.approx(coverage[k])
    return report


# --------------------------------------------------------------- behaviours
def test_random_data_matches_brute_force():
    assert_matches_reference(*random_problem(0, integer=False), ks=(1, 5, 10))


def test_ties_are_broken_by_lower_item_index():
    # 1-factor integer model: only 5 distinct scores over 60 items
    U, V, train, test = random_problem(1, f=1)
    assert_matches_reference(U, V, train, test, ks=(3, 10))


def test_more_relevant_items_than_k():
    U, V, train, test = random_problem(2, test_density=0.6, train_density=0.05)
    assert np.diff(test.indptr).min() > 5
    assert_matches_reference(U, V, train, test, ks=(2, 5))


def test_k_larger_than_items_left_after_exclusion():
    # 60 items, 75% in training: about 15 items left per user, k = 40
    U, V, train, test = random_problem(3, train_density=0.75, test_density=0.2)
    report = assert_matches_reference(U, V, train, test, ks=(40,))
    # precision still divides by k: at most (items left) / k
    left = V.shape[0] - np.diff(train.indptr)[report.users]
    assert np.all(report.per_user[("precision", 40)] <= left / 40 + 1e-12)


def test_users_without_test_items_are_skipped_and_counted():
    U, V, train, test = random_problem(4)
    test = test.tolil()
    test[[0, 5, 7], :] = 0
    test = test.tocsr()
    test.eliminate_zeros()
    report = assert_matches_reference(U, V, train, test, ks=(5,))
    n_without = int(np.sum(np.diff(test.indptr) == 0))
    assert n_without >= 3
    assert report.n_users_skipped == n_without
    assert not np.isin([0, 5, 7], report.users).any()


def test_single_user():
    U, V, train, test = random_problem(5, n_users=1, test_density=0.3)
    report = assert_matches_reference(U, V, train, test, ks=(1, 4))
    assert report.n_users == 1


def test_auc_counts_ties_as_half():
    # every item scores the same: every (positive, negative) pair is a tie
    U = np.ones((3, 2), np.float32)
    V = np.ones((10, 2), np.float32)
    test = sp.csr_matrix(np.eye(3, 10, dtype=np.float32))
    report = evaluate(FactorModel(U, V), test, k=5, metrics=("auc",))
    np.testing.assert_allclose(report.per_user[("auc", None)], 0.5)


def test_auc_with_ties_matches_brute_force():
    U, V, train, test = random_problem(6, f=1, test_density=0.3)
    assert_matches_reference(U, V, train, test, ks=(5,), metrics=("auc",))


def test_auc_is_one_when_every_positive_outscores_every_negative():
    V = np.arange(8, dtype=np.float32)[:, None]
    U = np.ones((1, 1), np.float32)
    test = sp.csr_matrix(([1, 1], ([0, 0], [6, 7])), shape=(1, 8), dtype=np.float32)
    report = evaluate(FactorModel(U, V), test, metrics=("auc",))
    assert report.per_user[("auc", None)][0] == 1.0


def test_test_items_that_are_training_items_are_not_relevant():
    U, V, train, test = random_problem(7)
    overlapping = (test + train).tocsr()
    overlapping.data[:] = 1
    a = evaluate(FactorModel(U, V), overlapping, train=train, k=5)
    b = evaluate(FactorModel(U, V), test, train=train, k=5)
    for key in b.per_user:
        np.testing.assert_array_equal(a.per_user[key], b.per_user[key])


def test_batch_size_does_not_change_results():
    U, V, train, test = random_problem(8, n_users=50)
    a = evaluate(FactorModel(U, V), test, train=train, k=(3, 7), batch_size=1)
    b = evaluate(FactorModel(U, V), test, train=train, k=(3, 7), batch_size=17)
    c = evaluate(FactorModel(U, V), test, train=train, k=(3, 7), memory_budget=10**9)
    for key in a.per_user:
        np.testing.assert_array_equal(a.per_user[key], b.per_user[key])
        np.testing.assert_array_equal(a.per_user[key], c.per_user[key])


def test_callable_model_evaluates_like_its_factors():
    U, V, train, test = random_problem(9, integer=False)
    calls = []

    def score(user_ids):
        calls.append(len(user_ids))
        return U[user_ids] @ V.T

    a = evaluate(score, test, train=train, k=(5,), batch_size=8)
    b = evaluate(FactorModel(U, V), test, train=train, k=(5,))
    assert max(calls) <= 8
    for key in b.per_user:
        np.testing.assert_allclose(a.per_user[key], b.per_user[key])


def test_float64_callable_scores_are_ranked_without_rounding():
    # two scores equal in float32 but not in float64: the float64 order counts
    n_items = 4
    base = np.array([[1.0, 1.0 + 1e-12, 0.0, 0.0]])
    test = sp.csr_matrix(([1.0], ([0], [1])), shape=(1, n_items))
    report = evaluate(lambda users: np.repeat(base, len(users), 0), test, k=1,
                      metrics=("hit_rate",))
    assert report.per_user[("hit_rate", 1)][0] == 1.0


def test_interactions_inputs_are_accepted():
    U, V, train, test = random_problem(10)
    a = evaluate(FactorModel(U, V), Interactions.from_csr(test),
                 train=Interactions.from_csr(train), k=5)
    b = evaluate(FactorModel(U, V), test, train=train, k=5)
    for key in a.per_user:
        np.testing.assert_array_equal(a.per_user[key], b.per_user[key])


# ---------------------------------------------------------------------- topk
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n_users=st.integers(1, 6), n_items=st.integers(1, 90),
       k=st.integers(1, 100), density=st.floats(0, 1))
def test_topk_matches_full_stable_sort(seed, n_users, n_items, k, density):
    rng = np.random.default_rng(seed)
    U = rng.integers(-2, 3, (n_users, 2)).astype(np.float32)
    V = rng.integers(-2, 3, (n_items, 2)).astype(np.float32)
    exclude = sp.random(n_users, n_items, density=density, format="csr", random_state=seed)
    items, scores = topk(U, V, None, k, exclude=exclude)
    S = U @ V.T
    width = min(k, n_items)    # a longer list is clamped to the number of items
    assert items.shape == scores.shape == (n_users, width)
    for u in range(n_users):
        banned = set(exclude[u].indices.tolist())
        ranked = [j for j in np.argsort(-S[u], kind="stable") if j not in banned][:k]
        want_items = np.full(width, -1)
        want_items[:len(ranked)] = ranked
        want_scores = np.full(width, -np.inf, np.float32)
        want_scores[:len(ranked)] = S[u, ranked]
        np.testing.assert_array_equal(items[u], want_items)
        np.testing.assert_array_equal(scores[u], want_scores)


def test_topk_of_a_subset_of_users_and_dtypes():
    U, V, train, _ = random_problem(11, integer=False)
    users = np.array([3, 0, 17])
    items, scores = topk(U, V, users, 4, exclude=Interactions.from_csr(train))
    assert items.shape == (3, 4) and items.dtype == np.int64
    assert scores.shape == (3, 4) and scores.dtype == np.float32
    all_items, _ = topk(U, V, None, 4, exclude=train)
    np.testing.assert_array_equal(items, all_items[users])


def test_topk_pads_with_minus_one_and_minus_inf():
    U = np.ones((1, 1), np.float32)
    V = np.arange(3, dtype=np.float32)[:, None]
    exclude = sp.csr_matrix(([1.0], ([0], [2])), shape=(1, 3))
    items, scores = topk(U, V, [0], 4, exclude=exclude)   # k is clamped to the 3 items
    np.testing.assert_array_equal(items[0], [1, 0, -1])
    np.testing.assert_array_equal(scores[0], [1, 0, -np.inf])


def test_topk_rejects_non_finite_factors():
    U = np.ones((1, 1), np.float32)
    V = np.array([[-np.inf], [1.0]], np.float32)
    with pytest.raises(ValueError, match="infinite"):
        topk(U, V, [0], 2)


# -------------------------------------------------------------------- report
@pytest.fixture(scope="module")
def report():
    U, V, train, test = random_problem(12, n_users=30)
    return evaluate(FactorModel(U, V), test, train=train, k=(5, 10))


def test_summary_has_one_row_per_metric_and_k(report):
    s = report.summary()
    assert list(s.columns) == ["metric", "k", "mean", "ci_low", "ci_high", "users"]
    assert len(s) == 7 * 2 + 1 + 2  # rank metrics x 2 k, auc, coverage x 2 k
    assert set(s["metric"]) == set(METRICS)
    assert s.loc[s.metric == "auc", "k"].isna().all()


def test_summary_interval_is_a_student_t_interval(report):
    from scipy import stats
    row = report.summary().query("metric == 'ndcg' and k == 10").iloc[0]
    v = report.per_user[("ndcg", 10)]
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert row["mean"] == pytest.approx(v.mean())
    assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert row["users"] == len(v)


def test_coverage_is_global_without_interval(report):
    cov = report.summary().query("metric == 'coverage'")
    assert cov[["ci_low", "ci_high"]].isna().all().all()
    assert ("coverage", 5) not in report.per_user


def test_per_user_is_aligned_with_users(report):
    for values in report.per_user.values():
        assert values.shape == report.users.shape
    frame = report.per_user_frame()
    assert list(frame.index) == list(report.users)
    np.testing.assert_array_equal(frame["ndcg@5"], report.per_user[("ndcg", 5)])


def test_repr_and_html_show_the_summary(report):
    text = repr(report)
    assert "users evaluated" in text and "ndcg" in text
    html = report._repr_html_()
    assert "<table" in html and "ndcg" in html


def test_to_dict_is_json_serialisable(report):
    import json
    d = json.loads(json.dumps(report.to_dict(per_user=True)))
    assert d["n_users"] == report.n_users
    assert d["per_user"]["ndcg@5"] == pytest.approx(report.per_user[("ndcg", 5)].tolist())
    assert isinstance(report, Report)
    assert isinstance(report.summary(), pd.DataFrame)
