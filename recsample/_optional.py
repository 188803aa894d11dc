"""Optional dependencies, imported where they are used.

``import recsample`` needs none of them; a feature that does imports its
dependency through :func:`require`, so that a missing one is reported as the
extra that installs it (``pip install "recsample[tune]"``) instead of a bare
``ModuleNotFoundError`` from deep inside the feature.
"""
from __future__ import annotations

import importlib

__all__ = ["MissingDependency", "require", "install_hint"]


class MissingDependency(ImportError):
    """An optional dependency is not installed (or fails to import).

    An ``ImportError``, so code that guarded the import with ``except
    ImportError`` keeps working; ``module`` and ``extra`` say what is missing
    and which extra of recsample brings it.
    """

    def __init__(self, message, module, extra):
        super().__init__(message, name=module)
        self.module = module
        self.extra = extra


def install_hint(module: str, extra: str, what: str) -> str:
    """The one-line message for ``what`` lacking ``module``."""
    return f'{what} needs {module}, which is not installed: pip install "recsample[{extra}]"'


def require(module: str, extra: str, what: str):
    """Import and return ``module``, or raise :class:`MissingDependency`.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"optuna"`` or ``"matplotlib.pyplot"``.
    extra : str
        The extra of recsample (``pyproject.toml``) that installs it.
    what : str
        The feature that needs it, as the message's subject
        (``"recsample tune"``, ``"the Ray backend"``).

    Raises
    ------
    MissingDependency
        When the module is absent, or present but failing to import because
        one of its own dependencies is missing (the message then quotes that
        error; reinstalling through the extra brings the whole set).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        missing = exc.name is None or exc.name == top or module.startswith(exc.name + ".") \
            or exc.name == module
        if missing:
            message = install_hint(top, extra, what)
        else:
            message = (f"{what} needs {top}, which fails to import ({exc}): "
                       f'pip install "recsample[{extra}]" installs it with its dependencies')
        raise MissingDependency(message, top, extra) from exc
