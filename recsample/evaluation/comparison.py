"""Paired comparisons: the paired t and Wilcoxon tests of two aligned samples
(:func:`paired_test`, which every paired comparison of the package goes
through: over users here, over seeds in :mod:`recsample.experiments.stats`
and the reproductions) and the comparison of two evaluation reports
(:func:`compare`)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .report import Report, t_interval

__all__ = ["compare", "paired_test"]


def compare(report_a: Report, report_b: Report, confidence=0.95) -> pd.DataFrame:
    """Per (metric, k): both means and a paired test of their difference.

    Only users evaluated in both reports are used (pairs where either value is
    NaN, e.g. an undefined AUC, are dropped). For each (metric, k) present in
    both reports the columns are:

    - mean_a, mean_b: means over the common users;
    - diff, diff_ci_low, diff_ci_high: mean of (a - b) and its Student t
      interval;
    - t_pvalue: two-sided paired t-test (``scipy.stats.ttest_rel``);
    - wilcoxon_pvalue: two-sided Wilcoxon signed-rank test
      (``scipy.stats.wilcoxon``, zero differences dropped); NaN when every
      difference is zero;
    - users: pairs used.

    Coverage has no per-user values: its row gives both values and their
    difference, with NaN for the interval and the tests.
    """
    for name, r in (("report_a", report_a), ("report_b", report_b)):
        if not isinstance(r, Report):
            raise TypeError(f"{name} must be a Report, got {type(r).__name__}")
    common, ia, ib = np.intersect1d(report_a.users, report_b.users,
                                    assume_unique=True, return_indices=True)
    if common.size == 0:
        raise ValueError("report_a and report_b have no evaluated user in common; "
                         "a paired comparison needs the same users")
    rows = []
    for key in report_a.keys():
        m, k = key
        if m == "coverage":
            if k in report_b.coverage:
                ca, cb = report_a.coverage[k], report_b.coverage[k]
                rows.append((m, k, ca, cb, ca - cb, np.nan, np.nan, np.nan, np.nan, np.nan))
            continue
        if key not in report_b.per_user:
            continue
        a = report_a.per_user[key][ia]
        b = report_b.per_user[key][ib]
        ok = np.isfinite(a) & np.isfinite(b)
        a, b = a[ok], b[ok]
        r = paired_test(a, b, confidence)
        rows.append((m, k, r["mean_a"], r["mean_b"], r["diff"], r["diff_ci_low"],
                     r["diff_ci_high"], r["t_pvalue"], r["wilcoxon_pvalue"], r["n"]))
    df = pd.DataFrame(rows, columns=["metric", "k", "mean_a", "mean_b", "diff", "diff_ci_low",
                                     "diff_ci_high", "t_pvalue", "wilcoxon_pvalue", "users"])
    df["k"] = df["k"].astype("Int64")
    df["users"] = df["users"].astype("Int64")
    return df


def paired_test(a, b, confidence: float = 0.95) -> dict:
    """Paired t-test and Wilcoxon signed-rank test of ``a`` against ``b``
    (equal-length arrays, one pair per seed, or per user in :func:`compare`);
    every paired comparison of the package is computed here.

    Returns a dict: ``n`` (pairs), ``mean_a``, ``mean_b``, ``diff`` (mean of
    a - b) with its Student t interval ``diff_ci_low``/``diff_ci_high``,
    ``a_wins`` (pairs where a > b), ``t`` and ``t_pvalue`` (two-sided
    ``scipy.stats.ttest_rel``), ``w`` and ``wilcoxon_pvalue`` (two-sided
    ``scipy.stats.wilcoxon``). Tests are NaN with fewer than two pairs or
    when every difference is zero; means are NaN without pairs.
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"a and b must be 1-D arrays of the same length, got shapes "
                         f"{x.shape} and {y.shape}")
    d = x - y
    mean_d, lo, hi, n = t_interval(d, confidence)
    out = {"n": n, "mean_a": float(x.mean()) if len(x) else np.nan,
           "mean_b": float(y.mean()) if len(y) else np.nan, "diff": mean_d,
           "diff_ci_low": lo, "diff_ci_high": hi, "a_wins": int((x > y).sum()),
           "t": np.nan, "t_pvalue": np.nan, "w": np.nan, "wilcoxon_pvalue": np.nan}
    if n >= 2 and np.any(d != 0):
        with warnings.catch_warnings():
            # scipy warns about exact-distribution choices for tiny samples
            warnings.simplefilter("ignore")
            t = stats.ttest_rel(x, y)
            w = stats.wilcoxon(x, y)
        out.update(t=float(t.statistic), t_pvalue=float(t.pvalue), w=float(w.statistic),
                   wilcoxon_pvalue=float(w.pvalue))
    return out
