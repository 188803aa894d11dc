"""The argument checks, under the name older modules import them by; they
live in :mod:`recsample.core.validation`."""
from .core.validation import check_ids, check_int, parse_metric, suggest

__all__ = ["suggest", "check_int", "parse_metric", "check_ids"]
