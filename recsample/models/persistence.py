"""Saving and loading models: one ``.npz`` file, no pickles, written atomically.

The archive holds the factor arrays (the model's own rows: with cosine
similarity they are not normalised, ``load_model(...).item_factors`` is),
any arrays a learning sampler keeps
(NBPO's P and Q), and a JSON document under ``__metadata__`` with the model
class, its parameters, the sampler, the recsample version and a format number.
Loading reads only arrays and JSON, so it never executes code from the file.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .._params import renamed_params
from .._version import __version__

FORMAT_VERSION = 1


def _sampler_spec(sampler):
    return {"name": sampler.name, "params": _jsonable(sampler.get_params())}


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "get_params") and hasattr(obj, "name"):
        return {"__sampler__": _sampler_spec(obj)}
    return obj


def save_model(model, path) -> Path:
    model._require_fitted()
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    # the model's own rows: with cosine similarity not normalised (the
    # properties normalise them on reading), so that a loaded model is the
    # same model, fold_in's start (the mean of the items' rows) included
    arrays = {"user_factors": model._user_factors, "item_factors": model._item_factors}
    if getattr(model, "item_counts_", None) is not None:
        arrays["item_counts"] = model.item_counts_
    state = model.sampler_state_
    if state is not None and getattr(model.sampler_, "learns", False):
        for field, value in zip(state._fields, state):
            if isinstance(value, np.ndarray) and value.size:
                arrays[f"sampler__{field}"] = value
    meta = {
        "format_version": FORMAT_VERSION,
        "recsample_version": __version__,
        "class": type(model).__name__,
        "params": _jsonable(model.get_params()),
        "sampler": _sampler_spec(model.sampler_),
        # what fit used for the parameters left at None (the sampler's
        # recommendation or the trainer's default), as a record: loading keeps
        # the None, so a refit follows the recommendations of its version
        "effective_params": _jsonable(getattr(model, "effective_params_", {})),
        "history": model.history_,
        # the visiting order fit used (visit="auto" resolves per data set)
        "visit_used": getattr(model, "visit_", None),
    }
    arrays["__metadata__"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _build(cls, params):
    """``cls(**params)``; a parameter saved under a name since renamed
    (``KOS``'s ``K``, now ``n_positives``) is read under its new name,
    silently: the file is not the caller's code to update."""
    return cls(**renamed_params(cls, params, warn=False))


def _restore(value):
    from ..samplers import SAMPLERS
    if isinstance(value, dict) and "__sampler__" in value:
        spec = value["__sampler__"]
        return _build(SAMPLERS[spec["name"]], spec["params"])
    return value


#: what every model file holds besides ``__metadata__``
_REQUIRED_ARRAYS = ("user_factors", "item_factors")
#: metadata fields load_model reads, with their JSON types
_REQUIRED_META = {"class": str, "params": dict, "sampler": dict}
#: how every .npz (a zip archive) begins; an empty archive has only its end record
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _not_a_model(path, why):
    return ValueError(f"{path} is not a recsample model file (truncated or foreign): {why}")


def _read_arrays(path):
    """Every array of the archive at ``path``, read in full now, so that a
    damaged member fails here with the file's name rather than later."""
    import zipfile
    import zlib
    with open(path, "rb") as fh:
        head = fh.read(4)
    # np.load would read anything else as .npy or as a pickle, and its
    # message would be about pickles, not about the file
    if head not in _ZIP_MAGIC:
        raise _not_a_model(path, "it is not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise _not_a_model(path, f"{type(exc).__name__}: {exc}") from None


def _read_metadata(path, array):
    try:
        meta = json.loads(str(array))
    except ValueError as exc:
        raise _not_a_model(path, f"its metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise _not_a_model(path, f"its metadata is a JSON {type(meta).__name__}, not an object")
    return meta


def _check_contents(path, meta, arrays):
    """The fields and arrays this format version promises (a newer version
    was refused before: it may lay them out otherwise)."""
    for key, kind in _REQUIRED_META.items():
        if key not in meta:
            raise _not_a_model(path, f"its metadata lacks {key!r}")
        if not isinstance(meta[key], kind):
            raise _not_a_model(path, f"its metadata field {key!r} is a "
                               f"{type(meta[key]).__name__}, expected a {kind.__name__}")
    if not isinstance(meta["sampler"].get("name"), str) \
            or not isinstance(meta["sampler"].get("params", {}), dict):
        raise _not_a_model(path, "its metadata field 'sampler' lacks a name or its params")
    missing = [k for k in _REQUIRED_ARRAYS if k not in arrays]
    if missing:
        raise _not_a_model(path, f"it lacks the arrays {missing}")


def load_model(path):
    """Load a model written by ``model.save``.

    Refuses, with a ValueError naming the file, anything that is not such a
    file: a truncated or damaged archive, another program's ``.npz`` or
    ``.npy``, metadata that does not parse, a file from a newer format or of
    an unknown model class.
    """
    from . import MODELS
    from ..samplers import SAMPLERS
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    arrays = _read_arrays(path)
    if "__metadata__" not in arrays:
        raise _not_a_model(path, "it has no recsample metadata; was it written by model.save()?")
    meta = _read_metadata(path, arrays.pop("__metadata__"))
    if "format_version" not in meta:
        raise _not_a_model(path, "its metadata lacks 'format_version'")
    fmt = meta["format_version"]
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise ValueError(f"{path} was written in model format {fmt!r} by recsample "
                         f"{meta.get('recsample_version')}; this recsample ({__version__}) reads "
                         f"format <= {FORMAT_VERSION}: upgrade recsample")
    _check_contents(path, meta, arrays)
    cls = MODELS.get(meta.get("class"))
    if cls is None:
        raise ValueError(f"{path} holds an unknown model class {meta.get('class')!r}; "
                         f"known: {sorted(MODELS)}")
    spec = meta["sampler"]
    if spec["name"] not in SAMPLERS:
        raise ValueError(f"{path} uses an unknown sampler {spec['name']!r}")
    params = {k: _restore(v) for k, v in meta["params"].items()}
    model = _build(cls, params)
    model._user_factors = np.ascontiguousarray(arrays["user_factors"], dtype=np.float32)
    model._item_factors = np.ascontiguousarray(arrays["item_factors"], dtype=np.float32)
    model.sampler_ = _build(SAMPLERS[spec["name"]], spec["params"])
    model.history_ = meta.get("history", [])
    if "item_counts" in arrays:
        model.item_counts_ = np.asarray(arrays["item_counts"], dtype=np.int64)
    if meta.get("effective_params"):
        model.effective_params_ = meta["effective_params"]
    if meta.get("visit_used"):
        model.visit_ = meta["visit_used"]
    fields = {k[len("sampler__"):]: v for k, v in arrays.items() if k.startswith("sampler__")}
    if fields:
        state = model.sampler_.prepare_from_arrays(fields) \
            if hasattr(model.sampler_, "prepare_from_arrays") else None
        model.sampler_state_ = state
    return model
