"""The trainers' hyper-parameters: their documentation (``SHARED_PARAMETERS``,
``parameters_doc``), the number check every parameter goes through
(``_check_number``), and ``ResolvedParams``, the mixin that fills the
parameters left at None (``effective_params``, ``param_sources``) and checks
them all before a fit (``_validated``)."""
from __future__ import annotations

import numbers

import numba
import numpy as np

from .._optim import OPTIMIZERS
from ..samplers import get_sampler

#: The parameters a trainer may leave at None, to be filled by the sampler's
#: recommendation or the trainer's own default (see ``FactorModel``).
AUTO_PARAMS = ("epochs", "learning_rate", "regularization")


def _check_number(name, value, low=None, low_open=False, integer=False, allow_none=False):
    """``value`` as a float (an int with ``integer``), or a ValueError naming
    ``name``: it must be a finite real (not a bool), at least ``low`` (above
    it with ``low_open``); None passes with ``allow_none``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        kind = "an integer" if integer else "a finite number"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    if integer and int(value) != value:
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        op = ">" if low_open else ">="
        raise ValueError(f"{name} must be {op} {low}, got {value!r}")
    return int(value) if integer else float(value)


#: The parameters every factor model takes, as numpy-style entries (name,
#: type, description); a trainer's docstring lists them with its own, in the
#: order of its signature, with the defaults read from that signature.
SHARED_PARAMETERS = {
    "factors": ("int", """Width of the latent factors (an item-bias column comes on top)."""),
    "epochs": ("int, None or 'auto'", """
Passes over the training positives (None: see below). ``"auto"``: chosen by
early stopping on a validation part carved from the training data, then
trained on all of it (about 2.2 times the cost of the chosen count; see
``fit``)."""),
    "learning_rate": ("float or None", """
Step size (per pair for ``optimizer="sgd"``, per batch for "batch").
None: see below."""),
    "regularization": ("float or None", """
L2 weight decay; ``user_regularization``, ``item_regularization`` and
``bias_regularization`` override it for one group.

For ``epochs``, ``learning_rate`` and ``regularization``, None (the
pair trainers' default) means: the sampler's recommended value for
this loss (``Sampler.recommended``, used with ``optimizer="sgd"`` and
``similarity="dot"``), else the trainer's own default
(``trainer_defaults``: BPR 35 epochs, learning rate 0.05,
regularization 0.01; BPO regularization 0.03). A value you pass
always wins. ``effective_params()`` gives the values ``fit`` will use
and ``param_sources()`` where each came from."""),
    "user_regularization": ("float or None", """
L2 weight decay of the user factors (None: ``regularization``)."""),
    "item_regularization": ("float or None", """
L2 weight decay of the item factors (None: ``regularization``)."""),
    "bias_regularization": ("float or None", """
L2 weight decay of the item bias (None: ``regularization``)."""),
    "negatives": ("int", """Negatives drawn per positive; each gives one (i, j) pair."""),
    "sampler": ("str or Sampler", """
A name in ``recsample.samplers.SAMPLERS`` ("uniform", "popularity",
"dns", "nbpo", "warp", "aobpr", "srns", "importance", "kos") or an instance."""),
    "use_bias": ("bool", """
Learn an item bias (folded into the factors as an extra column). An item no
training positive holds gets, after every epoch, at most the lowest bias of
the items that have one: nothing in the data speaks for it, and a sampler
that never draws it (popularity-drawn negatives: count 0) would otherwise
leave it at its initial 0, above the biases training pushed down."""),
    "similarity": ('{"dot", "cosine"}', """
Score x_ui = U_u . V_i, or the cosine of the two rows, plus the item
bias b_i when ``use_bias`` (cos(U_u, V_i) + b_i: a popularity term the
direction of the rows need not carry; CCL, whose margins are on the
cosine, refuses it). With cosine the exported ``user_factors`` and
``item_factors`` hold the normalised rows (and the 1 / b_i column), so
their product is still exactly the score the model ranks by."""),
    "init": ('{"normal", "uniform"}', """Factors ~ N(0, init_scale**2) or U(0, init_scale)."""),
    "init_scale": ("float", """Scale of the initial factors (see ``init``)."""),
    "optimizer": ('{"sgd", "adam", "adagrad", "batch"}', """
Hogwild SGD in parallel blocks; Adam on the rows each step touches
(lazy moments, per-row step counts; ``learning_rate`` is Adam's step
size); row-wise Adagrad (one accumulated squared-gradient mean per
row, the group losses' default); or sums of gradients over ``batch_size``
positives applied with weight decay on every row (the NBPO authors'
scheme; single-threaded)."""),
    "batch_size": ("int", """Positives whose gradients one step of ``optimizer="batch"`` sums."""),
    "learning_rate_decay": ("float", """
The learning rate is multiplied by this after every epoch."""),
    "average_decay": ("float or None", """
None: the model is its factors after the last epoch. d in (0, 1): the
model is an exponential moving average of its factors over the epochs,
A <- d A + (1 - d) F after each epoch (A = F after the first), each row
averaged as the model scores it (unit length with cosine similarity,
the item bias as it is). Training moves F as without it; the average is
what validation scores, what ``fit(valid=...)`` keeps at the best epoch,
what callbacks and the fitted model see, and what ``save`` writes;
``fold_in`` and ``partial_fit_users`` train new users' rows (not
averaged) against the average's item factors. The sampler's state is
the last epoch's. It helps a long run at its plateau and hurts a short
one: on Gowalla at 170-180 epochs, d = 0.9 gave the sampled softmax with
DNS its best test recall@20 and NDCG@20 (+0.3% and +0.4% over the same
runs' own factors, 3 seeds); at the softmax's 100 default epochs on the
small sets it ranged from +1.1% to -4% of validation NDCG@10, so it is
no default (docs/results-gowalla.md, docs/defaults.md). It costs about
two passes over the factor tables an epoch."""),
    "clip_sigmoid": ("float", """When > 0, sigmoid(x) is taken as 0/1 for |x| > clip_sigmoid."""),
    "shuffle": ("bool", """Visit the positives in a new random order every epoch (the default).
False keeps the CSR order, user by user, as the NBPO authors' code
reads its files (their batches are consecutive slices of that order)."""),
    "visit": ('{"auto", "random", "user"}', """
The order of an epoch's positives. "random": one random permutation.
"user": the users in a random order, each user's positives one after
the other in a random order, so the user's factor row and training
row stay in the fastest cache while they are visited (cheaper on
data larger than the caches; the same pairs are trained, in a
different order). "auto" (the default): "user" when the factor tables
and the training matrix's indices together exceed
``AUTO_USER_BYTES`` (64 MiB, more than a server's last-level cache;
about 10 million interactions), "random" below and whenever
``shuffle=False`` or ``optimizer="batch"``; a rule on the data's
size, not on the machine, so a seed gives the same model everywhere.
``visit_`` says which order a fit used. With ``shuffle=False`` the
users keep their index order. The group losses always visit user by
user when ``group_size > 1``."""),
    "seed": ("int", """Seeds the initial factors and the sampler's draws."""),
    "n_threads": ("int or None", """
Threads for training (None: numba's default, all cores). With one
thread a seed gives bit-identical factors."""),
    "patience": ("int or None", """
With ``fit(valid=...)``: stop after this many evaluations without a
better ``valid_metric`` and keep the best factors."""),
    "valid_metric": ("str", """
"ndcg@10"-style metric name evaluated on ``valid`` every ``eval_every`` epochs."""),
    "eval_every": ("int", """With ``fit(valid=...)``: epochs between two evaluations."""),
}


def parameters_doc(summary: str, init, own: dict = None) -> str:
    """A numpy-style class docstring: ``summary``, then one Parameters
    section listing every parameter of ``init``'s signature in order, with
    its default; ``own`` (name -> (type, text)) takes precedence over
    ``SHARED_PARAMETERS``."""
    import inspect
    import textwrap
    entries = dict(SHARED_PARAMETERS, **(own or {}))
    lines = [inspect.cleandoc(summary), "", "Parameters", "----------"]
    for p in list(inspect.signature(init).parameters.values())[1:]:
        kind, text = entries[p.name]
        default = getattr(p.default, "__doc_repr__", None) or repr(p.default)
        lines.append(f"{p.name} : {kind}, default {default}")
        lines.append(textwrap.indent(text.strip("\n"), "    "))
    return "\n".join(lines) + "\n"


class ResolvedParams:
    """Mixin of ``FactorModel``: the values ``fit`` takes for the
    hyper-parameters, from the user, the sampler or the trainer."""

    def _resolved(self) -> dict:
        """``{name: (value, source)}`` for the parameters that may be left at
        None: the user's value, the sampler's recommendation or the trainer's
        default."""
        rec, who = {}, ""
        if self.optimizer == "sgd" and self.similarity == "dot":
            sampler = get_sampler(self.sampler)
            who = type(sampler).__name__
            rec = dict(getattr(sampler, "recommended", {}).get(self.loss, {}))
            unknown = set(rec) - set(AUTO_PARAMS)
            if unknown:
                raise ValueError(f"{who}.recommended[{self.loss!r}] has unknown entries "
                                 f"{sorted(unknown)}; a sampler can recommend "
                                 f"{', '.join(AUTO_PARAMS)}")
        out = {}
        for name in AUTO_PARAMS:
            value = getattr(self, name)
            if value is not None:
                # a class whose default is a number (rs.NBPO, the group losses)
                # takes no recommendation; its default is reported as such
                out[name] = (value, f"{type(self).__name__} default"
                             if value == self._defaults[name] else "set")
            elif name in rec:
                out[name] = (rec[name], f"recommended by {who} for {self.loss} (SGD)")
            else:
                out[name] = (self.trainer_defaults[name], f"{type(self).__name__} default")
        return out

    def effective_params(self) -> dict:
        """``get_params()`` with every parameter left at None that ``fit``
        fills in (epochs, learning_rate, regularization) replaced by the value
        it will use: the sampler's recommendation or the trainer's default."""
        params = self.get_params()
        params.update({k: v for k, (v, _) in self._resolved().items()})
        return params

    def param_sources(self) -> dict:
        """Where ``fit`` takes epochs, learning_rate and regularization from:
        ``"set"`` (passed by you, unlike the class's default),
        ``"recommended by <Sampler> for <loss> (SGD)"`` or
        ``"<Trainer> default"``."""
        return {k: src for k, (_, src) in self._resolved().items()}

    def _validated(self) -> dict:
        p = {}
        auto = {k: v for k, (v, _) in self._resolved().items()}
        p["factors"] = _check_number("factors", self.factors, low=1, integer=True)
        if isinstance(auto["epochs"], str) and auto["epochs"] == "auto":
            # fit() resolves "auto" before it gets here; fold-in and the
            # command line read the count a fitted model chose
            auto["epochs"] = int(getattr(self, "epochs_", 0) or 0)
        elif isinstance(auto["epochs"], str):
            raise ValueError(f"epochs must be an integer >= 0, None or 'auto', got "
                             f"{auto['epochs']!r}")
        p["epochs"] = _check_number("epochs", auto["epochs"], low=0, integer=True)
        p["learning_rate"] = _check_number("learning_rate", auto["learning_rate"], low=0,
                                           low_open=True)
        reg = p["regularization"] = _check_number("regularization", auto["regularization"],
                                                  low=0)
        for name in ("user_regularization", "item_regularization", "bias_regularization"):
            v = _check_number(name, getattr(self, name), low=0, allow_none=True)
            p[name] = reg if v is None else v
        p["negatives"] = _check_number("negatives", self.negatives, low=1, integer=True)
        p["init_scale"] = _check_number("init_scale", self.init_scale, low=0, low_open=True)
        if self.init not in ("normal", "uniform"):
            raise ValueError(f"init must be 'normal' or 'uniform', got {self.init!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got "
                             f"{self.optimizer!r}")
        if self.similarity not in ("dot", "cosine"):
            raise ValueError(f"similarity must be 'dot' or 'cosine', got {self.similarity!r}")
        p["batch_size"] = _check_number("batch_size", self.batch_size, low=1, integer=True)
        p["learning_rate_decay"] = _check_number("learning_rate_decay", self.learning_rate_decay,
                                                 low=0, low_open=True)
        p["average_decay"] = _check_number("average_decay", self.average_decay, low=0,
                                           low_open=True, allow_none=True)
        if p["average_decay"] is not None and p["average_decay"] >= 1:
            raise ValueError(f"average_decay must be None or in (0, 1), got "
                             f"{self.average_decay!r}")
        p["clip_sigmoid"] = _check_number("clip_sigmoid", self.clip_sigmoid, low=0)
        p["seed"] = _check_number("seed", self.seed, low=0, integer=True)
        if self.n_threads is not None:
            n = _check_number("n_threads", self.n_threads, low=1, integer=True)
            p["n_threads"] = min(n, numba.config.NUMBA_NUM_THREADS)
        else:
            p["n_threads"] = numba.config.NUMBA_NUM_THREADS
        if self.patience is not None:
            _check_number("patience", self.patience, low=1, integer=True)
        p["eval_every"] = _check_number("eval_every", self.eval_every, low=1, integer=True)
        if not isinstance(self.shuffle, (bool, np.bool_)):
            raise ValueError(f"shuffle must be True or False, got {self.shuffle!r}")
        if self.visit not in ("auto", "random", "user"):
            raise ValueError(f"visit must be 'auto', 'random' or 'user', got {self.visit!r}")
        if not isinstance(self.use_bias, (bool, np.bool_)):
            raise ValueError(f"use_bias must be True or False, got {self.use_bias!r}")
        p["group_size"] = 1
        p.update(self._validated_loss())
        return p

    def _validated_loss(self) -> dict:
        """Parameters of the loss itself (a group loss checks its own)."""
        return {}
