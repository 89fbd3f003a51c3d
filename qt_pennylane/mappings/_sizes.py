"""Sizes shared by the mappings: qubits for a weight count, and basis-state indices as ±1 bits.

Example:
    >>> n_qubits_for(131), n_qubits_for(6690), n_qubits_for(1)
    (8, 13, 1)
    >>> index_bits(torch.tensor([0, 5]), 3).tolist()
    [[-1.0, -1.0, -1.0], [1.0, -1.0, 1.0]]
"""
from __future__ import annotations

import math

import torch

from .._validation import check_positive_int


def n_qubits_for(n_params: int) -> int:
    """``N = ceil(log2(M))``, at least 1: the qubits whose ``2**N`` basis states cover ``n_params`` weights."""
    check_positive_int("n_params", n_params)
    return max(1, math.ceil(math.log2(n_params)))


def check_sizes(n_qubits: int, n_params: int) -> None:
    """Refuse sizes where the ``2**n_qubits`` basis states cannot give one value per weight."""
    check_positive_int("n_qubits", n_qubits)
    check_positive_int("n_params", n_params)
    if n_params > 2**n_qubits:
        raise ValueError(f"n_params={n_params} exceeds the {2**n_qubits} basis states of n_qubits={n_qubits}")


def index_bits(index: torch.Tensor, n_bits: int) -> torch.Tensor:
    """The bits of each index, most significant first, as ``-1.0`` (bit 0) and ``+1.0`` (bit 1)."""
    shifts = torch.arange(n_bits - 1, -1, -1)
    return ((index[:, None] >> shifts) & 1).to(torch.get_default_dtype()) * 2 - 1
