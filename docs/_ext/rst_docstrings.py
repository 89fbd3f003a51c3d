"""A griffe extension: the package's Sphinx-flavoured Google docstrings, rendered as Markdown.

The docstrings follow PennyLane's and torch's style: Google sections, Sphinx roles for cross-references
(``:class:`~qt_pennylane.circuit.sources.QNodeSource```), ``::`` before literal blocks, ``Example:`` headings
and the odd reST table. mkdocstrings reads Markdown, so before a docstring is parsed this extension

* turns every role into an autorefs link to the object's entry in the API reference (``~`` shows the last
  name only); names outside the package (``torch.func.functional_call``) stay code; a name inside the
  package that resolves to nothing is logged as a warning, which fails ``mkdocs build --strict``;
* reads ``Example:`` as the ``Examples:`` section, so ``>>>`` lines render as code;
* drops reST's ``::`` literal-block marker (the indented block that follows is Markdown code already);
* turns reST simple tables (``====  ====`` borders) into Markdown tables.

The docstrings themselves stay as they are: ``doctest`` and ``help()`` read them unchanged.
"""
from __future__ import annotations

import ast
import logging
import re

import griffe

logger = logging.getLogger("mkdocs.plugins.qt_pennylane_docstrings")
"""Under ``mkdocs``: ``mkdocs build --strict`` counts its warnings."""

PACKAGE = "qt_pennylane"
ROLE = re.compile(r":(?:py:)?(?:class|func|mod|data|meth|attr|exc|obj|const):`(~?)([^`]+)`")
TABLE_BORDER = re.compile(r"^(\s*)(=+)((?: +=+)+)\s*$")


def _lazy_exports(package) -> dict[str, str]:
    """The top-level names the package loads lazily: ``{name: submodule}`` from its ``_EXPORTS`` dict."""
    exports = package.members.get("_EXPORTS")
    if exports is None or exports.value is None:
        return {}
    return ast.literal_eval(str(exports.value))


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring of the package before mkdocstrings parses it (see the module docstring)."""

    def on_package(self, *, pkg, loader, **kwargs) -> None:
        if pkg.path != PACKAGE:
            return
        self.collection = loader.modules_collection
        self.exports = _lazy_exports(pkg)
        self._walk(pkg)

    on_package_loaded = on_package  # the event's name in griffe 1.x

    def _walk(self, obj) -> None:
        if obj.docstring is not None:
            obj.docstring.value = self.convert(obj, obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias:
                self._walk(member)

    def convert(self, obj, text: str) -> str:
        lines = []
        for line in _tables_to_markdown(text.splitlines()):
            stripped = line.strip()
            if stripped == "Example:":
                line = line.replace("Example:", "Examples:")
            elif stripped == "::":
                line = ""
            elif line.endswith("::") and not stripped.startswith((">>>", "...")):
                line = line[:-1]
            lines.append(line)
        return ROLE.sub(lambda match: self._link(obj, match.group(1) == "~", match.group(2)), "\n".join(lines))

    def _link(self, obj, short: bool, target: str) -> str:
        shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
        path = self._resolve(obj, target)
        if path is None:
            if target.startswith(".") or target.split(".")[0] == PACKAGE or "." not in target:
                logger.warning("%s: cross-reference %r resolves to nothing in the package", obj.path, target)
            return f"`{shown}`"
        return f"[`{shown}`][{path}]"

    def _resolve(self, obj, target: str) -> str | None:
        """The canonical path of ``target`` as seen from ``obj``, or ``None`` (outside the package, or unknown)."""
        if target.startswith("."):
            module = obj.module
            base = module.path if module.is_init_module else module.parent.path
            return self._canonical(base + target)
        if target.split(".")[0] == PACKAGE:
            return self._canonical(target)
        first, _, rest = target.partition(".")
        try:
            path = obj.resolve(first)
        except (griffe.NameResolutionError, KeyError, AttributeError):
            return None
        return self._canonical(path + ("." + rest if rest else ""))

    def _canonical(self, path: str) -> str | None:
        head, _, name = path.rpartition(".")
        if head == PACKAGE and name in self.exports:
            path = f"{PACKAGE}.{self.exports[name]}.{name}"
        if not path.startswith(PACKAGE + ".") and path != PACKAGE:
            return None
        try:
            found = self.collection[path]
        except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
        return found.final_target.path if found.is_alias else found.path


def _tables_to_markdown(lines: list[str]) -> list[str]:
    """reST simple tables (a border, header rows, a border, body rows, a border) as Markdown tables."""
    out, i = [], 0
    while i < len(lines):
        match = TABLE_BORDER.match(lines[i])
        borders = [j for j in range(i, len(lines)) if lines[j].strip() == lines[i].strip()] if match else []
        if len(borders) < 3:
            out.append(lines[i])
            i += 1
            continue
        indent = match.group(1)
        starts = [m.start() for m in re.finditer(r"=+", lines[i])]
        rows: list[list[str]] = []
        header_end = borders[1]
        for j in range(i + 1, borders[2]):
            if j == header_end or not lines[j].strip():
                continue
            cells = [lines[j][a:b].strip() for a, b in zip(starts, [*starts[1:], None])]
            if rows and not cells[0] and j not in (i + 1, header_end + 1):
                rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells)]
            else:
                rows.append(cells)
        header, body = rows[0], rows[1:]
        out.append(indent + "| " + " | ".join(header) + " |")
        out.append(indent + "|" + " --- |" * len(header))
        out.extend(indent + "| " + " | ".join(row) + " |" for row in body)
        i = borders[2] + 1
    return out
