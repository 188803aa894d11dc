"""``FactorModel``, what every factor model shares, and its ``fit``: the
factors, the training loop as a sequence of named steps (``_start_fit``,
``_epoch_order``, ``_train_epoch``, ``_average_epoch``, ``_epoch_record``,
``_validate_epoch``) and ``save``. The rest comes from mixins, each in the
module named after it:

- ``_hyperparams.ResolvedParams``: the parameters' values and checks
  (``effective_params``, ``param_sources``); ``parameters_doc`` writes the
  trainers' docstrings;
- ``_serving.Serving``: ``predict``, ``recommend``, ``similar_items``,
  ``similar_users``;
- ``_fold_in.FoldIn``: ``fold_in``, ``partial_fit_users``;
- ``_fitted.Fitted``: ``is_fitted`` and the guard of fitted-only methods;
- ``_flip``: the NBPO flip-model methods (``FlipModel``, on BPR and BPO).

``_order`` holds the order an epoch visits the positives (``BLOCK_SIZE``,
``resolve_visit``). The names this module held before the split are
imported here, so ``from recsample.models.base import ...`` keeps working.
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import numba
import numpy as np

from .._params import Params
from .._optim import make_optim
from ..losses import Hyper, pair_group_loss_state, pair_loss_state
from ..samplers import get_sampler
from ..search_space import LogUniform
from ..core.positives import positives_of
from ..core.validation import as_csr, parse_metric
from ..samplers.base import run_refresh
from .._weights import resolve_sample_weight, visit_counts, weighted_rows
from . import _train
from ._fitted import Fitted
from ._flip import _DeprecatedFlipModel
from ._fold_in import FoldIn
from ._hyperparams import (AUTO_PARAMS, SHARED_PARAMETERS, ResolvedParams,  # noqa: F401
                           _check_number, parameters_doc)
from ._order import AUTO_USER_BYTES, BLOCK_SIZE, _packed_positives, resolve_visit  # noqa: F401
from ._serving import Serving, _most_similar  # noqa: F401


class FactorModel(ResolvedParams, Serving, FoldIn, _DeprecatedFlipModel, Fitted, Params):
    """Matrix factorisation trained by a pair-wise or point-wise loss over
    sampled negatives. Subclasses fix ``loss`` ("bpr" or "bpo")."""

    loss = "bpr"

    def __init__(self, *, factors=64, epochs=None, learning_rate=None, regularization=None,
                 user_regularization=None, item_regularization=None,
                 bias_regularization=None, negatives=1, sampler="uniform", use_bias=True,
                 similarity="dot", init="normal", init_scale=0.1, optimizer="sgd",
                 batch_size=5000, learning_rate_decay=1.0, average_decay=None,
                 clip_sigmoid=0.0, shuffle=True,
                 visit="auto", seed=0, n_threads=None, patience=None, valid_metric="ndcg@10",
                 eval_every=1):
        self._store_params(locals())

    __doc__ = parameters_doc(__doc__, __init__)

    #: What ``rs.tune`` searches (the sampler adds its own); epochs come from
    #: early stopping, factors stay fixed unless a search asks for them.
    search_space = {"learning_rate": LogUniform(0.005, 0.3),
                    "regularization": LogUniform(1e-4, 0.3)}
    #: What a parameter left at None takes when the sampler recommends nothing
    #: for it (benchmarks/studies/tune_defaults.py: BPR + uniform on movielens-small).
    trainer_defaults = dict(epochs=35, learning_rate=0.05, regularization=0.01)
    #: ``epochs="auto"`` (see :mod:`recsample.models._auto`): the cap on the
    #: search, how often it validates, and its patience in epochs: at least
    #: AUTO_PATIENCE, and AUTO_PATIENCE_FRACTION of the best epoch so far
    AUTO_MAX_EPOCHS = 200
    AUTO_EVAL_EVERY = 5
    AUTO_PATIENCE = 15
    AUTO_PATIENCE_FRACTION = 0.3

    # set by fit (and load_model); class attributes, so __init__ stores the
    # hyper-parameters only
    _user_factors = None
    _item_factors = None
    sampler_state_ = None
    history_ = ()
    item_counts_ = None
    weighted_ = False
    _fitted_attribute = "_user_factors"   # is_fitted: fit has set the factors

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
        of the last finished epoch in place (with ``average_decay``, their
        average up to it) and its record in ``history_``.

        With ``epochs="auto"`` the model chooses its number of epochs on a
        validation part carved from ``train`` (or on ``valid``), then trains
        on all of ``train``; see :mod:`recsample.models._auto` for the
        protocol and its cost. The count chosen is ``epochs_``.
        """
        if isinstance(self.epochs, str) and self.epochs == "auto":
            from ._auto import fit_auto
            return fit_auto(self, train, valid, list(callbacks or ()), progress, sample_weight)
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
                self._average_epoch(run)
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
        sampler = get_sampler(self.sampler, self.loss)
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
        state = sampler.scoring_state(
            sampler.prepare(matrix, n_factors=k, seed=p["seed"], batch=batch),
            self.similarity == "cosine", k)
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
        unheld = held = None
        if self.use_bias and 0 < np.count_nonzero(self.item_counts_ == 0) < n_items:
            unheld = np.flatnonzero(self.item_counts_ == 0)
            held = np.flatnonzero(self.item_counts_)
        self.history_ = []
        self.n_users_skipped_ = 0
        # only a fit with valid= sets them: a later fit without must not keep
        # an earlier fit's
        for name in ("best_epoch_", "best_score_"):
            self.__dict__.pop(name, None)
        return SimpleNamespace(
            p=p, matrix=matrix, weights=weights, packed=packed, vmat=vmat, metric=metric,
            cutoff=cutoff, sampler=sampler, loss=loss, batch=batch, grouped=grouped,
            rng=rng, U=U, V=V, state=state, pos=positives_of(matrix), order=order,
            unheld=unheld, held=held, average=None,
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
        if run.unheld is not None:
            # see use_bias: an item without training positives ranks by no
            # bias above the lowest of those with some
            k = p["factors"]
            V[run.unheld, k] = np.minimum(V[run.unheld, k], V[run.held, k].min())
        return lr

    def _average_epoch(self, run):
        """With ``average_decay``: fold the epoch's factors, as the model
        scores them, into the running average, and make the average the
        model's factors (training goes on moving ``run.U`` and ``run.V``)."""
        d = run.p["average_decay"]
        if d is None:
            return
        U, V = self._exported(run.U), self._exported(run.V)
        if run.average is None:
            run.average = (np.array(U, dtype=np.float32), np.array(V, dtype=np.float32))
        else:
            w = np.float32(1.0 - d)
            for A, F in zip(run.average, (U, V)):
                A -= w * (A - F)   # A <- d A + (1 - d) F
        self._user_factors, self._item_factors = run.average

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
                        arrays=(self._user_factors.copy(), self._item_factors.copy(),
                                _copy_state(run.state)))
            return False
        best["bad_rounds"] += 1
        return self.patience is not None and best["bad_rounds"] >= self.patience

    def _validate(self, train, valid, metric, cutoff):
        from ..evaluation import evaluate
        report = evaluate(self, valid, train=train, k=(cutoff,), metrics=(metric,))
        s = report.summary()
        return float(s.loc[(s["metric"] == metric) & (s["k"] == cutoff), "mean"].iloc[0])

    # ------------------------------------------------------------ persistence
    def save(self, path):
        """Write ``.npz`` (no pickles) with factors and JSON metadata, atomically."""
        from .persistence import save_model
        return save_model(self, path)


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
    from .._progress import tqdm_class
    return tqdm_class()(total=total, desc=desc, unit="epoch", leave=False)
