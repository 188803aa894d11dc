"""``epochs="auto"``: a factor model that picks its own number of epochs.

Without ``valid``, ``fit`` carves a validation part from the training data
(``AUTO_VALID_FRACTION`` of each user's positives, drawn with the model's
seed; a user keeps at least one positive), trains on the rest up to the
model's ``AUTO_MAX_EPOCHS``, scores ``valid_metric`` on the carved part every
``AUTO_EVAL_EVERY`` epochs and stops once the best score is
``max(AUTO_PATIENCE, AUTO_PATIENCE_FRACTION * best epoch)`` epochs old. The
patience grows with the best epoch because a long run's validation curve has
long plateaus (Gowalla's sampled softmax: flat from epoch 55 to 65, then up
again to 170). It then trains from scratch on all of the training data for
the chosen count, so the model keeps every positive. The cost is the search
(the chosen count plus the patience, on 90% of the data, plus the
evaluations) and the final run: about 2.2 times a fit given that count.

With ``valid``, the same search runs on ``train`` against ``valid`` and the
model keeps the factors of its best epoch; nothing is retrained.

The search uses its own check interval and patience: the model's
``eval_every`` and ``patience`` are not read. ``callbacks`` are called in
every epoch of the search and of the final fit (``model`` is the search's
model during the search), so one that returns True can end either. The
chosen count is ``epochs_``; the search's records are ``auto_history_``;
``auto_capped_`` is True when the search reached ``AUTO_MAX_EPOCHS`` (the
count may then be too small), which is also warned.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

#: share of each user's training positives held out to choose the epochs
AUTO_VALID_FRACTION = 0.1


def carve(matrix, fraction, seed):
    """Boolean mask over ``matrix``'s stored entries (CSR order): the part
    ``rs.split.random_holdout(train, test_fraction=fraction, seed=seed)``
    holds out, ``fraction`` of each user's positives (rounded half up, a
    user keeping at least one), drawn by the same random ranks."""
    from ..interactions import Interactions
    from ..split import _random_rank_in_row, _round_half_up
    data = Interactions.from_csr(matrix)
    counts = np.diff(matrix.indptr).astype(np.int64)
    n_held = np.minimum(_round_half_up(counts * fraction), np.maximum(counts - 1, 0))
    rank = _random_rank_in_row(data, np.random.default_rng(seed))
    return rank < n_held[data.entry_users()]


def _part(matrix, mask):
    from ..interactions import Interactions
    return Interactions.from_csr(matrix).select(mask).matrix


class _Patience:
    """A fit callback: stop once the best validation score is
    ``max(floor, fraction * best epoch)`` epochs old."""

    def __init__(self, metric, floor, fraction):
        self.metric, self.floor, self.fraction = metric, floor, fraction
        self.best, self.best_epoch = -math.inf, -1

    def __call__(self, epoch, model, record, elapsed):
        value = record.get(self.metric)
        if value is None:
            return False
        if value > self.best:
            self.best, self.best_epoch = value, epoch
            return False
        waited = epoch - self.best_epoch
        return waited >= max(self.floor, math.ceil(self.fraction * (self.best_epoch + 1)))


def fit_auto(model, train, valid, callbacks, progress, sample_weight):
    """``model.fit`` with ``epochs="auto"`` (see the module docstring)."""
    from .._weights import resolve_sample_weight
    from ..core.validation import as_csr
    cls = type(model)
    cap, every = int(cls.AUTO_MAX_EPOCHS), int(cls.AUTO_EVAL_EVERY)
    patience = _Patience(model.valid_metric, int(cls.AUTO_PATIENCE),
                         float(cls.AUTO_PATIENCE_FRACTION))
    if valid is not None:
        with _epochs(model, cap, every):
            model.fit(train, valid=valid, callbacks=[patience, *callbacks], progress=progress,
                      sample_weight=sample_weight)
        model.epochs_ = model.best_epoch_ + 1
        model.auto_history_ = list(model.history_)
        _capped(model, model.auto_history_, cap)
        return model
    matrix = as_csr(train, "train")
    weights = resolve_sample_weight(sample_weight, train, matrix)
    seed = model.seed if isinstance(model.seed, (int, np.integer)) else 0
    held = carve(matrix, AUTO_VALID_FRACTION, seed)
    if not held.any():
        raise ValueError(
            f"epochs='auto' holds out {AUTO_VALID_FRACTION:.0%} of each user's training "
            "positives, rounded (a user needs at least 5 to give one); train has no such "
            "user: pass epochs=<int>, or valid=")
    search = type(model)(**dict(model.get_params(), epochs=cap, eval_every=every,
                                patience=None))
    search.fit(_part(matrix, ~held), valid=_part(matrix, held),
               callbacks=[patience, *callbacks], progress=progress,
               sample_weight=None if weights is None else weights[~held])
    chosen = search.best_epoch_ + 1
    with _epochs(model, chosen, model.eval_every):
        model.fit(train, callbacks=callbacks, progress=progress, sample_weight=sample_weight)
    model.epochs_ = len(model.history_)   # less than chosen if a callback stopped it
    model.auto_history_ = list(search.history_)
    _capped(model, model.auto_history_, cap)
    return model


def _capped(model, history, cap):
    model.auto_capped_ = bool(history) and history[-1]["epoch"] + 1 >= cap
    if model.auto_capped_:
        warnings.warn(f"epochs='auto': the search reached {type(model).__name__}."
                      f"AUTO_MAX_EPOCHS = {cap} without its patience running out; "
                      f"epochs_ = {model.epochs_} may be too few", RuntimeWarning, stacklevel=3)


class _epochs:
    """Set the model's epochs and how often it validates for one fit (its own
    ``patience`` off), then put the user's values back."""

    def __init__(self, model, epochs, every):
        self.model, self.epochs, self.every = model, epochs, every

    def __enter__(self):
        self.saved = (self.model.epochs, self.model.eval_every, self.model.patience)
        self.model.epochs, self.model.eval_every = self.epochs, self.every
        self.model.patience = None   # the search's own patience decides

    def __exit__(self, *exc):
        self.model.epochs, self.model.eval_every, self.model.patience = self.saved
