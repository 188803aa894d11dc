"""scikit-learn-style hyper-parameters, shared by the factor models and the
baselines: the constructor takes the names in ``_defaults`` and nothing else."""


class Params:
    """Mixin: ``_defaults`` maps each constructor parameter to its default."""

    _defaults: dict = {}

    def _set_params_from(self, params: dict) -> None:
        unknown = set(params) - set(self._defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown parameters {sorted(unknown)}; "
                            f"valid ones are {sorted(self._defaults)}")
        for key, default in self._defaults.items():
            setattr(self, key, params.get(key, default))

    def get_params(self) -> dict:
        return {k: getattr(self, k) for k in self._defaults}

    def set_params(self, **params):
        for key, value in params.items():
            if key not in self._defaults:
                raise ValueError(f"unknown parameter {key!r} for {type(self).__name__}")
            setattr(self, key, value)
        return self

    def __repr__(self):
        changed = {k: v for k, v in self.get_params().items() if v != self._defaults[k]}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"
