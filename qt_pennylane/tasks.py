"""Built-in tasks: a dataset split and the paper's classical model for it.

Example:
    >>> task = get_task("iris")
    >>> train, test = task.load()
    >>> len(train), len(test), sum(p.numel() for p in task.build_model().parameters())
    (100, 50, 131)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import torch
from torch import nn
from torch.utils.data import TensorDataset


def _check_bool(name: str, value) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")


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
        _check_bool("activation", activation)
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
        _check_bool("activation", activation)
        super().__init__()
        act = nn.ReLU if activation else nn.Identity
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 5), act(), nn.MaxPool2d(2), nn.Conv2d(8, 12, 5), act(), nn.MaxPool2d(2)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(192, 20), act(), nn.Linear(20, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


def load_iris_split(*, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """Iris (scikit-learn's bundled copy): stratified 100 / 50 split, standardized on the training part.

    Args:
        seed: picks the split; 0 is the ``"iris"`` task's.

    Example:
        >>> train, test = load_iris_split(seed=1)
        >>> len(train), len(test)
        (100, 50)
    """
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    features, labels = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, train_size=100, test_size=50, stratify=labels, random_state=seed
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)

    def as_dataset(x, y):
        return TensorDataset(torch.tensor((x - mean) / std, dtype=torch.float32), torch.tensor(y, dtype=torch.long))

    return as_dataset(x_train, y_train), as_dataset(x_test, y_test)


def _load_vision(name: str):
    def load(*, data_root=None, limit: int | None = None):
        from .datasets import mnist_tensors

        return (
            mnist_tensors(name, train=True, data_root=data_root, limit=limit),
            mnist_tensors(name, train=False, data_root=data_root, limit=limit),
        )

    return load


@dataclass(frozen=True)
class Task:
    """A dataset with its classical model and the training defaults that suit it.

    ``batch_size=None`` means full-batch training (one step per epoch).
    """

    name: str
    build_model: Callable[[], nn.Module]
    loader: Callable[..., tuple[TensorDataset, TensorDataset]]
    defaults: dict = field(default_factory=dict)

    def load(self, **options) -> tuple[TensorDataset, TensorDataset]:
        """The (train, test) datasets; options go to the loader (e.g. ``data_root``, ``limit``)."""
        return self.loader(**options)


def _iris_loader(*, data_root=None, limit: int | None = None):
    del data_root  # bundled with scikit-learn
    train, test = load_iris_split()
    if limit is not None:
        train = TensorDataset(*(t[:limit] for t in train.tensors))
        test = TensorDataset(*(t[:limit] for t in test.tensors))
    return train, test


_VISION_DEFAULTS = dict(reps=26, epochs=6, batch_size=128, lr=0.02, train_eval_limit=10_000)
"""The paper mapping's MNIST settings of ``benchmarks/mnist.py`` (97.4 % test at L = 26)."""

TASKS = {
    "iris": Task("iris", partial(IrisMLP, activation=False), _iris_loader,
                 dict(reps=1, epochs=1000, batch_size=None, lr=0.1, eval_every=100)),
    "mnist": Task("mnist", MnistCNN, _load_vision("mnist"), dict(_VISION_DEFAULTS)),
    "fashion-mnist": Task("fashion-mnist", MnistCNN, _load_vision("fashion-mnist"), dict(_VISION_DEFAULTS)),
}
"""Built-in tasks by name."""


def get_task(name: str) -> Task:
    """The task called ``name`` (a key of :data:`TASKS`)."""
    if name not in TASKS:
        raise ValueError(f"task={name!r} is not known; expected one of {sorted(TASKS)}")
    return TASKS[name]
