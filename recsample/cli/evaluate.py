"""``recsample evaluate``: full-ranking evaluation of a saved model on the
test part of the split it was trained on."""
from __future__ import annotations

import json
from pathlib import Path

from . import _data
from ._args import (ALL_METRICS, UsageError, check_dataset, check_names, fraction, name_list,
                    nonneg_int, path_argument, positive_int)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "evaluate", help="score a saved model on its held-out split",
        description="Full-ranking evaluation of a saved model. The data set and "
        "split come from the sidecar MODEL.npz.json written by `recsample "
        "train`; --dataset, --seed and --test-fraction override it (without a "
        "sidecar they default to seed 0 and fraction 0.2, train's defaults).")
    p.add_argument("model", metavar="MODEL.npz", help="a model saved by `recsample train`")
    p.add_argument("--dataset", help="data set name (default: from the sidecar)")
    path_argument(p)
    p.add_argument("--seed", type=nonneg_int, default=None, help="split seed")
    p.add_argument("--test-fraction", type=fraction, default=None, help="held-out share")
    p.add_argument("--k", type=positive_int, nargs="+", default=[10, 20],
                   help="cut-offs (default: 10 20)")
    p.add_argument("--metrics", type=name_list, default=None,
                   help=f"comma-separated metrics (default: all of {','.join(ALL_METRICS)})")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    from ..evaluation import evaluate
    from ..models import load_model
    path = Path(args.model)
    if not path.is_file():
        raise UsageError(f"MODEL {str(path)!r} does not exist")
    side = _data.sidecar(path)
    info = {}
    if side.is_file():
        try:
            info = json.loads(side.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(f"sidecar {str(side)!r} is not valid JSON: {exc}") from None
    dataset = args.dataset or info.get("dataset")
    if dataset is None:
        raise UsageError(f"--dataset is required: {str(side)!r} (written by `recsample "
                         "train`) is missing, so the data set is unknown")
    dataset = check_dataset(dataset)
    seed = args.seed if args.seed is not None else int(info.get("seed", 0))
    held_out = args.test_fraction if args.test_fraction is not None else \
        float(info.get("test_fraction", 0.2))
    metrics = tuple(args.metrics) if args.metrics else ALL_METRICS
    check_names("metric", metrics, ALL_METRICS, "--metrics")
    try:
        model = load_model(path)
    except (ValueError, OSError) as exc:
        raise UsageError(f"MODEL: {exc}") from None
    data = _data.load(dataset, args.path or info.get("path"))
    train, test = _data.split(data, held_out, seed)
    if (model.n_users, model.n_items) != train.shape:
        raise UsageError(f"the model was trained on {model.n_users} users x {model.n_items} "
                         f"items but --dataset {dataset} has {train.shape[0]} x "
                         f"{train.shape[1]}: evaluate on the data set it was trained on")
    report = evaluate(model, test, train=train, k=tuple(args.k), metrics=metrics)
    if args.json:
        out = report.to_dict()
        out.update(dataset=dataset, seed=seed, test_fraction=held_out, model=str(path))
        print(json.dumps(out, indent=2))
    else:
        split = "published split" if isinstance(data, tuple) else \
            f"random holdout {held_out:g}, seed {seed}"
        print(f"{path}: {dataset}, {split}")
        print(report)
    return 0
