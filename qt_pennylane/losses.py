"""The paper's loss: cross-entropy plus the training error rate; and the losses by name.

Example:
    >>> logits = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    >>> round(float(CrossEntropyWithErrorRate()(logits, torch.tensor([0, 1]))), 4)
    1.6269
    >>> round(float(make_loss("cross-entropy")(logits, torch.tensor([0, 1]))), 4)
    1.1269
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def error_rate(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``N_fail / N``: the fraction of rows whose arg-max is not the target (no gradient)."""
    return (logits.argmax(dim=-1) != targets).float().mean()


class CrossEntropyWithErrorRate(nn.Module):
    """``CE(logits, targets) + N_fail / N`` (arXiv:2402.16465).

    The error-rate term is piecewise constant: it adds nothing to the gradient and only
    matters to gradient-free optimizers (the paper's COBYLA / Nelder–Mead schedule).
    """

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, targets) + error_rate(logits, targets).to(logits.dtype)


LOSSES = {"paper": CrossEntropyWithErrorRate, "cross-entropy": nn.CrossEntropyLoss}
"""Objectives for the paper schedule by name: the paper's CE + error rate, or cross-entropy alone."""


def make_loss(name: str) -> nn.Module:
    """The loss called ``name`` in :data:`LOSSES`.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    if name not in LOSSES:
        raise ValueError(f"loss={name!r} is not known; expected one of {sorted(LOSSES)}")
    return LOSSES[name]()
