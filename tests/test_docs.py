"""The README and the documentation site: size, links, numbers, API coverage, defaults, runnable code.

``make docs`` (``mkdocs build --strict``) checks the site's own links, anchors and cross-references;
these tests check what the build cannot see (the README, which is not part of the site) and what it
would not notice (a public name without an entry, a number that no longer matches its JSON, a stale
defaults table, an example that no longer runs).
"""
from __future__ import annotations

import ast
import functools
import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import torch

import qt_pennylane
from qt_pennylane.generator import QuantumWeightGenerator
from qt_pennylane.model import QuantumTrainModel

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "results"
HIDDEN = re.compile(r"^_|^logger$")
"""Names the API reference leaves out (mkdocs.yml's ``filters``): private ones and module loggers."""

LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)\)")
DIRECTIVE = re.compile(r"^::: (?P<path>\S+)\n(?P<options>(?:[ \t]+\S.*\n)*)", re.MULTILINE)
FENCE = re.compile(r"^```(?P<info>[^\n]*)\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)


def doc_pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)


# --------------------------------------------------------------------------------------------- README


def test_the_readme_is_under_10000_characters():
    assert len(README.read_text(encoding="utf-8")) < 10_000


def slug(heading: str) -> str:
    """The anchor Python-Markdown's ``toc`` extension (and GitHub, for these headings) gives a heading."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*?)\s*$", text, re.MULTILINE)}


def test_every_relative_link_in_the_readme_resolves():
    text = FENCE.sub("", README.read_text(encoding="utf-8"))
    links = [m.group("target") for m in LINK.finditer(text) if not re.match(r"[a-z]+:", m.group("target"))]
    assert len(links) > 20
    for target in links:
        path, _, anchor = target.partition("#")
        assert path, f"README links to the anchor {target!r} of itself"
        assert (ROOT / path).is_file(), f"README links to {target!r}, which does not exist"
        if anchor:
            assert anchor in anchors(ROOT / path), f"README links to {target!r}, which has no such heading"


def test_the_slug_matches_the_sites_anchors():
    assert slug("How much of it is the one split") == "how-much-of-it-is-the-one-split"
    assert slug("The network, and what was chosen") == "the-network-and-what-was-chosen"
    assert slug("`fit`: any data, any loss") == "fit-any-data-any-loss"


def summary_entries(name: str) -> list[dict]:
    summary = json.loads((RESULTS / name).read_text())["summary"]
    return list(summary.values()) if isinstance(summary, dict) else summary


def formatted(entry: dict, decimals: int) -> set[str]:
    """How a results table may write one summary entry: accuracy (± std over seeds) and trainable count."""
    mean, std = 100 * entry["test_accuracy_mean"], 100 * entry["test_accuracy_std"]
    count = f"{entry['trainable_params']:,}"
    if entry["seeds"] == 1 or (isinstance(entry["seeds"], list) and len(entry["seeds"]) == 1):
        return {f"{mean:.{decimals}f} ({count})"}
    return {f"{mean:.{decimals}f} ± {std:.{decimals}f} ({count})"}


def results_cells(page: Path) -> list[str]:
    """The body cells (after the first column) of the first table under ``## Results`` (or of the page)."""
    text = page.read_text(encoding="utf-8")
    lines = text[max(text.find("## Results"), 0):].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return [cell.strip() for row in table[2:] for cell in row.strip().strip("|").split(" | ")[1:]]


CELL = re.compile(r"^\[(?P<value>[^\]]+)\]\((?P<page>[^)]+\.md#[^)]+)\) \[json\]\((?P<json>[^)]+\.json)\)$")


def test_every_number_in_the_results_tables_links_to_its_page_and_json():
    for page, prefix in ((README, ""), (DOCS / "results" / "index.md", "../")):
        cells = [cell for cell in results_cells(page) if re.search(r"\d", cell)]
        assert len(cells) >= 10, page
        for cell in cells:
            match = CELL.match(cell)
            assert match, f"{page.name}: the cell {cell!r} is not '[number](page#anchor) [json](file.json)'"
            json_name = Path(match["json"]).name
            assert match["json"] == f"{prefix}benchmarks/results/{json_name}", cell
            allowed = set().union(*(formatted(e, d) for e in summary_entries(json_name) for d in (1, 2)))
            assert match["value"] in allowed, f"{page.name}: {match['value']!r} is not in {json_name}"
            target = (page.parent / match["page"].partition("#")[0]).resolve()
            assert match["page"].partition("#")[2] in anchors(target), cell


def test_the_readme_tells_no_history():
    for page in [README, *doc_pages()]:
        text = page.read_text(encoding="utf-8")
        hashes = [w for w in re.findall(r"\b[0-9a-f]{7,40}\b", text) if re.search(r"\d", w) and re.search(r"[a-f]", w)]
        assert not hashes, f"{page}: commit hashes {hashes}"
        for phrase in ("previous release", "earlier release", "the issue", "issue #"):
            assert phrase not in text.lower(), f"{page}: {phrase!r}"


# ------------------------------------------------------------------------------------ API reference


def directives() -> dict[str, list[str] | None]:
    """Every ``::: path`` in the docs: ``None`` when it renders all public members, else the members it lists."""
    found: dict[str, list[str] | None] = {}
    for page in doc_pages():
        for match in DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            members = re.search(r"^\s+members:\s*(.+)$", match["options"], re.MULTILINE)
            if members is None:
                listed = None
            elif members.group(1).strip() == "false":
                listed = []
            else:
                listed = [m.strip().strip("'\"") for m in members.group(1).strip().strip("[]").split(",")]
            assert match["path"] not in found, f"{match['path']} is documented twice"
            found[match["path"]] = listed
    return found


def renders(found: dict, module: str, name: str) -> bool:
    """Whether the directives render ``module.name``: on its own, or as a member of ``module``'s entry."""
    if f"{module}.{name}" in found:
        return True
    return module in found and (found[module] is None or name in found[module])


@functools.cache
def public_modules() -> list[str]:
    names = [info.name for info in pkgutil.walk_packages(qt_pennylane.__path__, prefix="qt_pennylane.")]
    return ["qt_pennylane", *sorted(n for n in names if not any(part.startswith("_") for part in n.split(".")))]


@functools.cache
def defined_names(module: str) -> list[str]:
    """The public names a module defines at its top level (classes, functions, assigned names)."""
    source = Path(importlib.import_module(module).__file__).read_text(encoding="utf-8")
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return [n for n in names if not HIDDEN.search(n)]


def home_module(package: str, name: str) -> str:
    """Where the API reference documents ``package.name``: the public module that defines it, else ``package``."""
    obj = getattr(importlib.import_module(package), name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        candidates = [obj.__module__]
    else:
        candidates = [m for m in public_modules() if m.startswith(package + ".") and name in defined_names(m)]
    public = [m for m in candidates if m in public_modules()]
    return public[0] if public else package


def test_every_name_in_qt_pennylane_all_has_an_api_entry():
    found = directives()
    for name in qt_pennylane.__all__:
        module = "qt_pennylane" if name == "__version__" else home_module("qt_pennylane", name)
        assert renders(found, module, name), f"qt_pennylane.{name} has no '::: ' entry in docs/ (expected in {module})"


def test_every_public_module_and_name_has_an_api_entry():
    found = directives()
    for module in public_modules():
        assert module in found, f"module {module} has no '::: {module}' entry in docs/api/"
        names = set(defined_names(module))
        exported = getattr(importlib.import_module(module), "__all__", [])
        names |= {n for n in exported if home_module(module, n) == module and not HIDDEN.search(n)}
        if module == "qt_pennylane":
            continue  # its names are lazy re-exports (checked above) and __version__
        missing = sorted(n for n in names if not renders(found, module, n))
        assert not missing, f"{module}: no API entry for {missing}"


def test_every_directive_names_something_that_exists():
    for path, members in directives().items():
        module = importlib.import_module(path) if path in public_modules() else None
        if module is None:
            owner, _, name = path.rpartition(".")
            assert hasattr(importlib.import_module(owner), name), path
        for name in members or []:
            assert hasattr(module, name), f"::: {path} lists {name!r}, which it does not have"


# ----------------------------------------------------------------------------------- defaults table


def test_the_defaults_table_is_the_code():
    page = (DOCS / "guide" / "generate-and-scale.md").read_text(encoding="utf-8")
    section = page.split("## Defaults", 1)[1].split("\n## ", 1)[0]
    table = dict(re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", section, re.MULTILINE))
    expected = {}
    for function, skip in ((QuantumTrainModel.__init__, {"self", "target", "generator", "generator_kwargs"}),
                           (QuantumWeightGenerator.__init__, {"self", "n_params"})):
        for name, parameter in inspect.signature(function).parameters.items():
            if name not in skip:
                expected[name] = repr(parameter.default)
    assert table == expected, "docs/guide/generate-and-scale.md's defaults table differs from the code"
    assert expected["dtype"] == repr(torch.float32)


# --------------------------------------------------------------------------------- the code examples


HARNESS = r"""
import os, sys, json
os.chdir(sys.argv[1])
for label, code in json.load(sys.stdin):
    print("::", label, flush=True)
    exec(compile(code, label, "exec"), {"__name__": "__main__"})
"""

LOAD_CHECK = """
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"qt_pennylane", "pennylane", "qiskit"})
assert not heavy, heavy
"""


def python_blocks(page: Path) -> list[str]:
    """The page's ```python blocks (``{.python .no-test}`` blocks need hardware or a long run)."""
    return [m["code"] for m in FENCE.finditer(page.read_text(encoding="utf-8")) if m["info"].strip() == "python"]


def run(pages: list[tuple[str, str]], cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", HARNESS, str(cwd)], input=json.dumps(pages), text=True,
                          capture_output=True, timeout=300, env=env)


def test_the_code_in_the_readme_and_the_docs_runs(tmp_path):
    readme = python_blocks(README)
    assert readme[0] in python_blocks(DOCS / "getting-started.md"), "the quick starts differ"
    pages, seen = [], set()
    for page in [README, *doc_pages()]:
        blocks = [b for b in python_blocks(page) if b not in seen]
        seen.update(blocks)
        if page == README:
            blocks = blocks[:1]  # the loading example runs below, in a fresh process
        if blocks:
            pages.append((str(page.relative_to(ROOT)), "\n".join(blocks)))
    assert len(pages) >= 8
    done = run(pages, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert (tmp_path / "net.pt").is_file()
    loading = run([("README.md, loading", "import sys\n" + readme[1] + LOAD_CHECK)], tmp_path)
    assert loading.returncode == 0, loading.stderr[-4000:]
