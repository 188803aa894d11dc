"""Trainers: thin classes over the one compiled loop in ``_train``."""
from .base import FactorModel
from .bpr import BPR
from .bpo import BPO, NBPO
from .persistence import load_model

MODELS = {cls.__name__: cls for cls in (BPR, BPO, NBPO)}

__all__ = ["FactorModel", "BPR", "BPO", "NBPO", "load_model", "MODELS"]
