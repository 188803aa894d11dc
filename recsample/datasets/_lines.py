"""Errors about one line of a data file, shared by the text-file loaders.

A loader that meets a line it cannot read reports the file, the line number
and the text, so that the line can be found and fixed; the text is shortened,
since a damaged file may hold a "line" of megabytes.
"""
from __future__ import annotations

#: characters of a line (or of a field) quoted in a message
WIDTH = 60


def shorten(text, width: int = WIDTH) -> str:
    """``repr`` of ``text`` (str or bytes), cut to ``width`` characters with
    the full length said, so tabs and stray bytes stay visible."""
    if len(text) <= width:
        return repr(text)
    return f"{text[:width]!r}... ({len(text):,} characters)"


def line_error(where, lineno: int, problem: str, text) -> ValueError:
    """``ValueError("FILE:LINE: problem: 'text'")``."""
    return ValueError(f"{where}:{lineno}: {problem}: {shorten(text)}")
