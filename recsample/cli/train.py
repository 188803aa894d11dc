"""``recsample train``: fit a model on the training part of a held-out split
and save it, with a sidecar recording the data set and split."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import _data
from ._args import (MODEL_NAMES, NBPO_SGD_LAMBDA_PHI, SAMPLER_NAMES, UsageError,
                    check_dataset, check_name, check_writable_file, data_arguments, fraction,
                    model_arguments, model_params, nonneg_int, option, positive_int, sampler_spec,
                    trainer_arguments)


def add_parser(subparsers):
    p = subparsers.add_parser(
        "train", help="fit a model on a held-out split and save it",
        description="Fit a model on the training part of a per-user random "
        "holdout (--test-fraction, --seed) and save it as .npz. A sidecar "
        "MODEL.npz.json records the data set and split, so `recsample evaluate "
        "MODEL.npz` scores the model on the matching test part.")
    data_arguments(p, required=True)
    model_arguments(p, MODEL_NAMES,
                    f"; nbpo under SGD uses lambda_phi={NBPO_SGD_LAMBDA_PHI}")
    p.add_argument("--sampler-option", type=option, action="append", default=[],
                   metavar="NAME=VALUE", help="a sampler parameter, e.g. candidates=32 "
                   "(repeatable)")
    trainer_arguments(p, "the model's")
    p.add_argument("--threads", type=positive_int, help="training threads (default: all cores)")
    p.add_argument("--seed", type=nonneg_int, default=0,
                   help="seed of the split and of the model (default 0)")
    p.add_argument("--test-fraction", type=fraction, default=0.2,
                   help="share of each user's interactions held out for testing (default 0.2)")
    p.add_argument("--save", required=True, metavar="MODEL.npz", help="where to write the model")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=run)
    return p


def run(args) -> int:
    dataset = check_dataset(args.dataset)
    check_name("model", args.model, list(MODEL_NAMES), "--model")
    if args.sampler is not None:
        check_name("sampler", args.sampler, list(SAMPLER_NAMES), "--sampler")
    save = Path(args.save)
    if save.suffix != ".npz":
        save = save.with_name(save.name + ".npz")
    check_writable_file(save, "--save")
    from .. import registry
    params = model_params(args)
    sampler = sampler_spec(args.model, args.sampler, args.sampler_option)
    if sampler is not None:
        params["sampler"] = sampler
    cls = registry.load("model", args.model)
    try:
        model = cls(seed=args.seed, **params)
        model._validated()
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    data = _data.load(dataset, args.path)
    train, test = _data.split(data, args.test_fraction, args.seed)
    if not args.quiet:
        print(f"training {model!r} on {dataset} ({train.nnz:,} training interactions)",
              file=sys.stderr)
    model.fit(train, progress=not args.quiet)
    written = model.save(save)
    side = _data.sidecar(Path(written))
    from .._version import __version__
    info = {"dataset": dataset, "path": args.path, "split": "random_holdout",
            "test_fraction": args.test_fraction, "seed": args.seed,
            "published_split": isinstance(data, tuple), "recsample_version": __version__}
    side.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    last = model.history_[-1] if model.history_ else {}
    print(f"saved {written} ({len(model.history_)} epochs, final loss "
          f"{last.get('loss', float('nan')):.4f}); split recorded in {side}")
    return 0
