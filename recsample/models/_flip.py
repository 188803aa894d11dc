"""Reading the NBPO sampler's flip model from a fitted trainer.

The NBPO sampler (Yu & Qin, SIGIR 2020) learns a second factorisation
gamma_uj = P_u . Q_j next to the model's scores. Only the pair losses train
it (the pair loop hands it each pair's derivatives; the group losses' loop
leaves P, Q at their initial values), so ``FlipModel``, the mixin with
``flip_probability`` and ``hidden_positive_probability``, belongs to
``BPR`` and ``BPO`` (and so ``NBPO``), and answers only for a model fitted
with the NBPO sampler. ``FactorModel`` and the group losses keep the two
names for one release as aliases that warn (``_DeprecatedFlipModel``).
"""
from __future__ import annotations

import warnings

import numpy as np

#: where the methods live now, as the deprecation warning names it
_NEW_PLACE = "rs.BPR, rs.BPO and rs.NBPO (recsample.models._flip.FlipModel)"


class FlipModel:
    """Mixin of the pair-loss trainers: what the NBPO sampler's flip model
    says about (user, item) pairs of a model fitted with that sampler."""

    def _flip_sampler(self, what):
        self._require_fitted()
        if not hasattr(self.sampler_, "flip_probability") or self.sampler_state_ is None:
            raise ValueError(f"{what} needs a model trained with the NBPO sampler; this one "
                             f"used {self.sampler_!r}")
        return self.sampler_

    def flip_probability(self, users, items) -> np.ndarray:
        """NBPO only: sigma(P_u . Q_i), the learned probability that (u, i),
        were it truly positive, was left unvoted (the label flip)."""
        return self._flip_sampler("flip_probability").flip_probability(
            self.sampler_state_, users, items)

    def hidden_positive_probability(self, users, items) -> np.ndarray:
        """NBPO only: the posterior that an unvoted (u, i) is truly positive,
        sigma(x) sigma(gamma) / (1 - sigma(x) + sigma(x) sigma(gamma)). This,
        not sigma(gamma) alone, ranks which unvoted items the model believes
        are hidden positives."""
        return self._flip_sampler("hidden_positive_probability").hidden_positive_probability(
            self.sampler_state_, self.user_factors, self.item_factors, users, items)


def _deprecated(method):
    def alias(self, users, items):
        warnings.warn(f"{type(self).__name__}.{method.__name__} is deprecated and will be "
                      f"removed in the next release: it is a method of {_NEW_PLACE}, the "
                      "pair losses, which train the NBPO sampler's flip model",
                      DeprecationWarning, stacklevel=2)
        return method(self, users, items)
    alias.__name__ = method.__name__
    alias.__qualname__ = f"_DeprecatedFlipModel.{method.__name__}"
    alias.__doc__ = (f"Deprecated: see ``FlipModel.{method.__name__}``, a method of "
                     f"{_NEW_PLACE}; warns with DeprecationWarning.")
    return alias


class _DeprecatedFlipModel:
    """The flip-model methods as every ``FactorModel`` had them, kept one
    release on the classes that lost them: same answers, plus a warning."""

    _flip_sampler = FlipModel._flip_sampler
    flip_probability = _deprecated(FlipModel.flip_probability)
    hidden_positive_probability = _deprecated(FlipModel.hidden_positive_probability)
