"""What a study searches: the models ``rs.tune`` accepts, their fixed
parameters and sampler, the merged search space, the validation data and the
checks of ``tune``'s other arguments."""
from __future__ import annotations

import math
import numbers

from .. import registry, search_space as _space
from ..core.validation import parse_metric, suggest as _suggest

_RANK_METRICS = registry.RANK_METRICS


def _classes() -> dict:
    from ..baselines import BASELINES
    from ..models import MODELS
    out = {name.lower(): cls for name, cls in MODELS.items()}
    out.update(BASELINES)
    return out


def tunable_names() -> list:
    """Names ``rs.tune`` accepts for ``model``: the trainers and baselines."""
    return list(_classes())


def resolve_model(model):
    """(class, fixed parameters) for a name, a class or an unfitted model."""
    classes = _classes()
    if isinstance(model, str):
        key = model.strip().lower()
        if key not in classes:
            raise ValueError(f"model: unknown model {model!r}; expected one of "
                             f"{', '.join(classes)}{_suggest(key, classes)}")
        return classes[key], {}
    if isinstance(model, type) and model in classes.values():
        return model, {}
    if type(model) in classes.values():
        params = model.get_params()
        return type(model), params
    raise TypeError(f"model must be a name ({', '.join(classes)}), a model class or an "
                    f"unfitted model, got {model!r}")


def _is_trainer(cls) -> bool:
    from ..models.base import FactorModel
    return issubclass(cls, FactorModel)


def _parse_metric(metric):
    return parse_metric(metric, "metric", _RANK_METRICS)


def _check_timeout(timeout):
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) \
                or not timeout > 0 or not math.isfinite(timeout):
            raise ValueError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")


def _fixed_params(cls, base, params, sampler, trainer):
    """(fixed model parameters, sampler instance or None): the model's own
    parameters overridden by ``params``, and a trainer's sampler resolved
    (default: the one in its parameters, else the class default)."""
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict of fixed model parameters, got "
                        f"{type(params).__name__}")
    base = {**base, **(params or {})}
    unknown = set(base) - set(cls._defaults)
    if unknown:
        bad = sorted(unknown)[0]
        raise ValueError(f"params: {bad!r} is not a parameter of {cls.__name__}"
                         f"{_suggest(bad, cls._defaults)}")
    if trainer:
        from ..samplers import get_sampler
        if sampler is None:
            sampler = base.get("sampler", cls._defaults["sampler"])
        try:
            sampler = get_sampler(sampler, cls.loss)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"sampler: {exc}") from None
        base.pop("sampler", None)
    elif sampler is not None:
        raise ValueError(f"sampler: {cls.__name__} does not draw negatives; leave sampler "
                         "unset")
    return base, sampler


def _space_for(cls, sampler, space):
    """The merged search space: the model's ranges, the sampler's under
    ``sampler.NAME``, then ``space``'s entries (ranges searched, other values
    fixed). Returns (ranges, fixed)."""
    merged = dict(getattr(cls, "search_space", {}))
    if sampler is not None:
        merged.update({f"sampler.{k}": v for k, v in sampler.space().items()})
    user = _space.check_space(space)
    model_keys = set(cls._defaults) - {"sampler", "seed"}
    sampler_keys = set(sampler.get_params()) if sampler is not None else set()
    for key in user:
        ok = (key.startswith("sampler.") and key[8:] in sampler_keys) or key in model_keys
        if not ok:
            known = sorted(model_keys) + sorted(f"sampler.{k}" for k in sampler_keys)
            raise ValueError(f"space: {key!r} is not a parameter of {cls.__name__}"
                             f"{' or its sampler' if sampler is not None else ''}; known: "
                             f"{', '.join(known)}{_suggest(key, known)}")
    merged.update(user)
    ranges = {k: v for k, v in merged.items() if isinstance(v, _space.Range)}
    fixed = {k: v for k, v in merged.items() if not isinstance(v, _space.Range)}
    return ranges, fixed


def _validation(train, valid, valid_fraction, seed):
    from ..interactions import Interactions
    from ..core.validation import as_csr
    import scipy.sparse as sp
    if not isinstance(train, Interactions) and not sp.issparse(train):
        raise TypeError(f"train must be an Interactions or a scipy.sparse matrix, got "
                        f"{type(train).__name__}")
    # checked here, before any trial, and under the caller's argument names
    train_shape = as_csr(train, "train").shape
    if valid is not None:
        shape = as_csr(valid, "valid").shape
        if shape != train_shape:
            raise ValueError(f"valid has shape {shape}, train has {train_shape}: they must "
                             "share one index space")
        return train, valid
    from ..split import random_holdout
    data = train if isinstance(train, Interactions) else Interactions.from_csr(train)
    part, held = random_holdout(data, test_fraction=valid_fraction, seed=seed)
    if held.nnz == 0:
        raise ValueError(f"valid_fraction={valid_fraction} holds out nothing from train "
                         "(users with a single interaction keep it): pass valid= or a larger "
                         "valid_fraction")
    return part, held
