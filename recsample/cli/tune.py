"""``recsample tune``: tune one model's (and sampler's) hyper-parameters with
Optuna on validation data carved from the training part."""
from __future__ import annotations

import json
from pathlib import Path

from . import _data
from ._args import (BASELINE_NAMES, MODEL_NAMES, SAMPLER_NAMES, UsageError, check_dataset,
                    check_name, check_writable_file, data_arguments, fraction, model_arguments,
                    nonneg_int, positive_float, positive_int, require_extra, sampler_spec)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "tune", help="tune one model (and sampler) on validation data",
        description="Tune a model's hyper-parameters with Optuna (TPE, median "
        "pruning on the per-epoch validation metric, epochs by early stopping) "
        "on the training part of a per-user random holdout; validation is "
        "carved from it and the test part is never read. Prints one line per "
        "trial off a terminal, then the chosen settings. With --storage the "
        "study is kept in an SQLite file and an interrupted run resumes.")
    data_arguments(p, required=True)
    model_arguments(p, MODEL_NAMES + BASELINE_NAMES)
    p.add_argument("--trials", type=positive_int, default=30, help="trials (default 30)")
    p.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                   help="start no trial after SECONDS")
    p.add_argument("--metric", default="ndcg@10", help="validation metric (default ndcg@10)")
    p.add_argument("--seed", type=nonneg_int, default=0,
                   help="seed of the split, the validation part, TPE and the models (default 0)")
    p.add_argument("--test-fraction", type=fraction, default=0.2,
                   help="held-out share set aside (and never read) as test (default 0.2)")
    p.add_argument("--factors", type=positive_int, help="latent factors (fixed)")
    p.add_argument("--max-epochs", type=positive_int, default=100, dest="max_epochs",
                   help="epoch budget per trial (default 100)")
    p.add_argument("--patience", type=positive_int, default=10,
                   help="epochs without improvement before a trial stops (default 10)")
    p.add_argument("--storage", metavar="FILE.db", help="SQLite file (or Optuna storage URL) "
                   "holding the study, to resume it or share it between processes")
    p.add_argument("--study-name", dest="study_name", help="default MODEL-SAMPLER-METRIC")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="trials at once, in processes sharing the study (default 1)")
    p.add_argument("--threads", type=positive_int, help="training threads per trial")
    p.add_argument("--out", metavar="FILE.json", help="write the settings and trials as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress")
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    require_extra("optuna", "tune", "tuning")
    dataset = check_dataset(args.dataset)
    check_name("model", args.model, list(MODEL_NAMES + BASELINE_NAMES), "--model")
    if args.sampler is not None:
        if args.model in BASELINE_NAMES:
            raise UsageError(f"--sampler: {args.model} does not draw negatives")
        check_name("sampler", args.sampler, list(SAMPLER_NAMES), "--sampler")
    from ..tuning import _parse_metric, tune
    try:
        _parse_metric(args.metric)
    except ValueError as exc:
        raise UsageError(f"--metric: {exc}") from None
    out = Path(args.out) if args.out else None
    if out is not None:
        check_writable_file(out, "--out")
    params = {"factors": args.factors} if args.factors is not None else {}
    data = _data.load(dataset, args.path)
    train, _test = _data.split(data, args.test_fraction, args.seed)   # _test is never read
    sampler = sampler_spec(args.model, args.sampler, []) if args.model in MODEL_NAMES \
        else None
    try:
        result = tune(args.model, sampler, train=train, trials=args.trials,
                      timeout=args.timeout, metric=args.metric, seed=args.seed,
                      storage=args.storage, study_name=args.study_name, params=params,
                      max_epochs=args.max_epochs, patience=args.patience, n_jobs=args.jobs,
                      n_threads=args.threads, progress=not args.quiet)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None
    settings = result.settings()
    finished = int(result.trials["state"].isin(["complete", "pruned"]).sum())
    print(f"{dataset}: best validation {result.metric} {result.value:.4f} after {finished} "
          f"trials; settings {json.dumps(settings, sort_keys=True)}")
    if out is not None:
        out.write_text(json.dumps({"dataset": dataset, "seed": args.seed,
                                   "test_fraction": args.test_fraction, "metric": result.metric,
                                   "value": result.value, "settings": settings,
                                   "trials": json.loads(result.trials.to_json(orient="records"))},
                                  indent=2) + "\n", encoding="utf-8")
        print(f"settings and trials: {out}")
    return 0
