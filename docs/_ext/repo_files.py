"""A MkDocs hook: the notebooks and the benchmark results join the site from where they live.

The notebooks (``notebooks/*.ipynb``) and the committed results (``benchmarks/results/*.json`` and
``*.png``) stay where the code that uses them expects them. This hook adds them to the site's files at
the same paths relative to the repository root, so a page links to ``../notebooks/devices.ipynb`` or
shows ``../benchmarks/results/iris_layers.png`` and the strict build checks those links like any other.
It runs before mkdocs-jupyter, which then renders the notebooks (with the outputs they are stored with).
"""
from __future__ import annotations

from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
INCLUDED = {"notebooks": ("*.ipynb",), "benchmarks/results": ("*.json", "*.png")}
"""Folders of the repository (relative to its root) and the files of each that the site carries."""

SKIPPED_SUFFIX = "_quick"
"""Smoke-run outputs (``*_quick.json``) are local, never committed: they stay out of the site."""


@event_priority(100)
def on_files(files, config):
    """Add the repository's notebooks and benchmark results to the site's files."""
    for folder, patterns in INCLUDED.items():
        for pattern in patterns:
            for path in sorted((ROOT / folder).glob(pattern)):
                if path.stem.endswith(SKIPPED_SUFFIX):
                    continue
                files.append(File(path.relative_to(ROOT).as_posix(), src_dir=str(ROOT), dest_dir=config.site_dir,
                                  use_directory_urls=config.use_directory_urls))
    return files
