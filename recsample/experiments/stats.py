"""Summaries over seeds and paired tests between two configurations.

``paired_test`` itself lives in :mod:`recsample.evaluation.comparison` and is
re-exported here."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ..evaluation.comparison import paired_test
from ..evaluation.report import t_interval
from .grid import COLUMNS

__all__ = ["summarize", "paired_tests", "paired_test", "select"]

_GROUP = ["dataset", "model", "sampler", "params", "metric", "k"]


def _check_frame(df, name="df"):
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be the DataFrame returned by experiments.run, got "
                        f"{type(df).__name__}")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{name} lacks the tidy columns {missing}")


def summarize(df: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean over seeds per (dataset, model, sampler, params, metric, k).

    Columns: the group columns, ``seeds`` (how many runs), ``mean``, ``std``
    (sample standard deviation over seeds), ``ci_low``/``ci_high`` (Student t
    interval: mean ± t_{(1+c)/2, n-1} std / sqrt(n); NaN with one seed) and
    ``fit_seconds`` (mean). The interval is over seeds, so it covers the
    variation of split and initialisation, not of users.
    """
    _check_frame(df)
    rows = []
    for key, g in df.groupby(_GROUP, sort=False, dropna=False):
        values = g["value"].to_numpy(dtype=float)
        mean, lo, hi, n = t_interval(values, confidence)
        std = float(np.std(values, ddof=1)) if n >= 2 else np.nan
        rows.append((*key, n, mean, std, lo, hi, float(g["fit_seconds"].mean())))
    out = pd.DataFrame(rows, columns=[*_GROUP, "seeds", "mean", "std", "ci_low", "ci_high",
                                      "fit_seconds"])
    out["k"] = out["k"].astype("Int64")
    return out


def select(df: pd.DataFrame, which) -> pd.DataFrame:
    """Rows of one configuration. ``which`` is a sampler name, or a dict of
    column values among dataset, model, sampler, params (``params`` may be a
    dict: it is matched as the canonical JSON of the run key)."""
    if isinstance(which, str):
        which = {"sampler": which}
    if not isinstance(which, dict):
        raise TypeError(f"a configuration selector must be a sampler name or a dict of "
                        f"column values, got {type(which).__name__}")
    mask = np.ones(len(df), dtype=bool)
    for col, value in which.items():
        if col not in ("dataset", "model", "sampler", "params"):
            raise ValueError(f"cannot select on {col!r}: use dataset, model, sampler or params")
        if col == "params" and isinstance(value, dict):
            value = json.dumps(value, sort_keys=True, separators=(", ", ": "))
        mask &= (df[col] == value).to_numpy()
    return df[mask]


def paired_tests(df: pd.DataFrame, a, b, confidence: float = 0.95) -> pd.DataFrame:
    """Paired comparison of configurations ``a`` and ``b`` over seeds.

    ``a`` and ``b`` select rows as in :func:`select`; each must match exactly
    one (model, sampler, params) per dataset. Pairs are formed by seed (both
    ran on the same split and initialisation seed). Per (dataset, metric, k):
    ``mean_a``, ``mean_b``, ``diff`` (mean of a - b) with its t interval,
    ``t_pvalue`` (two-sided ``scipy.stats.ttest_rel``), ``wilcoxon_pvalue``
    (two-sided signed-rank; with n seeds its smallest possible value is
    2 / 2**n, so use several seeds) and ``seeds``. P-values are NaN with fewer
    than two pairs or when every difference is zero.
    """
    _check_frame(df)
    parts = []
    for label, which in (("a", a), ("b", b)):
        sub = select(df, which)
        if sub.empty:
            raise ValueError(f"{label}={which!r} matches no rows; available configurations: "
                             f"{_configs(df)}")
        n_cfg = sub.groupby("dataset")[["model", "sampler", "params"]].nunique().max(axis=None)
        if n_cfg > 1:
            raise ValueError(f"{label}={which!r} matches several configurations "
                             f"{_configs(sub)}; add model or params to pick one")
        parts.append(sub)
    on = ["dataset", "metric", "k", "seed"]
    merged = parts[0][on + ["value"]].merge(parts[1][on + ["value"]], on=on,
                                            suffixes=("_a", "_b"))
    rows = []
    for (dataset, metric, k), g in merged.groupby(["dataset", "metric", "k"], sort=False,
                                                  dropna=False):
        r = paired_test(g["value_a"], g["value_b"], confidence)
        rows.append((dataset, metric, k, r["mean_a"], r["mean_b"], r["diff"], r["diff_ci_low"],
                     r["diff_ci_high"], r["t_pvalue"], r["wilcoxon_pvalue"], r["n"]))
    out = pd.DataFrame(rows, columns=["dataset", "metric", "k", "mean_a", "mean_b", "diff",
                                      "diff_ci_low", "diff_ci_high", "t_pvalue",
                                      "wilcoxon_pvalue", "seeds"])
    out["k"] = out["k"].astype("Int64")
    return out


def _configs(df) -> list:
    return [tuple(r) for r in
            df[["model", "sampler", "params"]].drop_duplicates().itertuples(index=False)]
