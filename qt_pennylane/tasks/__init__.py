"""Built-in tasks: a dataset split, the classical model for it, and the training defaults that suit it.

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

from torch import nn
from torch.utils.data import TensorDataset

from .._validation import check_choice, check_positive_int
from .iris import load_iris_split
from .models import IrisMLP, MnistCNN, MnistMLP, ResNet, RowLSTM
from .saved import load_classical, save_classical


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
    check_positive_int("limit", limit, allow_none=True)
    train, test = load_iris_split()
    if limit is not None:
        train = TensorDataset(*(t[:limit] for t in train.tensors))
        test = TensorDataset(*(t[:limit] for t in test.tensors))
    return train, test


PAPER_SETTING = dict(mapping="paper", generate="all", scale="none")
"""The Quantum-Train papers' setting: every parameter from the paper mapping, its output untouched."""

_VISION_DEFAULTS = dict(PAPER_SETTING, reps=26, epochs=6, batch_size=128, lr=0.02, train_eval_limit=10_000)
"""The paper mapping's MNIST settings of ``benchmarks/mnist.py`` (97.4 % test at L = 26)."""

LARGE_MLP_DEFAULTS = dict(mapping="batched", mapping_options={"chunk_size": 1024, "hidden": (128, 24)},
                          generate="weights", scale="init", reps=10, epochs=8, batch_size=128, lr=0.03,
                          mapping_lr=3e-3, classical_lr=1e-3, train_eval_limit=10_000)
"""Batched generation for the 1.86M-weight MLP (32,663 trainable numbers, 1.75 %: 242 angles, the mapping's
MLP and head, 3 gains, 2,058 biases), chosen on a validation split (``benchmarks/large.py --only tune``)."""

ZOO_DEFAULTS = dict(mapping="learned", mapping_options={"hidden": (16, 16)}, generate="weights", scale="init",
                    reps=16, epochs=5, batch_size=128, lr=0.03, train_eval_limit=10_000)
"""The package's defaults with the circuit depth, mapping size and rate of ``benchmarks/zoo.py`` (the mapping
at its relative rate, the classical parameters at ``lr``)."""

RESNET_DEFAULTS = dict(ZOO_DEFAULTS, mapping="batched", mapping_options={"chunk_size": 128, "hidden": (48, 48)},
                       mapping_lr=3e-3)
"""Batched chunk heads for the BatchNorm ResNet (9,982 trainable numbers, 22.7 % of its 44,014): on a
validation split of the training set they beat the default learned mapping (``benchmarks/zoo.py --only tune``)."""

TASKS = {
    "iris": Task("iris", partial(IrisMLP, activation=False), _iris_loader,
                 dict(PAPER_SETTING, reps=1, epochs=1000, batch_size=None, lr=0.1, eval_every=100)),
    "mnist": Task("mnist", MnistCNN, _load_vision("mnist"), dict(_VISION_DEFAULTS)),
    "fashion-mnist": Task("fashion-mnist", MnistCNN, _load_vision("fashion-mnist"), dict(_VISION_DEFAULTS)),
    "mnist-mlp": Task("mnist-mlp", MnistMLP, _load_vision("mnist"), dict(LARGE_MLP_DEFAULTS)),
    "fashion-resnet": Task("fashion-resnet", ResNet, _load_vision("fashion-mnist"), dict(RESNET_DEFAULTS)),
    "mnist-lstm": Task("mnist-lstm", partial(RowLSTM, hidden=64), _load_vision("mnist"), dict(ZOO_DEFAULTS)),
    "mnist-bilstm": Task("mnist-bilstm", partial(RowLSTM, hidden=32, layers=2, bidirectional=True),
                         _load_vision("mnist"), dict(ZOO_DEFAULTS)),
}
"""Built-in tasks by name."""


def get_task(name: str) -> Task:
    """The task called ``name`` (a key of :data:`TASKS`)."""
    return TASKS[check_choice("task", name, TASKS)]
