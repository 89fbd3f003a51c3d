"""Evaluation of a plain module on a dataset or on any iterable of batches.

A batch is a pair ``(inputs, targets)``. The loss is the mean of ``loss_fn`` over the examples
(weighted by batch size). Accuracy is reported for classification, where the outputs are
``(batch, classes)`` scores and the targets integer labels; otherwise it is ``None``.

Data-parallel (:mod:`~qt_pennylane.training.distributed`), every rank evaluates its contiguous
part of a ``Dataset`` (or its own loader, taken to be its part) and the sums of loss, correct
predictions and examples are all-reduced: every rank returns the result on all the data.

Example:
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> data = TensorDataset(torch.eye(3), torch.tensor([0, 1, 1]))
    >>> result = evaluate(torch.nn.Identity(), data)
    >>> result["accuracy"], result["examples"]
    (0.6666666666666666, 3)
"""
from __future__ import annotations

import itertools

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from . import distributed
from .losses import resolve_loss


def batches_of(data, batch_size: int = 2048):
    """Iterate ``(inputs, targets)`` batches of a map-style ``Dataset`` or of any iterable of batches."""
    if isinstance(data, Dataset) and hasattr(data, "__len__"):
        return iter(DataLoader(data, batch_size=batch_size))
    return iter(data)


def split_batch(batch):
    """``(inputs, targets)`` of one batch, with a clear error for anything else."""
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(f"a batch must be a pair (inputs, targets); got {type(batch).__name__}"
                     + (f" of length {len(batch)}" if isinstance(batch, (list, tuple)) else ""))


def is_classification(outputs: torch.Tensor, targets: torch.Tensor) -> bool:
    """Scores ``(batch, classes)`` against integer labels ``(batch,)``."""
    return outputs.dim() == 2 and targets.dim() == 1 and not targets.is_floating_point() and not targets.is_complex()


@torch.no_grad()
def evaluate(module: nn.Module, data, loss_fn=None, *, batch_size: int = 2048, limit: int | None = None) -> dict:
    """Mean loss and accuracy of ``module`` on ``data`` (eval mode; the module's mode is restored).

    Args:
        module: a plain module (for a Quantum-Train model, pass ``model.export()``).
        data: a ``Dataset`` of ``(input, target)`` pairs or an iterable of ``(inputs, targets)`` batches.
        loss_fn: ``None`` (cross-entropy), a loss name or a callable ``(outputs, targets) -> mean loss``.
        batch_size: batch size when ``data`` is a ``Dataset``.
        limit: evaluate on the first ``limit`` examples only (``None``: all). Data-parallel with a
            loader: each rank evaluates its share of ``limit`` (:func:`~qt_pennylane.training.distributed.part`).

    Returns:
        ``{"loss": float, "accuracy": float | None, "examples": int}``.
    """
    loss_fn = resolve_loss(loss_fn)
    if distributed.active():
        if isinstance(data, Dataset) and hasattr(data, "__len__"):
            data, limit = distributed.shard(data, limit), None
        elif limit is not None:
            limit = len(distributed.part(limit))
    was_training = module.training
    module.eval()
    total_loss, correct, count, classification = 0.0, 0, 0, True
    try:
        for batch in itertools.takewhile(lambda _: limit is None or count < limit, batches_of(data, batch_size)):
            inputs, targets = split_batch(batch)
            if limit is not None and count + len(targets) > limit:
                inputs, targets = inputs[: limit - count], targets[: limit - count]
            outputs = module(inputs)
            total_loss += float(loss_fn(outputs, targets)) * len(targets)
            classification = classification and is_classification(outputs, targets)
            if classification:
                correct += int((outputs.argmax(dim=-1) == targets).sum())
            count += len(targets)
    finally:
        module.train(was_training)
    if distributed.active():
        total_loss, correct, count, other = distributed.all_reduce_sum(total_loss, correct, count,
                                                                       not classification)
        correct, count, classification = int(correct), int(count), other == 0
    if count == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    return {"loss": total_loss / count, "accuracy": correct / count if classification else None, "examples": count}
