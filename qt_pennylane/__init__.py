"""Quantum-Train for PyTorch: train a classical network's weights through an EfficientSU2 circuit.

Names load lazily, so that importing a light submodule (``qt_pennylane.tasks``, which the
exported classical models' classes live in) does not import PennyLane.

Example:
    >>> import torch
    >>> from qt_pennylane import QuantumTrainModel
    >>> model = QuantumTrainModel(torch.nn.Linear(4, 3), reps=1, seed=0)
    >>> classical = model.export()   # a plain torch.nn.Linear
"""
from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "CrossEntropyWithErrorRate": "losses",
    "LearnedMapping": "mapping",
    "PaperMapping": "mapping",
    "QuantumTrainModel": "model",
    "QuantumWeightGenerator": "generator",
}
__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'qt_pennylane' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
