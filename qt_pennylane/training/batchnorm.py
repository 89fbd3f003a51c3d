"""BatchNorm statistics recomputed under the final generated weights.

A BatchNorm layer normalizes with running statistics at evaluation time. They accumulate during
training while the weights move: under a gradient-free trainer (the paper schedule evaluates in
eval mode and never updates them), with shots (every step draws different weights) or after a
resumed run under other weights, they do not describe the weights the model ends with. Call
:func:`update_bn` after training and before export or evaluation: it generates the weights
once, resets the statistics, and runs the training data through the model in train mode, as
``torch.optim.swa_utils.update_bn`` does for SWA (which it uses).

Example:
    >>> import torch
    >>> from torch import nn
    >>> from qt_pennylane import QuantumTrainModel
    >>> model = QuantumTrainModel(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)), reps=1, seed=0)
    >>> batches = [(torch.randn(16, 3), torch.zeros(16))]
    >>> update_bn(model, batches)
    >>> model.target[1].num_batches_tracked.item()
    1
"""
from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import update_bn as _swa_update_bn

from .evaluation import batches_of, split_batch


def has_batchnorm(model: nn.Module) -> bool:
    """True when ``model`` contains a BatchNorm layer that tracks running statistics."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats for m in model.modules())


@torch.no_grad()
def update_bn(model: nn.Module, data, *, max_batches: int | None = None) -> None:
    """Recompute every BatchNorm's running statistics of ``model`` over ``data``, in place.

    Args:
        model: a :class:`~qt_pennylane.QuantumTrainModel` (its weights are generated once) or a plain module.
        data: a ``Dataset`` of ``(input, target)`` pairs or an iterable of ``(inputs, targets)`` batches.
        max_batches: use at most this many batches (``None``: all).
    """
    inputs = []
    for i, batch in enumerate(batches_of(data, batch_size=256)):
        if max_batches is not None and i >= max_batches:
            break
        inputs.append(split_batch(batch)[0])
    if not hasattr(model, "export"):
        _swa_update_bn(inputs, model)
        return
    plain = model.export()
    _swa_update_bn(inputs, plain)
    statistics = dict(plain.named_buffers())
    generated = {name for slot in model.slots for name in slot.names}
    for name, buffer in model.target.named_buffers():
        if name not in generated:
            buffer.copy_(statistics[name])
