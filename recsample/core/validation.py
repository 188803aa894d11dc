"""Argument checks shared by the package, in one place: integer bounds, id
arrays, "did you mean" hints, ``NAME@K`` metric names and the canonical CSR
matrix of a user's data. Every error names the argument it is about.

:func:`as_csr` is :func:`recsample.interactions.as_csr`, the one conversion
that trainers, samplers, baselines and metrics share.
"""
from __future__ import annotations

import difflib
import numbers

import numpy as np

from ..interactions import as_csr


def suggest(name, known) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known`` to ``name``, or ""."""
    close = difflib.get_close_matches(str(name).lower(), list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_int(name, value, low) -> int:
    """``value`` as an int, refusing booleans, non-integers and values below ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def parse_metric(metric, name="metric", known=None):
    """``(metric, k)`` from ``"ndcg@10"``-style text; ``known`` (optional)
    lists the metric names accepted. Errors name the argument ``name``."""
    text = str(metric).strip().lower()
    metric_name, _, cut = text.partition("@")
    if (known is not None and metric_name not in known) or not cut.isdigit() or int(cut) < 1:
        names = f" with NAME one of {', '.join(known)}" if known is not None else ""
        raise ValueError(f"{name} must be NAME@K{names} and K >= 1 (e.g. 'ndcg@10'), "
                         f"got {metric!r}")
    return metric_name, int(cut)


def check_ids(users, n_users, name="users"):
    """``users`` as an int64 1-d array of ids in [0, n_users) (``n_users``
    None: any id >= 0); errors name the argument ``name``."""
    arr = np.asarray(users)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be a 1-d array of integer ids, got {arr.dtype} "
                        f"with shape {arr.shape}")
    if n_users is None:
        if arr.size and arr.min() < 0:
            raise ValueError(f"{name} must be >= 0, got {arr.min()}")
    elif arr.size and (arr.min() < 0 or arr.max() >= n_users):
        raise ValueError(f"{name} must lie in [0, {n_users}); got ids from {arr.min()} to "
                         f"{arr.max()}")
    return arr.astype(np.int64, copy=False)


def check_users(users, n_users, name="users"):
    """``users`` as an int64 1-d array of ids in [0, n_users) (``n_users``
    None: any id >= 0); :func:`check_ids` under the name the samplers and
    models use."""
    return check_ids(users, n_users, name)


__all__ = ["as_csr", "check_ids", "check_int", "check_users", "parse_metric", "suggest"]
