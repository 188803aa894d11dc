"""EASE (Steck, WWW 2019, "Embarrassingly Shallow Autoencoders for Sparse
Data"): an item x item linear model in closed form.

    P = (X^T X + l2 I)^-1,   B = I - P diag(1 / diag(P)),   scores = X B

so B_ij = -P_ij / P_jj off the diagonal and B_jj = 0 (no item recommends
itself). One hyper-parameter, the L2 weight l2 (``regularization``). The
cost is dense in the number of items: the model refuses, before allocating anything, data whose
item x item matrices would not fit in ``memory_limit`` bytes.
"""
from __future__ import annotations

import numbers

import numpy as np
import scipy.linalg

from ..search_space import LogUniform
from .base import Baseline

__all__ = ["EASE", "ease_bytes"]

#: X^T X and B are built in this many slices of columns / rows, which bounds
#: the temporaries beside the two dense matrices
_SLICES = 16


def _slice(n_items: int) -> int:
    return max(1, -(-int(n_items) // _SLICES))


def ease_bytes(n_items: int) -> int:
    """Bytes EASE holds at its peak for ``n_items`` items: the float64 Gram
    matrix, inverted in place, the float32 weights B built from it, and the
    temporaries of one slice of 1/16 of the items (a sparse product and its
    dense copy: at most 32 bytes per entry), about 14 n^2 bytes in all."""
    n = int(n_items)
    return n * n * (8 + 4) + 32 * n * _slice(n)


def _fmt_bytes(n) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000


class EASE(Baseline):
    """EASE^R: an item x item linear model in closed form.

    Parameters
    ----------
    regularization : float, default 500.0
        The L2 weight l2 added to the diagonal of X^T X (the paper's value
        range: hundreds to a few thousands). Formerly ``l2``, still accepted
        with a FutureWarning.
    memory_limit : int, default 4 * 10 ** 9
        Bytes the dense item x item matrices may take; fitting data with
        more items raises a MemoryError naming the bytes needed, before any
        allocation.
    """

    name = "ease"
    _renamed = {"l2": "regularization"}
    search_space = {"regularization": LogUniform(1.0, 1e5)}

    def __init__(self, regularization=500.0, memory_limit=4 * 10 ** 9):
        self._store_params(locals())

    def fit(self, train, valid=None, callbacks=(), progress=False, sample_weight=None):
        """Solve for B; returns self. With ``sample_weight`` (as
        ``FactorModel.fit`` takes it) the data matrix X holds the weights
        instead of ones, in the Gram matrix and in the scores X B."""
        l2 = self.regularization
        if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not np.isfinite(l2) \
                or l2 <= 0:
            raise ValueError(f"regularization must be a finite number > 0, got {l2!r}")
        limit = self.memory_limit
        if isinstance(limit, bool) or not isinstance(limit, numbers.Real) or limit <= 0:
            raise ValueError(f"memory_limit must be a number of bytes > 0, got {limit!r}")
        from ..core.validation import as_csr
        shape = as_csr(train, "train").shape
        need = ease_bytes(shape[1])
        if need > limit:
            raise MemoryError(
                f"EASE on {shape[1]:,} items needs about {_fmt_bytes(need)} ({need:,} bytes: "
                f"a float64 and a float32 {shape[1]:,} x {shape[1]:,} matrix and slices) but "
                f"memory_limit is {_fmt_bytes(limit)}; raise memory_limit= or keep fewer "
                "items (e.g. Interactions.k_core)")
        m = self._train_matrix(train, sample_weight)
        X = m.astype(np.float64)
        n = m.shape[1]
        G = np.empty((n, n), dtype=np.float64)
        Xt = X.T.tocsr()
        step = _slice(n)
        for start in range(0, n, step):
            stop = min(n, start + step)
            G[:, start:stop] = (Xt @ X[:, start:stop]).toarray()
        G[np.diag_indices(n)] += float(l2)
        # G is symmetric, so its transpose is the same matrix in Fortran order,
        # which LAPACK inverts in place (a C-ordered G would be copied first)
        P = scipy.linalg.inv(G.T, overwrite_a=True, check_finite=False)
        del G
        # P is symmetric, so B^T = -P / diag(P)[:, None]: built row-wise, it is
        # C-ordered as the item side of scores = X B = X (B^T)^T
        Bt = np.empty((n, n), dtype=np.float32)
        diag = np.diag(P).copy()
        for start in range(0, n, step):
            stop = min(n, start + step)
            Bt[start:stop] = P[start:stop] / -diag[start:stop, None]
        del P
        Bt[np.diag_indices(n)] = 0.0
        self.weights_t_ = Bt
        self.X_ = m
        return self

    @property
    def weights(self) -> np.ndarray:
        """B (items x items), a transposed view of the stored matrix."""
        self._require_fitted()
        return self.weights_t_.T

    def score_block(self, users) -> np.ndarray:
        self._require_fitted()
        return np.asarray(self.X_[np.asarray(users)] @ self.weights_t_.T, dtype=np.float32)

    def score_rows(self, user_items) -> np.ndarray:
        """x B for each history row x (values 1): a user outside the model
        is scored as a trained one is, from the interactions alone."""
        self._require_fitted()
        rows = self._history_rows(user_items)
        return np.asarray(rows @ self.weights_t_.T, dtype=np.float32)

    def __call__(self, users) -> np.ndarray:
        """Scores (len(users), n_items): what ``rs.evaluate`` ranks by."""
        return self.score_block(users)
