"""The documentation's sources: every public name has an API reference entry,
every entry names something that exists, and the README stays a front page.

Reads the Markdown under docs/api/ (the ``::: identifier`` directives that
mkdocstrings expands) and mkdocs.yml; it does not build the site.
"""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import recsample

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "docs" / "api"
DIRECTIVE = re.compile(r"^:::\s+([\w.]+)\s*$", re.M)
README_MAX_LINES = 200


def _directives() -> list[str]:
    found = []
    for page in sorted(API.glob("*.md")):
        found += DIRECTIVE.findall(page.read_text(encoding="utf-8"))
    return found


def _resolve(identifier: str):
    """The object a dotted identifier names: the longest importable module
    prefix, then attributes."""
    parts = identifier.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(identifier)


def _public_names() -> list[tuple[str, str]]:
    """(module, name) for every public name the package offers."""
    names = [("recsample", name) for name in recsample.__all__]      # _LAZY, Interactions, version
    for module in ("recsample.samplers", "recsample.losses", "recsample.models",
                   "recsample.baselines", "recsample.evaluation", "recsample.experiments",
                   "recsample.tuning", "recsample.search_space", "recsample.compilation"):
        mod = importlib.import_module(module)
        names += [(module, name) for name in mod.__all__]
    for module in ("recsample.datasets", "recsample.split"):
        mod = importlib.import_module(module)
        names += [(module, name) for name, obj in vars(mod).items()
                  if not name.startswith("_") and inspect.isfunction(obj)
                  and obj.__module__.startswith("recsample")]
    return names


def test_lazy_names_are_walked():
    walked = {name for module, name in _public_names() if module == "recsample"}
    assert set(recsample._LAZY) <= walked


@pytest.mark.parametrize("identifier", sorted(set(_directives())))
def test_every_directive_names_an_object(identifier):
    _resolve(identifier)


def test_every_public_name_has_a_reference_entry():
    documented = []
    for identifier in _directives():
        documented.append((identifier.rsplit(".", 1)[-1], _resolve(identifier)))
    missing = []
    for module, name in _public_names():
        target = getattr(importlib.import_module(module), name)
        if not any(last == name and obj is target for last, obj in documented):
            missing.append(f"{module}.{name}")
    assert not missing, ("public names without a `::: ...` entry in docs/api/*.md: "
                         + ", ".join(missing))


def test_every_api_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [f"api/{page.name}" for page in sorted(API.glob("*.md"))]
    assert pages and not [page for page in pages if page not in nav]


def test_readme_is_a_front_page():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
