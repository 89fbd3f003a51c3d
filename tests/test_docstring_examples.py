"""Every ``>>>`` example in the package's docstrings runs and prints what it shows."""
import doctest
import importlib
import pkgutil

import pytest

import qt_pennylane

MODULES = sorted(info.name for info in pkgutil.walk_packages(qt_pennylane.__path__, prefix="qt_pennylane."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_match_their_output(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples in {name} failed (see stdout)"


def test_every_module_is_checked():
    assert {"qt_pennylane.training.schedule", "qt_pennylane.tasks", "qt_pennylane.circuit.engine",
            "qt_pennylane.mappings.paper", "qt_pennylane.devices.registry"} <= set(MODULES)
