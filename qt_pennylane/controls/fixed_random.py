"""The circuit taken out: a fixed random probability vector as the source, everything else kept.

Example:
    >>> FixedRandomSource(2, seed=0)().shape
    torch.Size([4])
"""
from __future__ import annotations

import torch

from .._validation import check_dtype, check_positive_int, check_seed
from ..circuit.sources import ProbabilitySource
from ._random import seeded_generator


class FixedRandomSource(ProbabilitySource):
    """A fixed random probability vector in place of the circuit's: the circuit taken out, all else kept.

    The vector is ``e / sum(e)`` with ``e_i`` exponential (Dirichlet(1)): the Porter–Thomas
    distribution of a random circuit's probabilities. It is a buffer (part of ``state_dict``);
    the source has no trainable parameters.

    Args:
        n_qubits: N; the vector has ``2**N`` entries.
        seed: seed of the vector.

    Example:
        >>> source = FixedRandomSource(3, seed=0)
        >>> p = source()
        >>> p.shape, round(float(p.sum()), 6), list(source.parameters())
        (torch.Size([8]), 1.0, [])
    """

    def __init__(self, n_qubits: int, *, seed: int | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n_qubits = check_positive_int("n_qubits", n_qubits)
        check_seed("seed", seed)
        dtype = check_dtype("dtype", dtype)
        generator = seeded_generator(seed)
        draws = -torch.log(torch.rand(2**n_qubits, generator=generator, dtype=torch.float64).clamp_min(1e-300))
        self.register_buffer("p", (draws / draws.sum()).to(dtype))
        self.description = "fixed random vector (control: no circuit)"

    def forward(self) -> torch.Tensor:
        """The fixed probabilities."""
        return self.p
