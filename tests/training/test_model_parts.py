"""What FactorModel gathers from its parts: the fitted guard it shares with
the baselines, and the NBPO flip-model methods, which belong to the pair
losses (rs.BPR, rs.BPO, rs.NBPO) and warn on the other trainers."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs
from recsample.models._flip import FlipModel
from recsample.samplers import NBPO as NBPOSampler


def _data():
    rng = np.random.default_rng(0)
    X = (rng.random((40, 30)) < 0.2).astype(np.float32)
    return sp.csr_matrix(X)


@pytest.mark.parametrize("make", [
    lambda: rs.BPR(factors=2, epochs=1), lambda: rs.Softmax(factors=2, epochs=1, negatives=4),
    lambda: rs.baselines.EASE(), lambda: rs.baselines.MostPopular()],
    ids=["BPR", "Softmax", "EASE", "MostPopular"])
def test_every_model_refuses_to_recommend_before_fit(make):
    model = make()
    assert model.is_fitted is False
    with pytest.raises(RuntimeError, match=f"this {type(model).__name__} is not fitted yet: "
                                           r"call fit\(train\) first"):
        model.recommend([0], k=1)
    model.fit(_data())
    assert model.is_fitted is True
    assert model.recommend([0], k=1)[0].shape == (1, 1)


@pytest.mark.parametrize("cls", [rs.BPR, rs.BPO])
def test_pair_losses_read_the_flip_model_without_warning(cls):
    model = cls(factors=4, epochs=2, sampler=NBPOSampler(lambda_phi=0.01))
    model.fit(_data(), progress=False)
    users, items = np.array([0, 1, 2]), np.array([3, 4, 5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flip = model.flip_probability(users, items)
        posterior = model.hidden_positive_probability(users, items)
    state = model.sampler_state_
    np.testing.assert_array_equal(flip, NBPOSampler.flip_probability(state, users, items))
    np.testing.assert_array_equal(posterior, NBPOSampler.hidden_positive_probability(
        state, model.user_factors, model.item_factors, users, items))


def test_nbpo_model_has_the_flip_model():
    assert isinstance(rs.NBPO(), FlipModel)
    assert not isinstance(rs.Softmax(), FlipModel)


@pytest.mark.parametrize("name", ["flip_probability", "hidden_positive_probability"])
def test_group_losses_keep_the_flip_methods_one_release_with_a_warning(name):
    """Same answer as before the methods moved, plus a DeprecationWarning
    that names where they are now."""
    model = rs.Softmax(factors=4, epochs=1, negatives=4, sampler="nbpo")
    model.fit(_data(), progress=False)
    users, items = np.array([0, 1]), np.array([2, 3])
    with pytest.warns(DeprecationWarning, match=f"Softmax.{name} is deprecated .* rs.BPR, "
                                                "rs.BPO and rs.NBPO"):
        got = getattr(model, name)(users, items)
    expected = getattr(FlipModel, name)(model, users, items)
    np.testing.assert_array_equal(got, expected)


def test_deprecated_flip_method_still_refuses_a_model_without_the_nbpo_sampler():
    model = rs.models.FactorModel(factors=2, epochs=1).fit(_data(), progress=False)
    with pytest.warns(DeprecationWarning, match="FactorModel.flip_probability"), \
            pytest.raises(ValueError, match="NBPO sampler"):
        model.flip_probability([0], [1])
