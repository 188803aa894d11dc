"""Our metrics agree with ranx on the same lists; implicit's models evaluate as they are."""
import numpy as np
import pytest
import scipy.sparse as sp

from recsample.evaluation import evaluate
from recsample.evaluation.topk import topk

from test_evaluation import FactorModel, random_problem

ranx = pytest.importorskip("ranx")


@pytest.fixture(scope="module")
def lists():
    """Top-20 lists of a random model with ties, and the relevant sets."""
    U, V, train, test = random_problem(21, n_users=60, n_items=80, f=2,
                                       test_density=0.12, train_density=0.1)
    report = evaluate(FactorModel(U, V), test, train=train, k=(1, 5, 20))
    items, _ = topk(U, V, report.users, 20, exclude=train)
    relevant = {int(u): set(test[u].indices.tolist()) for u in report.users}
    qrels = ranx.Qrels.from_dict({str(u): {str(i): 1 for i in r} for u, r in relevant.items()})
    # descending integer scores reproduce our order exactly, ties already broken
    run = ranx.Run.from_dict({str(u): {str(i): float(20 - pos) for pos, i in enumerate(row)
                                       if i >= 0}
                              for u, row in zip(report.users, items)})
    return report, qrels, run, relevant


def ranx_per_user(qrels, run, metric, users):
    ranx.evaluate(qrels, run, metric, return_mean=False)
    return np.array([run.scores[metric][str(u)] for u in users])


@pytest.mark.parametrize("ours, theirs", [("precision", "precision"), ("recall", "recall"),
                                          ("ndcg", "ndcg"), ("ndcg", "ndcg_burges"),
                                          ("mrr", "mrr"), ("hit_rate", "hit_rate")])
@pytest.mark.parametrize("k", [1, 5, 20])
def test_metric_equals_ranx(lists, ours, theirs, k):
    report, qrels, run, _ = lists
    want = ranx_per_user(qrels, run, f"{theirs}@{k}", report.users)
    np.testing.assert_allclose(report.per_user[(ours, k)], want, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 5, 20])
def test_map_is_ranx_map_rescaled_to_min_k_r(lists, k):
    # ranx's map@k divides the sum of precisions at hit ranks by |R|; ours by min(k, |R|)
    report, qrels, run, relevant = lists
    theirs = ranx_per_user(qrels, run, f"map@{k}", report.users)
    n_rel = np.array([len(relevant[int(u)]) for u in report.users])
    np.testing.assert_allclose(report.per_user[("map", k)], theirs * n_rel / np.minimum(k, n_rel),
                               rtol=1e-12)


def test_implicit_model_factors_evaluate_without_conversion():
    implicit_bpr = pytest.importorskip("implicit.cpu.bpr")
    _, _, train, test = random_problem(22, n_users=50, n_items=70)
    model = implicit_bpr.BayesianPersonalizedRanking(factors=8, iterations=2, random_state=0)
    model.fit(sp.csr_matrix(train), show_progress=False)
    report = evaluate(model, test, train=train, k=(5, 10))
    # implicit folds its item bias into the factors: the plain dot product is its score
    reference = evaluate(lambda users: model.user_factors[users] @ model.item_factors.T,
                         test, train=train, k=(5, 10))
    for key in reference.per_user:
        np.testing.assert_allclose(report.per_user[key], reference.per_user[key])
    assert report.n_users > 0


def test_implicit_ranks_like_our_topk():
    implicit_als = pytest.importorskip("implicit.cpu.als")
    _, _, train, _ = random_problem(23, n_users=30, n_items=200, train_density=0.05)
    model = implicit_als.AlternatingLeastSquares(factors=8, iterations=2, random_state=0)
    model.fit(sp.csr_matrix(train), show_progress=False)
    users = np.arange(30)
    theirs, _ = model.recommend(users, sp.csr_matrix(train), N=10)
    ours, _ = topk(model.user_factors, model.item_factors, users, 10, exclude=train)
    # random real-valued factors: no ties, so both orders must agree exactly
    np.testing.assert_array_equal(ours, theirs)
