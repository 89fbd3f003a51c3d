"""A matrix-product-state (tensor-train) mapping model, as in arXiv:2409.06992: rows (bits, probability) → weights.

Example:
    >>> import torch
    >>> mapping = MPSMapping(3, 6, bond=4, seed=0)
    >>> mapping(torch.full((8,), 1 / 8)).shape, sum(p.numel() for p in mapping.parameters())
    (torch.Size([6]), 81)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_bool, check_number, check_positive_int, check_seed
from ._sizes import check_sizes, n_qubits_for
from .batched import probability_feature


class MPSMapping(nn.Module):
    """Weight ``i`` as a tensor-train contraction over the ``N + 1`` features of its row (``METHOD.md`` §9).

    The row of weight ``i < M`` is ``(b_1, …, b_N, x_i)``: the bits of ``i`` as ±1 (most
    significant first) and the probability feature ``x_i`` of :class:`LearnedMapping`
    (``(beta * tanh(gamma * 2**(N-1) * p_i))**alpha`` centred over the M rows, and with
    ``standardize`` divided by its std). Each feature ``v`` enters through the local map
    ``φ(v) = (1, v)``, and the MPS has one core per feature, ``N + 1`` in all, with bond dimension
    ``χ`` (``bond``)::

        A_k(v) = A_k[0] + v · A_k[1]           (core k: A_1 is (2, χ), A_2..A_N are (2, χ, χ),
                                                 the feature core A_{N+1} is (2, χ))
        θ_i = A_1(b_1) · A_2(b_2) ⋯ A_N(b_N) · A_{N+1}(x_i) + c

    a row vector times ``χ × χ`` matrices times a column vector, plus a trainable scalar ``c``.
    With ``φ(v) = (1, v)`` the MPS is a multilinear polynomial in the features of bond rank ``χ``.

    Contraction: the bits are shared structure, so the left products are built level by level
    over index prefixes, ``L_k[2j + b] = L_{k-1}[j] · A_k(±1)``, keeping at level ``k`` only the
    ``ceil(M / 2**(N-k))`` prefixes that some weight ``i < M`` has; the last step contracts
    ``L_N[i]`` with ``A_{N+1}(x_i)``. That costs about ``2 · M · χ²`` multiply-adds rather than
    ``M · N · χ²`` row by row.

    Initialization: ``A_1[0]`` a random unit vector, ``A_k[0] = I``, and every ``A_k[1]`` (and
    ``A_1[1]``) ``N(0, init_noise² / χ)``, so the products start near the first vector and the
    weights differ through their bits; :meth:`calibrate` rescales the feature core and sets ``c``
    so the weights start with mean 0 and std ``init_std``.

    Trainable numbers: ``4χ + 2 (N - 1) χ² + 1``.

    Args:
        n_qubits: N.
        n_params: M.
        bond: the bond dimension χ.
        gamma: the probability feature's γ (the learned mapping's).
        beta: the probability feature's β (the learned mapping's).
        alpha: the probability feature's α (the learned mapping's).
        standardize: divide the centred feature by its standard deviation.
        init_noise: the spread of the cores' bit terms at initialization.
        init_std: the weights' standard deviation after :meth:`calibrate`.
        seed: seed of the initial cores.

    Raises:
        ValueError: for a bad argument, naming it and its value.

    Example:
        >>> m = MPSMapping(2, 4, bond=2, seed=0)
        >>> [tuple(core.shape) for core in m.cores]
        [(2, 2), (2, 2, 2), (2, 2)]
    """

    def __init__(self, n_qubits: int, n_params: int, *, bond: int = 4, gamma: float = 0.1, beta: float = 0.8,
                 alpha: float = 0.3, standardize: bool = True, init_noise: float = 0.3, init_std: float = 0.05,
                 seed: int | None = None):
        super().__init__()
        check_sizes(n_qubits, n_params)
        self.bond = check_positive_int("bond", bond)
        for name, value in (("gamma", gamma), ("beta", beta), ("alpha", alpha), ("init_std", init_std)):
            check_number(name, value, positive=True)
        check_number("init_noise", init_noise, minimum=0)
        self.standardize = check_bool("standardize", standardize)
        check_seed("seed", seed)
        self.n_qubits, self.n_params = n_qubits, n_params
        self.gamma, self.beta, self.alpha, self.init_std = gamma, beta, alpha, init_std
        generator = torch.Generator()
        generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))

        def noise(*shape):
            return init_noise / math.sqrt(bond) * torch.randn(*shape, generator=generator)

        first = torch.randn(bond, generator=generator)
        cores = [torch.stack([first / first.norm(), noise(bond)])]
        cores += [torch.stack([torch.eye(bond), noise(bond, bond)]) for _ in range(n_qubits - 1)]
        cores.append(torch.stack([torch.randn(bond, generator=generator) / math.sqrt(bond), noise(bond)]))
        self.cores = nn.ParameterList([nn.Parameter(core) for core in cores])
        self.bias = nn.Parameter(torch.zeros(()))

    @staticmethod
    def qubits_for(n_params: int, **options) -> int:
        """``N = ceil(log2(n_params))``: one basis state per weight."""
        return n_qubits_for(n_params)

    def prefixes(self) -> torch.Tensor:
        """``L_N``: the ``(M, χ)`` left products over the bits of every weight's index."""
        n, m = self.n_qubits, self.n_params
        first = self.cores[0]
        left = torch.stack([first[0] - first[1], first[0] + first[1]])  # prefixes of one bit: (2, χ)
        for k in range(1, n):
            needed = -(-m // 2 ** (n - k))  # prefixes of k bits that some i < M has
            core = self.cores[k]
            steps = torch.stack([core[0] - core[1], core[0] + core[1]])  # (2, χ, χ): bit 0, bit 1
            left = torch.einsum("pa,bac->pbc", left[:needed], steps).reshape(-1, self.bond)
        return left[:m]

    def forward(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Map ``(2**N,)`` probabilities to ``(M,)`` weights."""
        dtype = self.bias.dtype
        x = probability_feature(probabilities[: self.n_params], self.n_qubits, gamma=self.gamma, beta=self.beta,
                                alpha=self.alpha, standardize=self.standardize).to(dtype)
        last = self.cores[-1]
        left = self.prefixes()
        return left @ last[0] + x * (left @ last[1]) + self.bias

    @torch.no_grad()
    def calibrate(self, probabilities: torch.Tensor) -> None:
        """Rescale the feature core and set ``c`` so the weights from ``probabilities`` have mean 0, std ``init_std``."""
        theta = self(probabilities)
        self.cores[-1].mul_(self.init_std / theta.std().clamp_min(1e-12).to(self.bias.dtype))
        self.bias.zero_()
        self.bias.sub_(self(probabilities).mean())

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, n_params={self.n_params}, bond={self.bond}"
