"""Trainers: thin classes over the one compiled loop in ``_train``."""
from .base import FactorModel
from .bpr import BPR
from .bpo import BPO, NBPO
from .softmax import Softmax
from .ccl import CCL
from .persistence import load_model

MODELS = {cls.__name__: cls for cls in (BPR, BPO, NBPO, Softmax, CCL)}

__all__ = ["FactorModel", "BPR", "BPO", "NBPO", "Softmax", "CCL", "load_model", "MODELS"]
