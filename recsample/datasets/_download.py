"""Cached, verified downloads: cache folder, checksums, atomic writes.

A file is fetched to a temporary name beside its destination and renamed into
place only once it is complete and verified, so an interrupted download never
leaves a file that looks finished. Where the publisher's checksum is known it
is checked; in every case the SHA-256 of the accepted file is recorded in
``<file>.sha256`` and checked again whenever the cached file is reused.
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
import zipfile
from pathlib import Path

__all__ = ["cache_dir", "download", "file_hash", "verify_zip"]

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """Where downloads are kept: ``$RECSAMPLE_DATA``, else ``~/.cache/recsample``."""
    return Path(os.path.expanduser(os.environ.get("RECSAMPLE_DATA", "~/.cache/recsample")))


def file_hash(path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def verify_zip(path) -> None:
    """Raise ValueError unless ``path`` is a readable zip whose members pass their CRC check."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{path} is not a valid zip archive ({exc})") from None
    if bad is not None:
        raise ValueError(f"{path} is corrupt: member {bad!r} fails its CRC check")


def _fetch(url: str, out, desc: str, progress: bool) -> None:
    """Stream ``url`` into the open binary file ``out`` with a tqdm bar (tests patch this)."""
    from .._progress import tqdm_class
    tqdm = tqdm_class()

    with urllib.request.urlopen(url, timeout=60) as resp:
        total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
        with tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                  unit_divisor=1024, desc=desc, disable=not progress) as bar:
            for block in iter(lambda: resp.read(_CHUNK), b""):
                out.write(block)
                bar.update(len(block))


def _check(path: Path, expected: dict, what: str) -> str:
    """Compare ``path`` with each known digest; return its SHA-256."""
    sha = file_hash(path, "sha256")
    for algorithm, want in expected.items():
        if not want:
            continue
        got = sha if algorithm == "sha256" else file_hash(path, algorithm)
        if got.lower() != want.lower():
            raise ValueError(f"{what}: {algorithm} checksum mismatch: expected {want}, got {got}")
    return sha


def download(url: str, dest, *, sha256: str | None = None, md5: str | None = None,
             is_zip: bool = True, progress: bool = True) -> Path:
    """Return ``dest``, downloading ``url`` there first if it is not cached yet.

    A new download is checked against the known ``sha256``/``md5`` (when given)
    and, for zips, for integrity; then it is renamed into place and its SHA-256
    recorded in ``dest.sha256``. A cached file is checked against that record
    (and the known checksums); a mismatch raises ValueError naming the file and
    both hashes rather than silently using or replacing it.
    """
    dest = Path(dest)
    record = dest.with_name(dest.name + ".sha256")
    known = {"sha256": sha256, "md5": md5}
    if dest.exists():
        recorded = record.read_text().split()[0] if record.exists() else None
        sha = _check(dest, {**known, "sha256": sha256 or recorded},
                     f"cached file {dest} (delete it to download again)")
        if recorded is None:
            if is_zip:
                verify_zip(dest)
            _write_atomic(record, f"{sha}  {dest.name}\n")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as out:
            _fetch(url, out, desc=dest.name, progress=progress)
        sha = _check(tmp, known, f"download of {url}")
        if is_zip:
            verify_zip(tmp)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    _write_atomic(record, f"{sha}  {dest.name}\n")
    return dest


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(text)
    os.replace(tmp, path)
