"""Shared fixtures: tiny models, the shared data folder, a fresh torch seed per test."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(1234)


@pytest.fixture
def tiny_mlp() -> nn.Module:
    """A 3–4–2 MLP: 26 parameters (5 qubits)."""
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data folder {SHARED_DATA} is missing")
    return SHARED_DATA
