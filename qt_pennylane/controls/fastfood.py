"""The random subspace with a structured projection (Fastfood, Le et al. 2013), for when a dense one does not fit.

Example:
    >>> gen = FastfoodSubspaceGenerator(1000, n_trainable=30, seed=0)
    >>> gen().shape, sum(p.numel() for p in gen.parameters()), gen.block_size, gen.n_blocks
    (torch.Size([1000]), 30, 32, 32)
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .._validation import check_dtype, check_number, check_positive_int
from ._random import seeded_generator
from .subspace import check_theta0


def sylvester(size: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The ``size × size`` Sylvester–Hadamard matrix (``H_1 = [1]``, ``H_2n = [[H_n, H_n], [H_n, -H_n]]``).

    Example:
        >>> sylvester(2).tolist()
        [[1.0, 1.0], [1.0, -1.0]]
    """
    matrix = torch.ones(1, 1, dtype=dtype)
    while matrix.shape[0] < size:
        matrix = torch.cat([torch.cat([matrix, matrix], 1), torch.cat([matrix, -matrix], 1)], 0)
    return matrix


def hadamard_transform(x: torch.Tensor) -> torch.Tensor:
    """The unnormalized Walsh–Hadamard transform ``H x`` along the last axis (its length a power of 2).

    ``H`` is the Sylvester matrix (entries ±1, ``H·H = D·I``). With ``D = a·b`` it factors as
    ``H_D = H_a ⊗ H_b``, so on ``x`` viewed as ``a × b`` matrices ``X`` it is ``H_a X H_b``: two
    matrix products, ``a + b`` multiply-adds per entry (about 3× faster on a CPU than ``log2 D``
    passes of additions). Differentiable.

    Example:
        >>> hadamard_transform(torch.tensor([1.0, 0.0, 0.0, 0.0])).tolist()
        [1.0, 1.0, 1.0, 1.0]
        >>> hadamard_transform(torch.eye(2)).tolist()
        [[1.0, 1.0], [1.0, -1.0]]
    """
    size = x.shape[-1]
    if size < 1 or size & (size - 1):
        raise ValueError(f"x.shape[-1] must be a power of 2, got {size}")
    rows = 1 << ((size.bit_length() - 1) // 2)
    columns = size // rows
    matrices = x.reshape(-1, rows, columns) @ sylvester(columns, x.dtype)
    return (sylvester(rows, x.dtype) @ matrices).reshape(x.shape)


class FastfoodSubspaceGenerator(nn.Module):
    """θ = θ0 + V·z / sqrt(d): the random subspace of :class:`RandomSubspaceGenerator` with a Fastfood ``V``.

    A dense ``M × d`` projection does not fit in memory at large M (1.86M × 30k floats is 220 GB).
    Fastfood (Le, Sarlós, Smola 2013; the structured projection of Li et al. 2018) stacks
    ``ceil(M / D)`` independent ``D × D`` blocks, ``D = 2**ceil(log2 d)``, each::

        V_b = S_b H G_b Π_b H B_b

    with ``H`` the Walsh–Hadamard matrix (entries ±1), ``B_b`` random ±1 signs, ``Π_b`` a random
    permutation, ``G_b`` Gaussian ``N(0, 1)`` entries, all diagonal but ``Π_b``, and
    ``S_b = s / (sqrt(D) · ||G_b||)`` with ``s_j`` chi-distributed with ``D`` degrees of freedom, so
    every row of ``V_b`` has the length of a row of ``D`` standard Gaussians. ``z`` (``d`` numbers,
    zero-padded to ``D``) enters every block; the blocks' outputs are concatenated and cut to M.
    Entry-wise V·z/sqrt(d) has the spread of the dense version's ``P·z`` (entries ``N(0, 1/d)``).
    Memory: about 21 bytes per weight (θ0, an int64 permutation, int8 signs, two float32 diagonals),
    not ``4·d``;
    time: two Hadamard transforms per block (:func:`hadamard_transform`).

    ``θ0`` (fixed) and ``V``'s diagonals and permutations are buffers (part of ``state_dict``);
    only ``z`` (``d`` numbers, initially zero) is trainable, so θ = θ0 at initialization.

    Args:
        n_params: M, the length of θ.
        n_trainable: d, the subspace dimension (the trainable count).
        seed: seed of ``V`` and (if ``theta0`` is not given) θ0.
        theta0: the fixed offset (default: ``N(0, init_std**2)`` draws).
        init_std: standard deviation of the random θ0.
        dtype: floating dtype of θ0, V's diagonals and z.

    Raises:
        ValueError: a bad argument, naming it and its value.

    Example:
        >>> gen = FastfoodSubspaceGenerator(10, n_trainable=3, seed=0)
        >>> torch.equal(gen(), gen.theta0), gen.block_size
        (True, 4)
    """

    def __init__(self, n_params: int, *, n_trainable: int, seed: int | None = None,
                 theta0: torch.Tensor | None = None, init_std: float = 0.05, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n_params = check_positive_int("n_params", n_params)
        self.n_trainable = check_positive_int("n_trainable", n_trainable)
        init_std = check_number("init_std", init_std, minimum=0)
        dtype = check_dtype("dtype", dtype)
        if theta0 is not None:
            check_theta0(theta0, n_params)
        generator = seeded_generator(seed)
        size = 1 << max(0, math.ceil(math.log2(n_trainable)))
        blocks = -(-n_params // size)
        self.block_size, self.n_blocks = size, blocks
        signs = (torch.randint(2, (blocks, size), generator=generator, dtype=torch.int8) * 2 - 1)
        permutation = torch.argsort(torch.rand(blocks, size, generator=generator), dim=1)
        gauss = torch.randn(blocks, size, generator=generator, dtype=torch.float64)
        chi_seed = int(torch.randint(2**62, (), generator=generator).item())
        chi = torch.from_numpy(np.sqrt(np.random.default_rng(chi_seed).chisquare(size, (blocks, size))))
        scale = chi / (math.sqrt(size) * gauss.norm(dim=1, keepdim=True))
        if theta0 is None:
            theta0 = init_std * torch.randn(n_params, generator=generator, dtype=dtype)
        else:
            theta0 = theta0.detach().to(device="cpu", dtype=dtype).clone()
        self.register_buffer("theta0", theta0)
        self.register_buffer("signs", signs)
        self.register_buffer("permutation", permutation)
        self.register_buffer("gauss", gauss.to(dtype))
        self.register_buffer("scale", (scale / math.sqrt(n_trainable)).to(dtype))  # S and the 1/sqrt(d)
        self.z = nn.Parameter(torch.zeros(n_trainable, dtype=dtype))

    @classmethod
    def from_module(cls, target: nn.Module, *, n_trainable: int, seed: int | None = None, **kwargs):
        """A generator whose θ0 is ``target``'s current parameters (``target.parameters()`` order).

        Example:
            >>> target = torch.nn.Linear(4, 3)
            >>> gen = FastfoodSubspaceGenerator.from_module(target, n_trainable=5, seed=0)
            >>> torch.equal(gen(), torch.nn.utils.parameters_to_vector(target.parameters()))
            True
        """
        theta0 = torch.nn.utils.parameters_to_vector(target.parameters()).detach()
        return cls(theta0.numel(), n_trainable=n_trainable, seed=seed, theta0=theta0, **kwargs)

    def projection_times(self, z: torch.Tensor) -> torch.Tensor:
        """``V·z / sqrt(d)`` for a ``(d,)`` vector ``z``: ``(n_params,)``."""
        padded = torch.nn.functional.pad(z, (0, self.block_size - self.n_trainable))
        x = hadamard_transform(padded * self.signs.to(z.dtype))  # (blocks, D): H B z
        x = torch.gather(x, 1, self.permutation) * self.gauss  # G Π H B z
        x = hadamard_transform(x) * self.scale  # S H G Π H B z / sqrt(d)
        return x.reshape(-1)[: self.n_params]

    def forward(self) -> torch.Tensor:
        """θ = θ0 + V·z / sqrt(d), of shape ``(n_params,)``."""
        return self.theta0 + self.projection_times(self.z)

    def extra_repr(self) -> str:
        return f"n_params={self.n_params}, n_trainable={self.n_trainable}, blocks={self.n_blocks}x{self.block_size}"
