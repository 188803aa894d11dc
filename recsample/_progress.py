"""Progress that reads well both live and in a log file.

A terminal or a notebook gets tqdm's live bar. Anything else (a CI log, a
pipe, ``nohup``) would record every redraw of that bar, so it gets one plain
line per finished step instead.
"""
from __future__ import annotations

import importlib.util
import sys

__all__ = ["is_live", "Progress", "tqdm_class"]


def is_live(stream=None) -> bool:
    """True when ``stream`` (default stderr) is a terminal, or when running
    inside a Jupyter kernel, where tqdm draws widgets."""
    stream = sys.stderr if stream is None else stream
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):   # no isatty, or a closed stream
        return False
    return "ipykernel" in sys.modules and type(stream).__module__.startswith("ipykernel")


def tqdm_class():
    """tqdm.auto's bar (a widget in a notebook) when ipywidgets is installed,
    else tqdm's text bar: tqdm.auto falls back to that one too, but warns
    (``TqdmWarning: IProgress not found``) in every notebook that shows one."""
    if importlib.util.find_spec("ipywidgets") is None:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm


class Progress:
    """A counter of finished steps: a tqdm bar when ``live``, else one line
    per step written to ``stream`` as ``desc i/total: message``.

    ``enabled=False`` shows nothing.
    """

    def __init__(self, total, desc, unit="step", enabled=True, stream=None, live=None,
                 initial=0):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.desc, self.done = total, desc, initial
        self.enabled = bool(enabled)
        self.live = is_live(self.stream) if live is None else bool(live)
        self._bar = None
        if self.enabled and self.live:
            self._bar = tqdm_class()(total=total, initial=initial, desc=desc, unit=unit,
                             file=self.stream)

    def step(self, message="", postfix=None):
        """One more step finished; ``message`` goes on the log line,
        ``postfix`` (a dict) beside the live bar."""
        self.done += 1
        if not self.enabled:
            return
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix(postfix, refresh=False)
            self._bar.update(1)
        else:
            total = f"/{self.total}" if self.total else ""
            line = f"{self.desc} {self.done}{total}" + (f": {message}" if message else "")
            print(line, file=self.stream, flush=True)

    def close(self):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
