"""Sampled-negatives mode: definition, reproducibility, warning."""
import numpy as np
import pytest
import scipy.sparse as sp

from recsample.evaluation import evaluate

from test_evaluation import FactorModel, random_problem

pytestmark = pytest.mark.filterwarnings("ignore:sampled metrics:UserWarning")


def sampled_reference(U, V, train, test, k):
    """Per-user hit_rate, ndcg, mrr when every non-interacted item is drawn."""
    S = U @ V.T
    out = {"hit_rate": [], "ndcg": [], "mrr": []}
    for u in range(S.shape[0]):
        excluded = set(train[u].indices.tolist())
        relevant = sorted(set(test[u].indices.tolist()) - excluded)
        if not relevant:
            continue
        free = [j for j in range(S.shape[1]) if j not in excluded and j not in relevant]
        hits, gains, rr = [], [], []
        for p in relevant:
            rank = 1 + sum(1 for j in free if S[u, j] > S[u, p] or (S[u, j] == S[u, p] and j < p))
            hits.append(rank <= k)
            gains.append(1 / np.log2(rank + 1) if rank <= k else 0.0)
            rr.append(1 / rank if rank <= k else 0.0)
        out["hit_rate"].append(np.mean(hits))
        out["ndcg"].append(np.mean(gains))
        out["mrr"].append(np.mean(rr))
    return {m: np.array(v) for m, v in out.items()}


def test_warns_that_sampled_metrics_can_reorder_models():
    U, V, train, test = random_problem(41)
    with pytest.warns(UserWarning, match="Krichene & Rendle"):
        evaluate(FactorModel(U, V), test, train=train, k=5, negatives=10)


def test_drawing_every_free_item_gives_the_exact_ranks():
    U, V, train, test = random_problem(42, f=1)  # many ties
    report = evaluate(FactorModel(U, V), test, train=train, k=(3,), negatives=10**6,
                      metrics=("hit_rate", "ndcg", "mrr"))
    want = sampled_reference(U, V, train, test, 3)
    for m, v in want.items():
        np.testing.assert_allclose(report.per_user[(m, 3)], v, err_msg=m)


def test_auc_with_every_free_item_equals_full_ranking_auc():
    U, V, train, test = random_problem(43, f=1)
    full = evaluate(FactorModel(U, V), test, train=train, metrics=("auc",))
    sampled = evaluate(FactorModel(U, V), test, train=train, metrics=("auc",), negatives=10**6)
    np.testing.assert_allclose(sampled.per_user[("auc", None)], full.per_user[("auc", None)])


def test_draws_never_include_interacted_items():
    # training items score 2, test items 1, the rest 0: a drawn training item
    # would outrank the positive; a drawn test item would tie with it
    n_users, n_items = 30, 100
    U, V, train, test = random_problem(44, n_users=n_users, n_items=n_items)
    scores = 2.0 * train.toarray() + 1.0 * test.toarray()

    report = evaluate(lambda users: scores[users], test, train=train, k=(1,), negatives=20,
                      metrics=("hit_rate",), seed=3)
    np.testing.assert_array_equal(report.per_user[("hit_rate", 1)], 1.0)


def test_same_seed_same_result_other_seed_other_draws():
    U, V, train, test = random_problem(45, integer=False, n_items=200)
    run = lambda seed, batch: evaluate(FactorModel(U, V), test, train=train, k=(5,),
                                       negatives=20, seed=seed, batch_size=batch)
    a, b, c = run(0, 7), run(0, 64), run(1, 64)
    np.testing.assert_array_equal(a.per_user[("ndcg", 5)], b.per_user[("ndcg", 5)])
    assert not np.array_equal(a.per_user[("ndcg", 5)], c.per_user[("ndcg", 5)])


def test_sampled_mode_drops_coverage_from_the_default_metrics():
    U, V, train, test = random_problem(46)
    report = evaluate(FactorModel(U, V), test, train=train, negatives=5)
    assert "coverage" not in report.metrics
    assert report.negatives == 5


def test_sampled_mode_rejects_explicit_coverage():
    U, V, train, test = random_problem(46)
    with pytest.raises(ValueError, match="coverage"):
        evaluate(FactorModel(U, V), test, train=train, negatives=5, metrics=("coverage",))


def test_uniform_draws_give_the_expected_hit_rate():
    # item 0 scores above the positive (item 50), which scores above the rest:
    # it is beaten exactly when item 0 is drawn, chance N / (free items)
    n_items, negatives = 101, 10
    scores = np.zeros((2000, n_items))
    scores[:, 0] = 1.0
    scores[:, 50] = 0.5
    test = sp.csr_matrix((np.ones(2000), (np.arange(2000), np.full(2000, 50))),
                         shape=(2000, n_items))
    report = evaluate(lambda users: scores[users], test, k=(1,), negatives=negatives,
                      metrics=("hit_rate",), seed=0)
    p_beaten = negatives / (n_items - 1)
    observed = 1 - report.per_user[("hit_rate", 1)].mean()
    # binomial standard error over 2000 users is ~0.0067: allow 4 of them
    assert abs(observed - p_beaten) < 4 * np.sqrt(p_beaten * (1 - p_beaten) / 2000)
