"""The data set a command works on: loaded by name, split into training and
test parts, and the sidecar file that records both next to a saved model.

Commands call :func:`load` through this module (``_data.load``), so a test
can replace it in one place.
"""
from __future__ import annotations

from pathlib import Path

from ._args import UsageError


def load(dataset, path):
    """The named data set, with loader errors (missing files, bad path) as usage errors."""
    from ..experiments.grid import load_named
    try:
        return load_named(dataset, path)
    except (ValueError, FileNotFoundError, TypeError, OSError) as exc:
        raise UsageError(f"--dataset {dataset}: {exc}") from None


def split(data, test_fraction, seed):
    """(train, test): a per-user random holdout, or a published split as it is."""
    from ..interactions import Interactions
    from ..split import random_holdout
    if isinstance(data, tuple):
        return data[0], data[-1]
    assert isinstance(data, Interactions)
    return random_holdout(data, test_fraction=test_fraction, seed=seed)


def sidecar(model_path: Path) -> Path:
    """MODEL.npz.json: the data set and split a saved model was trained on."""
    return model_path.with_name(model_path.name + ".json")
