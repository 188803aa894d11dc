"""Bayesian Point-wise Optimization: logistic matrix factorisation on
positives and sampled negatives, maximising ln sigma(x_ui) + ln(1 - sigma(x_uj)).
This is the base learner of NBPO (Yu & Qin, SIGIR 2020)."""
from .base import FactorModel
from ..samplers import NBPO as NBPOSampler
from ..search_space import LogUniform


class BPO(FactorModel):
    __doc__ = ("Point-wise logistic matrix factorisation: maximises\n"
               "ln sigma(x_ui) + ln(1 - sigma(x_uj)) - L2.\n\n"
               + FactorModel.__doc__.split("\n\n", 1)[1])
    loss = "bpo"
    # benchmarks/tune_defaults.py: the point-wise loss wants more decay
    trainer_defaults = dict(FactorModel.trainer_defaults, regularization=0.03)


class NBPO(BPO):
    """BPO with the NBPO noisy-label sampler and the paper's Amazon settings.

    Defaults follow Yu & Qin (SIGIR 2020) and the authors' code: K0 = K1 = 50;
    U, V ~ U(0, 1/sqrt(50)); 4 negatives per positive; batches of 5000
    positives whose gradients are summed, then W += eta (dW - lambda W) on
    every row; eta = 0.05 decaying x0.99 per epoch; lambda_r = 1,
    lambda_phi = 5; 200 epochs; sigmoid clipped beyond |x| > 10. For
    MovieLens the paper uses eta 0.02, lambda_r 0.5, lambda_phi 1. Pass
    ``optimizer="sgd"`` (with a suitable learning rate and regularization) for
    the fast parallel mode.
    """

    _defaults = dict(
        FactorModel._defaults,
        factors=50, epochs=200, learning_rate=0.05, regularization=1.0, negatives=4,
        sampler=NBPOSampler(flip_factors=50, lambda_phi=5.0), use_bias=False, init="uniform",
        init_scale=1.0 / 50 ** 0.5, optimizer="batch", batch_size=5000,
        learning_rate_decay=0.99, clip_sigmoid=10.0,
    )
    # the paper's settings stand for None too: no sampler recommendation applies
    # to the batch optimizer
    trainer_defaults = dict(epochs=200, learning_rate=0.05, regularization=1.0)
    # the batch optimizer steps once per 5,000 summed gradients: larger decay
    search_space = {"learning_rate": LogUniform(0.005, 0.2),
                    "regularization": LogUniform(0.01, 10.0)}
