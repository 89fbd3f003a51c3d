"""The built-in tasks' networks: the papers' Iris MLP and MNIST CNN.

Example:
    >>> sum(p.numel() for p in IrisMLP().parameters()), sum(p.numel() for p in MnistCNN().parameters())
    (131, 6690)
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_bool


class IrisMLP(nn.Sequential):
    """The paper's Iris network 4–16–3: 131 parameters (N = 8 qubits).

    The paper does not name its activation. ``activation=True`` puts a ReLU between the two
    layers; ``activation=False`` puts none, as the authors' released code does in its CNN. The
    network is then affine in its input (a softmax-linear classifier of rank ≤ 3), with the same
    131 parameters. The ``"iris"`` task uses the choice with the higher cross-validation accuracy
    on the training set under the paper's schedule (``benchmarks/iris.py --only network``).

    Example:
        >>> IrisMLP(activation=False)
        IrisMLP(
          (0): Linear(in_features=4, out_features=16, bias=True)
          (1): Identity()
          (2): Linear(in_features=16, out_features=3, bias=True)
        )
    """

    def __init__(self, *, activation: bool = True):
        check_bool("activation", activation)
        super().__init__(nn.Linear(4, 16), nn.ReLU() if activation else nn.Identity(), nn.Linear(16, 3))


class MnistCNN(nn.Module):
    """The MNIST/FashionMNIST CNN of the Quantum-Train papers: 6,690 parameters (N = 13).

    Conv(1→8, k5) – MaxPool(2) – Conv(8→12, k5) – MaxPool(2) – Linear(192→20) – Linear(20→10),
    with ReLU after each conv and the first linear layer; ``activation=False`` gives the
    authors' activation-free version (same parameter count).

    Example:
        >>> MnistCNN()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(self, *, activation: bool = True):
        check_bool("activation", activation)
        super().__init__()
        act = nn.ReLU if activation else nn.Identity
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5), act(), nn.MaxPool2d(2), nn.Conv2d(8, 12, 5), act(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(192, 20), act(), nn.Linear(20, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
