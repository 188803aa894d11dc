"""Reproduce NBPO on the authors' Amazon split.

Yu & Qin, "Sampler Design for Implicit Feedback Data by Noisy-label Robust
Learning", SIGIR 2020. The authors' code and results live in the repository
github.com/Wenhui-Yu/NBPO (branch master); the facts this module relies on
are cited with the file they come from. docs/reproduce_nbpo.md gives the
protocol, the settings and our results.

What is run
-----------
BPR, BPO and NBPO (``rs.BPR``, ``rs.BPO`` with uniform negatives, ``rs.NBPO``)
with the authors' Amazon settings (:func:`authors_settings`), once per seed.
After every epoch (and before the first, "epoch 0", as the authors' result
files have it) the top 20 of every user is computed once per ranking and
F1 and NDCG at 2, 5, 10 and 20 are derived from it on three rankings:

``valid``
    validation items, the user's training items excluded, the authors'
    metric definitions (:func:`authors_f1`, :func:`authors_ndcg`);
``test``
    test items, training items excluded (validation items stay in the
    ranking, as in the authors' code), the authors' definitions;
``test_strict``
    test items, training *and* validation items excluded, recsample's own
    definitions (docs/metrics.md).

Two protocols are then reported side by side:

(a) the authors': for each run, metric and cut-off separately, the best
    value over all epochs; mean and standard deviation over runs. This is how
    ``result_collection/data_process.py`` builds the published
    ``experiment_result/data_process/*.xlsx`` files (its ``max`` sheets; its
    ``top5`` sheets average the 5 best epochs instead, also reported). The
    published Amazon file is on the validation split. Their standard
    deviation is taken over the runs *and* their mean row with ddof 1, which
    equals the population standard deviation (ddof 0) of the runs: we use
    ddof 0 here to match.
(b) strict: per run, the epoch with the best validation NDCG@10 (the first
    such epoch), and the test metrics at that epoch; mean and sample standard
    deviation (ddof 1) over runs. Paired tests across seeds (same seed = same
    initial U, V for every model) compare NBPO with BPO and BPR on test
    NDCG@10.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._checks import check_int as _check_int

__all__ = ["reproduce", "Reproduction", "authors_settings", "authors_f1", "authors_ndcg",
           "select_authors", "select_strict", "paired_tests", "AUTHORS_FILE", "MODELS", "KS",
           "add_arguments", "run"]

#: the models reproduced, in the order they are reported
MODELS = ("BPR", "BPO", "NBPO")
#: cut-offs of the paper's tables (the authors' code also logs 50 and 100)
KS = (2, 5, 10, 20)
METRICS = ("f1", "ndcg")
SPLITS = ("valid", "test", "test_strict")

#: The authors' published Amazon result for NBPO, experiment_result/data_process/
#: amazon_NBPO_1608170256687.xlsx: validation split, 10 runs, protocol (a), eta 0.05,
#: lambda_r 1, lambda_phi 5, K0 = K1 = 50, 3 negatives per positive, batches of
#: 5000, 200 epochs. Keyed by (metric, k).
AUTHORS_FILE = {
    "negatives": 3, "split": "valid", "runs": 10,
    "values": {("f1", 2): 0.0358, ("f1", 5): 0.0392, ("f1", 10): 0.0370, ("f1", 20): 0.0303,
               ("ndcg", 2): 0.0455, ("ndcg", 5): 0.0524, ("ndcg", 10): 0.0644,
               ("ndcg", 20): 0.0775},
}

_EPS = 1e-10  # the authors' guard against division by zero (0.1 ** 10)


# ------------------------------------------------------------------ settings
def authors_settings(negatives: int = 4, epochs: int = 200) -> dict:
    """Per model, the keyword arguments that reproduce the authors' Amazon runs.

    From the authors' scripts ``_BPR.py``, ``_BPO.py``, ``_NBPO.py`` (Amazon,
    ``dataset = 0``): K0 = K1 = 50; U, V ~ U(0, 1/sqrt(K0)); P ~ 5 U(0,
    1/sqrt(K1)), Q ~ -5 U(0, 1/sqrt(K1)) (``rs.samplers.NBPO``'s default);
    ``sample_rate`` negatives per positive, each drawn uniformly and redrawn
    while it is a training positive; mini-batches of 5000 positives whose
    gradients are summed, then W += eta (dW - lambda W) for every row;
    sigmoid taken as 0/1 beyond |x| > 10; 200 epochs. Learning rate and
    weight decay per script: BPR eta 0.05, lambda_r 1; BPO eta 0.05,
    lambda_r 2; NBPO eta 0.05, lambda_r 1, lambda_phi 5.

    The authors multiply eta by 0.99 at the *start* of every epoch, so epoch
    e (from 1) runs with 0.05 * 0.99^e. recsample decays after every epoch
    (epoch e from 0 runs with learning_rate * 0.99^e), hence
    ``learning_rate = 0.05 * 0.99`` here: the same schedule.

    The authors read the positives user by user in file order and never
    shuffle them, so their batches are the same consecutive slices every
    epoch: ``shuffle=False`` (the CSR order is that order).
    """
    _check_int("negatives", negatives, 1)
    _check_int("epochs", epochs, 0)
    common = dict(factors=50, epochs=int(epochs), learning_rate=0.05 * 0.99,
                  learning_rate_decay=0.99, negatives=int(negatives), use_bias=False,
                  init="uniform", init_scale=1.0 / math.sqrt(50), optimizer="batch",
                  batch_size=5000, clip_sigmoid=10.0, shuffle=False)
    return {
        "BPR": dict(common, regularization=1.0, sampler="uniform"),
        "BPO": dict(common, regularization=2.0, sampler="uniform"),
        "NBPO": dict(common, regularization=1.0, sampler="nbpo", flip_factors=50,
                     lambda_phi=5.0),
    }


_SAMPLER_KEYS = ("flip_factors", "lambda_phi")


def _build_model(name: str, params: dict, seed: int):
    import recsample as rs
    from recsample.samplers import NBPO as NBPOSampler

    p = {k: v for k, v in params.items() if k not in _SAMPLER_KEYS}
    if p.get("sampler") == "nbpo":
        p["sampler"] = NBPOSampler(flip_factors=params.get("flip_factors", 50),
                                   lambda_phi=params.get("lambda_phi", 5.0))
    cls = {"BPR": rs.BPR, "BPO": rs.BPO, "NBPO": rs.NBPO}[name]
    return cls(**p, seed=int(seed))


# ------------------------------------------------------------------ metrics
def authors_f1(hits, n_rel, k, n_listed=None):
    """Per-user F1@k with the authors' definitions (``Library.py``,
    ``evaluation_F1``): P = h / max(L, eps), R = h / max(|R|, eps),
    F1 = 2 P R / max(P + R, eps), eps = 1e-10, where h is the number of the
    user's relevant items among the first k of the ranking, L the number of
    items in those first k (k unless fewer items were left to rank) and |R|
    the number of distinct relevant items. With L = k this is recsample's f1@k.

    ``hits``: bool (n_users, >= k), ``hits[u, r]`` true when the item at rank
    r + 1 is relevant; ``n_rel``: |R| per user; ``n_listed``: items ranked per
    user (None: at least k).
    """
    hits = np.asarray(hits, dtype=bool)
    _check_int("k", k, 1)
    if hits.ndim != 2 or hits.shape[1] < k:
        raise ValueError(f"hits must be 2-D with at least k={k} columns, got shape {hits.shape}")
    h = hits[:, :k].sum(axis=1).astype(np.float64)
    listed = np.full(len(h), float(k)) if n_listed is None else \
        np.minimum(np.asarray(n_listed, dtype=np.float64), k)
    p = h / np.maximum(listed, _EPS)
    r = h / np.maximum(np.asarray(n_rel, dtype=np.float64), _EPS)
    return 2.0 * p * r / np.maximum(p + r, _EPS)


def authors_ndcg(hits, n_rel, k):
    """Per-user NDCG@k with the authors' definitions (``Library.py``,
    ``evaluation_NDCG``): DCG = sum_{r=1..k} hit_r / log2(r + 1),
    IDCG = sum_{r=1..min(|R|, k)} 1 / log2(r + 1), NDCG = DCG / max(IDCG, eps).
    Binary gains and an IDCG over min(|R|, k) positions: recsample's ndcg@k.
    (The authors count |R| as the length of the user's list, repeats
    included; the Amazon split has no repeats.)
    """
    hits = np.asarray(hits, dtype=bool)
    _check_int("k", k, 1)
    if hits.ndim != 2 or hits.shape[1] < k:
        raise ValueError(f"hits must be 2-D with at least k={k} columns, got shape {hits.shape}")
    disc = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    dcg = hits[:, :k].astype(np.float64) @ disc
    ideal = np.concatenate([[0.0], np.cumsum(disc)])
    idcg = ideal[np.minimum(np.asarray(n_rel, dtype=np.int64), k)]
    return dcg / np.maximum(idcg, _EPS)


class _Ranker:
    """Per-epoch evaluation: the top 20 per user from the current factors,
    once per ranking, and every (metric, k) derived from it."""

    def __init__(self, train, valid, test, ks=KS):
        from recsample.samplers.base import as_csr
        self.ks = tuple(int(k) for k in ks)
        self.kmax = max(self.ks)
        tr, va, te = (as_csr(x, n) for x, n in ((train, "train"), (valid, "valid"),
                                                 (test, "test")))
        self.train = tr
        self.train_valid = (tr + va).tocsr()
        self.train_valid.data[:] = 1.0
        self.rel = {}
        self.users = {}
        self.n_rel = {}
        for name, m in (("valid", va), ("test", te)):
            n = np.diff(m.indptr)
            self.users[name] = np.flatnonzero(n > 0)  # users without items are left out
            self.n_rel[name] = n[self.users[name]]
            self.rel[name] = m.toarray().astype(bool)
        self.all_users = np.union1d(self.users["valid"], self.users["test"])
        self.pos = {s: np.searchsorted(self.all_users, self.users[s]) for s in ("valid", "test")}

    def _hits(self, split, users, items):
        ok = items >= 0
        hits = self.rel[split][users[:, None], np.where(ok, items, 0)] & ok
        return hits, ok.sum(axis=1)

    def evaluate(self, U, V):
        """(split, metric, k) array of user-averaged values, splits as SPLITS."""
        from recsample.evaluation.metrics import per_user_metrics
        from recsample.evaluation.topk import topk

        out = np.empty((len(SPLITS), len(METRICS), len(self.ks)))
        items, _ = topk(U, V, self.all_users, self.kmax, exclude=self.train)
        for s, split in enumerate(("valid", "test")):
            users = self.users[split]
            hits, listed = self._hits(split, users, items[self.pos[split]])
            for j, k in enumerate(self.ks):
                out[s, 0, j] = authors_f1(hits, self.n_rel[split], k, listed).mean()
                out[s, 1, j] = authors_ndcg(hits, self.n_rel[split], k).mean()
        users = self.users["test"]
        items, _ = topk(U, V, users, self.kmax, exclude=self.train_valid)
        hits, _ = self._hits("test", users, items)
        vals = per_user_metrics(hits.view(np.uint8), self.n_rel["test"], self.ks, METRICS)
        out[2] = vals.mean(axis=2)
        return out


# ------------------------------------------------------------------ one run
_DATA_CACHE = {}


def _data(path):
    key = str(path)
    if key not in _DATA_CACHE:
        import recsample as rs
        train, valid, test = rs.load_dataset("nbpo-amazon", path=path)
        _DATA_CACHE[key] = (train, _Ranker(train, valid, test))
    return _DATA_CACHE[key]


_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _worker_init():
    # one process per core: the batch trainer is single-threaded, and the
    # evaluation kernels must not oversubscribe the other workers' cores
    import numba
    numba.set_num_threads(1)


def _blas_single_thread():
    """One BLAS thread while a run is evaluated. The score matrices here are
    small (1,435 x 1,522): a threaded BLAS gains nothing on them and, on a
    loaded machine, loses an order of magnitude (measured: 23 ms vs 1.4 ms
    per 256-user block with the other core busy)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # the spawned workers already start with _ONE_THREAD
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _run_one(task):
    """Train one (model, seed) and evaluate after every epoch.

    Returns (model, seed, values, seconds, diverged_epoch) with ``values`` of
    shape (epochs + 1, len(SPLITS), len(METRICS), len(KS)); rows after a
    divergence are NaN (the authors' loop stops there too).
    """
    with _blas_single_thread():
        return _run_one_inner(*task)


def _run_one_inner(name, seed, params, path):
    train, ranker = _data(path)
    epochs = int(params["epochs"])
    values = np.full((epochs + 1, len(SPLITS), len(METRICS), len(KS)), np.nan)
    start = time.perf_counter()
    init = _build_model(name, dict(params, epochs=0), seed).fit(train, progress=False)
    values[0] = ranker.evaluate(init.user_factors, init.item_factors)

    def record(epoch, model, rec, elapsed):
        values[epoch + 1] = ranker.evaluate(model.user_factors, model.item_factors)

    diverged = None
    try:
        _build_model(name, params, seed).fit(train, callbacks=[record], progress=False)
    except FloatingPointError:
        diverged = int(np.flatnonzero(np.isnan(values[:, 0, 0, 0]))[0])
    return name, seed, values, time.perf_counter() - start, diverged


def _tidy(runs, ks=KS):
    """Long table (model, seed, epoch, split, metric, k, value) from the runs."""
    frames = []
    for name, seed, values, _, _ in runs:
        idx = pd.MultiIndex.from_product(
            [range(values.shape[0]), SPLITS, METRICS, ks], names=["epoch", "split", "metric", "k"])
        df = pd.DataFrame({"value": values.reshape(-1)}, index=idx).reset_index()
        df.insert(0, "seed", seed)
        df.insert(0, "model", name)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True).dropna(subset=["value"])
    return df.sort_values(["model", "seed", "split", "metric", "k", "epoch"],
                          key=_model_order, ignore_index=True)


def _model_order(col):
    if col.name == "model":
        order = {m: i for i, m in enumerate(MODELS)}
        return col.map(lambda m: order.get(m, len(order)))
    if col.name == "split":
        return col.map({s: i for i, s in enumerate(SPLITS)})
    return col


# ------------------------------------------------------------------ protocols
def _check_table(per_epoch):
    need = {"model", "seed", "epoch", "split", "metric", "k", "value"}
    missing = need - set(per_epoch.columns)
    if missing:
        raise ValueError(f"per_epoch lacks columns {sorted(missing)}; it needs {sorted(need)}")


def select_authors(per_epoch: pd.DataFrame, split: str = "valid", top: int = 1) -> pd.DataFrame:
    """Protocol (a), the authors' ``data_process.py``: for each model, seed,
    metric and cut-off *separately*, the best value over the epochs (``top=1``,
    their "max" sheets) or the mean of the ``top`` best (their "top5" sheets
    use 5); then mean and population std (ddof 0, what their mean-row-included
    ddof-1 formula amounts to) over seeds.

    Returns columns model, metric, k, mean, std, runs.
    """
    _check_table(per_epoch)
    _check_int("top", top, 1)
    d = per_epoch[per_epoch["split"] == split]
    if d.empty:
        raise ValueError(f"split={split!r} has no rows; splits present: "
                         f"{sorted(per_epoch['split'].unique())}")
    best = (d.groupby(["model", "seed", "metric", "k"], sort=False)["value"]
            .apply(lambda v: np.sort(v.to_numpy())[::-1][:top].mean()).rename("value")
            .reset_index())
    out = (best.groupby(["model", "metric", "k"], sort=False)["value"]
           .agg(mean="mean", std=lambda v: v.std(ddof=0), runs="count").reset_index())
    return out.sort_values(["model", "metric", "k"], key=_model_order, ignore_index=True)


def select_strict(per_epoch: pd.DataFrame, by=("ndcg", 10), select_split: str = "valid",
                  report_splits=("test", "test_strict")):
    """Protocol (b): per model and seed the epoch e* with the best
    ``select_split`` value of ``by`` = (metric, k) (the first such epoch),
    and every metric of ``report_splits`` at e*.

    Returns (per_seed, summary): per_seed has model, seed, epoch, split,
    metric, k, value; summary has model, split, metric, k, mean, std
    (ddof 1), runs and the mean selected epoch.
    """
    _check_table(per_epoch)
    metric, k = by
    sel = per_epoch[(per_epoch["split"] == select_split) & (per_epoch["metric"] == metric)
                    & (per_epoch["k"] == k)]
    if sel.empty:
        raise ValueError(f"by={by!r} with select_split={select_split!r} matches no rows")
    sel = sel.sort_values(["model", "seed", "epoch"])
    best = sel.loc[sel.groupby(["model", "seed"], sort=False)["value"].idxmax(),
                   ["model", "seed", "epoch"]]
    rep = per_epoch[per_epoch["split"].isin(report_splits)]
    per_seed = rep.merge(best, on=["model", "seed", "epoch"], how="inner")
    per_seed = per_seed.sort_values(["model", "seed", "split", "metric", "k"], key=_model_order,
                                    ignore_index=True)
    summary = (per_seed.groupby(["model", "split", "metric", "k"], sort=False)
               .agg(mean=("value", "mean"), std=("value", lambda v: v.std(ddof=1)),
                    runs=("value", "count"), epoch=("epoch", "mean")).reset_index())
    summary = summary.sort_values(["model", "split", "metric", "k"], key=_model_order,
                                  ignore_index=True)
    return per_seed, summary


def paired_tests(per_seed: pd.DataFrame, metric: str = "ndcg", k: int = 10,
                 split: str = "test", pairs=(("NBPO", "BPO"), ("NBPO", "BPR"))) -> pd.DataFrame:
    """Paired t-test (scipy.stats.ttest_rel) and Wilcoxon signed-rank test
    (scipy.stats.wilcoxon, two-sided) across seeds of model a vs model b on
    ``split`` ``metric``@``k`` (runs paired by seed: same initial factors)."""
    from scipy import stats
    d = per_seed[(per_seed["split"] == split) & (per_seed["metric"] == metric)
                 & (per_seed["k"] == k)]
    rows = []
    for a, b in pairs:
        va = d[d["model"] == a].set_index("seed")["value"]
        vb = d[d["model"] == b].set_index("seed")["value"]
        seeds = va.index.intersection(vb.index)
        x, y = va.loc[seeds].to_numpy(), vb.loc[seeds].to_numpy()
        row = {"a": a, "b": b, "split": split, "metric": metric, "k": k, "runs": len(seeds),
               "mean_a": x.mean() if len(x) else np.nan, "mean_b": y.mean() if len(y) else np.nan,
               "mean_diff": (x - y).mean() if len(x) else np.nan, "a_wins": int((x > y).sum()),
               "t": np.nan, "p_t": np.nan, "w": np.nan, "p_wilcoxon": np.nan}
        if len(seeds) >= 2 and np.any(x != y):
            t = stats.ttest_rel(x, y)
            w = stats.wilcoxon(x, y)
            row.update(t=float(t.statistic), p_t=float(t.pvalue), w=float(w.statistic),
                       p_wilcoxon=float(w.pvalue))
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ results
@dataclass
class Reproduction:
    """Results of :func:`reproduce`.

    ``per_epoch``: tidy per-epoch table (model, seed, epoch, split, metric, k,
    value); ``protocol_a`` / ``protocol_a_top5``: the authors' selection on
    the validation split; ``protocol_a_test``: the same selection applied to
    the test split (the authors' ``vali_test = 1`` mode; it picks epochs on
    test, so it is optimistic and shown only for comparison with papers that
    report it); ``strict_per_seed`` / ``protocol_b``: protocol (b);
    ``paired``: paired tests on test NDCG@10 under (b); ``comparison``: NBPO
    under (a) against the authors' published file (when ``negatives`` is 3).
    """

    per_epoch: pd.DataFrame
    settings: dict
    seconds: float
    diverged: dict = field(default_factory=dict)
    train_seconds: dict = field(default_factory=dict)

    def __post_init__(self):
        self.protocol_a = select_authors(self.per_epoch, "valid", top=1)
        self.protocol_a_top5 = select_authors(self.per_epoch, "valid", top=5)
        self.protocol_a_test = select_authors(self.per_epoch, "test", top=1)
        self.strict_per_seed, self.protocol_b = select_strict(self.per_epoch)
        self.paired = pd.concat([paired_tests(self.strict_per_seed, split=s)
                                 for s in ("test", "test_strict")], ignore_index=True)
        self.comparison = self._compare()

    @property
    def negatives(self) -> int:
        return int(next(iter(self.settings["models"].values()))["negatives"])

    def _compare(self):
        rows = []
        a = self.protocol_a[self.protocol_a["model"] == "NBPO"].set_index(["metric", "k"])
        t5 = self.protocol_a_top5[self.protocol_a_top5["model"] == "NBPO"].set_index(
            ["metric", "k"])
        for (metric, k), ref in AUTHORS_FILE["values"].items():
            if (metric, k) not in a.index:
                continue
            ours, top5 = a.loc[(metric, k)], t5.loc[(metric, k)]
            rows.append({"metric": metric, "k": k, "authors": ref, "ours_max": ours["mean"],
                         "ours_max_std": ours["std"], "rel_diff_max": ours["mean"] / ref - 1,
                         "ours_top5": top5["mean"], "rel_diff_top5": top5["mean"] / ref - 1})
        return pd.DataFrame(rows)

    # ----------------------------------------------------------- reporting
    def table(self) -> str:
        """Markdown: protocols (a) and (b), the authors' file, paired tests."""
        s = self.settings
        lines = [f"NBPO reproduction on nbpo-amazon: {s['seeds']} seeds, {s['epochs']} epochs, "
                 f"{self.negatives} negatives per positive ({self.seconds:.0f} s)", ""]
        head = "| model | " + " | ".join(f"{m.upper() if m == 'f1' else 'NDCG'}@{k}"
                                          for m in METRICS for k in KS) + " |"
        rule = "|---|" + "---|" * (len(METRICS) * len(KS))

        def rows(df, label=lambda m: m, extra=None):
            out = []
            for model in [m for m in MODELS if m in set(df["model"])]:
                d = df[df["model"] == model].set_index(["metric", "k"])
                cells = [f"{d.loc[(m, k), 'mean']:.4f} ± {d.loc[(m, k), 'std']:.4f}"
                         if (m, k) in d.index else "" for m in METRICS for k in KS]
                out.append(f"| {label(model)} | " + " | ".join(cells) + " |")
            return out

        lines += ["(a) the authors' protocol: best epoch per metric and cut-off, validation "
                  "split, mean ± std (ddof 0) over seeds", "", head, rule]
        lines += rows(self.protocol_a)
        lines += rows(self.protocol_a_top5, lambda m: f"{m} (mean of 5 best epochs)")
        if not self.comparison.empty:
            c = self.comparison.set_index(["metric", "k"])
            ref = [f"{c.loc[(m, k), 'authors']:.4f}" if (m, k) in c.index else ""
                   for m in METRICS for k in KS]
            rel = [f"{100 * c.loc[(m, k), 'rel_diff_max']:+.1f}%" if (m, k) in c.index else ""
                   for m in METRICS for k in KS]
            lines.append(f"| NBPO, authors' file ({AUTHORS_FILE['negatives']} negatives) | "
                         + " | ".join(ref) + " |")
            lines.append("| NBPO ours vs authors' file | " + " | ".join(rel) + " |")
        lines += ["", "(a') the same selection on the test split (epochs picked on test: "
                  "optimistic)", "", head, rule]
        lines += rows(self.protocol_a_test)
        for split, what in (("test", "training items excluded, the authors' definitions"),
                            ("test_strict", "training and validation items excluded, "
                                            "recsample's definitions")):
            b = self.protocol_b[self.protocol_b["split"] == split]
            ep = b.groupby("model")["epoch"].mean()
            lines += ["", f"(b) strict: epoch chosen on validation NDCG@10, test split ({what}), "
                      "mean ± std (ddof 1) over seeds", "", head, rule]
            lines += rows(b, lambda m: f"{m} (epoch {ep.get(m, float('nan')):.0f})")
        if not self.paired.empty:
            lines += ["", "Paired tests across seeds, test NDCG@10 under (b)", "",
                      "| ranking | a vs b | mean a | mean b | a better in | t | p (t) | "
                      "p (Wilcoxon) |", "|---|---|---|---|---|---|---|---|"]
            for _, r in self.paired.iterrows():
                lines.append(f"| {r['split']} | {r['a']} vs {r['b']} | {r['mean_a']:.4f} | "
                             f"{r['mean_b']:.4f} | {r['a_wins']}/{r['runs']} | {r['t']:.2f} | "
                             f"{r['p_t']:.2g} | {r['p_wilcoxon']:.2g} |")
        if self.diverged:
            lines += ["", "Diverged runs (model, seed: epoch): "
                      + ", ".join(f"{m} {s}: {e}" for (m, s), e in self.diverged.items())]
        return "\n".join(lines)

    def plot(self, path=None, metric="ndcg", k=10, split="valid"):
        """Mean over seeds (± one std band) of ``split`` ``metric``@``k`` per
        epoch, one line per model. Saves to ``path`` when given; returns the
        matplotlib Figure."""
        import matplotlib
        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        d = self.per_epoch[(self.per_epoch["split"] == split)
                           & (self.per_epoch["metric"] == metric) & (self.per_epoch["k"] == k)]
        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for model in [m for m in MODELS if m in set(d["model"])]:
            g = d[d["model"] == model].groupby("epoch")["value"]
            mean, std = g.mean(), g.std(ddof=0).fillna(0.0)
            ax.plot(mean.index, mean.to_numpy(), label=model, lw=1.5)
            ax.fill_between(mean.index, (mean - std).to_numpy(), (mean + std).to_numpy(),
                            alpha=0.25)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{split} {metric.upper()}@{k}")
        ax.set_title(f"nbpo-amazon, {self.settings['seeds']} seeds, "
                     f"{self.negatives} negatives (mean ± std)")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        if path is not None:
            fig.savefig(path)
        return fig

    def save(self, out) -> dict:
        """Write the tables, the per-epoch CSV (gzip), the plot and the
        settings into folder ``out``; returns {what: path}."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"per_epoch": out / "per_epoch.csv.gz", "protocol_a": out / "protocol_a.csv",
                 "protocol_b": out / "protocol_b.csv", "paired": out / "paired_tests.csv",
                 "comparison": out / "authors_file_comparison.csv", "table": out / "table.md",
                 "plot": out / "valid_ndcg10.png", "settings": out / "settings.json"}
        self.per_epoch.to_csv(paths["per_epoch"], index=False, float_format="%.6g",
                              compression={"method": "gzip", "mtime": 0})
        a = pd.concat([self.protocol_a.assign(split="valid", selection="max"),
                       self.protocol_a_top5.assign(split="valid", selection="top5"),
                       self.protocol_a_test.assign(split="test", selection="max")])
        a.to_csv(paths["protocol_a"], index=False, float_format="%.6g")
        paths["protocol_b_per_seed"] = out / "protocol_b_per_seed.csv"
        self.strict_per_seed.to_csv(paths["protocol_b_per_seed"], index=False,
                                    float_format="%.6g")
        self.protocol_b.to_csv(paths["protocol_b"], index=False, float_format="%.6g")
        self.paired.to_csv(paths["paired"], index=False, float_format="%.6g")
        self.comparison.to_csv(paths["comparison"], index=False, float_format="%.6g")
        paths["table"].write_text(self.table() + "\n", encoding="utf-8")
        import matplotlib.pyplot as plt
        plt.close(self.plot(paths["plot"]))
        meta = dict(self.settings, seconds=round(self.seconds, 1),
                    train_seconds={f"{m}/{s}": round(t, 2)
                                   for (m, s), t in self.train_seconds.items()},
                    diverged={f"{m}/{s}": e for (m, s), e in self.diverged.items()})
        paths["settings"].write_text(json.dumps(meta, indent=1, default=str) + "\n",
                                     encoding="utf-8")
        return {k: str(v) for k, v in paths.items()}


# ------------------------------------------------------------------ driver
def reproduce(path, seeds=10, epochs=200, negatives=4, models=MODELS, out=None, n_jobs=2,
              progress=True, overrides=None) -> Reproduction:
    """Train ``models`` on nbpo-amazon for ``seeds`` seeds (0 .. seeds-1) with
    the authors' settings (:func:`authors_settings`), evaluating after every
    epoch; return a :class:`Reproduction` (and write it to folder ``out``).

    ``path``: folder with the authors' three JSON files. ``n_jobs``: runs
    trained at once in separate processes (the batch trainer is
    single-threaded); 1 runs everything in this process. ``overrides``:
    {model: {parameter: value}} on top of the authors' settings, e.g.
    ``{"BPO": {"regularization": 1.0}}``.
    """
    _check_int("seeds", seeds, 1)
    _check_int("n_jobs", n_jobs, 1)
    if isinstance(models, str):
        models = (models,)
    models = tuple(models)
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ValueError(f"models must be a non-empty subset of {MODELS}, got {models!r}")
    settings = authors_settings(negatives, epochs)
    for model, extra in (overrides or {}).items():
        if model not in settings:
            raise ValueError(f"overrides: unknown model {model!r}; expected one of {MODELS}")
        settings[model] = dict(settings[model], **extra)
    path = Path(path).expanduser()
    _data(path)  # fail here, with the loader's message, if the files are missing
    for m in models:  # parameter errors surface before any process starts
        _build_model(m, settings[m], 0)._validated()
    # the slowest model first, so the last runs to finish are short ones
    tasks = [(m, s, settings[m], str(path)) for m in sorted(models, key=lambda m: m != "NBPO")
             for s in range(int(seeds))]
    start = time.perf_counter()
    runs = []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(tasks), desc="nbpo-amazon runs", unit="run")
    try:
        if n_jobs == 1 or len(tasks) == 1:
            for t in tasks:
                runs.append(_run_one(t))
                if bar is not None:
                    bar.update(1)
        else:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor, as_completed
            # spawn: each worker starts from the environment set here (a
            # forkserver started earlier would keep its own)
            saved = {k: os.environ.get(k) for k in _ONE_THREAD}
            os.environ.update(_ONE_THREAD)
            try:
                pool = ProcessPoolExecutor(max_workers=min(n_jobs, len(tasks)),
                                           mp_context=mp.get_context("spawn"),
                                           initializer=_worker_init)
                futures = [pool.submit(_run_one, t) for t in tasks]
            finally:
                for k, v in saved.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
            with pool:
                for f in as_completed(futures):
                    runs.append(f.result())
                    if bar is not None:
                        bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - start
    meta = {"dataset": "nbpo-amazon", "seeds": int(seeds), "epochs": int(epochs),
            "models": {m: settings[m] for m in models}, "n_jobs": int(n_jobs),
            "ks": list(KS), "splits": list(SPLITS)}
    result = Reproduction(
        per_epoch=_tidy(runs), settings=meta, seconds=seconds,
        diverged={(m, s): d for m, s, _, _, d in runs if d is not None},
        train_seconds={(m, s): t for m, s, _, t, _ in runs})
    if out is not None:
        result.save(out)
    return result


# ------------------------------------------------------------------ command line
def _default_path():
    env = os.environ.get("RECSAMPLE_NBPO_AMAZON")
    if env:
        return env
    from recsample.datasets.nbpo_amazon import default_path
    return str(default_path())


def _override(text):
    try:
        key, value = text.split("=", 1)
        model, param = key.split(".", 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--set takes MODEL.PARAM=VALUE (e.g. BPO.regularization=1), got {text!r}") from None
    for cast in (int, float):
        try:
            return model, param, cast(value)
        except ValueError:
            pass
    return model, param, value


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``recsample reproduce nbpo``."""
    parser.add_argument("--path", default=_default_path(),
                        help="folder with the authors' train/validation/test JSON files "
                             "(default: $RECSAMPLE_NBPO_AMAZON or the dataset cache)")
    parser.add_argument("--seeds", type=int, default=10, help="runs per model (seeds 0..N-1)")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--negatives", type=int, default=4,
                        help="negatives per positive (the authors' code: 4; their published "
                             "Amazon file: 3)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", default=None, help="folder for the tables, CSVs and plot")
    parser.add_argument("--jobs", type=int, default=2, help="runs trained in parallel")
    parser.add_argument("--set", dest="overrides", action="append", type=_override, default=[],
                        metavar="MODEL.PARAM=VALUE",
                        help="change one of the authors' settings, e.g. BPO.regularization=1")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def run(args) -> int:
    """Run the reproduction from parsed arguments; print the table. Returns
    the exit status."""
    overrides = {}
    for model, param, value in args.overrides:
        overrides.setdefault(model, {})[param] = value
    try:
        result = reproduce(args.path, seeds=args.seeds, epochs=args.epochs,
                           negatives=args.negatives, models=args.models, out=args.out,
                           n_jobs=args.jobs, progress=not args.no_progress, overrides=overrides)
    except (ValueError, TypeError) as exc:
        print(f"recsample reproduce nbpo: error: {exc}", file=sys.stderr)
        return 2
    print(result.table())
    if args.out:
        print(f"\nwritten to {args.out}")
    return 0
