"""What the trainers over one positive and N negatives share."""
from ..search_space import IntRange, LogUniform
from .base import FactorModel, _check_number


class GroupModel(FactorModel):
    """A factor model trained by a loss over groups: each unit of up to
    ``group_size`` positives of one user shares N = ``negatives`` negatives
    drawn for that user by the sampler (see :mod:`recsample.losses`)."""

    # chosen on Gowalla's validation part (README, "Losses over many negatives")
    _defaults = dict(FactorModel._defaults, epochs=50, negatives=256, group_size=8,
                     use_bias=False, optimizer="adagrad", learning_rate=0.1,
                     regularization=0.0)
    # no sampler recommends settings for a group loss: these stand for None too
    trainer_defaults = dict(epochs=50, learning_rate=0.1, regularization=0.0)

    # adaptive step sizes (Adam, Adagrad): rates well below SGD's
    search_space = {"learning_rate": LogUniform(1e-3, 0.1),
                    "regularization": LogUniform(1e-6, 1e-2),
                    "group_size": IntRange(1, 32, log=True)}

    def _validated_loss(self) -> dict:
        return {"group_size": _check_number("group_size", self.group_size, low=1, integer=True)}
