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

from .._validation import check_choice, fail


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
"""Losses by name: the paper's CE + error rate, or cross-entropy alone."""


def make_loss(name: str) -> nn.Module:
    """The loss called ``name`` in :data:`LOSSES`.

    Raises:
        ValueError: for an unknown name, listing the known ones.
    """
    return LOSSES[check_choice("loss", name, LOSSES)]()


def resolve_loss(loss_fn, default: str = "cross-entropy"):
    """A loss function from ``loss_fn``: ``None`` (the ``default``), a name of :data:`LOSSES`, or a callable.

    Raises:
        ValueError: naming ``loss_fn`` when it is neither.

    Example:
        >>> resolve_loss(None)
        CrossEntropyLoss()
        >>> resolve_loss(3)
        Traceback (most recent call last):
        ...
        ValueError: loss_fn must be None, a loss name (one of ['cross-entropy', 'paper']) or a callable (outputs, targets) -> loss, got 3
    """
    if loss_fn is None:
        return make_loss(default)
    if isinstance(loss_fn, str):
        if loss_fn not in LOSSES:
            raise fail("loss_fn", f"a loss name, one of {sorted(LOSSES)}, or a callable", loss_fn)
        return make_loss(loss_fn)
    if not callable(loss_fn):
        raise fail("loss_fn", f"None, a loss name (one of {sorted(LOSSES)}) or a callable (outputs, targets) -> loss",
                   loss_fn)
    return loss_fn
