"""``recsample compare``: train every sampler with every model over seeds,
evaluate, print the table and paired tests, write the CSV and the plot."""
from __future__ import annotations

import argparse
import os
import sys

from . import _data
from ._args import (BASELINE_NAMES, MODEL_NAMES, NBPO_SGD_LAMBDA_PHI, UsageError, fraction,
                    model_params, name_list, path_argument, positive_float, positive_int,
                    prepare_out, require_extra, trainer_arguments)
from ._config import COMPARE_DEFAULTS, compare_settings
from ._format import defaults_used, format_table, paired_lines, plot_title

#: ``compare --tune``: epochs between validations within a trial
TUNE_EVAL_EVERY = 5

_DESCRIPTION = (
    "Train each sampler with each model on a per-user random holdout per seed,\n"
    "evaluate with full ranking, and print mean ± 95%% CI over seeds per metric\n"
    "(best marked *). Writes OUT/compare-DATASET.csv (tidy rows, one finished run\n"
    "at a time, so re-running resumes) and OUT/compare-DATASET.png (the plot needs\n"
    "matplotlib: pip install \"recsample[plot]\"; without it the rest is written).\n\n"
    "Defaults: each model's own factors, epochs, learning rate and regularization\n"
    "(BPR: 64 factors, 35 epochs; the default grid of 4 samplers x 3 seeds on\n"
    "movielens-small takes under a minute on 2 cores); the NBPO sampler with\n"
    "lambda_phi=%(lp)s (its SGD setting; set [sampler.nbpo] in --config to\n"
    "change it). Lower --epochs for a quicker look.\n\n"
    "--config FILE.toml may hold any option below (same names, underscores), plus\n"
    "[sampler.NAME] and [model.NAME] tables of parameters; options given on the\n"
    "command line win. See examples/compare.toml."
) % {"lp": NBPO_SGD_LAMBDA_PHI}


def add_parser(subparsers):
    d = COMPARE_DEFAULTS
    p = subparsers.add_parser("compare", help="compare samplers over seeds: table, CSV, plot",
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              description=_DESCRIPTION)
    p.add_argument("--dataset", help=f"data set name (default {d['dataset']})")
    path_argument(p)
    p.add_argument("--samplers", type=name_list,
                   help=f"comma-separated samplers (default {','.join(d['samplers'])})")
    p.add_argument("--models", type=name_list,
                   help=f"comma-separated models among {','.join(MODEL_NAMES)} (default bpr)")
    p.add_argument("--seeds", type=positive_int,
                   help=f"number of seeds, 0..N-1 (default {d['seeds']})")
    trainer_arguments(p, "each model's own", what={"factors": "factors"},
                      order=("epochs", "factors", "learning_rate", "regularization"))
    p.add_argument("--k", type=positive_int, nargs="+", help="cut-offs (default 10 20)")
    p.add_argument("--metrics", type=name_list,
                   help=f"comma-separated metrics (default {','.join(d['metrics'])})")
    p.add_argument("--test-fraction", type=fraction, dest="test_fraction",
                   help="held-out share of each user's interactions (default 0.2)")
    p.add_argument("--out", help=f"folder for the CSV and PNG (default {d['out']}/)")
    p.add_argument("--config", metavar="FILE.toml", help="settings file (TOML)")
    p.add_argument("--threads", type=positive_int, help="training threads (default: all)")
    p.add_argument("--jobs", type=positive_int, help="runs in parallel processes (default 1)")
    p.add_argument("--backend", choices=("local", "ray"), help="where runs execute "
                   "(default local; ray needs pip install \"recsample[ray]\")")
    p.add_argument("--address", help="Ray cluster address (default: start Ray locally)")
    p.add_argument("--quiet", action="store_true", default=None, help="no progress bars")
    p.add_argument("--baselines", type=name_list,
                   help=f"comma-separated reference models to add, among "
                   f"{','.join(BASELINE_NAMES)} (default none)")
    p.add_argument("--tune", type=positive_int, metavar="TRIALS",
                   help="tune every configuration with TRIALS Optuna trials on a validation "
                   "part of each seed's training data, refit the winner on all of it, then "
                   "test; --epochs is then each trial's epoch budget (default 100; epochs "
                   "are chosen by early stopping) (see docs/cli.md)")
    p.add_argument("--tune-timeout", type=positive_float, dest="tune_timeout",
                   metavar="SECONDS", help="with --tune: also stop each study after SECONDS")
    p.add_argument("--tune-metric", dest="tune_metric", metavar="METRIC@K",
                   help="with --tune: the validation metric (default ndcg@10)")
    p.add_argument("--tune-per-seed", dest="tune_per_seed", action="store_true", default=None,
                   help="with --tune: one study per seed on that seed's training part "
                   "(seeds x the cost; default: one study per configuration on the first "
                   "seed's training part, its settings used for every seed)")
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    settings = compare_settings(args)
    if settings["tune"] is not None:
        require_extra("optuna", "tune", "--tune")
    if settings["backend"] == "ray":
        require_extra("ray", "ray", "--backend ray")
    folder = prepare_out(settings["out"])
    quiet = bool(settings["quiet"])
    if quiet:
        os.environ["RECSAMPLE_COMPILE_NOTICE"] = "0"
    from .. import experiments
    from ..experiments.grid import normalize_config
    configs = _configs(settings)
    try:
        for c in configs:
            normalize_config(c).build(0)._validated()
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    stem = f"compare-{settings['dataset']}"
    csv_path, png_path = folder / f"{stem}.csv", folder / f"{stem}.png"
    data = _data.load(settings["dataset"], settings["path"])
    tuned = settings["tune"] is not None
    extra = _tuned_configs([], settings["baselines"])   # the baselines
    if not quiet:
        n = (len(configs) + len(settings["baselines"])) * settings["seeds"]
        how = f", each tuned with {settings['tune']} trials" if tuned else ""
        print(f"{settings['dataset']}: {len(configs) + len(settings['baselines'])} "
              f"configurations x {settings['seeds']} seeds = {n} runs{how} -> {csv_path}",
              file=sys.stderr)
    import warnings

    import pandas as pd
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            if tuned:
                df = _run_tuned(settings, _tuned_configs(configs, []) + extra, data, csv_path,
                                quiet)
            else:
                df = experiments.run(
                    configs, {settings["dataset"]: data}, seeds=settings["seeds"],
                    k=tuple(settings["k"]), metrics=tuple(settings["metrics"]), out=csv_path,
                    n_jobs=settings["jobs"], backend=settings["backend"],
                    address=settings["address"], split=settings["test_fraction"],
                    progress=not quiet)
                if extra:
                    base = _run_tuned(settings, extra, data, csv_path, quiet)
                    failed_runs = df.attrs.get("failed", [])
                    df = pd.concat([df, base], ignore_index=True)
                    df.attrs.update(settings=base.attrs.get("settings"), failed=failed_runs)
        except KeyboardInterrupt:
            print(f"recsample compare: interrupted; finished runs are in {csv_path}; run the "
                  "same command again to complete the rest", file=sys.stderr)
            return 130
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    failed = df.attrs.get("failed", [])
    for w in caught:
        if not issubclass(w.category, RuntimeWarning) or "runs failed" not in str(w.message):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    for f in failed:
        print(f"recsample compare: run failed: {f['model']} + {f['sampler']} seed {f['seed']}: "
              f"{f['error']}", file=sys.stderr)
    if df.empty:
        print("recsample compare: no run finished", file=sys.stderr)
        return 1
    summary = experiments.summarize(df)
    print(format_table(summary, settings, chosen=df.attrs.get("settings")))
    used = "" if tuned else defaults_used(configs)
    if used:
        print(used)
    print(paired_lines(df, settings))
    from .._optional import MissingDependency, require
    try:
        require("matplotlib", "plot", "the plot")
    except MissingDependency as exc:
        # the table and the rows are the results; the plot only shows them
        print(f"recsample compare: no plot written: {exc}", file=sys.stderr)
        print(f"\nrows: {csv_path}")
    else:
        experiments.plot_summary(summary, png_path, title=plot_title(settings, summary))
        print(f"\nrows: {csv_path}\nplot: {png_path}")
    if failed:
        print(f"recsample compare: {len(failed)} runs failed (not written; run the same "
              "command again to retry them)", file=sys.stderr)
        return 1
    return 0


def _configs(settings) -> list:
    """One run configuration per (model, sampler)."""
    from .. import registry
    configs = []
    for model in settings["models"]:
        params = model_params(settings)
        params.update(settings["tables"]["model"].get(model, {}))
        for sampler in settings["samplers"]:
            sparams = dict(settings["tables"]["sampler"].get(sampler, {}))
            if sampler == "nbpo" and model != "nbpo" \
                    and params.get("optimizer", "sgd") == "sgd":
                sparams.setdefault("lambda_phi", NBPO_SGD_LAMBDA_PHI)
            try:
                sampler_obj = registry.load("sampler", sampler)(**sparams)
            except TypeError as exc:
                raise UsageError(f"[sampler.{sampler}]: {exc}") from None
            configs.append({"model": model, "sampler": sampler_obj, "params": dict(params)})
    return configs


def _tuned_configs(configs, baselines) -> list:
    """compare's configurations (and baselines) in the tuned runner's form."""
    from ..experiments.tuned import TunedConfig
    out = [TunedConfig(c["model"], c["sampler"], tuple(sorted(
        (k, v) for k, v in c["params"].items() if k != "n_threads"))) for c in configs]
    return out + [TunedConfig(b) for b in baselines]


def _run_tuned(settings, configs, data, csv_path, quiet):
    from ..experiments.grid import resolve_datasets
    from ..experiments.tuned import run_tuned
    trials = settings["tune"]
    options = None
    if trials is not None:
        # a validation costs about two BPR epochs on movielens-small: check every 5th
        options = {"n_jobs": settings["jobs"], "eval_every": TUNE_EVAL_EVERY}
        if settings["epochs"] is not None:     # tuned: the epoch budget of each trial
            options["max_epochs"] = max(1, settings["epochs"])
            configs = [c.without("epochs") for c in configs]
    return run_tuned(configs, resolve_datasets({settings["dataset"]: data})[0],
                     seeds=settings["seeds"], trials=trials, timeout=settings["tune_timeout"],
                     metric=settings["tune_metric"], k=tuple(settings["k"]),
                     metrics=tuple(settings["metrics"]), out=csv_path,
                     split=settings["test_fraction"], progress=not quiet,
                     n_threads=settings["threads"], tune_options=options,
                     per_seed=bool(settings["tune_per_seed"]), backend=settings["backend"],
                     address=settings["address"])
