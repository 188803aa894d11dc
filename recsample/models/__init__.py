"""Trainers: thin classes over the one compiled loop in ``_train``."""
from .base import FactorModel
from .bpr import BPR
from .bpo import BPO, NBPO
from .softmax import Softmax
from .ccl import CCL
from .persistence import load_model

from .. import registry as _registry

#: class name -> class (the names model files record), in the order of
#: :data:`recsample.registry.MODELS`
MODELS = {cls.__name__: cls for cls in map(lambda n: _registry.load("model", n),
                                           _registry.MODELS)}

__all__ = ["FactorModel", "BPR", "BPO", "NBPO", "Softmax", "CCL", "load_model", "MODELS"]
