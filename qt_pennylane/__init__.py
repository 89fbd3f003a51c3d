"""Quantum-Train for PyTorch: train a classical network's weights through an EfficientSU2 circuit.

Example:
    >>> import torch
    >>> from qt_pennylane import QuantumTrainModel
    >>> model = QuantumTrainModel(torch.nn.Linear(4, 3), reps=1, seed=0)
    >>> classical = model.export()   # a plain torch.nn.Linear
"""
from .generator import QuantumWeightGenerator
from .losses import CrossEntropyWithErrorRate
from .mapping import LearnedMapping, PaperMapping
from .model import QuantumTrainModel

__all__ = [
    "CrossEntropyWithErrorRate",
    "LearnedMapping",
    "PaperMapping",
    "QuantumTrainModel",
    "QuantumWeightGenerator",
    "__version__",
]
__version__ = "0.1.0"
