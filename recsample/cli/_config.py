"""``compare``'s settings: their defaults, their types in a --config TOML
file, and the merge defaults < file < command line, checked in one place.

Reading the file and pointing at a key's line is :mod:`recsample._config`'s
work; this module knows which keys ``compare`` takes and what each must be.
"""
from __future__ import annotations

from .. import registry
from .._config import ConfigError, check_keys, load_toml, where
from ._args import (ALL_METRICS, BASELINE_NAMES, MODEL_NAMES, SAMPLER_NAMES, UsageError,
                    check_dataset, check_names, name_list)

#: ``compare``'s settings when neither the command line nor --config sets them.
#: None means the model's own default (BPR: 64 factors; epochs, learning rate
#: and regularization as the sampler recommends, else 35, 0.05 and 0.01).
COMPARE_DEFAULTS = {
    "dataset": "movielens-small",
    "path": None,
    "samplers": ["uniform", "popularity", "dns", "nbpo"],
    "models": ["bpr"],
    "seeds": 3,
    "epochs": None,
    "factors": None,
    "learning_rate": None,
    "regularization": None,
    "k": [10, 20],
    "metrics": ["ndcg", "recall", "precision", "map", "mrr", "hit_rate"],
    "test_fraction": 0.2,
    "out": "results",
    "threads": None,
    "jobs": 1,
    "backend": "local",
    "address": None,
    "quiet": False,
    "tune": None,
    "tune_timeout": None,
    "tune_metric": "ndcg@10",
    "tune_per_seed": False,
    "baselines": [],
}
_TABLES = ("sampler", "model")   # [sampler.<name>] and [model.<name>] parameter tables

#: what each setting must be in the file
_SETTING_TYPES = {
    "dataset": str, "path": str, "samplers": "names", "models": "names", "seeds": "posint",
    "epochs": "int", "factors": "posint", "learning_rate": "posfloat",
    "regularization": "float", "k": "ints", "metrics": "names", "test_fraction": "fraction",
    "out": str, "threads": "posint", "jobs": "posint", "backend": "backend",
    "address": str, "quiet": bool, "tune": "posint", "tune_timeout": "posfloat",
    "tune_metric": str, "tune_per_seed": bool, "baselines": "names",
}


def compare_settings(args) -> dict:
    """Defaults < --config file < command-line options; checked, in one dict."""
    settings = dict(COMPARE_DEFAULTS)
    tables = {"sampler": {}, "model": {}}
    if args.config:
        try:
            raw, text = load_toml(args.config)
            _read_file(args.config, raw, text, settings, tables)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
    for key in COMPARE_DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
    settings["tables"] = tables
    _check(settings)
    return settings


def _read_file(path, raw, text, settings, tables):
    """The file's settings into ``settings`` and its parameter tables into
    ``tables``, each key checked."""
    check_keys(path, text, raw, set(COMPARE_DEFAULTS) | set(_TABLES))
    for table in _TABLES:
        if table in raw:
            if not isinstance(raw[table], dict):
                raise ConfigError(f"{where(path, text, (table,))} must be a "
                                  f"table like [{table}.NAME]")
            known = SAMPLER_NAMES if table == "sampler" else MODEL_NAMES
            check_keys(path, text, raw[table], known, prefix=(table,))
            for name, params in raw[table].items():
                if not isinstance(params, dict):
                    raise ConfigError(f"{where(path, text, (table, name))} "
                                      "must be a table of parameters")
                _check_table_params(path, text, table, name, params)
                tables[table][name] = params
    for key, value in raw.items():
        if key not in _TABLES:
            settings[key] = _coerce_setting(key, value, path, text)


def _check(settings):
    """Names and combinations, checked here whichever source they came from."""
    settings["dataset"] = check_dataset(settings["dataset"])
    check_names("sampler", settings["samplers"], SAMPLER_NAMES, "--samplers")
    check_names("model", settings["models"], MODEL_NAMES, "--models")
    check_names("metric", settings["metrics"], ALL_METRICS, "--metrics")
    check_names("baseline", settings["baselines"], BASELINE_NAMES, "--baselines")
    if len(set(settings["baselines"])) != len(settings["baselines"]):
        raise UsageError(f"--baselines lists a name twice: {','.join(settings['baselines'])}")
    if settings["tune_timeout"] is not None and settings["tune"] is None:
        raise UsageError("--tune-timeout needs --tune TRIALS")
    if settings["tune_per_seed"] and settings["tune"] is None:
        raise UsageError("--tune-per-seed needs --tune TRIALS")
    if settings["tune"] is not None:
        from ..tuning import _parse_metric
        try:
            _parse_metric(settings["tune_metric"])
        except ValueError as exc:
            raise UsageError(f"--tune-metric: {exc}") from None
    for flag, key in (("--samplers", "samplers"), ("--models", "models"),
                      ("--metrics", "metrics")):
        if not settings[key]:
            raise UsageError(f"{flag} is empty")
        if len(set(settings[key])) != len(settings[key]):
            raise UsageError(f"{flag} lists a name twice: {','.join(settings[key])}")
    if len(set(settings["k"])) != len(settings["k"]):
        raise UsageError(f"--k lists a value twice: {settings['k']}")


def _coerce_setting(key, value, path, text):
    kind = _SETTING_TYPES[key]

    def bad(expected):
        return ConfigError(f"{where(path, text, (key,))} must be {expected}, got {value!r}")

    if kind is str:
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "names":
        if isinstance(value, str):
            return name_list(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [v.strip().lower() for v in value]
        raise bad("a list of names")
    if kind == "ints":
        value = [value] if isinstance(value, int) and not isinstance(value, bool) else value
        if isinstance(value, list) and value and all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            return value
        raise bad("a positive integer or a list of them")
    if kind in ("int", "posint"):
        low = 1 if kind == "posint" else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise bad("a positive integer" if low else "an integer >= 0")
        return value
    if kind in ("posfloat", "float", "fraction"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number")
        if kind == "posfloat" and not value > 0:
            raise bad("a number > 0")
        if kind == "float" and not value >= 0:
            raise bad("a number >= 0")
        if kind == "fraction" and not 0 < value < 1:
            raise bad("a number strictly between 0 and 1")
        return float(value)
    if kind == "backend":
        if value not in ("local", "ray"):
            raise bad("'local' or 'ray'")
        return value
    raise AssertionError(kind)  # pragma: no cover


def _check_table_params(path, text, table, name, params):
    """A [sampler.NAME] or [model.NAME] table: known parameters, single values."""
    if table == "sampler":
        import inspect
        known = set(inspect.signature(registry.load("sampler", name)).parameters)
    else:
        known = set(registry.load("model", name)._defaults) - {"seed", "sampler"}
    check_keys(path, text, params, known, prefix=(table, name))
    for key, value in params.items():
        if isinstance(value, (dict, list)) and not (table == "model" and key == "sampler"):
            raise ConfigError(f"{where(path, text, (table, name, key))} must be a single value")
