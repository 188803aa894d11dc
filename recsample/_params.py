"""scikit-learn-style hyper-parameters, shared by the factor models, the
baselines and the samplers.

A class declares each hyper-parameter as a keyword argument of ``__init__``
with its default, and ``__init__`` only stores it under the same name (so
``help()``, ``inspect.signature`` and editors show them). Everything else is
read from that signature: ``get_params``, ``set_params``, ``repr`` and the
class attribute ``_defaults`` (``{name: default}``), so the names are written
once.

A class may rename a parameter and keep the old name for one release: its
``_renamed = {"old": "new"}`` makes the constructor, ``set_params`` and
attribute access accept the old name with a ``FutureWarning``.
"""
from __future__ import annotations

import functools
import inspect
import warnings

_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


class _Defaults:
    """``cls._defaults``: a new ``{name: default}`` dict read from the
    signature of ``cls.__init__``."""

    def __get__(self, obj, cls):
        return dict(cls._signature_defaults())


def renamed_params(cls, params: dict, warn: bool = True, stacklevel: int = 3) -> dict:
    """``params`` with each old name in ``cls._renamed`` replaced by its new
    one, with a FutureWarning per old name when ``warn``."""
    renamed = getattr(cls, "_renamed", {}) or {}
    if not renamed or not set(params) & set(renamed):
        return dict(params)
    out = {}
    for key, value in params.items():
        if key in renamed:
            new = renamed[key]
            if new in params:
                raise TypeError(f"{cls.__name__} got both {key!r} and {new!r}; "
                                f"{key!r} is the deprecated name of {new!r}")
            if warn:
                warnings.warn(f"{cls.__name__}: the parameter {key!r} is renamed {new!r}; "
                              f"the old name will be removed in the next release",
                              FutureWarning, stacklevel=stacklevel)
            key = new
        out[key] = value
    return out


def _old_name_property(old: str, new: str) -> property:
    def _warn(self):
        warnings.warn(f"{type(self).__name__}.{old} is renamed {new}; the old name "
                      f"will be removed in the next release", FutureWarning, stacklevel=3)

    def fget(self):
        _warn(self)
        return getattr(self, new)

    def fset(self, value):
        _warn(self)
        setattr(self, new, value)

    return property(fget, fset, doc=f"Deprecated name of ``{new}``.")


class Params:
    """Mixin: the hyper-parameters are the keyword arguments of ``__init__``."""

    #: deprecated parameter name -> its new name (accepted with a FutureWarning)
    _renamed: dict = {}
    _defaults = _Defaults()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None:
            @functools.wraps(init)          # keeps the signature: the new names only
            def __init__(self, *args, **params):
                kind = type(self)
                params = renamed_params(kind, params, stacklevel=3)
                names = kind._param_names()
                unknown = [k for k in params if k not in names]
                if unknown:
                    raise TypeError(f"{kind.__name__} got unknown parameters {unknown}; "
                                    f"valid ones are {', '.join(names) or 'none'}")
                init(self, *args, **params)
            cls.__init__ = __init__
        for old, new in (cls.__dict__.get("_renamed") or {}).items():
            if old not in cls.__dict__:
                setattr(cls, old, _old_name_property(old, new))

    @classmethod
    def _signature_defaults(cls) -> dict:
        """``{name: default}`` of the keyword arguments of ``cls.__init__``
        (cached per class)."""
        cached = cls.__dict__.get("_signature_cache")
        if cached is None:
            cached = {}
            if cls.__init__ is not object.__init__:
                params = list(inspect.signature(cls.__init__).parameters.values())[1:]
                cached = {p.name: p.default for p in params if p.kind not in _VARIADIC}
            cls._signature_cache = cached
        return cached

    @classmethod
    def _param_names(cls) -> tuple:
        """The hyper-parameter names, in the order of the signature."""
        return tuple(cls._signature_defaults())

    def _store_params(self, values: dict) -> None:
        """What every ``__init__`` does: ``self._store_params(locals())``."""
        for name in self._param_names():
            setattr(self, name, values[name])

    def get_params(self) -> dict:
        """The hyper-parameters as ``{name: value}``, in signature order."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params):
        """Set hyper-parameters by name; returns self. An unknown name raises
        ValueError (nothing is set then)."""
        params = renamed_params(type(self), params, stacklevel=3)
        names = self._param_names()
        unknown = [k for k in params if k not in names]
        if unknown:
            raise ValueError(f"unknown parameter{'s' if len(unknown) > 1 else ''} "
                             f"{', '.join(map(repr, unknown))} for {type(self).__name__}; "
                             f"valid ones are {', '.join(names) or 'none'}")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __repr__(self):
        defaults = self._signature_defaults()
        changed = {}
        for k, v in self.get_params().items():
            try:
                same = bool(v == defaults[k])
            except Exception:               # an array or an odd comparison
                same = False
            if not same:
                changed[k] = v
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"
