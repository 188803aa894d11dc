"""Experiment grids: configurations x datasets x seeds -> one tidy DataFrame.

>>> import recsample as rs
>>> df = rs.experiments.run(
...     [{"model": "bpr", "sampler": s} for s in ("uniform", "dns")],
...     datasets="movielens-small", seeds=3, k=(10, 20), out="results.csv")
>>> rs.experiments.summarize(df)                       # mean, std, 95% CI over seeds
>>> rs.experiments.paired_tests(df, "dns", "uniform")  # paired t and Wilcoxon over seeds

Every finished run is appended to ``out`` at once, so an interrupted grid
loses only the run in progress and a second call resumes it. The same grid
runs on Ray with ``backend="ray"``. Ray is imported only then.

Modules: ``grid`` (configurations, data sets, one run), ``store`` (the
results CSV), ``runner`` (``run`` and its backends), ``stats`` (summaries and
paired tests), ``plot`` (bar charts with confidence intervals).
"""
from .grid import COLUMNS, DEFAULT_METRICS, KEY_COLUMNS, normalize_config
from .plot import config_label, plot_summary
from .runner import run
from .stats import paired_tests, select, summarize
from .store import read_results

__all__ = ["run", "summarize", "paired_tests", "select", "read_results", "plot_summary",
           "config_label", "normalize_config", "COLUMNS", "KEY_COLUMNS", "DEFAULT_METRICS"]
