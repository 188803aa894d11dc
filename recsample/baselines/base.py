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

from ..samplers.base import as_csr, check_users

__all__ = ["Baseline"]


class Baseline(Params):
    """Base of the reference models. Subclasses declare their
    hyper-parameters as keyword arguments of ``__init__`` (which only stores
    them: ``self._store_params(locals())``), set ``search_space`` (what
    ``rs.tune`` searches) and implement ``fit`` and ``score_block``."""

    search_space: dict = {}
    # set by fit
    n_users_ = n_items_ = None

    @property
    def is_fitted(self) -> bool:
        return self.n_items_ is not None

    def _require_fitted(self):
        if not self.is_fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: "
                               "call fit(train) first")

    def _train_matrix(self, train):
        m = as_csr(train, "train")
        if m.nnz == 0:
            raise ValueError("train has no interactions")
        self.n_users_, self.n_items_ = m.shape
        return m

    def score_block(self, users) -> np.ndarray:  # pragma: no cover - subclasses
        raise NotImplementedError

    def recommend(self, users, k=10, exclude=None, block=1024):
        """Top-``k`` items per user, best first: (items, scores) of shape
        (len(users), min(k, n_items)), as ``FactorModel.recommend``: a ``k``
        above the number of items is taken as that number (a longer list
        could only be padding); ``exclude`` removes items (usually the
        training data; a raw matrix with NaN, infinite or negative values is
        refused, its stored zeros exclude nothing); short rows are padded
        with -1/-inf."""
        from ..evaluation.topk import topk_scores
        self._require_fitted()
        users = check_users(users, self.n_users_)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = min(int(k), self.n_items_)
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
