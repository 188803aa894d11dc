"""Every bad input to evaluate()/topk() raises an error that names the argument."""
import numpy as np
import pytest
import scipy.sparse as sp

from recsample.evaluation import evaluate
from recsample.evaluation.topk import topk

from test_evaluation import FactorModel, random_problem


@pytest.fixture(scope="module")
def problem():
    U, V, train, test = random_problem(51, n_users=10, n_items=20)
    return FactorModel(U, V), train, test


def test_unknown_metric_lists_the_valid_ones(problem):
    model, train, test = problem
    with pytest.raises(ValueError, match="unknown metric.*valid metrics are precision, recall"):
        evaluate(model, test, train=train, metrics=("ndcg", "nDCG"))


@pytest.mark.parametrize("k", [0, -3, 2.5, "10", (5, 0), (), True])
def test_bad_k(problem, k):
    model, train, test = problem
    with pytest.raises(ValueError, match="k "):
        evaluate(model, test, train=train, k=k)


def test_test_shape_must_match_the_model(problem):
    model, train, test = problem
    with pytest.raises(ValueError, match="test has shape"):
        evaluate(model, test[:, :15], k=5)


def test_train_shape_must_match_test(problem):
    model, train, test = problem
    with pytest.raises(ValueError, match="train has shape"):
        evaluate(model, test, train=train[:5], k=5)


def test_unfitted_model_with_none_factors():
    with pytest.raises(ValueError, match="model is not fitted"):
        evaluate(FactorModel(None, None), sp.csr_matrix((3, 4)), k=1)


def test_unfitted_model_whose_factors_raise():
    class Unfitted:
        is_fitted = False

        @property
        def user_factors(self):
            raise RuntimeError("call fit() first")

        item_factors = user_factors

    with pytest.raises(ValueError, match="model is not fitted"):
        evaluate(Unfitted(), sp.csr_matrix((3, 4)), k=1)


def test_model_of_the_wrong_kind():
    with pytest.raises(TypeError, match="model must have user_factors"):
        evaluate(object(), sp.csr_matrix(np.eye(3)), k=1)


def test_callable_returning_the_wrong_shape(problem):
    _, train, test = problem
    with pytest.raises(ValueError, match=r"model\(user_ids\) returned shape"):
        evaluate(lambda users: np.zeros((len(users), 3)), test, k=1)


def test_callable_returning_nan(problem):
    _, train, test = problem
    with pytest.raises(ValueError, match="NaN"):
        evaluate(lambda users: np.full((len(users), 20), np.nan), test, k=1)


def test_empty_test_set(problem):
    model, train, _ = problem
    with pytest.raises(ValueError, match="test has no user"):
        evaluate(model, sp.csr_matrix((10, 20), dtype=np.float32), train=train, k=5)


def test_test_of_the_wrong_type(problem):
    model, _, _ = problem
    with pytest.raises(TypeError, match="test must be"):
        evaluate(model, np.zeros((10, 20)), k=5)


@pytest.mark.parametrize("negatives", [0, -1, 2.5, True])
def test_bad_negatives(problem, negatives):
    model, train, test = problem
    with pytest.raises(ValueError, match="negatives"):
        evaluate(model, test, train=train, negatives=negatives)


@pytest.mark.parametrize("arg", [{"batch_size": 0}, {"memory_budget": -1}])
def test_bad_block_settings(problem, arg):
    model, train, test = problem
    with pytest.raises(ValueError, match=next(iter(arg))):
        evaluate(model, test, train=train, **arg)


def test_non_finite_factors():
    U = np.array([[np.nan]], np.float32)
    with pytest.raises(ValueError, match="NaN or infinite"):
        evaluate(FactorModel(U, np.ones((2, 1), np.float32)),
                 sp.csr_matrix(np.ones((1, 2))), k=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"k": 0}, "k must be"),
    ({"users": [0, 99]}, "users must be in"),
    ({"exclude": sp.csr_matrix((2, 2))}, "exclude has shape"),
])
def test_topk_bad_inputs(kwargs, match):
    U, V = np.ones((3, 2), np.float32), np.ones((4, 2), np.float32)
    args = {"users": [0, 1], "k": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        topk(U, V, args.pop("users"), args.pop("k"), **args)


def test_topk_factor_widths_must_match():
    with pytest.raises(ValueError, match="columns"):
        topk(np.ones((3, 2), np.float32), np.ones((4, 3), np.float32), [0], 1)
