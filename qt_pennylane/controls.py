"""Non-quantum weight generators, drop-in replacements for ``QuantumWeightGenerator``.

Each is an ``nn.Module`` with an ``n_params`` attribute whose ``forward()`` takes no input
and returns the flat weight vector θ of length ``n_params``, so it can be passed as
``QuantumTrainModel(target, generator=...)``. They answer the ablation question "does the
quantum circuit matter, or would any low-dimensional parameterization of θ do?"

- :class:`RandomSubspaceGenerator`: θ = θ0 + P·z with a fixed random projection P
  ("intrinsic dimension", Li et al. 2018, arXiv:1804.08838).
- :class:`SoftmaxPaperGenerator`: the paper's fixed mapping fed by a trainable softmax over
  ``2**N`` logits instead of the circuit's probabilities.
- :class:`HashedNetsGenerator`: HashedNets (Chen et al. 2015, arXiv:1504.04788): every weight is a
  trainable bucket value chosen by a fixed random hash, with a fixed random sign.

And one probability source, for the same generator with the circuit taken out:

- :class:`FixedRandomSource`: a fixed random probability vector in place of the circuit's
  (``QuantumTrainModel(target, source="fixed-random")``).

Example:
    >>> gen = RandomSubspaceGenerator(131, n_trainable=32, seed=0)
    >>> gen().shape, sum(p.numel() for p in gen.parameters())
    (torch.Size([131]), 32)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validation import check_dtype, check_number, check_positive_int, check_seed
from .circuit.sources import ProbabilitySource
from .mappings import PaperMapping, n_qubits_for

__all__ = ["FixedRandomSource", "HashedNetsGenerator", "RandomSubspaceGenerator", "SoftmaxPaperGenerator"]


def _make_generator(seed) -> torch.Generator:
    """A torch.Generator seeded by ``seed``, or (``seed=None``) by torch's global generator."""
    check_seed("seed", seed)
    generator = torch.Generator()
    generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))
    return generator


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
            if not isinstance(theta0, torch.Tensor) or theta0.shape != (n_params,):
                shape = tuple(theta0.shape) if isinstance(theta0, torch.Tensor) else type(theta0).__name__
                raise ValueError(f"theta0 must be a tensor of shape ({n_params},) (n_params), got {shape}")
            if not torch.isfinite(theta0).all():
                raise ValueError("theta0 must be finite, got NaN or inf entries")
        generator = _make_generator(seed)
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
        generator = _make_generator(seed)
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


class HashedNetsGenerator(nn.Module):
    """HashedNets: θ_i = s_i · w[h(i)] with ``buckets`` trainable values ``w`` shared through a fixed hash.

    The hash ``h`` (a bucket per weight) and the signs ``s_i = ±1`` are drawn once from ``seed`` and
    kept as buffers (int32 and int8: 5 bytes per weight), so they are part of ``state_dict``.

    Args:
        n_params: M, the length of θ.
        buckets: K, the number of trainable values.
        seed: seed of the hash, the signs and the initial values.
        init_std: the values start ``N(0, init_std**2)``.
        dtype: floating dtype of the values.

    Example:
        >>> gen = HashedNetsGenerator(1000, buckets=50, seed=0)
        >>> gen().shape, sum(p.numel() for p in gen.parameters()), len(set(gen().abs().tolist()))
        (torch.Size([1000]), 50, 50)
    """

    def __init__(self, n_params: int, *, buckets: int, seed: int | None = None, init_std: float = 0.05,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n_params = check_positive_int("n_params", n_params)
        self.buckets = check_positive_int("buckets", buckets)
        init_std = check_number("init_std", init_std, minimum=0)
        dtype = check_dtype("dtype", dtype)
        generator = _make_generator(seed)
        self.register_buffer("bucket", torch.randint(buckets, (n_params,), generator=generator, dtype=torch.int32))
        signs = torch.randint(2, (n_params,), generator=generator, dtype=torch.int8) * 2 - 1
        self.register_buffer("sign", signs)
        self.values = nn.Parameter(init_std * torch.randn(buckets, generator=generator, dtype=dtype))

    def forward(self) -> torch.Tensor:
        """θ = s · w[h], of shape ``(n_params,)``."""
        return self.values.index_select(0, self.bucket) * self.sign.to(self.values.dtype)

    def extra_repr(self) -> str:
        return f"n_params={self.n_params}, buckets={self.buckets}"


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
        generator = _make_generator(seed)
        draws = -torch.log(torch.rand(2**n_qubits, generator=generator, dtype=torch.float64).clamp_min(1e-300))
        self.register_buffer("p", (draws / draws.sum()).to(dtype))
        self.description = "fixed random vector (control: no circuit)"

    def forward(self) -> torch.Tensor:
        """The fixed probabilities."""
        return self.p
