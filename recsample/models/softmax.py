"""Matrix factorisation trained with the sampled softmax loss: each positive
against N sampled negatives, temperature t, and the logQ correction
(Yi et al., RecSys 2019) on or off; see :mod:`recsample.losses.softmax`."""
import numpy as np

from .._threads import run_all, shares, threads
from ..losses import SoftmaxLoss
from ..losses.softmax import ACTIVATIONS, top_k_thresholds
from ..search_space import LogUniform
from .base import _check_number, parameters_doc
from .group import GroupModel


#: uniform items beside a user's positives when the top-K thresholds are estimated
TOP_K_SAMPLE = 1000


class Softmax(GroupModel):
    """Sampled softmax: minimises, per positive i and N sampled negatives j,
    -log( e^{x_ui/t} / (e^{x_ui/t} + sum_j e^{x_uj/t - log(N q_j)}) ),
    q_j the sampler's probability of j (dropped with ``logq=False``)."""

    loss = "softmax"

    # epochs and use_bias: the defaults whose validation NDCG@10 beat the
    # earlier ones (50 epochs, no bias) on movielens-small, nbpo-amazon and
    # the clustered synthetic set (docs/defaults.md, "The softmax's defaults").
    # bias_regularization 2.0 (2026-12-05): without a decay the bias cost
    # movielens-small 2.9% of validation NDCG@10 over five carvings (and 2.6%
    # of test NDCG@10 over five splits); 2.0 had the best worst share over
    # movielens-small, nbpo-amazon and synthetic of the decays no worse than
    # the earlier defaults on all three (benchmarks/studies/split_seeds.py)
    trainer_defaults = dict(GroupModel.trainer_defaults, epochs=100)

    # signature repeated on purpose (sklearn style): get_params and help() read it
    def __init__(self, *, factors=64, epochs=100, learning_rate=0.1,
                 regularization=0.0, user_regularization=None,
                 item_regularization=None, bias_regularization=2.0, negatives=256,
                 sampler="uniform", use_bias=True, similarity="cosine",
                 init="normal", init_scale=0.1, optimizer="adagrad",
                 batch_size=5000, learning_rate_decay=1.0, average_decay=None,
                 clip_sigmoid=0.0, shuffle=True, visit="auto", seed=0,
                 n_threads=None, patience=None, valid_metric="ndcg@10", eval_every=1,
                 group_size=8, temperature=0.1, logq=True, bilateral=None,
                 activation="exp", pair_scale=2.0, top_k=None, top_k_temperature=1.0,
                 top_k_every=20):
        self._store_params(locals())

    __doc__ = parameters_doc(__doc__, __init__, {
        **GroupModel.GROUP_PARAMETERS,
        "temperature": ("float", "t > 0."),
        "logq": ("bool", "Subtract ln(N q_j) from each negative's logit."),
        "bilateral": ("float or None", "r > 0: the bilateral softmax (after BSL, see "
                      ":mod:`recsample.losses.softmax`): the positive out of the "
                      "denominator, the negatives' log-sum-exp weighted by r; None: the "
                      "plain softmax."),
        "activation": ("str", "'exp': the softmax; 'tanh', 'relu' or 'atan': the pairwise "
                       "form (after PSL, see :mod:`recsample.losses.softmax`), each "
                       "negative's e^{(x_n - x_p)/t} replaced by e^{sigma((x_n - x_p)/s) s/t}."),
        "pair_scale": ("float", "s > 0: the pairwise form's scale of the score gap before "
                       "sigma (its authors' 'tau >= 2' for cosines)."),
        "top_k": ("int or None", "K >= 1: the top-K weighted form (after SL@K, see "
                  ":mod:`recsample.losses.softmax`), each positive's loss weighted by "
                  "sigmoid((x_ui - beta_u) / top_k_temperature), beta_u the user's K-th "
                  "largest score; None: every positive alike."),
        "top_k_temperature": ("float", "t_w > 0: the top-K weight's temperature."),
        "top_k_every": ("int", "Epochs between two estimates of the users' thresholds "
                        "(each from the user's positives and 1,000 uniform items).")})

    search_space = dict(GroupModel.search_space, temperature=LogUniform(0.03, 1.0))

    def _validated_loss(self) -> dict:
        p = super()._validated_loss()
        p["temperature"] = _check_number("temperature", self.temperature, low=0, low_open=True)
        if not isinstance(self.logq, bool):
            raise ValueError(f"logq must be True or False, got {self.logq!r}")
        p["bilateral"] = _check_number("bilateral", self.bilateral, low=0, low_open=True,
                                       allow_none=True)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {self.activation!r}")
        p["pair_scale"] = _check_number("pair_scale", self.pair_scale, low=0, low_open=True)
        if self.activation != "exp" and p["bilateral"] is not None:
            raise ValueError("bilateral and activation != 'exp' are two forms of the loss; "
                             f"give one, got bilateral={self.bilateral!r}, "
                             f"activation={self.activation!r}")
        if self.top_k is not None:
            p["top_k"] = _check_number("top_k", self.top_k, low=1, integer=True)
            if p["bilateral"] is not None:
                raise ValueError("top_k weighs the positives of the plain or the pairwise "
                                 "form; give it without bilateral, got "
                                 f"bilateral={self.bilateral!r}")
        p["top_k_temperature"] = _check_number("top_k_temperature", self.top_k_temperature,
                                               low=0, low_open=True)
        p["top_k_every"] = _check_number("top_k_every", self.top_k_every, low=1, integer=True)
        return p

    def _start_fit(self, train, valid, sample_weight):
        run = super()._start_fit(train, valid, sample_weight)
        if self.top_k is not None:
            run.loss = run.loss._replace(
                top_k_inv_temperature=1.0 / run.p["top_k_temperature"],
                threshold=np.zeros(run.matrix.shape[0]))
        return run

    def _train_epoch(self, run, epoch):
        if self.top_k is not None and epoch % run.p["top_k_every"] == 0:
            p, m, k = run.p, run.matrix, run.p["factors"]
            norms = np.sqrt(np.einsum("ij,ij->i", run.V[:, :k], run.V[:, :k], dtype=np.float64))
            calls = [(top_k_thresholds, (run.U, run.V, norms, m.indptr, m.indices, p["factors"],
                                         self.use_bias, self.similarity == "cosine",
                                         p["top_k"], TOP_K_SAMPLE, p["seed"], epoch, lo, hi,
                                         run.loss.threshold))
                     for lo, hi in shares(m.shape[0], threads())]
            run_all(calls)
        return super()._train_epoch(run, epoch)

    def _loss_state(self, p, sampler):
        r = p["bilateral"]
        return SoftmaxLoss(1.0 / p["temperature"], bool(self.logq), 0.0 if r is None else r,
                           ACTIVATIONS[self.activation], p["pair_scale"])
