"""Using a fitted factor model: ``Serving``, the mixin of ``FactorModel``
with ``predict``, ``recommend`` (for its users, for histories folded in, or
for given rows) and ``similar_items`` / ``similar_users``."""
from __future__ import annotations

import numpy as np

from ..samplers.base import as_csr, check_users
from ._hyperparams import _check_number


class Serving:
    """Mixin of ``FactorModel``: scores and top-k lists from the factors."""

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
