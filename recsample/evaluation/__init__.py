"""Full-ranking evaluation of recommenders.

>>> report = evaluate(model, test, train=train, k=(10, 20))
>>> report.summary()
>>> compare(report_a, report_b)

Modules: ``topk`` (top-k selection, also used by the models' ``recommend``),
``metrics`` (per-user metric kernels), ``ranking`` (the block pass: hit lists
and AUC), ``sampled`` (sampled-negatives mode), ``report``, ``comparison``.
Definitions: docs/metrics.md.
"""
from . import metrics, topk
from .comparison import compare
from .evaluator import DEFAULT_METRICS, METRICS, evaluate
from .report import Report

__all__ = ["evaluate", "compare", "Report", "METRICS", "DEFAULT_METRICS", "metrics", "topk"]
