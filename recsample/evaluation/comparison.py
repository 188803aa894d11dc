"""Paired comparison of two evaluation reports."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .report import Report, t_interval

__all__ = ["compare"]


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
        d = a - b
        mean_d, lo, hi, n = t_interval(d, confidence)
        t_p = w_p = np.nan
        if n >= 2 and np.any(d != 0):
            with warnings.catch_warnings():
                # scipy warns about ties / small samples when choosing its method
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", UserWarning)
                t_p = float(stats.ttest_rel(a, b).pvalue)
                w_p = float(stats.wilcoxon(a, b).pvalue)
        rows.append((m, k, float(a.mean()) if n else np.nan, float(b.mean()) if n else np.nan,
                     mean_d, lo, hi, t_p, w_p, n))
    df = pd.DataFrame(rows, columns=["metric", "k", "mean_a", "mean_b", "diff", "diff_ci_low",
                                     "diff_ci_high", "t_pvalue", "wilcoxon_pvalue", "users"])
    df["k"] = df["k"].astype("Int64")
    df["users"] = df["users"].astype("Int64")
    return df
