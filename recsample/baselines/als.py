"""``implicit``'s alternating least squares (Hu, Koren & Volinsky, ICDM
2008) behind the factor-model interface: fit, recommend, user_factors,
item_factors. Needs ``pip install "recsample[bench]"``."""
from __future__ import annotations

from ..search_space import LogUniform
from .base import Baseline

__all__ = ["ALS"]

INSTALL_HINT = 'ALS needs the implicit package: pip install "recsample[bench]"'


class ALS(Baseline):
    """Weighted matrix factorisation (Hu, Koren & Volinsky) solved by
    implicit's CPU ALS (conjugate gradient), in implicit's convention: an
    interaction has confidence alpha w_ui (w_ui = 1 without
    ``sample_weight``), every other pair confidence 1 at preference 0.

    Parameters
    ----------
    factors : int, default 64
        Width of the latent factors.
    regularization : float, default 0.01
        L2 weight (implicit's ``regularization``).
    alpha : float, default 1.0
        Confidence of an observed interaction (times its weight).
    epochs : int, default 15
        ALS sweeps (implicit's ``iterations``; the old name ``iterations``
        is still accepted with a FutureWarning).
    seed : int, default 0
        Seeds the initial factors.
    n_threads : int or None, default None
        Threads of implicit (None: all cores).
    """

    name = "als"
    _renamed = {"iterations": "epochs"}
    # a first 20-trial search on movielens-small chose 9.7, at the edge of [1e-3, 10]
    search_space = {"regularization": LogUniform(1e-2, 300.0), "alpha": LogUniform(0.1, 100.0)}

    def __init__(self, factors=64, regularization=0.01, alpha=1.0, epochs=15, seed=0,
                 n_threads=None):
        self._store_params(locals())

    def fit(self, train, valid=None, callbacks=(), progress=False, sample_weight=None):
        """Run implicit's ALS on the training matrix; returns self. With
        ``sample_weight`` (as ``FactorModel.fit`` takes it) the confidence of
        an interaction is alpha w_ui instead of alpha."""
        try:
            from implicit.cpu.als import AlternatingLeastSquares
        except ImportError:
            raise ImportError(INSTALL_HINT) from None
        from threadpoolctl import threadpool_limits
        import numpy as np
        X = self._train_matrix(train, sample_weight)
        # implicit runs its own threads; a multi-threaded BLAS under them only contends
        # (implicit checks this when the model is built, so build it inside too)
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=int(self.factors), regularization=float(self.regularization),
                alpha=float(self.alpha), iterations=int(self.epochs),
                random_state=int(self.seed), num_threads=int(self.n_threads or 0))
            model.fit(X, show_progress=bool(progress))
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        return self

    def score_block(self, users):
        self._require_fitted()
        return self.user_factors[users] @ self.item_factors.T

    def fold_in(self, user_items):
        """User factor rows for interaction rows over the model's items:
        ALS's exact least-squares step for a user with the item factors
        fixed (confidence alpha on the given items, as ``fit`` without
        weights), float32 (n_rows, factors)."""
        import numpy as np
        self._require_fitted()
        rows = self._history_rows(user_items)
        Y = self.item_factors.astype(np.float64)
        f = Y.shape[1]
        base = Y.T @ Y + float(self.regularization) * np.eye(f)
        a = float(self.alpha)
        out = np.zeros((rows.shape[0], f), dtype=np.float32)
        for r in range(rows.shape[0]):
            items = rows.indices[rows.indptr[r]:rows.indptr[r + 1]]
            if items.size == 0:
                continue
            Yi = Y[items]
            # (Y^T C Y + reg I) x = Y^T C p, C = alpha and p = 1 on the items, C = 1
            # and p = 0 elsewhere: Y^T C Y = Y^T Y + (alpha - 1) Yi^T Yi
            A = base + (a - 1.0) * (Yi.T @ Yi)
            out[r] = np.linalg.solve(A, a * Yi.sum(axis=0))
        return out

    def score_rows(self, user_items):
        """Scores of folded-in rows (see :meth:`fold_in`)."""
        return self.fold_in(user_items) @ self.item_factors.T
