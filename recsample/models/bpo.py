"""Bayesian Point-wise Optimization: logistic matrix factorisation on
positives and sampled negatives, maximising ln sigma(x_ui) + ln(1 - sigma(x_uj)).
This is the base learner of NBPO (Yu & Qin, SIGIR 2020)."""
from ._flip import FlipModel
from .base import FactorModel, parameters_doc
from ..samplers import NBPO as NBPOSampler
from ..search_space import LogUniform


class BPO(FlipModel, FactorModel):
    """Point-wise logistic matrix factorisation: maximises
    ln sigma(x_ui) + ln(1 - sigma(x_uj)) - L2."""

    __doc__ = parameters_doc(__doc__, FactorModel.__init__)
    loss = "bpo"
    # benchmarks/studies/tune_defaults.py: the point-wise loss wants more decay
    trainer_defaults = dict(FactorModel.trainer_defaults, regularization=0.03)


#: the paper's sampler: K1 = 50, lambda_phi = 5 (one shared instance; samplers
#: keep no state of a fit, ``prepare`` builds it)
_NBPO_SAMPLER = NBPOSampler(flip_factors=50, lambda_phi=5.0)


class NBPO(BPO):
    """BPO with the NBPO noisy-label sampler and the paper's Amazon settings.

    The model; its default sampler is ``recsample.samplers.NBPO``, the
    paper's flip model, a sampler of the same name.

    Defaults follow Yu & Qin (SIGIR 2020) and the authors' code: K0 = K1 = 50;
    U, V ~ U(0, 1/sqrt(50)); 4 negatives per positive; batches of 5000
    positives whose gradients are summed, then W += eta (dW - lambda W) on
    every row; eta = 0.05 decaying x0.99 per epoch; lambda_r = 1,
    lambda_phi = 5; 200 epochs; sigmoid clipped beyond |x| > 10. For
    MovieLens the paper uses eta 0.02, lambda_r 0.5, lambda_phi 1. Pass
    ``optimizer="sgd"`` (with a suitable learning rate and regularization) for
    the fast parallel mode.
    """

    # signature repeated on purpose (sklearn style): get_params and help() read it
    def __init__(self, *, factors=50, epochs=200, learning_rate=0.05,
                 regularization=1.0, user_regularization=None,
                 item_regularization=None, bias_regularization=None, negatives=4,
                 sampler=_NBPO_SAMPLER, use_bias=False, similarity="dot",
                 init="uniform", init_scale=1.0 / 50 ** 0.5, optimizer="batch",
                 batch_size=5000, learning_rate_decay=0.99, average_decay=None,
                 clip_sigmoid=10.0, shuffle=True, visit="auto", seed=0,
                 n_threads=None, patience=None, valid_metric="ndcg@10", eval_every=1):
        self._store_params(locals())

    __doc__ = parameters_doc(__doc__, __init__, {
        "sampler": ("str or Sampler", """
A name in ``recsample.samplers.SAMPLERS`` or an instance; by
default the NBPO flip-model sampler, ``rs.samplers.NBPO(flip_factors=50,
lambda_phi=5.0)`` (K1 = 50, lambda_phi = 5).""")})

    # the paper's settings stand for None too: no sampler recommendation applies
    # to the batch optimizer
    trainer_defaults = dict(epochs=200, learning_rate=0.05, regularization=1.0)
    # the batch optimizer steps once per 5,000 summed gradients: larger decay
    search_space = {"learning_rate": LogUniform(0.005, 0.2),
                    "regularization": LogUniform(0.01, 10.0)}
