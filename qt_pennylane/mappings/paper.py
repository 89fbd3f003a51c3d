"""The fixed mapping of arXiv:2402.16465: probabilities → weights with index-fixed signs and a trained scale γ.

Example:
    >>> import torch
    >>> mapping = PaperMapping(3, 6, seed=0)
    >>> mapping(torch.full((8,), 1 / 8)).shape
    torch.Size([6])
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_number, check_seed
from ._sizes import check_sizes, n_qubits_for


class PaperMapping(nn.Module):
    """The fixed mapping of arXiv:2402.16465 (``METHOD.md`` §3), with trainable ``gamma``.

    With ``2**(N-1) < M <= 2**N`` (any ``M <= 2**N`` works here):

    1. *Equivalent setting*: ``K = 2**N - M`` weights, chosen at random (seeded), each take
       the mean of two distinct basis probabilities ``(p_i + p_k) / 2``; every other weight
       takes one probability. Every basis state feeds exactly one weight. The assignment is
       stored as buffers ``first`` and ``second`` (``first[j] == second[j]`` for unpaired
       weights), so it is part of ``state_dict``.
    2. *Signs*: ``s_j = (-1)**j`` with ``j`` counted **from 0** (weight 0 positive, weight 1
       negative, ...). The paper counts from 1 and negates odd indices; this is the same
       alternation shifted by one, chosen so the first weight keeps its sign.
    3. *Scaling*: ``theta_j = gamma * tanh(gamma * 2**(N-1) * s_j * pbar_j)``.

    ``gamma`` is trained through the parameter ``log_gamma`` (``gamma = exp(log_gamma)``): it
    stays positive as the paper requires, and gradient optimizers take relative steps in it.
    With ``gamma`` itself as the parameter, Adam at ``lr = 0.1`` can drive it from 0.3 to 0 in
    three steps, where every weight and every gradient vanish and training stalls.

    Args:
        n_qubits: N, the number of qubits.
        n_params: M, the number of weights to produce.
        gamma: initial value of the trainable scale (the paper: 0.3).
        seed: seed of the random pairing (``None``: drawn from torch's global generator).

    Example:
        >>> m = PaperMapping(2, 3, seed=0)
        >>> sorted(torch.cat([m.first, m.second[m.first != m.second]]).tolist())
        [0, 1, 2, 3]
    """

    def __init__(self, n_qubits: int, n_params: int, *, gamma: float = 0.3, seed: int | None = None):
        super().__init__()
        check_sizes(n_qubits, n_params)
        check_number("gamma", gamma, positive=True)
        check_seed("seed", seed)
        self.n_qubits, self.n_params = n_qubits, n_params
        generator = torch.Generator()
        generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))
        n_paired = 2**n_qubits - n_params
        basis = torch.randperm(2**n_qubits, generator=generator)
        paired = torch.zeros(n_params, dtype=torch.bool)
        paired[torch.randperm(n_params, generator=generator)[:n_paired]] = True
        first = basis[:n_params].clone()
        second = first.clone()
        second[paired] = basis[n_params:]
        self.register_buffer("first", first)
        self.register_buffer("second", second)
        self.register_buffer("signs", 1.0 - 2.0 * (torch.arange(n_params) % 2), persistent=False)
        self.log_gamma = nn.Parameter(torch.tensor(math.log(gamma), dtype=torch.float64))

    @property
    def gamma(self) -> torch.Tensor:
        """The scale ``gamma = exp(log_gamma)``."""
        return self.log_gamma.exp()

    @staticmethod
    def qubits_for(n_params: int, **options) -> int:
        """``N = ceil(log2(n_params))``: one basis state per weight."""
        return n_qubits_for(n_params)

    def forward(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Map ``(2**N,)`` probabilities to ``(M,)`` weights (dtype of ``probabilities``)."""
        pbar = 0.5 * (probabilities[self.first] + probabilities[self.second])
        gamma = self.gamma.to(probabilities.dtype)
        scale = 2.0 ** (self.n_qubits - 1)
        return gamma * torch.tanh(gamma * scale * self.signs.to(probabilities.dtype) * pbar)

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, n_params={self.n_params}, paired={2**self.n_qubits - self.n_params}"
