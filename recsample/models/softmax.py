"""Matrix factorisation trained with the sampled softmax loss: each positive
against N sampled negatives, temperature t, and the logQ correction
(Yi et al., RecSys 2019) on or off; see :mod:`recsample.losses.softmax`."""
from ..losses import SoftmaxLoss
from ..search_space import LogUniform
from .base import FactorModel, _check_number
from .group import GroupModel


class Softmax(GroupModel):
    __doc__ = (
        "Sampled softmax: minimises, per positive i and N sampled negatives j,\n"
        "-log( e^{x_ui/t} / (e^{x_ui/t} + sum_j e^{x_uj/t - log(N q_j)}) ),\n"
        "q_j the sampler's probability of j (dropped with ``logq=False``).\n\n"
        "Parameters (besides those below)\n"
        "----------\n"
        "negatives : int\n    N, negatives per unit of positives.\n"
        "temperature : float\n    t > 0.\n"
        "logq : bool\n    Subtract ln(N q_j) from each negative's logit.\n"
        "group_size : int\n    Positives of one user that share the same N negatives.\n\n"
        + FactorModel.__doc__.split("\n\n", 1)[1])
    loss = "softmax"
    _defaults = dict(GroupModel._defaults, temperature=0.1, logq=True, similarity="cosine")

    search_space = dict(GroupModel.search_space, temperature=LogUniform(0.03, 1.0))

    def _validated_loss(self) -> dict:
        p = super()._validated_loss()
        p["temperature"] = _check_number("temperature", self.temperature, low=0, low_open=True)
        if not isinstance(self.logq, bool):
            raise ValueError(f"logq must be True or False, got {self.logq!r}")
        return p

    def _loss_state(self, p, sampler):
        return SoftmaxLoss(1.0 / p["temperature"], bool(self.logq))
