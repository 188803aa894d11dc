"""The Optuna study: creating it or resuming a stored one (SQLite path or
storage URL, checked against the settings it was started with), its pruner,
and the count of trials already done. Optuna is imported only when called."""
from __future__ import annotations

import json
import os

#: Trial states that count as done when a stored study is resumed; a trial
#: that failed or was interrupted (Ctrl-C marks it failed) runs again.
_DONE_STATES = ("COMPLETE", "PRUNED")


def _optuna():
    """optuna, or an ImportError naming the extra that installs it."""
    from .._optional import require
    return require("optuna", "tune", "rs.tune")


def _describe_space(ranges, fixed) -> str:
    return json.dumps({k: repr(v) for k, v in {**ranges, **fixed}.items()}, sort_keys=True)


def _storage_url(storage):
    if storage is None:
        return None
    text = os.fspath(storage) if not isinstance(storage, str) else storage
    if "://" in text:
        return text
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise ValueError(f"storage: the folder of {text!r} does not exist")
    return f"sqlite:///{os.path.abspath(text)}"


def _open_study(optuna, cls, sampler, metric, ranges, fixed, seed, storage, study_name, n_jobs,
                prune):
    """Create the study, or resume the stored one after checking it was
    started with the same settings. Returns (study, storage url, study name,
    trials already done)."""
    if storage is None and n_jobs > 1:
        import tempfile
        storage = os.path.join(tempfile.mkdtemp(prefix="recsample-tune-"), "study.db")
    url = _storage_url(storage)
    sampler_name = sampler.name if sampler is not None else None
    name = study_name or "-".join(p for p in (cls.__name__.lower(), sampler_name, metric) if p)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=name, storage=url, load_if_exists=True, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=_pruner(optuna, prune))
    identity = {"model": cls.__name__, "sampler": repr(sampler), "metric": metric,
                "space": _describe_space(ranges, fixed), "seed": seed}
    _check_identity(study, identity, url, name)
    done = _n_done(study)
    # a resumed study continues TPE's random start-up with fresh draws
    study.sampler = optuna.samplers.TPESampler(seed=seed + done)
    return study, url, name, done


def _check_identity(study, identity, url, name):
    stored = study.user_attrs.get("recsample")
    if stored is None:
        study.set_user_attr("recsample", identity)
    elif stored != identity:
        diff = {k: (stored.get(k), v) for k, v in identity.items() if stored.get(k) != v}
        raise ValueError(f"storage: study {name!r} in {url} was started with other settings "
                         f"{diff} (stored, now); use another study_name or storage")


def _done_states(optuna) -> tuple:
    return tuple(getattr(optuna.trial.TrialState, s) for s in _DONE_STATES)


def _pruner(optuna, prune):
    """Optuna's median pruner (after 5 finished trials and 5 epochs), or none."""
    if prune:
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
    return optuna.pruners.NopPruner()


def _n_done(study) -> int:
    return len(study.get_trials(deepcopy=False, states=_done_states(_optuna())))
