"""The paper's two networks as finite-width torch modules, in the NTK parameterization.

Zlokapa, Neven & Lloyd (arXiv:2107.09200) train two architectures through their infinite-width
neural tangent kernels (computed by neural-tangents in the authors' code):

* **fc-erf** (MNIST 8 vs 9): ``depth`` hidden layers ``Dense(W_std=σ, b_std=0) → erf``, then
  ``Dense(1, W_std=σ)``, with σ² = 1 / E[erf(z)²] = 1 / ((2/π) arcsin(2/3)) for z ~ N(0, 1), so that
  the pre-activation variance 1 is a fixed point. The depth is set from the data:
  ``round(0.1 · 8 ln(n/δ) / μ)`` (:func:`fc_depth`), a tenth of the paper's L_conv.
* **cnn-relu** (MNIST 0 vs 1, "Myrtle-like"): three blocks of ``depth // 3`` layers
  ``Conv(3×3, SAME, W_std=√2, b_std=0) → ReLU``, each block followed by ``AvgPool(2×2, stride 2,
  VALID)`` (the third block by two), then ``Flatten → Dense(2, W_std=√2) → erf → Dense(1, W_std=√2)``.
  The authors use ``depth=96``.

In the NTK parameterization a layer computes ``W_std / sqrt(fan_in) · W x`` with ``W ~ N(0, 1)``;
its empirical NTK converges to the closed forms of :mod:`qt_pennylane.ntk.kernels` as the width grows.

Example:
    >>> import torch
    >>> net = ErfNetwork(depth=2, width=8, in_features=4, generator=torch.Generator().manual_seed(0))
    >>> net(torch.ones(3, 4, dtype=torch.float64)).shape
    torch.Size([3])
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

ERF_SCALE = 2.0 / math.pi * math.asin(2.0 / 3.0)
"""E[erf(z)²] for z ~ N(0, 1); the authors estimate it from 10⁸ samples (``calc_var``), this is its closed form."""

ERF_W_STD = math.sqrt(1.0 / ERF_SCALE)
"""The fc-erf network's weight standard deviation σ = 1/sqrt(E[erf(z)²]) ≈ 1.467."""

ERF_MU = 1.0 - 4.0 / (3.0 * math.pi * ERF_SCALE)
"""The coefficient of nonlinearity μ = 1 − E[z s(z)]² of s = σ·erf, in closed form
(E[z erf(z)] = 2/sqrt(3π)); ≈ 0.0864. The authors estimate it from 10⁸ samples (``calc_mu``)."""

RELU_W_STD = math.sqrt(2.0)
"""The cnn-relu network's weight standard deviation (He initialization)."""

FC_DEPTH_FACTOR = 0.1
"""The fraction of the paper's L_conv = 8 ln(n/δ)/μ used as the fc-erf depth (the authors' ``fully_connected_depth``)."""

CNN_DEPTH = 96
"""The authors' number of convolutional layers (``convolutional_depth``)."""


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")
    return int(value)


def separation(x: np.ndarray) -> float:
    """The dataset's separation δ = min over i ≠ j of 1 − |x_i · x_j| (the authors' ``calc_delta``).

    Args:
        x: ``(n, d)`` rows of unit norm, ``n ≥ 2``.

    Returns:
        δ as a float.

    Raises:
        ValueError: ``x`` is not 2-D with at least two rows.

    Example:
        >>> separation(np.array([[1.0, 0.0], [0.6, 0.8]]))
        0.4
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"x must have shape (n, d) with n >= 2, got shape {x.shape}")
    gram = np.abs(x @ x.T)
    np.fill_diagonal(gram, -np.inf)
    return float(1.0 - gram.max())


def fc_depth(n: int, delta: float, *, factor: float = FC_DEPTH_FACTOR) -> int:
    """The fc-erf network's number of hidden layers, ``round(factor · 8 ln(n/δ) / μ)``.

    Args:
        n: number of training points.
        delta: the training set's separation (:func:`separation`), in (0, 1].
        factor: the fraction of L_conv; the authors use 0.1.

    Returns:
        The depth, at least 1.

    Raises:
        ValueError: ``n`` not a positive integer, ``delta`` not in (0, 1] or ``factor`` not positive.

    Example:
        >>> fc_depth(512, 0.05)
        85
    """
    n = _check_positive_int("n", n)
    if not 0.0 < delta <= 1.0:
        raise ValueError(f"delta={delta!r} must lie in (0, 1]")
    if not factor > 0:
        raise ValueError(f"factor={factor!r} must be positive")
    return max(1, round(factor * 8.0 * math.log(n / delta) / ERF_MU))


class _NTKLinear(nn.Module):
    """``w_std / sqrt(fan_in) · x Wᵀ`` with ``W ~ N(0, 1)`` and no bias (the paper's b_std = 0)."""

    def __init__(self, fan_in: int, fan_out: int, w_std: float, generator: torch.Generator | None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(fan_out, fan_in, generator=generator, dtype=torch.float64))
        self.scale = w_std / math.sqrt(fan_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x @ self.weight.T


class _NTKConv(nn.Module):
    """3×3 SAME convolution ``w_std / sqrt(9 · c_in) · W * x`` with ``W ~ N(0, 1)`` and no bias."""

    def __init__(self, c_in: int, c_out: int, w_std: float, generator: torch.Generator | None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, 3, 3, generator=generator, dtype=torch.float64))
        self.scale = w_std / math.sqrt(9 * c_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * nn.functional.conv2d(x, self.weight, padding=1)


class _Erf(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.erf(x)


class ErfNetwork(nn.Sequential):
    """The fc-erf network at finite width: ``depth`` × (Dense → erf), then Dense(1); float64.

    Args:
        depth: number of hidden layers.
        width: hidden width.
        in_features: input dimension (784 for MNIST).
        w_std: weight standard deviation σ (default :data:`ERF_W_STD`).
        generator: a seeded ``torch.Generator`` for the initial weights.

    Raises:
        ValueError: a size is not a positive integer or ``w_std`` is not positive.

    Example:
        >>> ErfNetwork(depth=1, width=3, in_features=2)
        ErfNetwork(depth=1, width=3, in_features=2, w_std=1.467)
    """

    def __init__(self, *, depth: int, width: int, in_features: int, w_std: float = ERF_W_STD,
                 generator: torch.Generator | None = None):
        depth = _check_positive_int("depth", depth)
        width = _check_positive_int("width", width)
        in_features = _check_positive_int("in_features", in_features)
        if not w_std > 0:
            raise ValueError(f"w_std={w_std!r} must be positive")
        layers: list[nn.Module] = []
        fan_in = in_features
        for _ in range(depth):
            layers += [_NTKLinear(fan_in, width, w_std, generator), _Erf()]
            fan_in = width
        layers.append(_NTKLinear(fan_in, 1, w_std, generator))
        super().__init__(*layers)
        self.depth, self.width, self.in_features, self.w_std = depth, width, in_features, w_std

    def __repr__(self) -> str:
        return (f"ErfNetwork(depth={self.depth}, width={self.width}, in_features={self.in_features}, "
                f"w_std={self.w_std:.3f})")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).squeeze(-1)


class MyrtleCNN(nn.Module):
    """The cnn-relu network at finite width (NCHW input, one channel, 16 to 31 pixels a side); float64.

    Inputs of 16 to 31 pixels a side (MNIST's 28 included) pool down to 1×1 after the four poolings.

    Args:
        depth: total number of conv layers, a positive multiple of 3 (the authors use 96).
        width: channels of every conv layer, and units of the hidden Dense layer (the authors
            write ``Dense(2)``, a width that their infinite-width kernel ignores).
        generator: a seeded ``torch.Generator`` for the initial weights.

    Raises:
        ValueError: ``depth`` is not a positive multiple of 3 or ``width`` not a positive integer.

    Example:
        >>> import torch
        >>> MyrtleCNN(depth=3, width=2)(torch.zeros(1, 1, 16, 16, dtype=torch.float64)).shape
        torch.Size([1])
    """

    def __init__(self, *, depth: int, width: int, generator: torch.Generator | None = None):
        super().__init__()
        depth = _check_positive_int("depth", depth)
        if depth % 3:
            raise ValueError(f"depth={depth!r} must be a multiple of 3 (three conv blocks)")
        width = _check_positive_int("width", width)
        layers: list[nn.Module] = []
        c_in = 1
        for block in range(3):
            for _ in range(depth // 3):
                layers += [_NTKConv(c_in, width, RELU_W_STD, generator), nn.ReLU()]
                c_in = width
            layers += [nn.AvgPool2d(2)] * (2 if block == 2 else 1)
        self.features = nn.Sequential(*layers)
        self.dense = _NTKLinear(width, width, RELU_W_STD, generator)
        self.readout = _NTKLinear(width, 1, RELU_W_STD, generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = h.flatten(1)
        return self.readout(torch.erf(self.dense(h))).squeeze(-1)
