"""Benchmark splits stored as ``user item item ...`` text lines.

The NGCF / LightGCN releases of Gowalla, Yelp2018 and Amazon-Book (Wang et
al., SIGIR 2019; He et al., SIGIR 2020), reused unchanged by SimpleX and many
later papers, ship a fixed ``train.txt`` and ``test.txt``: one line per user,
the user's 0-based id followed by the 0-based ids of its items, separated by
spaces. :func:`read_user_item_lines` reads one such file;
:func:`load_user_item_split` reads the pair over one index space.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..interactions import Interactions
from ._download import file_hash
from ._lines import line_error, shorten

__all__ = ["read_user_item_lines", "load_user_item_split", "SPLITS"]

#: published splits: file -> sha256 (None where no reference copy is fixed),
#: and the sizes the release states (users, items, train + test interactions)
SPLITS = {
    "gowalla": {
        "files": {"train.txt": "0f086326b28a56c2e6dcb81d86ee72d4ccb7eed3a8d26788392356d8f51111cc",
                  "test.txt": "099a2a73924e4b754dc6efd730d764f492321b53c38eb93298850c83acf57be3"},
        "size": (29_858, 40_981, 1_027_370),
    },
    "yelp2018": {"files": {"train.txt": None, "test.txt": None},
                 "size": (31_668, 38_048, 1_561_406)},
    "amazon-book": {"files": {"train.txt": None, "test.txt": None},
                    "size": (52_643, 91_599, 2_984_108)},
}


def read_user_item_lines(path):
    """(users, items) int64 arrays of every ``user item item ...`` line of ``path``.

    Blank lines are skipped; a user may have no items on its line. A line
    that is not UTF-8 text, a token that is not a non-negative integer below
    2**63, or a user listed on two lines is an error naming the file and
    line, with the offending text (shortened: a damaged file may hold a
    "line" of megabytes).
    """
    path = Path(path).expanduser()
    users, counts, items = [], [], []
    seen = set()
    with open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise line_error(path, lineno, f"byte {raw[exc.start]:#04x} is not UTF-8 text",
                                 raw.rstrip(b"\r\n")) from None
            tokens = line.split()
            if not tokens:
                continue
            try:
                ids = [int(t) for t in tokens]
            except ValueError:
                bad = next(t for t in tokens if not _is_int(t))
                raise ValueError(f"{path}:{lineno}: {shorten(bad, 30)} is not an integer id "
                                 "(expected 'user item item ...', non-negative integers)") \
                    from None
            if min(ids) < 0:
                raise ValueError(f"{path}:{lineno}: negative id {min(ids)} (expected "
                                 "non-negative integers)")
            if max(ids) > _MAX_ID:
                raise ValueError(f"{path}:{lineno}: id {shorten(str(max(ids)), 30)} is too "
                                 "large (ids must be below 2**63)")
            u = ids[0]
            if u in seen:
                raise ValueError(f"{path}:{lineno}: user {u} is listed on an earlier line too")
            seen.add(u)
            users.append(u)
            counts.append(len(ids) - 1)
            items.extend(ids[1:])
    u = np.repeat(np.asarray(users, dtype=np.int64), np.asarray(counts, dtype=np.int64))
    return u, np.asarray(items, dtype=np.int64)


_MAX_ID = np.iinfo(np.int64).max


def _is_int(token):
    try:
        int(token)
        return True
    except ValueError:
        return False


def load_user_item_split(path, name="split", files=None, verify=True):
    """``(train, test)`` Interactions of a folder holding ``train.txt`` and
    ``test.txt`` in the ``user item item ...`` format, over one index space
    (users and items numbered as in the files; the sizes are 1 + the largest
    id in either file).

    ``files`` maps file names to their expected SHA-256 (None: not checked);
    with ``verify`` a mismatch is an error. A repeated item on a user's line
    counts once.
    """
    folder = Path(path).expanduser()
    files = files or {"train.txt": None, "test.txt": None}
    missing = [f for f in files if not (folder / f).is_file()]
    if missing:
        raise ValueError(f"path {str(folder)!r} lacks {missing}: {name} needs "
                         f"{list(files)} (lines 'user item item ...')")
    parts = {}
    for fname, sha in files.items():
        f = folder / fname
        if verify and sha is not None:
            got = file_hash(f, "sha256")
            if got != sha:
                raise ValueError(f"{f}: sha256 mismatch: expected {sha}, got {got} (not the "
                                 "published file; pass verify=False to read it anyway)")
        parts[fname] = read_user_item_lines(f)
    n_users = 1 + max((int(u.max()) for u, _ in parts.values() if u.size), default=-1)
    n_items = 1 + max((int(i.max()) for _, i in parts.values() if i.size), default=-1)
    out = []
    for fname, (u, i) in parts.items():
        m = sp.coo_matrix((np.ones(len(i), dtype=np.float32), (u, i)), shape=(n_users, n_items))
        data = Interactions.from_csr(m, name=f"{name}/{Path(fname).stem}")
        if data.n_duplicates:
            data.matrix.data[:] = 1.0
        out.append(data)
    return tuple(out)
