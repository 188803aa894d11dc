"""The NBPO authors' Amazon Electronics 14-core split (Yu & Qin, SIGIR 2020).

Three JSON files, each a list with one entry per user (the list position is
the user id) holding that user's item ids: ``train_data.json``,
``validation_data.json`` and ``test_data.json``. They are read as they are,
over one shared index space (1,435 users x 1,522 items), after checking each
file's SHA-256 against the published copy.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..interactions import Interactions
from ._download import cache_dir, file_hash

__all__ = ["load_nbpo_amazon", "FILES", "SOURCE"]

SOURCE = "https://github.com/Wenhui-Yu/NBPO (branch master, folder dataset/amazon/)"

#: part -> (file name, SHA-256 of the authors' file)
FILES = {
    "train": ("train_data.json",
              "9feb28fdce1eceb15bcb6700a4bbda85ccffef9ef6878d1f908dfd50e4f0de0a"),
    "valid": ("validation_data.json",
              "550a4128b8c4c761b352c93304c21556f6c247d6ea988e171c3bf11fb4fb65b7"),
    "test": ("test_data.json", "974a2774ef047aecbde3e5118a7138dac80ebe29a3d034952a7f0a49ed2b0911"),
}


def default_path() -> Path:
    """Where the files are looked for without ``path``: ``<cache>/nbpo-amazon``."""
    return cache_dir() / "nbpo-amazon"


def load_nbpo_amazon(path=None, verify: bool = True):
    """``(train, valid, test)`` Interactions of the NBPO Amazon split, one index space.

    ``path`` is the folder holding the three JSON files (default:
    ``<cache>/nbpo-amazon``, see :func:`default_path`). Nothing is downloaded:
    get the files from the NBPO repository, ``dataset/amazon/``. With
    ``verify`` (the default) each file's SHA-256 must match the authors'
    version. Every interaction has weight 1; there are no timestamps.
    """
    folder = default_path() if path is None else Path(path).expanduser()
    names = [fname for fname, _ in FILES.values()]
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        where = "path" if path is not None else "the default folder (no path given)"
        raise ValueError(f"{where} {str(folder)!r} lacks {missing}; nbpo-amazon needs "
                         f"{names} from {SOURCE}, passed as load_dataset('nbpo-amazon', "
                         "path=<folder>)")
    lists = {}
    for part, (fname, sha) in FILES.items():
        f = folder / fname
        if verify:
            got = file_hash(f, "sha256")
            if got != sha:
                raise ValueError(f"{f}: sha256 mismatch: expected {sha}, got {got} (not the "
                                 f"authors' file; pass verify=False to read it anyway)")
        with open(f, encoding="utf-8") as fh:
            lists[part] = _check_lists(json.load(fh), f)
    n_users = {len(v) for v in lists.values()}
    if len(n_users) != 1:
        raise ValueError(f"the three files in {folder} list different numbers of users: "
                         + ", ".join(f"{FILES[p][0]}={len(v)}" for p, v in lists.items()))
    n_users = n_users.pop()
    n_items = 1 + max((max(r) for v in lists.values() for r in v if r), default=-1)
    return tuple(_to_interactions(lists[p], n_users, n_items, f"nbpo-amazon/{p}")
                 for p in ("train", "valid", "test"))


def _check_lists(obj, f: Path) -> list:
    if not isinstance(obj, list) or not all(isinstance(r, list) for r in obj):
        raise ValueError(f"{f}: expected a JSON list of per-user lists of item ids")
    for u, row in enumerate(obj):
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in row):
            raise ValueError(f"{f}: user {u} has item ids that are not non-negative integers")
    return obj


def _to_interactions(rows: list, n_users: int, n_items: int, name: str) -> Interactions:
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    users = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
    items = np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(lengths.sum()))
    m = sp.coo_matrix((np.ones(len(items), dtype=np.float32), (users, items)),
                      shape=(n_users, n_items))
    data = Interactions.from_csr(m, name=name)
    if data.n_duplicates:
        # a repeated item in a user's list is one interaction, not weight 2
        data.matrix.data[:] = 1.0
    return data
