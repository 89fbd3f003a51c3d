"""Helpers the test modules import: the shipped test data and the notebook runner.

(Fixtures live in ``conftest.py``; helpers live here, because ``tests/ntk`` has a ``conftest.py``
of its own and ``from conftest import ...`` would pick whichever was imported last.)
"""
from __future__ import annotations

from pathlib import Path

TEST_DATA = Path(__file__).resolve().parent / "data"
"""The first 512 training and 256 test images of MNIST and 64 + 64 of Fashion-MNIST, in torchvision's raw
layout, gzip-compressed (``tests/data/make_subset.py`` wrote them; ``tests/data/README.md`` says why)."""
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, monkeypatch, **env: str) -> str:
    """Execute ``notebooks/<name>`` in quick mode (``QT_QUICK=1`` plus ``env``); return its printed text.

    The stored outputs are cleared first (notebooks are committed executed); fails if any cell raises.
    """
    import nbclient
    import nbformat

    for key, value in {"QT_QUICK": "1", **env}.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    path = NOTEBOOKS / name
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell in code:
        cell.outputs, cell.execution_count = [], None
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [out for cell in code for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    return "".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")
