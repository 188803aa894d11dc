"""Settings a sampler recommends to the pair trainers: used for the parameters
left at None, never over a value the user gives, visible and persistent."""
import numpy as np
import pytest

import recsample as rs
from recsample.models.base import AUTO_PARAMS
from recsample.samplers import SAMPLERS, Uniform


class Recommending(Uniform):
    """Uniform draws (its compiled state is Uniform's) with a recommendation."""
    recommended = {"bpr": {"learning_rate": 0.02, "epochs": 3}}


@pytest.fixture(scope="module")
def small():
    return rs.datasets.synthetic(200, 150, 3000, alpha=1.0, seed=0)


def test_recommended_values_fill_the_parameters_left_unset():
    model = rs.BPR(sampler=Recommending())
    used = model.effective_params()
    assert (used["learning_rate"], used["epochs"]) == (0.02, 3)
    assert used["regularization"] == rs.BPR.trainer_defaults["regularization"]
    assert model.param_sources() == {
        "epochs": "recommended by Recommending for bpr (SGD)",
        "learning_rate": "recommended by Recommending for bpr (SGD)",
        "regularization": "BPR default"}
    assert model.get_params()["learning_rate"] is None   # the user's intent, not the value


def test_fit_trains_with_the_recommended_values(small):
    model = rs.BPR(sampler=Recommending(), factors=8, n_threads=1).fit(small, progress=False)
    assert len(model.history_) == 3
    assert model.history_[0]["learning_rate"] == pytest.approx(0.02)
    assert model.effective_params_ == {"epochs": 3, "learning_rate": 0.02,
                                       "regularization": 0.01}


def test_explicit_values_always_win(small):
    model = rs.BPR(sampler=Recommending(), learning_rate=0.07, epochs=1, factors=8, n_threads=1)
    assert model.param_sources()["learning_rate"] == "set"
    model.fit(small, progress=False)
    assert len(model.history_) == 1
    assert model.history_[0]["learning_rate"] == pytest.approx(0.07)


def test_an_explicit_value_equal_to_the_old_default_still_wins():
    model = rs.BPR(sampler=Recommending(), epochs=35)
    assert model.effective_params()["epochs"] == 35
    assert model.param_sources()["epochs"] == "set"


@pytest.mark.parametrize("cls, params", [
    (rs.BPO, {}),                          # the recommendation is for bpr only
    (rs.BPR, {"optimizer": "adam"}),       # measured with SGD
    (rs.BPR, {"similarity": "cosine", "use_bias": False}),
    (rs.Softmax, {}),                      # group losses keep their own defaults
])
def test_recommendations_apply_only_where_measured(cls, params):
    model = cls(sampler=Recommending(), **params)
    assert not any(s.startswith("recommended") for s in model.param_sources().values())
    defaults = {k: model._defaults[k] if model._defaults[k] is not None
                else cls.trainer_defaults[k] for k in AUTO_PARAMS}
    assert {k: model.effective_params()[k] for k in AUTO_PARAMS} == defaults


def test_get_params_round_trip_keeps_following_the_recommendation():
    model = rs.BPR(sampler=Recommending(), factors=16)
    again = rs.BPR(**model.get_params())
    assert again.get_params() == model.get_params()
    assert again.param_sources() == model.param_sources()
    assert again.effective_params() == model.effective_params()


def test_save_and_load_keep_the_unset_parameters_and_record_the_used_ones(tmp_path, small,
                                                                          monkeypatch):
    # a registered sampler, so that the file can name it
    monkeypatch.setattr(rs.samplers.Popularity, "recommended",
                        {"bpr": {"learning_rate": 0.03, "regularization": 0.02, "epochs": 2}})
    model = rs.BPR(sampler="popularity", factors=8, n_threads=1).fit(small, progress=False)
    loaded = rs.load_model(model.save(tmp_path / "m.npz"))
    assert loaded.get_params() == model.get_params()
    assert loaded.get_params()["epochs"] is None
    assert loaded.effective_params_ == {"epochs": 2, "learning_rate": 0.03,
                                        "regularization": 0.02}
    assert loaded.effective_params() == model.effective_params()
    np.testing.assert_array_equal(loaded.item_factors, model.item_factors)


def test_a_recommendation_with_an_unknown_entry_is_named():
    class Bad(Uniform):
        recommended = {"bpr": {"learning_rate": 0.02, "factors": 8}}
    with pytest.raises(ValueError, match=r"Bad.recommended\['bpr'\].*'factors'"):
        rs.BPR(sampler=Bad()).effective_params()


def test_an_invalid_recommended_value_is_named_at_fit(small):
    class Bad(Uniform):
        recommended = {"bpr": {"learning_rate": -1.0}}
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        rs.BPR(sampler=Bad(), factors=8).fit(small, progress=False)


#: (sampler, loss) for every recommendation a built-in sampler ships
SHIPPED = [(name, loss) for name in sorted(SAMPLERS)
           for loss in SAMPLERS[name].recommended]


def test_the_shipped_recommendations_are_the_ones_measured():
    """Which samplers carry settings of their own is a decision
    (benchmarks/studies/tune_per_sampler.py): uniform and NBPO use the trainers'
    defaults, every other built-in sampler recommends for both pair losses."""
    without = {name for name in SAMPLERS if not SAMPLERS[name].recommended}
    assert without == {"uniform", "nbpo"}
    assert len(SHIPPED) == 2 * (len(SAMPLERS) - len(without))


@pytest.mark.parametrize("name, loss", SHIPPED)
def test_every_shipped_recommendation_is_valid(name, loss):
    sampler = SAMPLERS[name]()
    settings = sampler.recommended[loss]
    assert loss in ("bpr", "bpo")
    assert settings and set(settings) <= set(AUTO_PARAMS)
    model = (rs.BPR if loss == "bpr" else rs.BPO)(sampler=sampler)
    p = model._validated()             # the trainer's own checks accept every value
    sources = model.param_sources()
    for key, value in settings.items():
        assert p[key] == value
        assert sources[key] == f"recommended by {type(sampler).__name__} for {loss} (SGD)"


@pytest.mark.parametrize("name", sorted(n for n in SAMPLERS if not SAMPLERS[n].recommended))
def test_a_sampler_without_recommendations_trains_at_the_trainers_defaults(name):
    for trainer in (rs.BPR, rs.BPO):
        model = trainer(sampler=name)
        p = model._validated()
        for key in AUTO_PARAMS:
            assert p[key] == trainer.trainer_defaults[key]
            assert model.param_sources()[key] == f"{trainer.__name__} default"


@pytest.mark.parametrize("cls", [rs.BPR, rs.BPO, rs.NBPO, rs.Softmax, rs.CCL])
def test_none_stands_for_the_class_default_where_the_class_has_one(cls):
    """A trainer whose signature gives a number for a setting that also takes
    None (the group losses' epochs) must fill None with that same number."""
    for name in AUTO_PARAMS:
        default = cls()._defaults[name]
        if default is not None:
            assert cls(**{name: None}).effective_params()[name] == default, name
