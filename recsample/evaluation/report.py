"""The result of :func:`recsample.evaluate`: per-user values and their summary."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["Report", "t_interval"]


def t_interval(values, confidence=0.95):
    """(mean, low, high, n) of the finite ``values``: the Student t interval
    mean ± t_{(1+c)/2, n-1} · s / sqrt(n), s the sample standard deviation.
    The bounds are NaN when fewer than two values are finite."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(v.mean())
    if n < 2:
        return mean, np.nan, np.nan, n
    half = stats.t.ppf(0.5 + confidence / 2.0, n - 1) * v.std(ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half, n


class Report:
    """Evaluation results.

    Attributes
    ----------
    users : int array
        Internal ids of the evaluated users (those with at least one test item
        that is not a training item), ascending.
    per_user : dict
        ``{(metric, k): float64 array aligned with users}``; AUC, which has no
        cut-off, is keyed ``("auc", None)``. A user with no negative item has
        AUC NaN and is left out of its mean.
    coverage : dict
        ``{k: coverage@k}``, a single number per k (no per-user value).
    n_users_skipped : int
        Users left out because they have no test item.
    metrics, k : tuples
        What was asked for, in order.
    negatives, seed :
        ``negatives`` is None for full ranking, else the number of sampled
        items each relevant item was ranked against.
    """

    def __init__(self, users, per_user, coverage, n_users_skipped, metrics, k,
                 n_items, negatives=None, seed=None):
        self.users = users
        self.per_user = per_user
        self.coverage = coverage
        self.n_users_skipped = int(n_users_skipped)
        self.metrics = tuple(metrics)
        self.k = tuple(k)
        self.n_items = int(n_items)
        self.negatives = negatives
        self.seed = seed

    @property
    def n_users(self) -> int:
        return int(len(self.users))

    def keys(self):
        """(metric, k) pairs in display order; ("auc", None) for AUC."""
        out = []
        for m in self.metrics:
            if m == "auc":
                out.append(("auc", None))
            else:
                out.extend((m, k) for k in self.k)
        return out

    def summary(self, confidence=0.95) -> pd.DataFrame:
        """One row per (metric, k): mean over users and its t-interval.

        Columns: metric, k (<NA> for auc), mean, ci_low, ci_high, users (the
        number of users behind the mean). Coverage is one number over all
        lists: its interval is NaN.
        """
        rows = []
        for m, k in self.keys():
            if m == "coverage":
                rows.append((m, k, self.coverage[k], np.nan, np.nan, self.n_users))
            else:
                mean, lo, hi, n = t_interval(self.per_user[(m, k)], confidence)
                rows.append((m, k, mean, lo, hi, n))
        df = pd.DataFrame(rows, columns=["metric", "k", "mean", "ci_low", "ci_high", "users"])
        df["k"] = df["k"].astype("Int64")
        return df

    def mean(self, metric, k=None) -> float:
        """The mean of one metric (k is ignored for auc)."""
        if metric == "coverage":
            return float(self.coverage[k])
        key = ("auc", None) if metric == "auc" else (metric, k)
        if key not in self.per_user:
            raise KeyError(f"{metric}@{k} is not in this report; it has {self.keys()}")
        return t_interval(self.per_user[key])[0]

    def per_user_frame(self) -> pd.DataFrame:
        """per_user as a DataFrame indexed by internal user id, one column per
        (metric, k) named like ``ndcg@10``."""
        cols = {(m if k is None else f"{m}@{k}"): v for (m, k), v in self.per_user.items()}
        return pd.DataFrame(cols, index=pd.Index(self.users, name="user"))

    def to_dict(self, per_user=False) -> dict:
        """Plain Python values (JSON-serialisable); per-user lists only if asked."""
        def plain(key, val):
            if val is None or val is pd.NA or (isinstance(val, float) and np.isnan(val)):
                return None
            if key == "metric":
                return str(val)
            return int(val) if key in ("k", "users") else float(val)

        records = [{key: plain(key, val) for key, val in rec.items()}
                   for rec in self.summary().to_dict("records")]
        out = {
            "metrics": list(self.metrics),
            "k": list(self.k),
            "n_users": self.n_users,
            "n_users_skipped": self.n_users_skipped,
            "n_items": self.n_items,
            "negatives": self.negatives,
            "seed": self.seed,
            "summary": records,
        }
        if per_user:
            out["users"] = self.users.tolist()
            out["per_user"] = {(m if k is None else f"{m}@{k}"): v.tolist()
                               for (m, k), v in self.per_user.items()}
        return out

    def _title(self) -> str:
        mode = ("full ranking" if self.negatives is None
                else f"sampled: {self.negatives} negatives per test item, seed {self.seed}")
        return (f"Report({mode}; {self.n_users:,} users evaluated, "
                f"{self.n_users_skipped:,} without test items skipped)")

    def __repr__(self) -> str:
        table = self.summary().to_string(index=False, float_format=lambda x: f"{x:.4f}",
                                         na_rep="")
        return f"{self._title()}\n{table}"

    def _repr_html_(self) -> str:
        html = self.summary().to_html(index=False, float_format=lambda x: f"{x:.4f}",
                                      na_rep="", border=0)
        from html import escape
        return f"<p><b>{escape(self._title())}</b></p>\n{html}"
