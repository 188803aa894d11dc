"""Matrix factorisation trained with the cosine contrastive loss of SimpleX
(Mao et al., CIKM 2021); see :mod:`recsample.losses.ccl`."""
from ..losses import CCLLoss
from ..search_space import LogUniform, Uniform
from .base import _check_number, parameters_doc
from .group import GroupModel


class CCL(GroupModel):
    """Cosine contrastive loss: minimises, per positive i and N sampled negatives j,
    max(0, 1 - x_ui) + (w / N) sum_j max(0, x_uj - m)."""

    loss = "ccl"
    trainer_defaults = dict(GroupModel.trainer_defaults, epochs=80)

    # signature repeated on purpose (sklearn style): get_params and help() read it
    def __init__(self, *, factors=64, epochs=80, learning_rate=0.1,
                 regularization=0.0, user_regularization=None,
                 item_regularization=None, bias_regularization=None, negatives=256,
                 sampler="uniform", use_bias=False, similarity="cosine",
                 init="normal", init_scale=0.1, optimizer="adagrad",
                 batch_size=5000, learning_rate_decay=1.0, average_decay=None,
                 clip_sigmoid=0.0, shuffle=True, visit="auto", seed=0,
                 n_threads=None, patience=None, valid_metric="ndcg@10", eval_every=1,
                 group_size=8, margin=0.9, negative_weight=8.0, logq=True):
        # margin, negative_weight and epochs: the setting whose worst validation
        # NDCG@10, as a share of each set's best, was highest over
        # movielens-small and nbpo-amazon (benchmarks/studies/group_defaults.py,
        # docs/defaults.md); with w = N = 256, the earlier default, no margin
        # reached more than 0.67 and 0.38 of the best there
        self._store_params(locals())

    __doc__ = parameters_doc(__doc__, __init__, {
        **GroupModel.GROUP_PARAMETERS,
        "margin": ("float", "m in [-1, 1]."),
        "negative_weight": ("float or None", "w >= 0 (None: N, the number of negatives)."),
        "logq": ("bool", "Weight each negative's hinge by (1/q_j) / mean(1/q) so that a "
                 "non-uniform sampler's draws still estimate the uniform mean (see "
                 ":mod:`recsample.losses.ccl`); exactly 1 for uniform draws.")})

    search_space = dict(GroupModel.search_space, margin=Uniform(0.0, 1.0),
                        negative_weight=LogUniform(1.0, 1000.0))

    def _validated_loss(self) -> dict:
        p = super()._validated_loss()
        m = _check_number("margin", self.margin)
        if not -1.0 <= m <= 1.0:
            raise ValueError(f"margin must lie in [-1, 1], got {self.margin!r}")
        p["margin"] = m
        if not isinstance(self.logq, bool):
            raise ValueError(f"logq must be True or False, got {self.logq!r}")
        if self.use_bias:
            raise ValueError("use_bias=True is not defined for CCL: its margins apply to "
                             "the cosine itself; pass use_bias=False")
        w = self.negative_weight
        p["negative_weight"] = (float(self.negatives) if w is None
                                else _check_number("negative_weight", w, low=0))
        return p

    def _loss_state(self, p, sampler):
        # with the uniform proposal's ln q the weights are exactly 1: the loop
        # then neither reads ln q nor weighs the negatives
        return CCLLoss(p["margin"], p["negative_weight"],
                       bool(self.logq) and bool(getattr(sampler, "own_log_q", False)))
