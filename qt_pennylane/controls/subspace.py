"""The random-subspace control (Li et al. 2018): θ = θ0 + P·z with a fixed dense random projection P.

Example:
    >>> gen = RandomSubspaceGenerator(131, n_trainable=32, seed=0)
    >>> gen().shape, sum(p.numel() for p in gen.parameters())
    (torch.Size([131]), 32)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import check_dtype, check_number, check_positive_int
from ._random import seeded_generator


def check_theta0(theta0, n_params: int) -> None:
    """Refuse a ``theta0`` that is not a finite tensor of shape ``(n_params,)``."""
    if not isinstance(theta0, torch.Tensor) or theta0.shape != (n_params,):
        shape = tuple(theta0.shape) if isinstance(theta0, torch.Tensor) else type(theta0).__name__
        raise ValueError(f"theta0 must be a tensor of shape ({n_params},) (n_params), got {shape}")
    if not torch.isfinite(theta0).all():
        raise ValueError("theta0 must be finite, got NaN or inf entries")


class RandomSubspaceGenerator(nn.Module):
    """θ = θ0 + P·z: training in a fixed random subspace of dimension ``n_trainable``.

    The "intrinsic dimension" baseline of Li et al. (2018). ``theta0`` (length
    ``n_params``) and ``P`` (``n_params × n_trainable``, entries drawn i.i.d. from
    ``N(0, 1/n_trainable)``) are fixed buffers, part of ``state_dict``; only ``z``
    (length ``n_trainable``, initially zero) is trainable, so at initialization θ = θ0.
    With this scaling each θ_j moves by about ``|z| / sqrt(n_trainable)``, i.e. by about
    one unit of z's typical entry.

    Everything random is drawn from a ``torch.Generator`` seeded with ``seed``: ``P`` first,
    then (if ``theta0`` is not given) θ0, so the same seed gives the same ``P`` whether or
    not ``theta0`` is passed. ``P`` is dense: ``n_params * n_trainable`` numbers
    (6,690 × 702 in float32 is 19 MB).

    Args:
        n_params: M, the length of θ.
        n_trainable: d, the number of trainable numbers (the subspace dimension).
        seed: seed of ``P`` and θ0 (``None``: drawn from torch's global generator).
        theta0: the fixed offset θ0, e.g.
            ``torch.nn.utils.parameters_to_vector(target.parameters())`` for the target's
            own default initialization (see :meth:`from_module`); if ``None``, θ0 is drawn
            from ``N(0, init_std**2)``.
        init_std: standard deviation of the random θ0 when ``theta0`` is ``None``.
        dtype: floating dtype of θ0, P and z (``theta0`` is converted to it).

    Raises:
        ValueError: a bad argument, naming it and its value.

    Example:
        >>> gen = RandomSubspaceGenerator(10, n_trainable=3, seed=0)
        >>> torch.equal(gen(), gen.theta0), gen.projection.shape
        (True, torch.Size([10, 3]))
    """

    def __init__(
        self,
        n_params: int,
        *,
        n_trainable: int,
        seed: int | None = None,
        theta0: torch.Tensor | None = None,
        init_std: float = 0.05,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        self.n_params = check_positive_int("n_params", n_params)
        self.n_trainable = check_positive_int("n_trainable", n_trainable)
        init_std = check_number("init_std", init_std, minimum=0)
        dtype = check_dtype("dtype", dtype)
        if theta0 is not None:
            check_theta0(theta0, n_params)
        generator = seeded_generator(seed)
        projection = torch.randn(n_params, n_trainable, generator=generator, dtype=dtype) / math.sqrt(n_trainable)
        if theta0 is None:
            theta0 = init_std * torch.randn(n_params, generator=generator, dtype=dtype)
        else:
            theta0 = theta0.detach().to(device="cpu", dtype=dtype).clone()
        self.register_buffer("theta0", theta0)
        self.register_buffer("projection", projection)
        self.z = nn.Parameter(torch.zeros(n_trainable, dtype=dtype))

    @classmethod
    def from_module(cls, target: nn.Module, *, n_trainable: int, seed: int | None = None, **kwargs):
        """A generator for ``target`` whose θ0 is ``target``'s current parameters (flattened in
        ``target.parameters()`` order, the order :class:`~qt_pennylane.QuantumTrainModel` uses).

        Example:
            >>> target = torch.nn.Linear(4, 3)
            >>> gen = RandomSubspaceGenerator.from_module(target, n_trainable=5, seed=0)
            >>> gen.n_params, torch.equal(gen(), torch.nn.utils.parameters_to_vector(target.parameters()))
            (15, True)
        """
        theta0 = torch.nn.utils.parameters_to_vector(target.parameters()).detach()
        return cls(theta0.numel(), n_trainable=n_trainable, seed=seed, theta0=theta0, **kwargs)

    def forward(self) -> torch.Tensor:
        """θ = θ0 + P·z, of shape ``(n_params,)``."""
        return torch.addmv(self.theta0, self.projection, self.z)

    def extra_repr(self) -> str:
        return f"n_params={self.n_params}, n_trainable={self.n_trainable}"
