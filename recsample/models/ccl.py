"""Matrix factorisation trained with the cosine contrastive loss of SimpleX
(Mao et al., CIKM 2021); see :mod:`recsample.losses.ccl`."""
from ..losses import CCLLoss
from ..search_space import LogUniform, Uniform
from .base import FactorModel, _check_number
from .group import GroupModel


class CCL(GroupModel):
    __doc__ = (
        "Cosine contrastive loss: minimises, per positive i and N sampled negatives j,\n"
        "max(0, 1 - x_ui) + (w / N) sum_j max(0, x_uj - m).\n\n"
        "Parameters (besides those below)\n"
        "----------\n"
        "negatives : int\n    N, negatives per unit of positives.\n"
        "margin : float\n    m in [-1, 1].\n"
        "negative_weight : float\n    w >= 0.\n"
        "group_size : int\n    Positives of one user that share the same N negatives.\n\n"
        + FactorModel.__doc__.split("\n\n", 1)[1])
    loss = "ccl"
    _defaults = dict(GroupModel._defaults, margin=0.8, negative_weight=None, similarity="cosine")

    search_space = dict(GroupModel.search_space, margin=Uniform(0.0, 1.0),
                        negative_weight=LogUniform(1.0, 1000.0))

    def _validated_loss(self) -> dict:
        p = super()._validated_loss()
        m = _check_number("margin", self.margin)
        if not -1.0 <= m <= 1.0:
            raise ValueError(f"margin must lie in [-1, 1], got {self.margin!r}")
        p["margin"] = m
        if self.use_bias:
            raise ValueError("use_bias=True is not defined for CCL: its margins apply to "
                             "the cosine itself; pass use_bias=False")
        w = self.negative_weight
        p["negative_weight"] = (float(self.negatives) if w is None
                                else _check_number("negative_weight", w, low=0))
        return p

    def _loss_state(self, p, sampler):
        return CCLLoss(p["margin"], p["negative_weight"])
