"""The exported classical model of a built-in task, saved so that loading it runs no code.

The file holds the task's name and the model's ``state_dict`` (tensors and plain values only);
:func:`load_classical` rebuilds the task's architecture and loads the weights with
``torch.load(..., weights_only=True)``. For your own model, save ``model.export().state_dict()``
and load it into your architecture the same way.

Example:
    >>> import tempfile, pathlib
    >>> from qt_pennylane.tasks import get_task
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "classical_model.pt"
    >>> save_classical(get_task("iris").build_model(), "iris", path)
    >>> sum(p.numel() for p in load_classical(path).parameters())
    131
"""
from __future__ import annotations

import os

from torch import nn

from ..training.checkpoint import load_checkpoint, load_model_state, save_atomic

CLASSICAL_FORMAT = 1
"""Format version of a saved classical model."""


def save_classical(module: nn.Module, task: str, path: str | os.PathLike) -> None:
    """Save ``module`` (a built-in task's network) as ``{"format", "task", "model"}``, atomically."""
    save_atomic({"format": CLASSICAL_FORMAT, "task": task, "model": module.state_dict()}, path)


def load_classical(path: str | os.PathLike) -> nn.Module:
    """The classical model saved by :func:`save_classical` (or by ``qt-pennylane train --out``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: not such a file, an unknown task, or weights that do not fit the task's network.
    """
    from . import get_task

    state = load_checkpoint(path, required=("format", "task", "model"), version=CLASSICAL_FORMAT)
    module = get_task(state["task"]).build_model()
    load_model_state(module, state["model"], path)
    return module
