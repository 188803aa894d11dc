"""One estimator convention (scikit-learn's) for every public model, baseline
and sampler: explicit keyword parameters with defaults, ``get_params`` /
``set_params`` read from the signature, and the deprecated names."""
import inspect
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import recsample as rs
import recsample.baselines
import recsample.models
import recsample.samplers
from recsample._params import Params

MODELS = [recsample.models.MODELS[name] for name in sorted(recsample.models.MODELS)]
BASELINES = [getattr(recsample.baselines, name) for name in recsample.baselines.__all__
             if isinstance(getattr(recsample.baselines, name), type)
             and issubclass(getattr(recsample.baselines, name), Params)
             and getattr(recsample.baselines, name) is not recsample.baselines.Baseline]
SAMPLERS = sorted({*recsample.samplers.SAMPLERS.values(),
                   *(getattr(recsample.samplers, name) for name in recsample.samplers.__all__
                     if isinstance(getattr(recsample.samplers, name), type)
                     and issubclass(getattr(recsample.samplers, name),
                                    recsample.samplers.Sampler)
                     and name != "Sampler")}, key=lambda c: c.__name__)
CLASSES = MODELS + BASELINES + SAMPLERS


def _ids(classes):
    return [f"{c.__module__.rsplit('.', 1)[-1]}.{c.__name__}" for c in classes]


def test_every_public_class_is_walked():
    assert {"BPR", "BPO", "NBPO", "Softmax", "CCL"} <= {c.__name__ for c in MODELS}
    assert {"MostPopular", "EASE", "ALS"} <= {c.__name__ for c in BASELINES}
    assert len(SAMPLERS) == len(recsample.samplers.SAMPLERS)


@pytest.mark.parametrize("cls", CLASSES, ids=_ids(CLASSES))
def test_signature_is_explicit_with_defaults(cls):
    sig = inspect.signature(cls)
    for p in sig.parameters.values():
        assert p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD), f"{cls.__name__}: {p}"
        assert p.default is not p.empty, f"{cls.__name__}.{p.name} has no default"
    assert tuple(sig.parameters) == cls._param_names()
    assert cls._defaults == {p.name: p.default for p in sig.parameters.values()}


@pytest.mark.parametrize("cls", CLASSES, ids=_ids(CLASSES))
def test_get_params_of_a_default_instance_is_the_signature(cls):
    sig = inspect.signature(cls)
    assert cls().get_params() == {p.name: p.default for p in sig.parameters.values()}


@pytest.mark.parametrize("cls", CLASSES, ids=_ids(CLASSES))
def test_set_params_round_trips_and_refuses_unknown_names(cls):
    obj = cls()
    params = obj.get_params()
    for name, value in params.items():
        assert obj.set_params(**{name: value}) is obj
    assert obj.get_params() == params
    if params:
        name = next(iter(params))
        marker = object()
        obj.set_params(**{name: marker})
        assert obj.get_params()[name] is marker
        obj.set_params(**{name: params[name]})
    with pytest.raises(ValueError, match="no_such_parameter") as err:
        obj.set_params(no_such_parameter=1)
    for name in params:
        assert name in str(err.value)


@pytest.mark.parametrize("cls", CLASSES, ids=_ids(CLASSES))
def test_clone_from_get_params(cls):
    obj = cls()
    clone = cls(**obj.get_params())
    assert clone.get_params() == obj.get_params()
    assert type(clone) is cls


@pytest.mark.parametrize("cls", CLASSES, ids=_ids(CLASSES))
def test_one_parameters_section_listing_every_parameter(cls):
    doc = inspect.getdoc(cls)
    names = cls._param_names()
    if not names:
        return
    assert doc.count("Parameters\n----------") == 1, cls.__name__
    section = doc.split("Parameters\n----------", 1)[1]
    # entries are the unindented lines: "name : type" or "name1, name2"
    documented = {name.strip() for line in section.splitlines()
                  if line and not line[0].isspace()
                  for name in line.split(" : ")[0].split(",")}
    missing = [name for name in names if name not in documented]
    assert not missing, f"{cls.__name__}: {missing} not in its Parameters section"


def test_bpr_signature_lists_its_parameters():
    params = inspect.signature(rs.BPR).parameters
    assert params["factors"].default == 64
    assert params["sampler"].default == "uniform"
    assert params["learning_rate"].default is None
    assert params["regularization"].default is None


def test_subclasses_show_their_own_defaults():
    group = inspect.signature(rs.Softmax).parameters
    assert group["negatives"].default == 256 and group["optimizer"].default == "adagrad"
    assert group["similarity"].default == "cosine" and group["temperature"].default == 0.1
    ccl = inspect.signature(rs.CCL).parameters
    assert ccl["margin"].default == 0.9 and ccl["negative_weight"].default == 8.0
    assert ccl["epochs"].default == 80 and ccl["logq"].default is True
    nbpo = inspect.signature(rs.NBPO).parameters
    assert nbpo["factors"].default == 50 and nbpo["optimizer"].default == "batch"
    assert nbpo["sampler"].default == rs.samplers.NBPO(flip_factors=50, lambda_phi=5.0)


def test_sampler_repr_eq_hash():
    a, b = rs.samplers.DNS(candidates=8), rs.samplers.DNS(candidates=8)
    assert a == b and hash(a) == hash(b) and a != rs.samplers.DNS()
    assert repr(a) == "DNS(candidates=8, temperature=None, hardest=1, rho=None)"
    assert repr(rs.BPR(factors=8)) == "BPR(factors=8)"


def test_registry_names_need_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in recsample.samplers.SAMPLERS:
            rs.samplers.get_sampler(name)
        rs.BPR(sampler="nbpo")
        rs.NBPO()


# ------------------------------------------------------------ deprecated names
def test_kos_K_is_n_positives_with_a_warning():
    with pytest.warns(FutureWarning, match="'K' is renamed 'n_positives'"):
        s = rs.samplers.KOS(K=4, k=2)
    assert s.n_positives == 4 and s == rs.samplers.KOS(n_positives=4, k=2)
    with pytest.warns(FutureWarning):
        assert s.K == 4
    with pytest.warns(FutureWarning):
        s.set_params(K=6)
    assert s.get_params()["n_positives"] == 6
    with pytest.raises(TypeError, match="both"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rs.samplers.KOS(K=4, n_positives=4)


def test_ease_l2_is_regularization_with_a_warning():
    X = sp.random(20, 8, density=0.3, format="csr", random_state=0)
    with pytest.warns(FutureWarning, match="'l2' is renamed 'regularization'"):
        old = rs.baselines.EASE(l2=3.0)
    assert old.regularization == 3.0
    new = rs.baselines.EASE(regularization=3.0)
    np.testing.assert_array_equal(old.fit(X).weights, new.fit(X).weights)
    with pytest.warns(FutureWarning):
        old.set_params(l2=4.0)
    assert old.regularization == 4.0


def test_als_iterations_is_epochs_with_a_warning():
    with pytest.warns(FutureWarning, match="'iterations' is renamed 'epochs'"):
        model = rs.baselines.ALS(iterations=3)
    assert model.epochs == 3 and "iterations" not in model.get_params()


def test_score_is_predict_with_a_warning(movielens):
    model = rs.BPR(factors=4, epochs=1, seed=0, n_threads=1).fit(movielens, progress=False)
    users, items = np.array([0, 1, 2]), np.array([3, 4, 5])
    expected = model.predict(users, items)
    with pytest.warns(FutureWarning, match="predict"):
        got = model.score(users, items)
    np.testing.assert_array_equal(got, expected)


def test_model_saved_with_kos_K_loads(tmp_path, movielens):
    import json
    model = rs.BPR(factors=4, epochs=1, seed=0, n_threads=1, learning_rate=0.01,
                   sampler=rs.samplers.KOS(n_positives=4, k=2)).fit(movielens, progress=False)
    path = model.save(tmp_path / "m.npz")
    # rewrite the file as an older version wrote it: the sampler's K
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    text = str(arrays["__metadata__"]).replace('"n_positives"', '"K"')
    assert '"K": 4' in text
    arrays["__metadata__"] = np.array(text)
    old = tmp_path / "old.npz"
    np.savez(old, **arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = rs.load_model(old)
    assert loaded.sampler == rs.samplers.KOS(n_positives=4, k=2)
    assert loaded.sampler_ == rs.samplers.KOS(n_positives=4, k=2)
    json.loads(text)


def test_the_registry_names_every_trainer_and_baseline_and_loads_them():
    import inspect
    import recsample.baselines as baselines
    import recsample.models as models
    from recsample import registry
    trainers = {c for c in vars(models).values() if inspect.isclass(c)
                and issubclass(c, models.FactorModel) and c is not models.FactorModel}
    assert {registry.load("model", n) for n in registry.names("model")} == trainers
    refs = {c for c in vars(baselines).values() if inspect.isclass(c)
            and issubclass(c, baselines.Baseline) and c is not baselines.Baseline}
    assert {registry.load("baseline", n) for n in registry.names("baseline")} == refs
    assert all(registry.load("baseline", n).name == n for n in registry.names("baseline"))
    with pytest.raises(ValueError, match="did you mean 'softmax'"):
        registry.load("model", "sofmax")
