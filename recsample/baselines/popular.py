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

    def fit(self, train, valid=None, callbacks=(), progress=False):
        """Count each item's training interactions; returns self."""
        m = self._train_matrix(train)
        counts = np.bincount(m.indices, minlength=m.shape[1]).astype(np.float32)
        self.user_factors = np.ones((m.shape[0], 1), dtype=np.float32)
        self.item_factors = counts[:, None]
        return self

    def score_block(self, users):
        self._require_fitted()
        return np.broadcast_to(self.item_factors[:, 0], (len(users), self.n_items_))
