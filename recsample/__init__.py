"""recsample: negative samplers and full-ranking evaluation for implicit feedback.

>>> import recsample as rs
>>> data = rs.load_dataset("movielens-small")
>>> train, test = rs.split.random_holdout(data, test_fraction=0.2, seed=0)
>>> model = rs.BPR(sampler="dns").fit(train)
>>> rs.evaluate(model, test, train=train, k=(10, 20)).summary()
"""
from ._version import __version__
from .interactions import Interactions
from . import split
from . import datasets
from .datasets import load_dataset
from . import samplers
from . import evaluation
from .evaluation import evaluate
from .models import BPR, BPO, NBPO, load_model
from . import experiments

__all__ = [
    "__version__", "Interactions", "split", "datasets", "load_dataset", "samplers",
    "evaluation", "evaluate", "BPR", "BPO", "NBPO", "load_model", "experiments",
]
