"""Most popular: every user gets the items with the most training
interactions. The floor any personalised model has to clear."""
from __future__ import annotations

import numpy as np

from .base import Baseline

__all__ = ["MostPopular"]


class MostPopular(Baseline):
    """Score of item j = its number of training interactions, for every user
    (ties to the lower item index). As factors: a constant 1 per user against
    the count per item, so ``rs.evaluate`` and any factor tool take it as is."""

    name = "popular"

    def __init__(self):
        pass

    def fit(self, train, valid=None, callbacks=(), progress=False, sample_weight=None):
        """Count each item's training interactions (with ``sample_weight``,
        sum their weights); returns self."""
        m = self._train_matrix(train, sample_weight)
        counts = np.bincount(m.indices, weights=m.data, minlength=m.shape[1]).astype(np.float32)
        self.user_factors = np.ones((m.shape[0], 1), dtype=np.float32)
        self.item_factors = counts[:, None]
        return self

    def score_block(self, users):
        self._require_fitted()
        # a copy per row: the top-k selection writes into its scores
        return np.tile(self.item_factors[:, 0], (len(users), 1))

    def score_rows(self, user_items):
        """The same counts for any history."""
        self._require_fitted()
        rows = self._history_rows(user_items)
        return np.tile(self.item_factors[:, 0], (rows.shape[0], 1))
