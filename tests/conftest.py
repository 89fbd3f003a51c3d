"""Shared fixtures: tiny models, the small MNIST-format data shipped in ``tests/data``, a fresh torch seed per test."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

TEST_DATA = Path(__file__).resolve().parent / "data"
"""The first 512 training and 256 test images of MNIST and 64 + 64 of Fashion-MNIST, in torchvision's raw
layout, gzip-compressed (``tests/data/make_subset.py`` wrote them; ``tests/data/README.md`` says why)."""
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def run_notebook(name: str, monkeypatch, **env: str) -> str:
    """Execute ``notebooks/<name>`` in quick mode (``QT_QUICK=1`` plus ``env``); return its printed text.

    Fails if the stored notebook has outputs or any cell raises.
    """
    import nbclient
    import nbformat

    for key, value in {"QT_QUICK": "1", **env}.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    path = NOTEBOOKS / name
    notebook = nbformat.read(path, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.get("outputs") for cell in code), f"store {name} without outputs"
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [out for cell in code for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.get("output_type") == "error"]
    return "".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(1234)


@pytest.fixture
def tiny_mlp() -> nn.Module:
    """A 3–4–2 MLP: 26 parameters (5 qubits)."""
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


@pytest.fixture
def data_root() -> Path:
    """The root of the shipped subsets (holds ``MNIST/raw`` and ``FashionMNIST/raw``); read-only."""
    return TEST_DATA
