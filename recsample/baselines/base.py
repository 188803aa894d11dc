"""What the reference models share: sklearn-style parameters and recommend.

A baseline ranks users by ``score_block(users) -> (len(users), n_items)``
scores. It keeps the interface of the factor models where it can: ``fit``
returns self, ``recommend(users, k, exclude)`` gives (items, scores) best
first with ties to the lower item index, and ``rs.evaluate`` takes it either
through ``user_factors``/``item_factors`` (popularity, ALS) or as a callable
``model(user_ids) -> scores`` (EASE, whose user side is the data itself).
"""
from __future__ import annotations

import numpy as np

from .._params import Params
from ..core.validation import as_csr, check_users
from ..models._fitted import Fitted

__all__ = ["Baseline"]


class Baseline(Fitted, Params):
    """Base of the reference models. Subclasses declare their
    hyper-parameters as keyword arguments of ``__init__`` (which only stores
    them: ``self._store_params(locals())``), set ``search_space`` (what
    ``rs.tune`` searches) and implement ``fit`` and ``score_block``."""

    search_space: dict = {}
    # set by fit
    n_users_ = n_items_ = None
    _fitted_attribute = "n_items_"

    def _train_matrix(self, train, sample_weight=None):
        """The canonical CSR of ``train`` with values 1, or the weights
        ``sample_weight`` (as ``FactorModel.fit`` takes them) when given."""
        from .._weights import resolve_sample_weight
        m = as_csr(train, "train")
        if m.nnz == 0:
            raise ValueError("train has no interactions")
        w = resolve_sample_weight(sample_weight, train, m)
        self.n_users_, self.n_items_ = m.shape
        X = m.astype(np.float32)   # a copy: the caller's data stays as it is
        X.data[:] = 1.0 if w is None else w
        return X

    def _history_rows(self, user_items):
        """The canonical CSR of users' interaction rows over the model's
        items (``recommend(user_items=)``), values 1."""
        from ..models._fold_in import check_rows
        rows = check_rows(user_items, self.n_items_).astype(np.float32)
        rows.data[:] = 1.0
        return rows

    def score_rows(self, user_items) -> np.ndarray:  # pragma: no cover - subclasses
        """Scores (n_rows, n_items) of users given by their interaction rows
        over the model's items; a model that cannot score a history so
        raises TypeError."""
        raise TypeError(f"{type(self).__name__} cannot score users outside the model from "
                        "their interactions")

    def score_block(self, users) -> np.ndarray:  # pragma: no cover - subclasses
        raise NotImplementedError

    def recommend(self, users=None, k=10, exclude=None, block=1024, *, user_items=None):
        """Top-``k`` items per user, best first: (items, scores) of shape
        (len(users), min(k, n_items)), as ``FactorModel.recommend``: a ``k``
        above the number of items is taken as that number (a longer list
        could only be padding); ``exclude`` removes items (usually the
        training data; a raw matrix with NaN, infinite or negative values is
        refused, its stored zeros exclude nothing); short rows are padded
        with -1/-inf.

        ``user_items`` (instead of ``users``): users outside the model given
        by their interaction rows over the model's items, scored from that
        history directly (``score_rows``: EASE, MostPopular, ALS); their own
        items are excluded only if ``exclude`` says so."""
        from ..evaluation.topk import topk_scores
        self._require_fitted()
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = min(int(k), self.n_items_)
        if (users is None) == (user_items is None):
            raise ValueError("give exactly one of users and user_items")
        if user_items is not None:
            scores = self.score_rows(user_items)
            if exclude is not None:
                exclude = as_csr(exclude, "exclude", shape=scores.shape)
            return topk_scores(scores, k, exclude)
        users = check_users(users, self.n_users_)
        if exclude is not None:
            exclude = as_csr(exclude, "exclude")
            if exclude.shape != (self.n_users_, self.n_items_):
                raise ValueError(f"exclude has shape {exclude.shape}, the model has "
                                 f"{(self.n_users_, self.n_items_)}")
        items = np.empty((len(users), k), dtype=np.int64)
        scores = np.empty((len(users), k), dtype=np.float32)
        for start in range(0, len(users), block):
            part = users[start:start + block]
            ex = exclude[part] if exclude is not None else None
            it, sc = topk_scores(self.score_block(part), k, ex)
            items[start:start + len(part)], scores[start:start + len(part)] = it, sc
        return items, scores
