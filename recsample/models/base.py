"""What every factor model shares: parameters, fit loop, recommend, persistence."""
from __future__ import annotations

import numbers
import time
from types import SimpleNamespace

import numba
import numpy as np

from .._params import Params
from .._optim import OPTIMIZERS, make_optim
from ..losses import Hyper, pair_group_loss_state, pair_loss_state
from ..samplers import get_sampler
from ..search_space import LogUniform
from ..core.positives import positives_of
from ..core.validation import as_csr, check_users, parse_metric
from ..samplers.base import run_refresh
from .._weights import resolve_sample_weight, visit_counts, weighted_rows
from . import _train

#: The parameters a trainer may leave at None, to be filled by the sampler's
#: recommendation or the trainer's own default (see ``FactorModel``).
AUTO_PARAMS = ("epochs", "learning_rate", "regularization")

#: Blocks of positives per random stream. Fixed (not tied to the thread count)
#: so a seed gives the same draws with any number of threads.
BLOCK_SIZE = 4096

#: ``visit="auto"`` visits user by user above this many bytes of factor tables
#: plus training indices: there the shuffled order fetches a user's row and
#: membership data from memory for every pair, and the user order trains 1.7-2x
#: faster (README, "Scale"; at 10M interactions 71 MB, at 1M 7 MB)
AUTO_USER_BYTES = 64 * 2**20


def resolve_visit(visit, matrix, n_factors, shuffle=True, batch=False):
    """The visiting order ``visit`` means for this training matrix: itself,
    or for "auto" "user" when the factor tables (float32, a bias column
    included) and the column indices (counted as int32, whatever their
    type) exceed AUTO_USER_BYTES. "auto" stays "random" without shuffling
    (the CSR order already keeps a user's positives together) and with the
    batch optimizer (there the order decides what each batch sums)."""
    if visit != "auto":
        return visit
    if not shuffle or batch:
        return "random"
    n_users, n_items = matrix.shape
    size = 4 * (n_users + n_items) * (n_factors + 1) + 4 * matrix.nnz
    return "user" if size > AUTO_USER_BYTES else "random"


def _check_number(name, value, low=None, low_open=False, integer=False, allow_none=False):
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
    "epochs": ("int or None", """Passes over the training positives (None: see below)."""),
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
    "use_bias": ("bool", """Learn an item bias (folded into the factors as an extra column)."""),
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


class FactorModel(Params):
    """Matrix factorisation trained by a pair-wise or point-wise loss over
    sampled negatives. Subclasses fix ``loss`` ("bpr" or "bpo")."""

    loss = "bpr"

    def __init__(self, *, factors=64, epochs=None, learning_rate=None, regularization=None,
                 user_regularization=None, item_regularization=None,
                 bias_regularization=None, negatives=1, sampler="uniform", use_bias=True,
                 similarity="dot", init="normal", init_scale=0.1, optimizer="sgd",
                 batch_size=5000, learning_rate_decay=1.0, clip_sigmoid=0.0, shuffle=True,
                 visit="auto", seed=0, n_threads=None, patience=None, valid_metric="ndcg@10",
                 eval_every=1):
        self._store_params(locals())

    __doc__ = parameters_doc(__doc__, __init__)

    #: What ``rs.tune`` searches (the sampler adds its own); epochs come from
    #: early stopping, factors stay fixed unless a search asks for them.
    search_space = {"learning_rate": LogUniform(0.005, 0.3),
                    "regularization": LogUniform(1e-4, 0.3)}
    #: What a parameter left at None takes when the sampler recommends nothing
    #: for it (benchmarks/tune_defaults.py: BPR + uniform on movielens-small).
    trainer_defaults = dict(epochs=35, learning_rate=0.05, regularization=0.01)

    # set by fit (and load_model); class attributes, so __init__ stores the
    # hyper-parameters only
    _user_factors = None
    _item_factors = None
    sampler_state_ = None
    history_ = ()
    item_counts_ = None
    weighted_ = False

    # ------------------------------------------------------------ defaults
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

    def _loss_state(self, p, sampler):
        """The loss as the compiled loop sees it (see :mod:`recsample.losses`)."""
        if self.similarity == "dot":
            return pair_loss_state(self.loss)
        if sampler.learns:
            raise ValueError(f"sampler {sampler!r} learns from each pair's derivatives, which "
                             "only the dot-product pair loop provides: use similarity='dot'")
        return pair_group_loss_state(self.loss)

    # ------------------------------------------------------------ factors
    @property
    def is_fitted(self) -> bool:
        return self._user_factors is not None

    def _require_fitted(self):
        if not self.is_fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: "
                               "call fit(train) first")

    @property
    def user_factors(self) -> np.ndarray:
        """float32 (n_users, factors [+1]); with an item bias the last column is
        1; with cosine similarity the other columns have unit length."""
        self._require_fitted()
        return self._exported(self._user_factors)

    @property
    def item_factors(self) -> np.ndarray:
        """float32 (n_items, factors [+1]); with an item bias the last column is
        the bias; with cosine similarity the other columns have unit length."""
        self._require_fitted()
        return self._exported(self._item_factors)

    def _exported(self, F):
        if getattr(self, "similarity", "dot") != "cosine":
            return F
        k = F.shape[1] - (1 if self.use_bias else 0)
        out = F.copy()
        norms = np.sqrt(np.einsum("ij,ij->i", F[:, :k], F[:, :k], dtype=np.float64))[:, None]
        out[:, :k] = F[:, :k] / np.maximum(norms, 1e-12)
        return out

    @property
    def item_bias(self):
        self._require_fitted()
        return self._item_factors[:, -1] if self.use_bias else None

    @property
    def n_users(self):
        return self.user_factors.shape[0]

    @property
    def n_items(self):
        return self.item_factors.shape[0]

    # ------------------------------------------------------------ training
    def _init_factors(self, shape_users, shape_items, p, rng):
        k = p["factors"]
        width = k + (1 if self.use_bias else 0)
        U = np.zeros((shape_users, width), dtype=np.float32)
        V = np.zeros((shape_items, width), dtype=np.float32)
        s = p["init_scale"]
        if self.init == "normal":
            U[:, :k] = rng.normal(0.0, s, size=(shape_users, k))
            V[:, :k] = rng.normal(0.0, s, size=(shape_items, k))
        else:
            U[:, :k] = rng.uniform(0.0, s, size=(shape_users, k))
            V[:, :k] = rng.uniform(0.0, s, size=(shape_items, k))
        if self.use_bias:
            U[:, k] = 1.0  # the constant that turns V's last column into an item bias
        return U, V

    def fit(self, train, valid=None, callbacks=(), progress=True, sample_weight=None):
        """Learn factors from ``train`` (Interactions or a users x items sparse
        matrix). ``valid`` enables early stopping on ``valid_metric``.
        ``callbacks`` are called as ``cb(epoch, model, losses, elapsed)`` after
        each epoch; one returning True stops training. Returns self.

        ``sample_weight`` weighs the training positives: None (every positive
        alike, the default), ``"values"`` (the stored values of ``train``:
        play counts, ratings), an array with one weight >= 0 per stored entry
        of ``train`` in its CSR order (row by row, ascending item index), or
        a sparse matrix with ``train``'s pattern. A positive's weight sets how
        often an epoch visits it: an epoch still makes nnz visits, positive
        (u, i) getting nnz * w_ui / sum(w) of them (the floor or ceiling,
        drawn anew each epoch), so the epoch's expected gradient is that of
        sum_ui (w_ui / mean(w)) l_ui and costs what an unweighted epoch
        costs. Every stored entry stays a positive, never drawn as a
        negative, whatever its weight. Samplers that choose each pair's
        positive themselves (k-OS) refuse weights.

        Training that fails part-way (an exception, Ctrl-C) leaves the factors
        of the last finished epoch in place and its record in ``history_``.
        """
        run = self._start_fit(train, valid, sample_weight)
        best = {"score": -np.inf, "arrays": None, "epoch": -1, "bad_rounds": 0}
        cbs = list(callbacks) if callbacks else []
        bar = _progress(run.p["epochs"], type(self).__name__, progress)
        threads_before = numba.get_num_threads()
        numba.set_num_threads(1 if run.batch else run.p["n_threads"])
        start = time.perf_counter()
        try:
            for epoch in range(run.p["epochs"]):
                t0 = time.perf_counter()
                lr = self._train_epoch(run, epoch)
                record = self._epoch_record(run, epoch, lr, time.perf_counter() - t0)
                stop = self._validate_epoch(run, epoch, record, best)
                self.history_.append(record)
                _show_progress(bar, record, self.valid_metric)
                elapsed = time.perf_counter() - start
                for cb in cbs:
                    if cb(epoch, self, record, elapsed) is True:
                        stop = True
                if stop:
                    break
        finally:
            numba.set_num_threads(threads_before)
            if bar is not None:
                bar.close()
        if best["arrays"] is not None:
            self._user_factors, self._item_factors, self.sampler_state_ = best["arrays"]
            self.best_epoch_ = best["epoch"]
            self.best_score_ = best["score"]
        return self

    # the steps of fit, in the order it takes them
    def _start_fit(self, train, valid, sample_weight):
        """Check the arguments, build the factors, the sampler's state and the
        epoch order, and reset what a fit records; the run's fixed parts."""
        p = self._validated()
        self.effective_params_ = {k: p[k] for k in AUTO_PARAMS}
        matrix = as_csr(train, "train")
        if matrix.nnz == 0:
            raise ValueError("train has no interactions")
        weights = resolve_sample_weight(sample_weight, train, matrix)
        vmat = metric = cutoff = None
        if valid is not None:
            vmat = as_csr(valid, "valid")
            if vmat.shape != matrix.shape:
                raise ValueError(f"valid has shape {vmat.shape}, train has {matrix.shape}: "
                                 "they must share one index space (use rs.split)")
            metric, cutoff = _parse_metric(self.valid_metric)
        sampler = get_sampler(self.sampler)
        loss = self._loss_state(p, sampler)
        if sampler.chooses_positive and getattr(type(loss), "group", False):
            raise ValueError(
                f"sampler {sampler!r} chooses the positive of each pair, which only the "
                "dot-product pair losses do (rs.BPR, rs.BPO with similarity='dot'); "
                f"{type(self).__name__} with similarity={self.similarity!r} trains groups of "
                "given positives against shared negatives")
        if weights is not None and sampler.chooses_positive:
            raise ValueError(f"sampler {sampler!r} chooses each pair's positive itself, so a "
                             "weight per positive (sample_weight) has no meaning for it")
        batch = self.optimizer == "batch"
        n_users, n_items = matrix.shape
        k = p["factors"]
        rng = np.random.default_rng(p["seed"])
        U, V = self._init_factors(n_users, n_items, p, rng)
        state = sampler.prepare(matrix, n_factors=k, seed=p["seed"], batch=batch)
        group_size = p["group_size"]
        grouped = group_size > 1 or resolve_visit(self.visit, matrix, k, self.shuffle,
                                                  batch) == "user"
        self.visit_ = "user" if grouped else "random"
        order = _packed_positives(matrix)
        packed = None
        if weights is not None:
            packed = order.copy()   # each epoch's order repeats these by their visits
        elif self.shuffle and not grouped:
            rng.shuffle(order)
        block_size = p["batch_size"] if batch else BLOCK_SIZE
        n_blocks = (matrix.nnz + block_size - 1) // block_size
        workers = [sampler.worker_state(state, w)
                   for w in range(numba.config.NUMBA_NUM_THREADS)]
        # blocks between two refreshes of the sampler's state (all: once per epoch)
        interval = int(sampler.refresh_interval(state))
        per_refresh = (max(1, -(-interval // (block_size * p["negatives"]))) if interval > 0
                       else n_blocks)
        self._user_factors, self._item_factors = U, V
        self.sampler_state_ = state
        self.sampler_ = sampler
        # per item, the training positives: what fold_in's popularity-based
        # samplers draw from (the sampler state itself is not always saved)
        self.item_counts_ = np.bincount(matrix.indices, minlength=n_items).astype(np.int64)
        self.weighted_ = weights is not None
        self.history_ = []
        self.n_users_skipped_ = 0
        return SimpleNamespace(
            p=p, matrix=matrix, weights=weights, packed=packed, vmat=vmat, metric=metric,
            cutoff=cutoff, sampler=sampler, loss=loss, batch=batch, grouped=grouped,
            rng=rng, U=U, V=V, state=state, pos=positives_of(matrix), order=order,
            block_size=block_size, n_blocks=n_blocks, per_refresh=per_refresh,
            opt=make_optim(self.optimizer, U, V), worker_states=workers.__getitem__,
            label=(f"the training loop for {type(self).__name__} with sampler "
                   f"{type(sampler).__name__}"),
            memo={},   # the compiled loop, found once for the whole fit
            out=np.zeros((n_blocks, 4)))

    def _epoch_order(self, run, epoch):
        """Lay out the epoch's positives in ``run.order``: user by user for
        the grouped visit, repeated by their visits with weights."""
        p = run.p
        if run.grouped:
            n_users = run.matrix.shape[0]
            users = (run.rng.permutation(n_users) if self.shuffle
                     else np.arange(n_users)).astype(np.int64)
            indptr, indices = run.matrix.indptr, run.matrix.indices
            if run.weights is not None:
                indptr, indices = weighted_rows(
                    run.matrix, visit_counts(run.weights, p["seed"], epoch))
            _train.grouped_order(indptr, indices, users, p["seed"], epoch, run.order)
        elif run.weights is not None:
            run.order[:] = np.repeat(run.packed, visit_counts(run.weights, p["seed"], epoch))
            if self.shuffle and not run.batch:
                run.rng.shuffle(run.order)

    def _train_epoch(self, run, epoch):
        """One pass over the positives: Hogwild blocks on the threads, or
        the batch optimizer's consecutive batches; the sampler's state is
        refreshed between chunks of blocks. Returns the epoch's learning rate."""
        p, U, V, state, pos = run.p, run.U, run.V, run.state, run.pos
        lr = p["learning_rate"] * p["learning_rate_decay"] ** epoch
        hp = Hyper(lr, p["user_regularization"], p["item_regularization"],
                   p["bias_regularization"], p["clip_sigmoid"], p["factors"], self.use_bias,
                   p["negatives"], self.similarity == "cosine")
        self._epoch_order(run, epoch)
        if run.batch:
            if self.shuffle and not run.grouped:
                run.rng.shuffle(run.order)
            for blk in range(run.n_blocks):
                if blk % run.per_refresh == 0:
                    run_refresh(state, pos, U, V, p["seed"], epoch, False)
                _train.run_blocks(state, run.loss, pos, run.order,
                                  np.array([blk], dtype=np.int64), run.block_size, U, V,
                                  run.opt, hp, p["group_size"], False, p["seed"], epoch,
                                  run.out, label=run.label, memo=run.memo)
                _train.apply_batch(state, U, V, run.opt.dU, run.opt.dV, lr,
                                   p["user_regularization"], p["item_regularization"],
                                   p["bias_regularization"], p["factors"], self.use_bias)
        else:
            if self.shuffle:
                blocks = run.rng.permutation(run.n_blocks).astype(np.int64)
            else:
                blocks = np.arange(run.n_blocks, dtype=np.int64)
            for first in range(0, run.n_blocks, run.per_refresh):
                run_refresh(state, pos, U, V, p["seed"], epoch, False)
                _train.run_blocks(state, run.loss, pos, run.order,
                                  blocks[first:first + run.per_refresh], run.block_size, U,
                                  V, run.opt, hp, p["group_size"],
                                  self.shuffle and not run.grouped, p["seed"], epoch,
                                  run.out, run.worker_states, run.label, run.memo)
        run_refresh(state, pos, U, V, p["seed"], epoch, True)
        if not (_train.all_finite(U) and _train.all_finite(V)):
            raise FloatingPointError(
                f"training diverged in epoch {epoch}: factors became non-finite with "
                f"learning_rate={p['learning_rate']:g} (this epoch {lr:.4g}); lower "
                "learning_rate or raise regularization")
        return lr

    def _epoch_record(self, run, epoch, lr, seconds):
        """The epoch's entry of ``history_`` from the blocks' counters."""
        out = run.out
        pairs = int(out[:, 2].sum())
        # pair losses: mean over the pairs of every 8th positive (see
        # losses.LOSS_EVERY); group losses: mean over positives
        loss_mean = float(out[:, 0].sum() / max(out[:, 1].sum(), 1.0))
        record = {"epoch": epoch, "loss": loss_mean,
                  "pairs": pairs, "skipped": int(out[:, 3].sum()),
                  "seconds": seconds, "pairs_per_second": pairs / max(seconds, 1e-12),
                  "learning_rate": lr}
        self.n_users_skipped_ = record["skipped"]
        return record

    def _validate_epoch(self, run, epoch, record, best):
        """With ``valid``: score the epoch when it is due, keep the best
        factors in ``best``; True when ``patience`` says stop."""
        if run.vmat is None or not ((epoch + 1) % run.p["eval_every"] == 0
                                    or epoch + 1 == run.p["epochs"]):
            return False
        value = self._validate(run.matrix, run.vmat, run.metric, run.cutoff)
        record[self.valid_metric] = value
        if value > best["score"]:
            best.update(score=value, epoch=epoch, bad_rounds=0,
                        arrays=(run.U.copy(), run.V.copy(), _copy_state(run.state)))
            return False
        best["bad_rounds"] += 1
        return self.patience is not None and best["bad_rounds"] >= self.patience

    def _validate(self, train, valid, metric, cutoff):
        from ..evaluation import evaluate
        report = evaluate(self, valid, train=train, k=(cutoff,), metrics=(metric,))
        s = report.summary()
        return float(s.loc[(s["metric"] == metric) & (s["k"] == cutoff), "mean"].iloc[0])

    # ------------------------------------------------------------ using
    def predict(self, users, items) -> np.ndarray:
        """x_ui for aligned arrays of users and items (float32): the score
        of each (user, item) pair."""
        users = check_users(users, self.n_users)
        items = (check_users(items, self.n_items, "items") if np.size(items)
                 else np.asarray(items, int))
        return np.einsum("ij,ij->i", self.user_factors[users], self.item_factors[items])

    def score(self, users, items) -> np.ndarray:
        """Deprecated name of :meth:`predict` (scikit-learn's ``score`` is a
        goodness of fit, a scalar); warns with FutureWarning."""
        import warnings
        warnings.warn(f"{type(self).__name__}.score(users, items) is renamed predict(users, "
                      "items); the old name will be removed in the next release",
                      FutureWarning, stacklevel=2)
        return self.predict(users, items)

    # ------------------------------------------------------------ new users
    #: ``fold_in``'s defaults, chosen on a validation part carved from
    #: movielens-small's training data (three draws of 10% of its users held
    #: out of training and folded in; epochs 1-80 x learning rate 0.001-0.2,
    #: BPR, Softmax and CCL): one learning rate that serves the three, and
    #: the fewest passes within noise of more (see docs/pipelines.md; the
    #: group losses' GroupModel takes 10)
    FOLD_IN_EPOCHS = 20
    FOLD_IN_LEARNING_RATE = 0.02

    def fold_in(self, user_items, *, epochs=None, learning_rate=None, seed=None) -> np.ndarray:
        """Factor rows for users given by their interactions, learned with
        the item factors fixed, by this model's loss and sampler.

        Parameters
        ----------
        user_items : Interactions or scipy.sparse matrix (n_new, n_items)
            One row per user, over the model's item index (a new user's
            history, or an existing user's grown one). Checked as ``fit``
            checks ``train``; its values are not weights here.
        epochs : int, optional
            Passes over the given interactions (default
            ``FOLD_IN_EPOCHS``). Each pass draws every positive's negatives
            with the model's sampler and takes one Adam step per user on
            the mean gradient of the user's loss.
        learning_rate : float, optional
            Adam's step size (default ``FOLD_IN_LEARNING_RATE``).
        seed : int, optional
            Seeds the initial rows and the draws (default: the model's
            ``seed``). With one thread (``n_threads=1``) a seed gives
            bit-identical rows.

        Returns
        -------
        float32 array (n_new, factors [+1])
            Rows in the form of ``user_factors`` (the constant 1 of the
            bias column; unit length with cosine similarity), so
            ``rows @ item_factors.T`` are the scores; a row without any
            interaction scores by the item bias alone. Use them with
            ``recommend(user_factors=rows)`` or store them with
            :meth:`partial_fit_users`.
        """
        return self._exported(self._fold_in(user_items, epochs, learning_rate, seed))

    def _fold_in(self, user_items, epochs, learning_rate, seed):
        from ._fold_in import fold_in_rows
        return fold_in_rows(self, user_items,
                            self.FOLD_IN_EPOCHS if epochs is None else epochs,
                            self.FOLD_IN_LEARNING_RATE if learning_rate is None else learning_rate,
                            self.seed if seed is None else seed)

    def partial_fit_users(self, user_ids, user_items, *, epochs=None, learning_rate=None,
                          seed=None):
        """Fold the users ``user_ids`` in from their interaction rows
        ``user_items`` (see :meth:`fold_in`) and store their rows in the
        model: an existing user's row is replaced, an id at or beyond
        ``n_users`` grows ``user_factors`` (rows between the old end and a
        new id score by the item bias alone until they are fitted). The
        item factors do not change. Returns self.

        The name and the arguments are ``implicit``'s, so code written for
        its ALS carries over."""
        self._require_fitted()
        ids = check_users(user_ids, None, "user_ids")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("user_ids has repeated ids: give each user once")
        from ._fold_in import check_rows
        rows = check_rows(user_items, self.n_items)
        if rows.shape[0] != len(ids):
            raise ValueError(f"user_items has {rows.shape[0]:,} rows for {len(ids):,} "
                             "user_ids: give one row per id")
        new = self._fold_in(rows, epochs, learning_rate, seed)
        U = self._user_factors
        need = int(ids.max()) + 1 if ids.size else 0
        if need > U.shape[0]:
            grown = np.zeros((need, U.shape[1]), dtype=np.float32)
            grown[:U.shape[0]] = U
            if self.use_bias:
                grown[U.shape[0]:, -1] = 1.0
            self._user_factors = U = grown
        U[ids] = new
        return self

    def recommend(self, users=None, k=10, exclude=None, *, user_items=None, user_factors=None):
        """Top-``k`` items for each user, best first.

        Parameters
        ----------
        users : array-like of int
            Internal user ids. Leave out when giving ``user_items`` or
            ``user_factors``.
        k : int
            List length. A ``k`` above the number of items is taken as the
            number of items: a longer list could only be padding, and its
            arrays would be allocated for nothing.
        exclude : Interactions or scipy.sparse matrix, optional
            Items never returned (usually the training data), over the same
            users x items. A raw matrix is checked as ``fit`` checks
            ``train``: NaN, infinite or negative values are refused, stored
            zeros are no interaction and exclude nothing. With
            ``user_items`` or ``user_factors``, one row per given row.
        user_items : Interactions or scipy.sparse matrix (n_rows, n_items), optional
            Users outside the model (or with a changed history), given by
            their interactions: they are folded in (:meth:`fold_in`, default
            settings) and ranked. Their own items are not excluded unless
            ``exclude`` says so (``exclude=user_items``).
        user_factors : array (n_rows, factors [+1]), optional
            Rows from :meth:`fold_in` to rank instead of the model's users.

        Returns
        -------
        items : int64 array (len(users), min(k, n_items))
        scores : float32 array (len(users), min(k, n_items))
            Ties go to the lower item index; rows with fewer items left after
            ``exclude`` are padded with -1 / -inf.
        """
        from ..evaluation.topk import topk
        self._require_fitted()
        k = _check_number("k", k, low=1, integer=True)
        given = sum(x is not None for x in (users, user_items, user_factors))
        if given != 1:
            raise ValueError("give exactly one of users, user_items and user_factors; got "
                             f"{given}")
        if users is not None:
            users = check_users(users, self.n_users)
            return topk(self.user_factors, self.item_factors, users, k, exclude=exclude)
        if user_items is not None:
            rows = self.fold_in(user_items)
        else:
            rows = np.asarray(user_factors)
            width = self._item_factors.shape[1]
            if rows.ndim != 2 or rows.shape[1] != width or rows.dtype.kind != "f":
                raise ValueError(f"user_factors must be a float array (n_rows, {width}) as "
                                 f"fold_in returns, got {rows.dtype} with shape {rows.shape}")
            if not np.isfinite(rows).all():
                raise ValueError("user_factors has NaN or infinite values")
            rows = rows.astype(np.float32, copy=False)
        if exclude is not None:
            exclude = as_csr(exclude, "exclude", shape=(rows.shape[0], self.n_items))
        return topk(rows, self.item_factors, np.arange(rows.shape[0]), k, exclude=exclude)

    def similar_items(self, items, k=10):
        """The ``k`` items with the most similar factors (cosine, bias column
        left out), the item itself excluded: (items, similarities), each of
        shape (len(items), min(k, n_items - 1)). A ``k`` above the number of
        other items is taken as that number (at least 1), rather than
        padding every row with -1."""
        self._require_fitted()
        items = check_users(items, self.n_items, "items")
        return _most_similar(self.item_factors[:, :self.factors], items, k)

    def similar_users(self, users, k=10):
        """The ``k`` users with the most similar factors (cosine, the bias
        column left out), the user itself excluded: (users, similarities),
        each of shape (len(users), min(k, n_users - 1)), as
        :meth:`similar_items` for items."""
        self._require_fitted()
        users = check_users(users, self.n_users)
        return _most_similar(self.user_factors[:, :self.factors], users, k)

    def _flip_sampler(self, what):
        self._require_fitted()
        if not hasattr(self.sampler_, "flip_probability") or self.sampler_state_ is None:
            raise ValueError(f"{what} needs a model trained with the NBPO sampler; this one "
                             f"used {self.sampler_!r}")
        return self.sampler_

    def flip_probability(self, users, items) -> np.ndarray:
        """NBPO only: sigma(P_u . Q_i), the learned probability that (u, i),
        were it truly positive, was left unvoted (the label flip)."""
        return self._flip_sampler("flip_probability").flip_probability(
            self.sampler_state_, users, items)

    def hidden_positive_probability(self, users, items) -> np.ndarray:
        """NBPO only: the posterior that an unvoted (u, i) is truly positive,
        sigma(x) sigma(gamma) / (1 - sigma(x) + sigma(x) sigma(gamma)). This,
        not sigma(gamma) alone, ranks which unvoted items the model believes
        are hidden positives."""
        return self._flip_sampler("hidden_positive_probability").hidden_positive_probability(
            self.sampler_state_, self.user_factors, self.item_factors, users, items)

    # ------------------------------------------------------------ persistence
    def save(self, path):
        """Write ``.npz`` (no pickles) with factors and JSON metadata, atomically."""
        from .persistence import save_model
        return save_model(self, path)


def _most_similar(F, rows, k):
    """Top-``k`` rows of ``F`` by cosine to each of ``rows``, the row itself
    excluded; ``k`` is clamped to the other rows (at least 1). Batched:
    :func:`~recsample.evaluation.topk.topk` scores a block of rows at a
    time."""
    import scipy.sparse as sp
    from ..evaluation.topk import topk
    k = _check_number("k", k, low=1, integer=True)
    n = F.shape[0]
    k = min(k, max(1, n - 1))
    norms = np.linalg.norm(F, axis=1, keepdims=True)
    F = (F / np.maximum(norms, 1e-12)).astype(np.float32)
    self_ex = sp.csr_matrix((np.ones(len(rows), np.float32), (np.arange(len(rows)), rows)),
                            shape=(len(rows), n))
    return topk(F[rows], F, np.arange(len(rows)), k, exclude=self_ex)


def _packed_positives(matrix):
    """Every stored (u, i) of the CSR matrix as one int64: u << 32 | i."""
    counts = np.diff(matrix.indptr)
    packed = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), counts)
    packed <<= 32
    packed |= matrix.indices  # widened in buffered chunks, no nnz-sized temporary
    return packed


def _copy_state(state):
    return type(state)(*[v.copy() if isinstance(v, np.ndarray) else v for v in state])


def _parse_metric(name):
    return parse_metric(name, "valid_metric")


def _show_progress(bar, record, valid_metric):
    if bar is None:
        return
    post = {"loss": f"{record['loss']:.4f}", "pairs/s": f"{record['pairs_per_second']:,.0f}"}
    if valid_metric in record:
        post[valid_metric] = f"{record[valid_metric]:.4f}"
    bar.set_postfix(post, refresh=False)
    bar.update(1)


def _progress(total, desc, enabled):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="epoch", leave=False)
