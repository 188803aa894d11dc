"""Bayesian Personalized Ranking (Rendle, Freudenthaler, Gantner &
Schmidt-Thieme, UAI 2009): maximise sum ln sigma(x_ui - x_uj) - regularisation
over positives i and sampled negatives j of each user u."""
from .base import FactorModel


class BPR(FactorModel):
    __doc__ = ("Pair-wise matrix factorisation: maximises ln sigma(x_ui - x_uj) - L2.\n\n"
               + FactorModel.__doc__.split("\n\n", 1)[1])
    loss = "bpr"
