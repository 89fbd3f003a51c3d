"""Shared fixtures: tiny models, the small MNIST-format data shipped in ``tests/data``, a fresh torch seed per test."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from helpers import TEST_DATA


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
