"""Experiment grids: configurations, data sets, seeds -> runs, and one run -> rows.

A *run* is one (dataset, model, sampler, params, seed) cell of the grid. Its
identity (the key used to resume) is those five values as strings, with
``params`` a canonical JSON text, so the same configuration always gives the
same key however it was written (as a dict, or as a model instance).
"""
from __future__ import annotations

import json
import numbers
import time
from dataclasses import dataclass, field

import numpy as np

from ..core.validation import suggest as _suggest

__all__ = ["Run", "normalize_config", "resolve_datasets", "expand", "execute", "COLUMNS",
           "KEY_COLUMNS", "MODEL_NAMES", "DEFAULT_METRICS", "DEFAULT_TEST_FRACTION"]

#: The tidy columns, in file order.
COLUMNS = ["dataset", "model", "sampler", "params", "seed", "metric", "k", "value",
           "fit_seconds", "epochs"]
#: What identifies a run (one run gives one row per metric and cut-off).
KEY_COLUMNS = ["dataset", "model", "sampler", "params", "seed"]
#: Lower-case model names accepted in configurations.
MODEL_NAMES = ("bpr", "bpo", "nbpo")
DEFAULT_METRICS = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate")
DEFAULT_TEST_FRACTION = 0.2

# Settings that choose resources or observe training, not the model learned:
# they are applied but kept out of the run's identity.
_NOT_IN_KEY = ("n_threads",)
_CONFIG_KEYS = ("model", "sampler", "params", "callbacks")


def _model_classes():
    from ..models import MODELS
    return {name.lower(): cls for name, cls in MODELS.items()}


def _plain(value):
    """JSON-ready version of a parameter value (numpy scalars, tuples)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _changed(params: dict, defaults: dict) -> dict:
    return {k: _plain(v) for k, v in params.items()
            if k not in _NOT_IN_KEY and (k not in defaults or _plain(defaults[k]) != _plain(v))}


@dataclass(frozen=True)
class Config:
    """A normalised configuration: what to build, and its canonical identity."""

    model: str                 # "bpr", "bpo" or "nbpo"
    sampler: str               # sampler name
    params: str                # canonical JSON (see normalize_config)
    model_params: dict = field(compare=False, hash=False)
    sampler_obj: object = field(compare=False, hash=False)
    callbacks: tuple = field(default=(), compare=False, hash=False)

    def build(self, seed: int, n_threads=None):
        """A fresh, unfitted model for one seed."""
        cls = _model_classes()[self.model]
        params = dict(self.model_params)
        params["seed"] = int(seed)
        params["sampler"] = self.sampler_obj
        if n_threads is not None and "n_threads" not in params:
            params["n_threads"] = n_threads
        return cls(**params)


def normalize_config(config) -> Config:
    """Turn a configuration into a :class:`Config`.

    Accepted forms:

    - a dict ``{"model": "bpr", "sampler": "dns", "params": {...}}``; ``model``
      defaults to "bpr" and ``sampler`` to the model's own default;
      ``sampler`` may be a name, a sampler instance, or a dict
      ``{"name": "nbpo", "lambda_phi": 0.01}``; optional ``callbacks`` are
      passed to ``fit`` (they observe training and are not part of the run's
      identity);
    - an unfitted model instance (``rs.BPR(factors=32, sampler="dns")``).

    ``params`` of the run key is the JSON text, keys sorted, of the model's
    hyper-parameters that differ from the model's defaults, plus, under
    ``"sampler"``, the sampler's hyper-parameters that differ from the
    sampler's defaults. So ``{"negatives": 1}`` and ``{}`` are the same BPR run
    (but ``{"epochs": 35}`` is not: an unset epochs follows the sampler's
    recommendation),
    and ``NBPO(lambda_phi=0.01)`` shows as ``{"sampler": {"lambda_phi": 0.01}}``.
    ``seed`` is not a parameter: it comes from the grid's ``seeds``.
    ``n_threads`` is applied but not part of the key.
    """
    from ..models.base import FactorModel
    from ..samplers import SAMPLERS, Sampler, get_sampler

    classes = _model_classes()
    callbacks = ()
    if isinstance(config, FactorModel):
        name = type(config).__name__.lower()
        if name not in classes:
            raise ValueError(f"config: model class {type(config).__name__} is not one of "
                             f"{[c.__name__ for c in classes.values()]}")
        params = config.get_params()
        sampler = params.pop("sampler")
        params.pop("seed", None)
        defaults = dict(classes[name]._defaults)
    elif isinstance(config, dict):
        unknown = set(config) - set(_CONFIG_KEYS)
        if unknown:
            bad = sorted(unknown)[0]
            raise ValueError(f"config has unknown key {bad!r}: expected keys "
                             f"{list(_CONFIG_KEYS)}{_suggest(bad, _CONFIG_KEYS)}")
        name = config.get("model", "bpr")
        if not isinstance(name, str) or name.strip().lower() not in classes:
            raise ValueError(f"config['model'] must be one of {list(MODEL_NAMES)}, got "
                             f"{name!r}{_suggest(name, MODEL_NAMES)}")
        name = name.strip().lower()
        defaults = dict(classes[name]._defaults)
        params = dict(config.get("params") or {})
        if not isinstance(config.get("params") or {}, dict):
            raise TypeError(f"config['params'] must be a dict, got {config['params']!r}")
        if "sampler" in params:
            raise ValueError("config['params'] must not hold 'sampler'; give it as "
                             "config['sampler']")
        if "seed" in params:
            raise ValueError("config['params'] must not hold 'seed': seeds come from the "
                             "grid's seeds argument")
        unknown = set(params) - set(defaults)
        if unknown:
            bad = sorted(unknown)[0]
            raise ValueError(f"config['params'] has unknown parameter {bad!r} for "
                             f"{classes[name].__name__}{_suggest(bad, defaults)}")
        sampler = config.get("sampler", defaults["sampler"])
        if isinstance(sampler, dict):
            spec = dict(sampler)
            sname = spec.pop("name", None)
            if sname not in SAMPLERS:
                raise ValueError(f"config['sampler']['name'] must be one of {sorted(SAMPLERS)}, "
                                 f"got {sname!r}{_suggest(sname, SAMPLERS)}")
            try:
                sampler = SAMPLERS[sname](**spec)
            except TypeError as exc:
                raise ValueError(f"config['sampler'] for {sname!r}: {exc}") from None
        callbacks = tuple(config.get("callbacks") or ())
        if not all(callable(cb) for cb in callbacks):
            raise TypeError("config['callbacks'] must be a sequence of callables")
    else:
        raise TypeError(f"a config must be a dict or an unfitted recsample model, got "
                        f"{type(config).__name__}")
    if isinstance(sampler, str) and sampler.strip().lower() not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}: expected one of {sorted(SAMPLERS)}"
                         f"{_suggest(sampler, SAMPLERS)}")
    loss = classes[name].loss
    sampler_obj = get_sampler(sampler, loss)
    if not isinstance(sampler_obj, Sampler):  # pragma: no cover - get_sampler guarantees it
        raise TypeError("sampler must be a name or a Sampler")
    defaults.pop("sampler")
    key = _changed(params, defaults)
    # the sampler's defaults for this loss (those a name gives it) are not a change
    s_class = type(sampler_obj)
    s_default = s_class(**s_class.loss_arguments.get(loss, {})).get_params()
    s_changed = _changed(sampler_obj.get_params(), s_default)
    # a model whose default sampler is an instance (NBPO) counts that as the default
    model_default_sampler = classes[name]._defaults["sampler"]
    if not isinstance(model_default_sampler, str) and sampler_obj == model_default_sampler:
        s_changed = {}
    if s_changed:
        key["sampler"] = s_changed
    text = json.dumps(key, sort_keys=True, separators=(", ", ": "))
    # build() must reproduce the exact model, so keep every given parameter
    return Config(name, sampler_obj.name, text, params, sampler_obj, callbacks)


# ------------------------------------------------------------------ datasets
@dataclass
class Dataset:
    """A grid's data set: either one Interactions split per seed, or a fixed pair."""

    name: str
    data: object = None        # Interactions, split with random_holdout per seed
    fixed: tuple | None = None  # (train, test), used for every seed

    def split(self, seed: int, split=DEFAULT_TEST_FRACTION):
        """(train, test) for one seed: ``split`` is the test fraction of a
        per-user ``random_holdout`` or a callable ``split(data, seed)``."""
        if self.fixed is not None:
            return self.fixed
        if callable(split):
            parts = split(self.data, int(seed))
            if not (isinstance(parts, tuple) and len(parts) >= 2):
                raise TypeError(f"split(data, seed) must return (train, test), got "
                                f"{type(parts).__name__}")
            return parts[0], parts[-1]
        from ..split import random_holdout
        return random_holdout(self.data, test_fraction=split, seed=int(seed))


def _from_loaded(name, obj):
    from ..interactions import Interactions
    if isinstance(obj, Interactions):
        return Dataset(name, data=obj)
    if isinstance(obj, tuple) and len(obj) in (2, 3) and all(
            isinstance(p, Interactions) for p in obj):
        # (train, test) or a published (train, valid, test): the last part is the test set
        return Dataset(name, fixed=(obj[0], obj[-1]))
    raise TypeError(f"dataset {name!r} must be a dataset name, an Interactions or a "
                    f"(train, test) pair of Interactions, got {type(obj).__name__}")


def load_named(name: str, path=None):
    """``rs.load_dataset`` with a name check that suggests the closest known name."""
    from ..datasets import _REGISTRY, load_dataset
    key = str(name).strip().lower().replace("_", "-")
    if key not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}: known datasets are "
                         f"{', '.join(_REGISTRY)}{_suggest(key, _REGISTRY)}")
    return load_dataset(key, path=path) if path is not None else load_dataset(key)


def resolve_datasets(datasets, paths=None) -> list:
    """Datasets as a list of :class:`Dataset`.

    ``datasets`` is a name, an Interactions, a (train, test) pair, a list of
    these, or a dict ``{name: any of these}``. Named data sets are loaded once
    here (``paths`` maps a name to its ``path=``); an Interactions is split
    per seed; a (train, test) pair, or the published (train, valid, test) of
    ``nbpo-amazon``, is used as it is for every seed.
    """
    from ..interactions import Interactions
    paths = dict(paths or {})
    if isinstance(datasets, (str, Interactions)) or (
            isinstance(datasets, tuple) and datasets
            and all(isinstance(p, Interactions) for p in datasets)):
        datasets = [datasets]
    items = list(datasets.items()) if isinstance(datasets, dict) else \
        [(None, d) for d in datasets]
    if not items:
        raise ValueError("datasets is empty: give at least one dataset name or (train, test)")
    out = []
    for i, (name, obj) in enumerate(items):
        if isinstance(obj, str):
            out.append(_from_loaded(name or obj, load_named(obj, paths.get(obj))))
        else:
            if name is None:
                first = obj[0] if isinstance(obj, tuple) else obj
                name = getattr(first, "name", None) or f"data{i}"
            out.append(_from_loaded(str(name), obj))
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise ValueError(f"datasets have repeated names {names}: pass a dict to name them")
    return out


# ------------------------------------------------------------------ runs
@dataclass
class Run:
    """One cell of the grid."""

    dataset: str
    config: Config
    seed: int

    @property
    def key(self) -> tuple:
        return (self.dataset, self.config.model, self.config.sampler, self.config.params,
                int(self.seed))

    def describe(self) -> dict:
        return dict(zip(KEY_COLUMNS, self.key))

    def settings(self) -> str:
        """Canonical JSON of everything the run's model will be trained with:
        every hyper-parameter as ``fit`` resolves it (defaults and sampler
        recommendations filled in) and the sampler's class and parameters.
        The key names only what differs from the defaults; this records what
        the defaults were, so that a resumed grid can tell when they have
        changed since the rows were written."""
        model = self.config.build(self.seed)
        params = model.effective_params()
        sampler = params.pop("sampler")
        for name in ("seed", "n_threads", "progress"):
            params.pop(name, None)
        from ..samplers import get_sampler
        sampler = get_sampler(sampler, model.loss)
        out = {"model": type(model).__name__, "params": _plain(params),
               "sampler": {"class": type(sampler).__name__,
                           "params": _plain(sampler.get_params())}}
        return json.dumps(out, sort_keys=True, default=repr)


def check_seeds(seeds) -> list:
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive integer (the number of seeds) or a "
                             f"sequence of seeds, got {seeds!r}")
        return list(range(int(seeds)))
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise TypeError(f"seeds must be an integer or a sequence of integers, got "
                        f"{seeds!r}") from None
    if not out or any(s < 0 for s in out) or len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct non-negative integers, got {seeds!r}")
    return out


def expand(configs, datasets, seeds) -> list:
    """Every (dataset, config, seed) as a :class:`Run`, datasets outermost."""
    if isinstance(configs, dict) or not isinstance(configs, (list, tuple)):
        configs = [configs]
    norm = [normalize_config(c) for c in configs]
    seen = {}
    for c in norm:
        ident = (c.model, c.sampler, c.params)
        if ident in seen:
            raise ValueError(f"configs list the same run twice: {ident}")
        seen[ident] = c
    return [Run(d.name, c, s) for d in datasets for c in norm for s in seeds]


def execute(run: Run, data: Dataset, k, metrics, split=DEFAULT_TEST_FRACTION, n_threads=None,
            progress=False) -> list:
    """Split, fit, evaluate one run; its tidy rows (list of dicts)."""
    from ..evaluation import evaluate
    train, test = data.split(run.seed, split)
    model = run.config.build(run.seed, n_threads=n_threads)
    t0 = time.perf_counter()
    model.fit(train, callbacks=run.config.callbacks, progress=progress)
    fit_seconds = time.perf_counter() - t0
    report = evaluate(model, test, train=train, k=tuple(k), metrics=tuple(metrics))
    base = run.describe()
    rows = []
    for rec in report.summary().itertuples(index=False):
        kval = None if rec.k is None or rec.k is np.nan or str(rec.k) == "<NA>" else int(rec.k)
        rows.append({**base, "metric": rec.metric, "k": kval, "value": float(rec.mean),
                     "fit_seconds": round(fit_seconds, 4), "epochs": len(model.history_)})
    return rows
