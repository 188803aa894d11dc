"""``Fitted``: the guard a model's methods call before using what ``fit``
learned, shared by the factor models and the baselines."""
from __future__ import annotations


class Fitted:
    """Mixin: ``is_fitted`` and ``_require_fitted``. A class names in
    ``_fitted_attribute`` the attribute ``fit`` sets (None before)."""

    _fitted_attribute: str

    @property
    def is_fitted(self) -> bool:
        """True once ``fit`` (or ``load_model``) has given the model its state."""
        return getattr(self, self._fitted_attribute) is not None

    def _require_fitted(self):
        if not self.is_fitted:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet: "
                               "call fit(train) first")
