"""What the trainers over one positive and N negatives share."""
from ..search_space import IntRange, LogUniform
from .base import FactorModel, _check_number


class GroupModel(FactorModel):
    """A factor model trained by a loss over groups: each unit of up to
    ``group_size`` positives of one user shares N = ``negatives`` negatives
    drawn for that user by the sampler (see :mod:`recsample.losses`).

    The base of :class:`~recsample.Softmax` and :class:`~recsample.CCL`, not
    a trainer itself: each of them states its whole signature, with the
    defaults chosen for its loss."""

    #: what the group losses' own parameters mean, written once for every subclass
    GROUP_PARAMETERS = {
        "negatives": ("int", "N, negatives per unit of positives."),
        "group_size": ("int", "Positives of one user that share the same N negatives.")}

    #: a pass of a group loss costs N negatives per unit: 10 passes fold a
    #: user in as well as 20-40 (movielens-small validation part, see
    #: FactorModel.FOLD_IN_EPOCHS) at half the time or less
    FOLD_IN_EPOCHS = 10

    #: epochs="auto": group losses' validation curves plateau and rise again
    #: (Gowalla's softmax, docs/results-gowalla.md), so they search longer
    #: and check less often
    AUTO_MAX_EPOCHS = 300
    AUTO_EVAL_EVERY = 10
    AUTO_PATIENCE = 30

    # no sampler recommends settings for a group loss: these stand for None too
    trainer_defaults = dict(epochs=50, learning_rate=0.1, regularization=0.0)

    # adaptive step sizes (Adam, Adagrad): rates well below SGD's
    search_space = {"learning_rate": LogUniform(1e-3, 0.1),
                    "regularization": LogUniform(1e-6, 1e-2),
                    "group_size": IntRange(1, 32, log=True)}

    def _validated_loss(self) -> dict:
        return {"group_size": _check_number("group_size", self.group_size, low=1, integer=True)}
