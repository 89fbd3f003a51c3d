"""The learned mapping model G of arXiv:2405.11304: each basis state's row (bits, probability) → one weight.

Example:
    >>> import torch
    >>> g = LearnedMapping(3, 5)
    >>> g(torch.full((8,), 1 / 8)).shape
    torch.Size([5])
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_bool, check_choice, check_number, check_widths
from ._sizes import check_sizes, index_bits, n_qubits_for


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
        gamma: the input transform's γ (fixed, the authors' value).
        beta: the input transform's β (fixed, the authors' value).
        alpha: the input transform's α (fixed, the authors' value).
        standardize: divide the centred ``x`` by its standard deviation.
        paper_init: keep PyTorch's default initialization of G (no zeroed bits or biases).
        init_std: the weights' standard deviation after :meth:`calibrate`.

    Example:
        >>> g = LearnedMapping(3, 5, hidden=(8,))
        >>> sum(p.numel() for p in g.parameters())   # (4 + 1)·8 + (8 + 1)·1
        49
    """

    relative_lr = 1 / 300
    """The learning rate of G relative to the angles' when none is given (``param_groups``): G is shared
    by every weight, so a step moves all of them at once. Measured on training data: the angles at 0.03
    with G at 1e-4 (1/300) trained every zoo network; G at 1e-3 (1/30) with the per-tensor scale
    collapsed two of three (``benchmarks/zoo.py --only defaults``)."""

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
        check_sizes(n_qubits, n_params)
        check_number("init_std", init_std, positive=True)
        check_choice("activation", activation, ACTIVATIONS)
        hidden = check_widths("hidden", hidden)
        for name, value in (("gamma", gamma), ("beta", beta), ("alpha", alpha)):
            check_number(name, value, positive=True)
        check_bool("standardize", standardize)
        check_bool("paper_init", paper_init)
        self.n_qubits, self.n_params = n_qubits, n_params
        self.hidden, self.activation = tuple(hidden), activation
        self.gamma, self.beta, self.alpha = gamma, beta, alpha
        self.standardize, self.paper_init, self.init_std = standardize, paper_init, init_std
        self.register_buffer("bits", index_bits(torch.arange(n_params), n_qubits), persistent=False)
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
        if theta.numel() > 1:  # one weight has no spread to set
            last.weight.mul_(self.init_std / theta.std().clamp_min(1e-12).to(last.weight.dtype))
        last.bias.sub_(self(probabilities).mean().to(last.bias.dtype))

    def features(self, probabilities: torch.Tensor) -> torch.Tensor:
        """The ``(M, N + 1)`` input rows ``(b_i, x_i)``.

        A probability of exactly 0 (an outcome no shot hit) gives ``x_i = 0`` with gradient 0: the
        power ``u**alpha`` has an infinite slope at ``u = 0``, which would turn every gradient into NaN.
        """
        scale = 2.0 ** (self.n_qubits - 1)
        p = probabilities[: self.n_params]
        base = self.beta * torch.tanh(self.gamma * scale * p)
        zero = base == 0  # NaN stays NaN, so a broken probability is not hidden
        x = torch.where(zero, torch.zeros_like(base), torch.where(zero, torch.ones_like(base), base) ** self.alpha)
        x = x - x.mean()
        if self.standardize and x.numel() > 1:
            x = x / x.std().clamp_min(1e-12)
        dtype = self.net[0].weight.dtype
        return torch.cat([self.bits.to(dtype), x.to(dtype)[:, None]], dim=1)

    @staticmethod
    def qubits_for(n_params: int, **options) -> int:
        """``N = ceil(log2(n_params))``: one basis state per weight."""
        return n_qubits_for(n_params)

    def forward(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Map ``(2**N,)`` probabilities to ``(M,)`` weights."""
        return self.net(self.features(probabilities)).squeeze(-1)

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, n_params={self.n_params}, activation={self.activation!r}"
