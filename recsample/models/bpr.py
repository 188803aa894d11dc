"""Bayesian Personalized Ranking (Rendle, Freudenthaler, Gantner &
Schmidt-Thieme, UAI 2009): maximise sum ln sigma(x_ui - x_uj) - regularisation
over positives i and sampled negatives j of each user u."""
from ._flip import FlipModel
from .base import FactorModel, parameters_doc


class BPR(FlipModel, FactorModel):
    """Pair-wise matrix factorisation: maximises ln sigma(x_ui - x_uj) - L2."""

    loss = "bpr"

    __doc__ = parameters_doc(__doc__, FactorModel.__init__)
