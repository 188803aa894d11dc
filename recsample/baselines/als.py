"""``implicit``'s alternating least squares (Hu, Koren & Volinsky, ICDM
2008) behind the factor-model interface: fit, recommend, user_factors,
item_factors. Needs ``pip install "recsample[bench]"``."""
from __future__ import annotations

from ..search_space import LogUniform
from .base import Baseline

__all__ = ["ALS"]

INSTALL_HINT = 'ALS needs the implicit package: pip install "recsample[bench]"'


class ALS(Baseline):
    """Weighted matrix factorisation of confidence 1 + alpha r_ui, solved by
    implicit's CPU ALS (conjugate gradient).

    Parameters
    ----------
    factors : int, default 64
        Width of the latent factors.
    regularization : float, default 0.01
        L2 weight (implicit's ``regularization``).
    alpha : float, default 1.0
        Confidence weight of an observed interaction.
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

    def fit(self, train, valid=None, callbacks=(), progress=False):
        """Run implicit's ALS on the training matrix; returns self."""
        try:
            from implicit.cpu.als import AlternatingLeastSquares
        except ImportError:
            raise ImportError(INSTALL_HINT) from None
        from threadpoolctl import threadpool_limits
        import numpy as np
        m = self._train_matrix(train)
        X = m.astype(np.float32)
        X.data[:] = 1.0
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
