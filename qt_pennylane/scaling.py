"""Per-tensor scale: each generated tensor starts at the spread PyTorch's own init gives its layer.

A mapping returns one flat vector θ for all generated tensors, with one spread for all of them
(the paper mapping: about γ·tanh(γ/2), 0.04 at γ = 0.3; the learned mapping: 0.05 after
calibration). PyTorch initializes each layer by its fan-in instead: a 3×3 convolution with 64
input channels draws weights about 20 times smaller than a 4-input linear layer, and a
BatchNorm scale starts at 1. With ``scale="init"`` each generated tensor ``t`` becomes::

    θ_t = c_t + g_t · (σ_t / s_t) · (raw_t − μ_t)

* ``raw_t``: the mapping's output for the tensor; ``μ_t`` and ``s_t`` its mean and spread at
  construction (for a tensor of one value, or one the mapping gives a single value, the whole raw
  θ's spread and no shift), kept fixed afterwards;
* ``σ_t``: the standard deviation of the target's own values of ``t`` when it was wrapped (for a
  freshly built model, PyTorch's fan-in-aware init); ``c_t = 0``;
* a tensor that PyTorch initializes to a constant ``c`` (normalization scales 1 and shifts 0,
  zero biases) gets ``c_t = c`` and ``σ_t =`` :data:`CONSTANT_SPREAD`;
* ``g_t``: a trainable gain per tensor, starting at 1.

``scale="none"`` leaves the mapping's output untouched (the papers' behaviour).

Example:
    >>> references = [torch.linspace(-1, 1, 100), torch.ones(10)]   # spread 0.586; a constant 1
    >>> raw = torch.linspace(-0.1, 0.1, 110)
    >>> scale = TensorScale(references, raw)
    >>> multiplier, offset = scale.coefficients()
    >>> theta = raw[:100] * multiplier[0] + offset[0]
    >>> round(theta.std().item(), 3), abs(round(theta.mean().item(), 3))
    (0.586, 0.0)
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
        raw: the mapping's initial flat output, the tensors' values one after the other.

    Buffers ``factor`` (``σ_t / s_t``), ``shift`` (``μ_t``) and ``center`` (``c_t``) are part of
    ``state_dict``, so a resumed or reloaded model scales exactly as the original did.
    """

    def __init__(self, references: list[torch.Tensor], raw: torch.Tensor):
        super().__init__()
        raw = raw.detach().double()
        whole = float(raw.std()) if raw.numel() > 1 else 0.0
        whole = whole if whole > 0 else 1.0
        factors, shifts, centers, start = [], [], [], 0
        for value in references:
            value = value.detach().double()
            part = raw[start : start + value.numel()]
            start += value.numel()
            own = float(part.std()) if part.numel() > 1 else 0.0
            if own > 1e-9 * whole:
                mean, spread = float(part.mean()), own
            else:
                mean, spread = 0.0, whole
            target = float(value.std()) if value.numel() > 1 else 0.0
            if target > 0:
                factors.append(target / spread)
                centers.append(0.0)
            else:
                factors.append(CONSTANT_SPREAD / spread)
                centers.append(float(value.reshape(-1)[0]))
            shifts.append(mean)
        self.register_buffer("factor", torch.tensor(factors, dtype=torch.float32))
        self.register_buffer("shift", torch.tensor(shifts, dtype=torch.float32))
        self.register_buffer("center", torch.tensor(centers, dtype=torch.float32))
        self.gain = nn.Parameter(torch.ones(len(references)))

    def coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(multiplier, offset)`` for every tensor: ``θ_t = multiplier[t] · raw_t + offset[t]``."""
        multiplier = self.gain * self.factor
        return multiplier, self.center - multiplier * self.shift

    def extra_repr(self) -> str:
        return f"tensors={self.gain.numel()}"
