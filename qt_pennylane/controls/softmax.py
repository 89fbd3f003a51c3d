"""The paper mapping fed by a trainable softmax instead of the circuit's probabilities.

Example:
    >>> gen = SoftmaxPaperGenerator(6, seed=0)
    >>> gen().shape, gen.n_trainable
    (torch.Size([6]), 9)
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_dtype, check_number, check_positive_int
from ..mappings import PaperMapping, n_qubits_for
from ._random import seeded_generator


class SoftmaxPaperGenerator(nn.Module):
    """The paper's mapping fed by a trainable softmax instead of a quantum circuit.

    ``N = ceil(log2(n_params))``; ``p = softmax(logits)`` over ``2**N`` trainable logits
    replaces the circuit's probabilities and :class:`qt_pennylane.mappings.PaperMapping`
    (with its trainable γ) turns ``p`` into θ. Any distribution over ``2**N`` outcomes is
    reachable, so this is the upper bound of what the fixed mapping can express, with
    ``2**N + 1`` trainable numbers (more than the circuit's ``2·N·(reps + 1)``).

    Args:
        n_params: M, the length of θ.
        gamma: initial γ of the mapping (the paper: 0.3).
        seed: seed of the logits and of the mapping's random pairing (``None``: drawn from
            torch's global generator).
        init_std: the logits start ``N(0, init_std**2)``; 0 starts from the uniform distribution.
        dtype: floating dtype of the logits and of θ.

    Raises:
        ValueError: a bad argument, naming it and its value.

    Example:
        >>> gen = SoftmaxPaperGenerator(6, seed=0)
        >>> gen.n_qubits, gen().shape, gen.n_trainable
        (3, torch.Size([6]), 9)
    """

    def __init__(
        self,
        n_params: int,
        *,
        gamma: float = 0.3,
        seed: int | None = None,
        init_std: float = 1.0,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        self.n_params = check_positive_int("n_params", n_params)
        init_std = check_number("init_std", init_std, minimum=0)
        dtype = check_dtype("dtype", dtype)
        self.n_qubits = n_qubits_for(n_params)
        generator = seeded_generator(seed)
        mapping_seed = int(torch.randint(2**62, (), generator=generator).item())
        logits = init_std * torch.randn(2**self.n_qubits, generator=generator, dtype=dtype)
        self.logits = nn.Parameter(logits)
        self.mapping = PaperMapping(self.n_qubits, n_params, gamma=gamma, seed=mapping_seed)

    @property
    def n_trainable(self) -> int:
        """The number of trainable numbers: ``2**N`` logits plus γ."""
        return sum(p.numel() for p in self.parameters())

    def probabilities(self) -> torch.Tensor:
        """``softmax(logits)``, the ``2**N`` probabilities fed to the mapping."""
        return torch.softmax(self.logits, dim=0)

    def forward(self) -> torch.Tensor:
        """θ = PaperMapping(softmax(logits)), of shape ``(n_params,)``."""
        return self.mapping(self.probabilities())

    def extra_repr(self) -> str:
        return f"n_params={self.n_params}, n_qubits={self.n_qubits}"
