"""Declarations of hyper-parameter ranges, read by ``rs.tune``.

A trainer, loss, sampler or baseline states what is worth searching as a
class attribute ``search_space``: a dict from its constructor's parameter
names to one of the ranges below. The tuner merges the model's and the
sampler's declarations (the sampler's names prefixed ``sampler.``), so a new
sampler or loss is tuned by declaring its dict, with no change to the tuner::

    class DNS(Sampler):
        search_space = {"candidates": IntRange(2, 64, log=True)}

This module imports nothing from recsample (and not Optuna): every layer can
use it. A range turns into a value through ``suggest(trial, name)``, which
calls the matching ``trial.suggest_*`` of an Optuna trial.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

__all__ = ["LogUniform", "Uniform", "IntRange", "Choice", "Range", "check_space"]


class Range:
    """Base of the range declarations."""

    def suggest(self, trial, name):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError


def _finite(value, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return value


@dataclass(frozen=True)
class _Interval(Range):
    """A number between ``low`` and ``high``, uniform on a linear or (``log``)
    a log scale: what LogUniform and Uniform share."""

    low: float
    high: float

    log = False   # a class attribute, not a field

    def __post_init__(self):
        name = type(self).__name__
        _finite(self.low, f"{name} low")
        _finite(self.high, f"{name} high")
        if not (0 if self.log else -math.inf) < self.low < self.high:
            raise ValueError(f"{name} needs {'0 < ' if self.log else ''}low < high, got "
                             f"({self.low}, {self.high})")

    def suggest(self, trial, name):
        return trial.suggest_float(name, self.low, self.high, log=self.log)


@dataclass(frozen=True)
class LogUniform(_Interval):
    """A number drawn uniformly in log space between ``low`` and ``high`` (> 0)."""

    log = True


@dataclass(frozen=True)
class Uniform(_Interval):
    """A number drawn uniformly between ``low`` and ``high``."""


@dataclass(frozen=True)
class IntRange(Range):
    """An integer in [low, high], uniform or (``log=True``) log-uniform."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self):
        for what, v in (("low", self.low), ("high", self.high)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ValueError(f"IntRange {what} must be an integer, got {v!r}")
        if not self.low < self.high or (self.log and self.low < 1):
            raise ValueError(f"IntRange needs low < high (and low >= 1 with log), got "
                             f"({self.low}, {self.high})")

    def suggest(self, trial, name):
        return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)


@dataclass(frozen=True)
class Choice(Range):
    """One of a few values (numbers, strings, None)."""

    values: tuple

    def __post_init__(self):
        if not isinstance(self.values, (tuple, list)) or len(self.values) < 2:
            raise ValueError(f"Choice needs a tuple of at least two values, got {self.values!r}")
        object.__setattr__(self, "values", tuple(self.values))

    def suggest(self, trial, name):
        return trial.suggest_categorical(name, self.values)


def check_space(space, what="space") -> dict:
    """``space`` as a dict of names to ranges; a value that is not a
    :class:`Range` is a fixed setting and is returned as it is."""
    if space is None:
        return {}
    if not isinstance(space, dict):
        raise TypeError(f"{what} must be a dict of parameter names to ranges "
                        f"(rs.search_space.LogUniform, ...), got {type(space).__name__}")
    for key in space:
        if not isinstance(key, str):
            raise TypeError(f"{what} keys must be parameter names, got {key!r}")
    return dict(space)
