"""Every ``qt_pennylane.ntk`` module's docstring examples run; the notebook runs in quick mode."""
import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import qt_pennylane.ntk

MODULES = sorted(f"qt_pennylane.ntk.{info.name}" for info in pkgutil.iter_modules(qt_pennylane.ntk.__path__))


@pytest.mark.parametrize("name", ["qt_pennylane.ntk", *MODULES])
def test_docstring_examples_match_their_output(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed"


def test_every_ntk_module_is_checked():
    assert {"qt_pennylane.ntk.kernels", "qt_pennylane.ntk.qsvt", "qt_pennylane.ntk.cli"} <= set(MODULES)


@pytest.mark.notebook
def test_notebook_runs_in_quick_mode(monkeypatch):
    from helpers import run_notebook

    root = Path(__file__).resolve().parents[2]  # the kernel imports this checkout's qt_pennylane
    text = run_notebook("ntk.ipynb", monkeypatch, PYTHONPATH=str(root))
    assert "quick mode" in text and "QSVT overlap" in text
