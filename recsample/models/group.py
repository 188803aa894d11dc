"""What the trainers over one positive and N negatives share."""
from ..search_space import IntRange, LogUniform
from .base import FactorModel, _check_number, parameters_doc


class GroupModel(FactorModel):
    """A factor model trained by a loss over groups: each unit of up to
    ``group_size`` positives of one user shares N = ``negatives`` negatives
    drawn for that user by the sampler (see :mod:`recsample.losses`)."""

    # defaults chosen on Gowalla's validation part (README, "Losses over many negatives")
    # signature repeated on purpose (sklearn style): get_params and help() read it
    def __init__(self, *, factors=64, epochs=50, learning_rate=0.1,
                 regularization=0.0, user_regularization=None,
                 item_regularization=None, bias_regularization=None, negatives=256,
                 sampler="uniform", use_bias=False, similarity="dot",
                 init="normal", init_scale=0.1, optimizer="adagrad",
                 batch_size=5000, learning_rate_decay=1.0,
                 clip_sigmoid=0.0, shuffle=True, visit="auto", seed=0,
                 n_threads=None, patience=None, valid_metric="ndcg@10", eval_every=1,
                 group_size=8):
        self._store_params(locals())

    #: what the group losses' own parameters mean, written once for every subclass
    GROUP_PARAMETERS = {
        "negatives": ("int", "N, negatives per unit of positives."),
        "group_size": ("int", "Positives of one user that share the same N negatives.")}

    __doc__ = parameters_doc(__doc__, __init__, GROUP_PARAMETERS)

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
