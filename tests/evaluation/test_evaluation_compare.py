"""compare(): paired differences checked against scipy directly."""
import numpy as np
import pytest
from scipy import stats

from recsample.evaluation import compare, evaluate

from test_evaluation import FactorModel, random_problem


@pytest.fixture(scope="module")
def two_reports():
    U, V, train, test = random_problem(31, n_users=80, n_items=50, integer=False)
    rng = np.random.default_rng(1)
    noisy = U + rng.standard_normal(U.shape).astype(np.float32)
    a = evaluate(FactorModel(U, V), test, train=train, k=(5, 10))
    b = evaluate(FactorModel(noisy, V), test, train=train, k=(5, 10))
    return a, b


def test_paired_tests_equal_scipy(two_reports):
    a, b = two_reports
    table = compare(a, b)
    row = table.query("metric == 'ndcg' and k == 10").iloc[0]
    x, y = a.per_user[("ndcg", 10)], b.per_user[("ndcg", 10)]
    assert row["mean_a"] == pytest.approx(x.mean())
    assert row["mean_b"] == pytest.approx(y.mean())
    assert row["diff"] == pytest.approx((x - y).mean())
    assert row["t_pvalue"] == pytest.approx(stats.ttest_rel(x, y).pvalue)
    assert row["wilcoxon_pvalue"] == pytest.approx(stats.wilcoxon(x, y).pvalue)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=(x - y).mean(), scale=stats.sem(x - y))
    assert (row["diff_ci_low"], row["diff_ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert row["users"] == len(x)


def test_only_common_users_are_paired(two_reports):
    a, b = two_reports
    U, V, train, test = random_problem(31, n_users=80, n_items=50, integer=False)
    half = test.copy().tolil()
    half[::2, :] = 0
    c = evaluate(FactorModel(U, V), half.tocsr(), train=train, k=(5, 10))
    table = compare(a, c)
    common = np.intersect1d(a.users, c.users)
    assert (table.dropna(subset=["users"])["users"] == len(common)).all()
    x = a.per_user[("recall", 5)][np.isin(a.users, common)]
    y = c.per_user[("recall", 5)]
    row = table.query("metric == 'recall' and k == 5").iloc[0]
    assert row["diff"] == pytest.approx((x - y).mean())


def test_identical_reports_have_zero_difference_and_no_test(two_reports):
    a, _ = two_reports
    table = compare(a, a)
    assert (table["diff"] == 0).all()
    assert table["t_pvalue"].isna().all() and table["wilcoxon_pvalue"].isna().all()


def test_coverage_row_has_values_but_no_test(two_reports):
    a, b = two_reports
    row = compare(a, b).query("metric == 'coverage' and k == 5").iloc[0]
    assert row["mean_a"] == a.coverage[5] and row["mean_b"] == b.coverage[5]
    assert np.isnan(row["t_pvalue"])


def test_no_common_users_is_an_error():
    U, V, train, test = random_problem(32, n_users=20)
    first, second = test.tolil(), test.tolil()
    first[10:, :] = 0
    second[:10, :] = 0
    a = evaluate(FactorModel(U, V), first.tocsr(), train=train, k=5)
    b = evaluate(FactorModel(U, V), second.tocsr(), train=train, k=5)
    with pytest.raises(ValueError, match="no evaluated user in common"):
        compare(a, b)


def test_compare_needs_reports():
    with pytest.raises(TypeError, match="report_a"):
        compare({}, {})
