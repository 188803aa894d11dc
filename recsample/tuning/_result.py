"""What a study found: :class:`TuneResult`, built from the best finished
trial, and the table of all trials."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._study import _optuna
from ._trials import _Objective


@dataclass
class TuneResult:
    """What a study found.

    ``params`` are the winning constructor parameters of ``model_class``,
    with ``epochs`` set to the best trial's best epoch and ``sampler`` to a
    sampler instance carrying its chosen settings, so
    ``result.model_class(**result.params)`` (or :meth:`make_model`) rebuilds
    the winner. ``value`` is its validation score, ``trials`` one row per
    trial (number, state, value, epochs, seconds and one column per searched
    parameter), ``study`` the ``optuna.Study``.
    """

    model_class: type
    params: dict
    value: float
    metric: str
    study: object = field(repr=False)
    trials: pd.DataFrame = field(repr=False)

    def make_model(self, **overrides):
        """A fresh, unfitted model with the chosen settings (``overrides`` win)."""
        return self.model_class(**{**self.params, **overrides})

    def settings(self) -> dict:
        """The chosen settings as plain JSON-ready values (the sampler's under
        ``"sampler"`` as ``{"name": ..., parameter: value}``)."""
        out = {}
        for key, value in self.params.items():
            if key == "sampler" and hasattr(value, "get_params"):
                out[key] = {"name": value.name, **_plain(value.get_params())}
            elif key not in ("n_threads", "patience", "valid_metric", "eval_every"):
                out[key] = _plain(value)
        return out


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return float(f"{value:.4g}")
    return value


def _pick_best(study, cls, base, sampler, fixed, metric, n_threads):
    """The best finished trial as a TuneResult: its parameters rebuilt as
    constructor arguments, with the epochs it stopped at."""
    optuna = _optuna()
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    frame = _trials_frame(study)
    if not complete:
        raise RuntimeError(f"no trial of study {study.study_name!r} finished (all were pruned, "
                           "failed or stopped by the timeout); give more trials or time")
    best = max(complete, key=lambda t: t.value)
    job = _Objective(cls, base, sampler, {}, fixed, None, None, None, None, None, None, None,
                     n_threads)
    params = job.build(best.params)
    params.pop("seed", None)
    if "n_threads" not in base:
        params.pop("n_threads", None)   # a resource of this machine, not a setting
    if "epochs" in best.user_attrs:
        params["epochs"] = int(best.user_attrs["epochs"])
    return TuneResult(cls, params, float(best.value), metric, study, frame)


def _trials_frame(study) -> pd.DataFrame:
    rows = []
    for t in study.get_trials(deepcopy=False):
        row = {"trial": t.number, "state": t.state.name.lower(), "value": t.value,
               "epochs": t.user_attrs.get("epochs"), "seconds": t.user_attrs.get("seconds")}
        row.update(t.params)
        rows.append(row)
    columns = ["trial", "state", "value", "epochs", "seconds"]
    frame = pd.DataFrame(rows)
    return frame if rows else pd.DataFrame(columns=columns)
