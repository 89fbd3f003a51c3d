"""Probabilities → weights: the paper's fixed mapping and the learned mapping model.

Both mappings are ``nn.Module`` s that take the ``2**n_qubits`` measurement
probabilities (PennyLane order) and return the flat weight vector of length
``n_params``. Pick one by name with :func:`make_mapping`.

Example:
    >>> import torch
    >>> mapping = make_mapping("paper", n_qubits=3, n_params=6, seed=0)
    >>> mapping(torch.full((8,), 1 / 8)).shape
    torch.Size([6])
"""
from __future__ import annotations

import math

import torch
from torch import nn


def _check_sizes(n_qubits: int, n_params: int) -> None:
    if not isinstance(n_qubits, int) or n_qubits < 1:
        raise ValueError(f"n_qubits must be a positive int, got {n_qubits!r}")
    if not isinstance(n_params, int) or n_params < 1:
        raise ValueError(f"n_params must be a positive int, got {n_params!r}")
    if n_params > 2**n_qubits:
        raise ValueError(f"n_params={n_params} exceeds the {2**n_qubits} basis states of {n_qubits} qubits")


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
        _check_sizes(n_qubits, n_params)
        if not gamma > 0:
            raise ValueError(f"gamma must be positive, got {gamma!r}")
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

    def forward(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Map ``(2**N,)`` probabilities to ``(M,)`` weights (dtype of ``probabilities``)."""
        pbar = 0.5 * (probabilities[self.first] + probabilities[self.second])
        gamma = self.gamma.to(probabilities.dtype)
        scale = 2.0 ** (self.n_qubits - 1)
        return gamma * torch.tanh(gamma * scale * self.signs.to(probabilities.dtype) * pbar)

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, n_params={self.n_params}, paired={2**self.n_qubits - self.n_params}"


ACTIVATIONS = {"identity": nn.Identity, "relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "silu": nn.SiLU}
"""Activations between the learned mapping model's layers, by name."""


class LearnedMapping(nn.Module):
    """The learned mapping model G of arXiv:2405.11304 (``METHOD.md`` §7).

    For each basis state ``i < M`` the input row is ``(b_i, x_i)``: ``b_i`` the bits of ``i``
    (most significant first, 0 → -1, 1 → +1) and
    ``x_i = (beta * tanh(gamma * 2**(N-1) * p_i))**alpha`` minus its mean over the M rows
    (with ``standardize=True``, the default, also divided by its standard deviation).
    G, an MLP ``[N + 1 → *hidden → 1]``, maps each row to one weight; all rows run as one batch.

    Initialization (``paper_init=False``, the default) differs from a plain MLP's, because with
    the authors' settings every MNIST weight starts nearly equal (mean 0.1–0.3, loss ~10^3) and
    Adam drives them to one sign, where the CNN is dead at chance accuracy (measured on lr from
    3e-4 to 1e-2, every activation). Here the first layer's weights on the bits and every bias
    start at 0, so G starts as an odd function of the standardized ``x_i`` alone, and
    :meth:`calibrate` (called by the generator with the first probabilities) rescales the last
    layer so the weights start with mean 0 and standard deviation ``init_std``, like a classical
    initialization. Train G with a small learning rate (``fit(..., mapping_lr=1e-4)``).
    ``standardize=False, paper_init=True, activation="identity"`` reproduces the released code.

    Default ``hidden=(4, 20, 4)`` is the authors' MNIST size. Default ``activation="tanh"``:
    the authors' released code applies no activation, which makes G affine, so every weight
    would be an affine function of ``(b_i, x_i)`` (only N + 2 effective numbers); the paper
    describes an MLP. A bounded smooth activation keeps G non-linear without dead units in
    such narrow layers. ``activation="identity"`` reproduces the released code.

    Args:
        n_qubits: N.
        n_params: M (rows ``0 .. M-1`` are used).
        hidden: widths of G's hidden layers.
        activation: a key of :data:`ACTIVATIONS`.
        gamma, beta, alpha: the input transform's constants (fixed, the authors' values).
        standardize: divide the centred ``x`` by its standard deviation.
        paper_init: keep PyTorch's default initialization of G (no zeroed bits or biases).
        init_std: the weights' standard deviation after :meth:`calibrate`.

    Example:
        >>> g = LearnedMapping(3, 5)
        >>> g(torch.full((8,), 1 / 8)).shape
        torch.Size([5])
    """

    def __init__(
        self,
        n_qubits: int,
        n_params: int,
        *,
        hidden: tuple[int, ...] = (4, 20, 4),
        activation: str = "tanh",
        gamma: float = 0.1,
        beta: float = 0.8,
        alpha: float = 0.3,
        standardize: bool = True,
        paper_init: bool = False,
        init_std: float = 0.05,
    ):
        super().__init__()
        _check_sizes(n_qubits, n_params)
        if not init_std > 0:
            raise ValueError(f"init_std must be positive, got {init_std!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is not known; expected one of {sorted(ACTIVATIONS)}")
        if any(not isinstance(width, int) or width < 1 for width in hidden):
            raise ValueError(f"hidden must hold positive ints, got {hidden!r}")
        self.n_qubits, self.n_params = n_qubits, n_params
        self.hidden, self.activation = tuple(hidden), activation
        self.gamma, self.beta, self.alpha = gamma, beta, alpha
        self.standardize, self.paper_init, self.init_std = standardize, paper_init, init_std
        index = torch.arange(n_params)
        shifts = torch.arange(n_qubits - 1, -1, -1)
        bits = ((index[:, None] >> shifts) & 1).to(torch.get_default_dtype()) * 2 - 1
        self.register_buffer("bits", bits, persistent=False)
        widths = [n_qubits + 1, *self.hidden, 1]
        layers: list[nn.Module] = []
        for i, (width_in, width_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(width_in, width_out))
            if i < len(widths) - 2:
                layers.append(ACTIVATIONS[activation]())
        self.net = nn.Sequential(*layers)
        if not paper_init:
            with torch.no_grad():
                self.net[0].weight[:, :n_qubits].zero_()
                for layer in self.net:
                    if isinstance(layer, nn.Linear):
                        layer.bias.zero_()

    @torch.no_grad()
    def calibrate(self, probabilities: torch.Tensor) -> None:
        """Rescale the last layer so the weights from ``probabilities`` have mean 0 and std ``init_std``.

        Does nothing with ``paper_init=True``.
        """
        if self.paper_init:
            return
        last = self.net[-1]
        theta = self(probabilities)
        last.weight.mul_(self.init_std / theta.std().clamp_min(1e-12).to(last.weight.dtype))
        last.bias.sub_(self(probabilities).mean().to(last.bias.dtype))

    def features(self, probabilities: torch.Tensor) -> torch.Tensor:
        """The ``(M, N + 1)`` input rows ``(b_i, x_i)``."""
        scale = 2.0 ** (self.n_qubits - 1)
        p = probabilities[: self.n_params]
        x = (self.beta * torch.tanh(self.gamma * scale * p)) ** self.alpha
        x = x - x.mean()
        if self.standardize:
            x = x / x.std().clamp_min(1e-12)
        dtype = self.net[0].weight.dtype
        return torch.cat([self.bits.to(dtype), x.to(dtype)[:, None]], dim=1)

    def forward(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Map ``(2**N,)`` probabilities to ``(M,)`` weights."""
        return self.net(self.features(probabilities)).squeeze(-1)

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, n_params={self.n_params}, activation={self.activation!r}"


MAPPINGS = {"paper": PaperMapping, "learned": LearnedMapping}
"""Mappings by name."""


def make_mapping(name: str, n_qubits: int, n_params: int, **kwargs) -> nn.Module:
    """Build the mapping called ``name`` (a key of :data:`MAPPINGS`) with its keyword options."""
    if name not in MAPPINGS:
        raise ValueError(f"mapping={name!r} is not known; expected one of {sorted(MAPPINGS)}")
    return MAPPINGS[name](n_qubits, n_params, **kwargs)


def n_qubits_for(n_params: int) -> int:
    """``N = ceil(log2(M))``, at least 1: the qubits needed for ``n_params`` weights.

    Example:
        >>> n_qubits_for(131), n_qubits_for(6690), n_qubits_for(1)
        (8, 13, 1)
    """
    if not isinstance(n_params, int) or isinstance(n_params, bool) or n_params < 1:
        raise ValueError(f"n_params must be a positive int, got {n_params!r}")
    return max(1, math.ceil(math.log2(n_params)))
