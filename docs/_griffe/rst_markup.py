"""Griffe extension: recsample's docstrings as Markdown, for mkdocstrings.

A class whose docstring is assembled at import time (``__doc__ =
parameters_doc(...)``, as the trainers do) has none that static analysis
can read; for such a class the docstring is taken from the imported class.
An attribute documented by ``#:`` comment lines right above its assignment
(the convention the sources use for constants and class attributes) gets
those lines as its docstring.

The docstrings follow numpy's layout (``Parameters`` / ``Returns`` sections)
but their prose uses a few reStructuredText forms that Markdown would show
literally or misread. Before mkdocstrings renders a docstring this extension
rewrites, in the text it hands over (the source files are not touched):

- cross-reference roles, ``:func:`name``` and the like, to inline code;
- ``>>>`` sessions to fenced ``pycon`` blocks (Markdown would take ``>`` for
  a quotation);
- a paragraph ending in ``::`` and the indented literal block after it to a
  paragraph ending in ``:`` and a fenced ``python`` block;
- a definition list whose terms are inline code (``draw(...) -> j`` over an
  indented description, as in the sampler contract) to a Markdown
  definition list (the ``def_list`` extension);
- ``[a][b]`` outside code, where ``b`` names no Python object (the optional
  parts of ``(user, item[, weight][, timestamp])``), to escaped brackets, so
  that Markdown does not take it for a reference link;
- ``(a) text`` items of an enumerated list to list items;
- a simple table (columns framed by ``====`` rules) to a pipe table; a line
  whose first cell is empty, or follows a first cell ending in a comma,
  continues the row above.
"""
from __future__ import annotations

import importlib
import inspect
import re

from griffe import Docstring, Extension

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):`(~?)([^`]+)`")
_RULE = re.compile(r"^( *)=+( +=+)+ *$")
_REFERENCE = re.compile(r"\[([^\]\n]*)\]\[([^\]\n]*)\]")
_CODE = re.compile(r"(``.+?``|`[^`]+`)")
_IDENTIFIER = re.compile(r"^[A-Za-z_][\w.]*$")


def _role(match: re.Match) -> str:
    short, target = match.group(1), match.group(2).strip()
    if short:
        target = target.rsplit(".", 1)[-1]
    return f"``{target}``"


def _not_a_reference(match: re.Match) -> str:
    if _IDENTIFIER.match(match.group(2)):
        return match.group(0)
    return f"\\[{match.group(1)}\\]\\[{match.group(2)}\\]"


def _brackets(lines: list[str]) -> list[str]:
    out, fenced = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and "][" in line:
            parts = _CODE.split(line)
            line = "".join(part if n % 2 else _REFERENCE.sub(_not_a_reference, part)
                           for n, part in enumerate(parts))
        out.append(line)
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _doctests(lines: list[str]) -> list[str]:
    out, k = [], 0
    while k < len(lines):
        line = lines[k]
        if line.lstrip().startswith(">>>"):
            pad = " " * _indent(line)
            block = []
            while k < len(lines) and lines[k].strip():
                block.append(lines[k][len(pad):] if lines[k].startswith(pad) else lines[k].strip())
                k += 1
            out += [pad + "```pycon", *(pad + b for b in block), pad + "```"]
            continue
        out.append(line)
        k += 1
    return out


def _literal_blocks(lines: list[str]) -> list[str]:
    out, k = [], 0
    while k < len(lines):
        line = lines[k]
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            base = _indent(line)
            text = line.rstrip()[:-2].rstrip()
            j = k + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            if j < len(lines) and _indent(lines[j]) > base:
                inner = _indent(lines[j])
                block = []
                while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) >= inner):
                    block.append(lines[j][inner:] if lines[j].strip() else "")
                    j += 1
                while block and not block[-1]:
                    block.pop()
                pad = " " * base
                if text.strip():
                    out += [text + ":", ""]
                out += [pad + "```python", *(pad + b if b else "" for b in block), pad + "```", ""]
                k = j
                continue
        out.append(line)
        k += 1
    return out


def _definition_lists(lines: list[str]) -> list[str]:
    out, k, after_definition = [], 0, False
    while k < len(lines):
        line = lines[k]
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        stripped = line.strip()
        if (stripped.startswith("``") and stripped.endswith("``") and nxt.strip()
                and _indent(nxt) == _indent(line) + 4
                and (k == 0 or not lines[k - 1].strip() or after_definition)):
            base = _indent(line)
            pad = " " * base
            if out and out[-1].strip():
                out.append("")
            out.append(line)
            j = k + 1
            first = True
            while j < len(lines) and lines[j].strip() and _indent(lines[j]) >= base + 4:
                body = lines[j][base + 4:]
                out.append(pad + (":   " if first else "    ") + body)
                first = False
                j += 1
            k = j
            after_definition = True
            continue
        after_definition = False
        out.append(line)
        k += 1
    return out


_ENUMERATED = re.compile(r"^( *)\(([a-z0-9])\) ")


def _enumerated_lists(lines: list[str]) -> list[str]:
    """``(a) text`` items (reStructuredText enumerated lists) as list items."""
    out = []
    for k, line in enumerate(lines):
        match = _ENUMERATED.match(line)
        nxt = lines[k + 1] if k + 1 < len(lines) else ""
        previous = lines[k - 1] if k else ""
        if match and (not previous.strip() or out[-1].lstrip().startswith("- (")
                      or _indent(previous) > len(match.group(1))) and (
                not nxt.strip() or _indent(nxt) > len(match.group(1))
                or _ENUMERATED.match(nxt)):
            line = f"{match.group(1)}- {line[len(match.group(1)):]}"
        out.append(line)
    return out


def _simple_tables(lines: list[str]) -> list[str]:
    out, k = [], 0
    while k < len(lines):
        match = _RULE.match(lines[k])
        if not match:
            out.append(lines[k])
            k += 1
            continue
        rule = lines[k]
        spans = [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]
        rows, j, rules = [], k + 1, 1
        while j < len(lines) and rules < 3:
            if _RULE.match(lines[j]):
                rules += 1
                if rules == 2:
                    rows.append(None)             # end of the header
                j += 1
                continue
            cells = []
            for n, (start, end) in enumerate(spans):
                stop = spans[n + 1][0] if n + 1 < len(spans) else len(lines[j])
                cells.append(lines[j][start:stop].strip())
            previous = rows[-1] if rows else None
            if previous is not None and (not cells[0] or previous[0].endswith(",")):
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(previous, cells)]
            else:
                rows.append(cells)
            j += 1
        header_end = rows.index(None)
        header, body = rows[:header_end], rows[header_end + 1:]
        pad = " " * len(match.group(1))
        head = header[0] if header else [""] * len(spans)
        out.append(pad + "| " + " | ".join(head) + " |")
        out.append(pad + "|" + "---|" * len(spans))
        out += [pad + "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in body]
        k = j
    return out


def markdown(text: str) -> str:
    """The docstring ``text`` with its reStructuredText forms in Markdown."""
    text = _ROLE.sub(_role, text)
    lines = text.split("\n")
    for step in (_simple_tables, _doctests, _literal_blocks, _definition_lists,
                 _enumerated_lists, _brackets):
        lines = step(lines)
    return "\n".join(lines)


class RstMarkup(Extension):
    """Rewrites every loaded docstring with :func:`markdown`; gives a class
    that assigns ``__doc__`` in its body the docstring of the imported class."""

    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None and obj.docstring.value:
            obj.docstring.value = markdown(obj.docstring.value)

    def on_attribute_instance(self, *, attr, **kwargs) -> None:
        if attr.docstring is not None or not attr.lineno:
            return
        try:
            lines = attr.module.lines
        except Exception:                       # no source (an inspected object)
            return
        comment, k = [], attr.lineno - 2
        while k >= 0 and lines[k].strip().startswith("#:"):
            comment.insert(0, lines[k].strip()[2:].strip())
            k -= 1
        if comment:
            attr.docstring = Docstring(markdown("\n".join(comment)), parent=attr)

    def on_class_members(self, *, cls, **kwargs) -> None:
        # a class that assigns __doc__ in its body (its static docstring, if
        # any, is only the first part of what help() shows) takes the runtime one
        if "__doc__" not in cls.members:
            return
        runtime = importlib.import_module(cls.module.path)
        for part in cls.path[len(cls.module.path) + 1:].split("."):
            runtime = getattr(runtime, part)
        text = inspect.cleandoc(runtime.__doc__ or "")
        if text:
            cls.docstring = Docstring(markdown(text), parent=cls)
