"""TOML settings files for the command line, checked key by key.

``tomllib`` parses the file but does not say where a value came from, so
:func:`locate` finds the line of a dotted key by following the table headers;
every complaint about a key then names it and its line.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path

__all__ = ["ConfigError", "load_toml", "locate", "check_keys"]

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\.\"' ]+?)\s*=")


class ConfigError(ValueError):
    """A settings file problem; the message names the file, key and line."""


def _parts(dotted: str) -> list:
    return [p.strip().strip('"').strip("'") for p in dotted.split(".")]


def locate(text: str, key: tuple) -> int | None:
    """1-based line where the dotted ``key`` (a tuple of names) is set or its
    table opens, or None if it cannot be found."""
    table: list = []
    want = list(key)
    for number, line in enumerate(text.splitlines(), start=1):
        m = _HEADER.match(line)
        if m:
            table = _parts(m.group(1))
            if table == want:
                return number
            continue
        m = _ASSIGN.match(line)
        if m and table + _parts(m.group(1)) == want:
            return number
        if m:
            full = table + _parts(m.group(1))
            if full[:len(want)] == want:   # key given as a dotted prefix: a.b.c = 1
                return number
    return None


def load_toml(path) -> tuple:
    """(settings dict, file text). Raises ConfigError for unreadable or invalid TOML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def where(path, text, key: tuple) -> str:
    line = locate(text, key)
    at = f", line {line}" if line is not None else ""
    return f"{path}{at}: key {'.'.join(key)!r}"


def check_keys(path, text, table: dict, allowed, prefix=()) -> None:
    """Raise ConfigError naming the first key of ``table`` not in ``allowed``."""
    for name in table:
        if name not in allowed:
            close = difflib.get_close_matches(name, list(allowed), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"{where(path, text, (*prefix, name))} is not a known setting; "
                              f"known: {', '.join(sorted(allowed))}{hint}")
