"""Small argument checks shared by the package: integer bounds, "did you
mean" hints and ``NAME@K`` metric names."""
from __future__ import annotations

import difflib
import numbers


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
