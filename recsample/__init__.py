"""recsample: negative samplers and full-ranking evaluation for implicit feedback.

>>> import recsample as rs
>>> data = rs.load_dataset("movielens-small")
>>> train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=0)
>>> model = rs.BPR(sampler="dns").fit(train)
>>> rs.evaluate(model, test, train=train, k=(10, 20)).summary()

Submodules load on first use, so ``import recsample`` stays quick and a script
that only reads data never starts the compiler.
"""
from importlib import import_module

from ._version import __version__
from .interactions import Interactions

# public name -> (module, attribute or None for the module itself)
_LAZY = {
    "split": (".split", None),
    "datasets": (".datasets", None),
    "samplers": (".samplers", None),
    "models": (".models", None),
    "evaluation": (".evaluation", None),
    "experiments": (".experiments", None),
    "load_dataset": (".datasets", "load_dataset"),
    "evaluate": (".evaluation", "evaluate"),
    "BPR": (".models", "BPR"),
    "BPO": (".models", "BPO"),
    "NBPO": (".models", "NBPO"),
    "Softmax": (".models", "Softmax"),
    "CCL": (".models", "CCL"),
    "load_model": (".models", "load_model"),
    "tune": (".tuning", "tune"),
    "warmup": (".compilation", "warmup"),
    "baselines": (".baselines", None),
    "search_space": (".search_space", None),
    "ann": (".ann", None),
    "ItemIndex": (".ann", "ItemIndex"),
}

__all__ = ["__version__", "Interactions", *_LAZY]


def __getattr__(name):
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'recsample' has no attribute {name!r}") from None
    mod = import_module(module, __name__)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
