"""The search behind a group loss's defaults (CCL's margin, negative weight and epochs).

``grid``   fits the model at every combination of ``--grid`` (JSON, parameter ->
           values) on a data set's training part less a per-user 10%
           validation part (seed 0), one thread, seed 0, and records
           validation NDCG@10 at each of ``--checks`` epochs. Test data are
           never read. Rows are appended to ``--out``, so a run resumes.
``derive`` reads grid CSVs and ranks each (setting, epochs) by its *worst*
           validation NDCG@10 across the data sets, as a share of the best
           on each set: a setting good on all, not the best on one.

Data: movielens-small split per user 80/20 (seed 0), nbpo-amazon's training
file (``--path`` or ../shared/data/nbpo-amazon), the synthetic set of the
pair-loss search (whose users and items are drawn independently, so it has no
structure to learn beyond popularity; reported, not ranked).

As run for CCL's defaults (2026-12-03, 2 cores):

    python benchmarks/studies/group_defaults.py grid --model CCL \
        --grid '{"margin": [0.5, 0.7, 0.9], "negative_weight": [4, 32, null]}' \
        --data movielens-small synthetic nbpo-amazon --out ccl_grid.csv
    python benchmarks/studies/group_defaults.py grid --model CCL \
        --grid '{"margin": [0.8, 0.9], "negative_weight": [8, 16, 64], "learning_rate": [0.1, 0.03]}' \
        --data movielens-small nbpo-amazon --out ccl_grid2.csv
    python benchmarks/studies/group_defaults.py derive ccl_grid.csv ccl_grid2.csv \
        --data movielens-small nbpo-amazon

(about 25 minutes; the grids are in benchmarks/results/ccl_grid*.csv).

A sampler with its own arguments is written ``{"sampler": [{"dns": {"candidates": 2}}]}``
in ``--grid`` or ``--fixed``.
"""
import itertools
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/, for common
import common  # noqa: E402
import recsample as rs  # noqa: E402
from recsample import registry  # noqa: E402


def training(name, path=None):
    if name == "synthetic":
        data = rs.datasets.synthetic(2000, 1500, 60000, alpha=1.0, seed=0)
        return rs.split.random_holdout(data, test_fraction=0.2, seed=0)[0]
    return common.train_test(name, path)[0]


def grid(args):
    checks = [int(x) for x in args.checks.split(",")]
    space, fixed = json.loads(args.grid), json.loads(args.fixed)
    done = set()
    if os.path.exists(args.out):
        old = pd.read_csv(args.out)
        # files written before the model column hold one model's rows: this one's
        models = old["model"] if "model" in old else [args.model] * len(old)
        done = set(zip(models, old["data"], old["setting"]))
    for name in args.data:
        fit, valid = common.fit_valid(training(name, args.path if name == "nbpo-amazon" else None))
        for values in itertools.product(*space.values()):
            setting = json.dumps(dict(zip(space, values)), sort_keys=True)
            if (args.model, name, setting) in done:
                continue
            rows = []

            def check(epoch, model, record, elapsed):
                if epoch + 1 in checks:
                    rows.append(dict(model=args.model, data=name, setting=setting,
                                     epochs=epoch + 1,
                                     valid_ndcg10=common.mean_metric(model, valid, fit),
                                     seconds=elapsed))
            t0 = time.perf_counter()
            model = getattr(rs, args.model)(**_built(dict(fixed, **json.loads(setting))),
                                            epochs=max(checks), n_threads=1)
            try:
                model.fit(fit, callbacks=[check], progress=False)
            except FloatingPointError:
                rows.append(dict(model=args.model, data=name, setting=setting, epochs=-1,
                                 valid_ndcg10=float("nan"), seconds=0.0))
            best = max(rows, key=lambda r: -1 if r["valid_ndcg10"] != r["valid_ndcg10"]
                       else r["valid_ndcg10"])
            print(f"{name:16s} {setting:64s} best {best['valid_ndcg10']:.4f} at "
                  f"{best['epochs']} ({time.perf_counter() - t0:.0f} s)", flush=True)
            pd.DataFrame(rows).to_csv(args.out, mode="a", header=not os.path.exists(args.out),
                                      index=False)


def _built(params):
    """The model's keyword arguments, with a sampler given as
    ``{"name": {constructor arguments}}`` built (JSON holds no objects)."""
    sampler = params.get("sampler")
    if isinstance(sampler, dict):
        (name, kwargs), = sampler.items()
        params["sampler"] = registry.load("sampler", name)(**kwargs)
    return params


def derive(args):
    d = pd.concat([pd.read_csv(f) for f in args.csv], ignore_index=True)
    d = d[d["data"].isin(args.data) & (d["epochs"] > 0)]
    if "model" in d:
        if args.model is not None:
            d = d[d["model"] == args.model]
        elif d["model"].nunique() > 1:
            sys.exit(f"derive: the files hold rows of {sorted(d['model'].unique())}; "
                     "name one with --model")
    d["ratio"] = d["valid_ndcg10"] / d["data"].map(d.groupby("data")["valid_ndcg10"].max())
    table = d.pivot_table(index=["setting", "epochs"], columns="data", values="ratio").dropna()
    table["worst"] = table.min(axis=1)
    print(table.sort_values("worst", ascending=False).head(args.top).to_string(
        float_format=lambda v: f"{v:.3f}"))


def main():
    ap = common.parser(__doc__, paragraph=True)
    sub = ap.add_subparsers(dest="step", required=True)
    g = sub.add_parser("grid")
    g.add_argument("--model", default="CCL")
    g.add_argument("--grid", required=True, help="JSON: parameter -> list of values")
    g.add_argument("--fixed", default="{}", help="JSON: parameters held fixed")
    g.add_argument("--data", nargs="+", default=["movielens-small", "nbpo-amazon"])
    g.add_argument("--path", default=None, help="nbpo-amazon's folder")
    g.add_argument("--checks", default="10,20,35,50,80")
    g.add_argument("--out", required=True)
    r = sub.add_parser("derive")
    r.add_argument("csv", nargs="+")
    r.add_argument("--data", nargs="+", default=["movielens-small", "nbpo-amazon"])
    r.add_argument("--top", type=int, default=10)
    r.add_argument("--model", default=None,
                   help="rank this model's rows only (files with a model column)")
    args = ap.parse_args()
    (grid if args.step == "grid" else derive)(args)


if __name__ == "__main__":
    main()
