"""The results file: tidy rows appended one finished run at a time.

Each run's rows go out in a single ``write`` followed by ``flush`` and
``fsync``, so a crash or Ctrl-C loses at most the run in progress. A line cut
short by a crash during that write (no trailing newline) is removed before the
next append, and runs are matched by their key, so running the same grid again
resumes it. Beside the CSV, ``<file>.settings.jsonl`` records for each
finished run the settings it was trained with in full (defaults included),
so that resuming refuses rows whose defaults have changed since. The format
is CSV: Parquet files cannot be appended to row by row,
so for Parquet write the returned DataFrame yourself (``df.to_parquet``).
"""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pandas as pd

from .grid import COLUMNS, KEY_COLUMNS

__all__ = ["ResultsFile", "read_results"]

_DTYPES = {"dataset": str, "model": str, "sampler": str, "params": str, "metric": str}


def read_results(path) -> pd.DataFrame:
    """The rows of a results CSV written by :func:`recsample.experiments.run`
    (an empty frame with the tidy columns if the file does not exist)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return _empty()
    df = pd.read_csv(path, dtype=_DTYPES, keep_default_na=False, na_values={"k": [""]})
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} is not a recsample results file: it lacks the columns "
                         f"{missing}")
    df["seed"] = df["seed"].astype("int64")
    df["k"] = df["k"].astype("Int64")
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    return df[COLUMNS]


def _empty() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    df["seed"] = df["seed"].astype("int64")
    df["k"] = df["k"].astype("Int64")
    df["value"] = df["value"].astype(float)
    return df


def check_writable(path) -> Path:
    """Fail early, with the path in the message, if ``path`` cannot be appended to."""
    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        raise ValueError(f"out={str(path)!r}: results are appended as CSV (Parquet cannot be "
                         "appended row by row); use a .csv path and df.to_parquet() on the "
                         "returned DataFrame")
    if path.is_dir():
        raise ValueError(f"out={str(path)!r} is a directory; give a file path such as "
                         f"{str(path / 'results.csv')!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write the results file out={str(path)!r}: "
                         f"{exc.strerror or exc}") from None
    return path


class ResultsFile:
    """Append-only CSV of tidy rows, read back for resuming."""

    def __init__(self, path):
        self.path = check_writable(path)
        self._repair_torn_tail()
        if self.path.stat().st_size:
            with open(self.path, encoding="utf-8") as fh:
                header = fh.readline().rstrip("\n").split(",")
            if header != COLUMNS:
                raise ValueError(f"out={str(self.path)!r} exists but is not a recsample results "
                                 f"file (its header is {header}); choose another path")
        self.existing = read_results(self.path)

    @property
    def settings_path(self) -> Path:
        return self.path.with_name(self.path.name + ".settings.jsonl")

    def recorded_settings(self) -> dict:
        """key -> the settings text recorded when that run's rows were written
        (runs written before settings were recorded are absent)."""
        out = {}
        if not self.settings_path.is_file():
            return out
        with open(self.settings_path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                    d, m, s_, p, seed = entry["key"]
                    out[(d, m, s_, p, int(seed))] = json.dumps(entry["settings"],
                                                               sort_keys=True)
                except (ValueError, KeyError, TypeError):
                    continue   # a line cut short by a crash: its run is unchecked
        return out

    def done_keys(self) -> set:
        if self.existing.empty:
            return set()
        keys = self.existing[KEY_COLUMNS].drop_duplicates()
        return {(d, m, s, p, int(seed)) for d, m, s, p, seed in keys.itertuples(index=False)}

    def _repair_torn_tail(self):
        size = self.path.stat().st_size
        if size == 0:
            return
        with open(self.path, "rb+") as fh:
            fh.seek(max(0, size - 1))
            if fh.read(1) == b"\n":
                return
            # an interrupted write left a partial last line: cut back to the last newline
            fh.seek(0)
            data = fh.read()
            fh.truncate(data.rfind(b"\n") + 1)

    def append(self, rows: list, key=None, settings=None) -> None:
        """Write one run's rows at once and push them to disk; with ``key``
        and ``settings``, record what the run was trained with."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        if self.path.stat().st_size == 0:
            writer.writeheader()
        for row in rows:
            writer.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in COLUMNS})
        with open(self.path, "a", encoding="utf-8", newline="") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            os.fsync(fh.fileno())
        if key is not None and settings is not None:
            line = json.dumps({"key": [str(k) for k in key[:4]] + [int(key[4])],
                               "settings": json.loads(settings)}) + "\n"
            with open(self.settings_path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
