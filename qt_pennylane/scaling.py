"""Per-tensor scale: each generated tensor starts at the spread PyTorch's own init gives its layer.

A mapping returns one flat vector θ for all generated tensors, with one spread for all of them
(the paper mapping: about γ·tanh(γ/2), 0.04 at γ = 0.3; the learned mapping: 0.05 after
calibration). PyTorch initializes each layer by its fan-in instead: a 3×3 convolution with 64
input channels draws weights about 20 times smaller than a 4-input linear layer, and a
BatchNorm scale starts at 1. With ``scale="init"`` each generated tensor ``t`` becomes::

    θ_t = c_t + g_t · (σ_t / σ_raw) · raw_t

* ``raw_t``: the mapping's output for the tensor; ``σ_raw`` the spread of the whole raw θ at
  construction;
* ``σ_t``: the standard deviation of the target's own values of ``t`` when it was wrapped (for a
  freshly built model, PyTorch's fan-in-aware init); ``c_t = 0``;
* a tensor that PyTorch initializes to a constant ``c`` (normalization scales 1 and shifts 0,
  zero biases) gets ``c_t = c`` and ``σ_t =`` :data:`CONSTANT_SPREAD`;
* ``g_t``: a trainable gain per tensor, starting at 1.

``scale="none"`` leaves the mapping's output untouched (the papers' behaviour).

Example:
    >>> scale = TensorScale([torch.randn(100) * 0.5, torch.ones(10)], raw=torch.randn(110) * 0.05)
    >>> multiplier, center = scale.coefficients()
    >>> round(float(multiplier[0] * 0.05), 1), float(center[1])
    (0.5, 1.0)
"""
from __future__ import annotations

import torch
from torch import nn

SCALES = ("init", "none")
"""Per-tensor scale settings: to the target's init spread with a trainable gain, or untouched."""

CONSTANT_SPREAD = 0.1
"""Spread given to a tensor that the target initializes to a constant (normalization layers, zero biases)."""


class TensorScale(nn.Module):
    """The per-tensor affine map of the module docstring, with one trainable gain per tensor.

    Args:
        references: the target's values of each generated tensor, in generation order.
        raw: the mapping's initial flat output (its spread is ``σ_raw``).

    Buffers ``factor`` (``σ_t / σ_raw``) and ``center`` (``c_t``) are part of ``state_dict``, so a
    resumed or reloaded model scales exactly as the original did.
    """

    def __init__(self, references: list[torch.Tensor], raw: torch.Tensor):
        super().__init__()
        raw_spread = float(raw.detach().double().std()) if raw.numel() > 1 else 0.0
        raw_spread = raw_spread if raw_spread > 0 else 1.0
        factors, centers = [], []
        for value in references:
            value = value.detach().double()
            spread = float(value.std(unbiased=False)) if value.numel() > 1 else 0.0
            if spread > 0:
                factors.append(spread / raw_spread)
                centers.append(0.0)
            else:
                factors.append(CONSTANT_SPREAD / raw_spread)
                centers.append(float(value.reshape(-1)[0]))
        self.register_buffer("factor", torch.tensor(factors, dtype=torch.float32))
        self.register_buffer("center", torch.tensor(centers, dtype=torch.float32))
        self.gain = nn.Parameter(torch.ones(len(references)))

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(g_t · σ_t / σ_raw, c_t)`` for every tensor: ``θ_t = multiplier[t] · raw_t + center[t]``."""
        return self.gain * self.factor, self.center

    def extra_repr(self) -> str:
        return f"tensors={self.gain.numel()}"
