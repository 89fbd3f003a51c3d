"""Quantum-Train for PyTorch: train a classical network's weights through a quantum circuit.

Names load lazily: ``import qt_pennylane`` imports neither PennyLane nor Qiskit, and building
and training a model on the fast engine never does.

Example:
    >>> import torch
    >>> from qt_pennylane import QuantumTrainModel
    >>> model = QuantumTrainModel(torch.nn.Linear(4, 3), reps=1, seed=0)
    >>> classical = model.export()   # a plain torch.nn.Linear
"""
from importlib import import_module

__version__ = "0.2.0"

_EXPORTS = {
    "QuantumTrainModel": "model",
    "QuantumWeightGenerator": "generator",
    "fit": "training.gradient",
    "param_groups": "training.gradient",
    "paper_schedule": "training.schedule",
    "spsa": "training.spsa",
    "SamplerSource": "circuit.qiskit_sampler",
    "update_bn": "training.batchnorm",
    "evaluate": "training.evaluation",
    "CrossEntropyWithErrorRate": "training.losses",
    "PaperMapping": "mappings.paper",
    "LearnedMapping": "mappings.learned",
    "RandomSubspaceGenerator": "controls",
    "SoftmaxPaperGenerator": "controls",
}
__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'qt_pennylane' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
