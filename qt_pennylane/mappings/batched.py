"""Batched parameter generation (the QPA scheme): one basis state per *chunk* of weights, not per weight.

Example:
    >>> import torch
    >>> mapping = BatchedMapping(3, 20, chunk_size=4, hidden=(8,), seed=0)
    >>> mapping(torch.full((8,), 1 / 8)).shape, BatchedMapping.qubits_for(20, chunk_size=4)
    (torch.Size([20]), 3)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._validation import (check_bool, check_choice, check_int, check_number, check_positive_int, check_seed,
                           check_widths)
from ._sizes import index_bits, n_qubits_for
from .learned import ACTIVATIONS


def probability_feature(probabilities: torch.Tensor, n_qubits: int, *, gamma: float, beta: float, alpha: float,
                        standardize: bool) -> torch.Tensor:
    """``x = (beta * tanh(gamma * 2**(N-1) * p))**alpha`` minus its mean (``standardize``: over its std too).

    The input transform of the learned mapping (``METHOD.md`` §7), over the probabilities given.

    Example:
        >>> x = probability_feature(torch.tensor([0.1, 0.2, 0.3, 0.4]), 2, gamma=0.1, beta=0.8, alpha=0.3,
        ...                         standardize=True)
        >>> abs(round(float(x.mean()), 6)), round(float(x.std()), 6)
        (0.0, 1.0)
    """
    x = (beta * torch.tanh(gamma * 2.0 ** (n_qubits - 1) * probabilities)) ** alpha
    x = x - x.mean()
    if standardize and x.numel() > 1:
        x = x / x.std().clamp_min(1e-12)
    return x


def _chunks(n_params: int, chunk_size: int) -> int:
    return -(-n_params // chunk_size)


class BatchedMapping(nn.Module):
    """Batched parameter generation (QPA, arXiv:2410.09846; ``METHOD.md`` §9): chunk rows → an MLP → a shared head.

    The ``M`` weights are cut into ``C = ceil(M / chunk_size)`` chunks. Chunk ``c`` is tied to
    the basis state ``s_c = states[c]``, a fixed seeded draw of ``C`` distinct basis states out
    of ``2**N`` (the buffer ``states``, part of ``state_dict``; QPA's code redraws the bit
    strings at every call, which turns them into noise). Its input row is
    ``r_c = (b(s_c), x_c[, e_c])``: the bits of ``s_c`` as ±1 (most significant first), the
    probability feature ``x = (beta * tanh(gamma * 2**(N-1) * p[states]))**alpha`` centred over
    the ``C`` chunks (and, with ``standardize``, divided by its std), and, with ``embedding = E
    > 0``, a trainable per-chunk vector ``e_c`` of ``E`` numbers. Then::

        h_c = MLP(r_c)                        # [N + 1 (+ E) → *hidden], activation after every layer
        w_c = W h_c + v                       # the shared head, Linear(hidden[-1] → chunk_size)
        θ   = concat(w_0, …, w_{C-1})[:M]

    so the ``C × chunk_size`` matrix of chunks has rank at most ``hidden[-1] + 1``.
    Trainable: the MLP, the head (``(hidden[-1] + 1) · chunk_size``) and the embeddings (``C · E``).

    Initialization: PyTorch's default for the MLP (the chunks start different from one another);
    :meth:`calibrate` (called by the generator with the first probabilities) rescales the head so
    θ starts with mean 0 and standard deviation ``init_std``, as :class:`LearnedMapping` does.

    Args:
        n_qubits: N; ``2**N`` must be at least the number of chunks.
        n_params: M.
        chunk_size: weights per chunk (the head's width).
        hidden: widths of the MLP's layers (the last is the head's input width).
        activation: a key of :data:`qt_pennylane.mappings.learned.ACTIVATIONS`.
        embedding: E, trainable numbers per chunk fed to the MLP beside the row (0: none).
        gamma: the probability feature's γ (the learned mapping's).
        beta: the probability feature's β (the learned mapping's).
        alpha: the probability feature's α (the learned mapping's).
        standardize: divide the centred feature by its standard deviation.
        init_std: the weights' standard deviation after :meth:`calibrate`.
        seed: seed of the chunk ↔ basis-state assignment and of the initial weights.

    Raises:
        ValueError: for a bad argument, or more chunks than basis states.

    Example:
        >>> m = BatchedMapping(2, 10, chunk_size=3, hidden=(5,), seed=0)
        >>> m.n_chunks, sorted(m.states.tolist()) == [0, 1, 2, 3]
        (4, True)
        >>> sum(p.numel() for p in m.parameters())   # MLP (2 + 1)·5 + 5, head (5 + 1)·3
        38
    """

    def __init__(self, n_qubits: int, n_params: int, *, chunk_size: int = 1024, hidden: tuple[int, ...] = (32, 32),
                 activation: str = "tanh", embedding: int = 0, gamma: float = 0.1, beta: float = 0.8,
                 alpha: float = 0.3, standardize: bool = True, init_std: float = 0.05, seed: int | None = None):
        super().__init__()
        check_positive_int("n_qubits", n_qubits)
        check_positive_int("n_params", n_params)
        self.chunk_size = check_positive_int("chunk_size", chunk_size)
        self.hidden = check_widths("hidden", hidden)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.embedding = check_int("embedding", embedding, minimum=0)
        for name, value in (("gamma", gamma), ("beta", beta), ("alpha", alpha), ("init_std", init_std)):
            check_number(name, value, positive=True)
        self.standardize = check_bool("standardize", standardize)
        check_seed("seed", seed)
        self.n_qubits, self.n_params = n_qubits, n_params
        self.n_chunks = _chunks(n_params, chunk_size)
        if self.n_chunks > 2**n_qubits:
            raise ValueError(f"n_params={n_params} in chunks of chunk_size={chunk_size} makes {self.n_chunks} "
                             f"chunks, more than the {2**n_qubits} basis states of n_qubits={n_qubits}")
        self.gamma, self.beta, self.alpha, self.init_std = gamma, beta, alpha, init_std
        generator = torch.Generator()
        generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))
        states = torch.randperm(2**n_qubits, generator=generator)[: self.n_chunks]
        self.register_buffer("states", states)
        self.embeddings = None
        if self.embedding:
            self.embeddings = nn.Parameter(torch.randn(self.n_chunks, self.embedding, generator=generator))
        widths = [n_qubits + 1 + self.embedding, *self.hidden]
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(width_in, width_out), ACTIVATIONS[activation]()]
        self.net = nn.Sequential(*layers)
        self.head = nn.Linear(self.hidden[-1], chunk_size)
        with torch.no_grad():  # seeded, independent of torch's global generator
            for layer in [*self.net, self.head]:
                if isinstance(layer, nn.Linear):
                    bound = 1 / math.sqrt(layer.in_features)
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.uniform_(-bound, bound, generator=generator)

    @staticmethod
    def qubits_for(n_params: int, *, chunk_size: int = 1024, **options) -> int:
        """``n = ceil(log2(number of chunks))`` (at least 1): one basis state per chunk."""
        check_positive_int("chunk_size", chunk_size)
        return n_qubits_for(_chunks(check_positive_int("n_params", n_params), chunk_size))

    def features(self, probabilities: torch.Tensor) -> torch.Tensor:
        """The ``(C, N + 1 + E)`` input rows ``(b(s_c), x_c, e_c)``."""
        x = probability_feature(probabilities[self.states], self.n_qubits, gamma=self.gamma, beta=self.beta,
                                alpha=self.alpha, standardize=self.standardize)
        dtype = self.head.weight.dtype
        parts = [index_bits(self.states, self.n_qubits).to(dtype), x.to(dtype)[:, None]]
        if self.embeddings is not None:
            parts.append(self.embeddings)
        return torch.cat(parts, dim=1)

    def chunk_features(self, probabilities: torch.Tensor) -> torch.Tensor:
        """``h_c``, the MLP's ``(C, hidden[-1])`` output: what the head turns into each chunk."""
        return self.net(self.features(probabilities))

    @torch.no_grad()
    def calibrate(self, probabilities: torch.Tensor) -> None:
        """Rescale the head so the weights from ``probabilities`` have mean 0 and std ``init_std``."""
        theta = self(probabilities)
        self.head.weight.mul_(self.init_std / theta.std().clamp_min(1e-12).to(self.head.weight.dtype))
        self.head.bias.mul_(self.init_std / theta.std().clamp_min(1e-12).to(self.head.bias.dtype))
        self.head.bias.sub_(self(probabilities).mean().to(self.head.bias.dtype))

    def forward(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Map ``(2**N,)`` probabilities to ``(M,)`` weights."""
        return self.head(self.chunk_features(probabilities)).reshape(-1)[: self.n_params]

    def extra_repr(self) -> str:
        return (f"n_qubits={self.n_qubits}, n_params={self.n_params}, chunk_size={self.chunk_size}, "
                f"chunks={self.n_chunks}, activation={self.activation!r}, embedding={self.embedding}")
