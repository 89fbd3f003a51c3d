"""Gradient training: ``fit`` over a dataset or any iterable of batches, and the parameter groups.

Example:
    >>> import torch
    >>> from torch.utils.data import DataLoader, TensorDataset
    >>> from qt_pennylane import QuantumTrainModel
    >>> data = TensorDataset(torch.randn(32, 4), torch.randint(0, 3, (32,)))
    >>> model = QuantumTrainModel(torch.nn.Linear(4, 3), reps=1, seed=0)
    >>> history = fit(model, DataLoader(data, batch_size=8), epochs=2, lr=0.05, progress=False)
    >>> [record["epoch"] for record in history]
    [1, 2]
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from .._validation import check_choice, check_number, check_positive_int, check_seed, fail
from . import distributed
from .evaluation import split_batch
from .loop import RunLog, check_data, check_finite, is_dataset
from .losses import resolve_loss
from .registry import check_trainer, source_of

logger = logging.getLogger(__name__)

LR_SCHEDULES = ("cosine", "constant")
"""Learning-rate schedules: ``"cosine"`` anneals to 0 over the run's steps; ``"constant"`` keeps ``lr``."""

GROUPS = ("source", "mapping", "scale", "classical")
"""The roles of a Quantum-Train model's parameters (see ``QuantumTrainModel.parameter_groups``)."""


def param_groups(model: nn.Module, lr: float, *, mapping_lr: float | None = None, scale_lr: float | None = None,
                 classical_lr: float | None = None) -> list[dict]:
    """``torch.optim`` parameter groups of a model, one per role, each named (``group["name"]``).

    The circuit angles (``"source"``) take ``lr``; the mapping, the per-tensor gains and the
    parameters kept classical take their own rate where one is given. Without one, the gains and
    the classical parameters take ``lr`` and the mapping takes ``lr`` times its ``relative_lr``
    (the learned mapping model: 1/300, since it moves every weight at once; 1 for mappings that
    do not say). A plain module is one ``"classical"`` group. Empty groups are left out.

    Args:
        model: a :class:`~qt_pennylane.QuantumTrainModel` or any module.
        lr: the learning rate of the angles (and of every group without its own).
        mapping_lr: the learning rate of the mapping's parameters (``None``: ``lr``).
        scale_lr: the learning rate of the per-tensor gains (``None``: ``lr``).
        classical_lr: the learning rate of the parameters kept classical (``None``: ``lr``).

    Raises:
        ValueError: a rate that is not a positive finite number.

    Example:
        >>> import torch
        >>> from qt_pennylane import QuantumTrainModel
        >>> model = QuantumTrainModel(torch.nn.Linear(4, 3), mapping="learned", reps=1, seed=0)
        >>> [(g["name"], g["lr"]) for g in param_groups(model, 0.03, mapping_lr=1e-3)]
        [('source', 0.03), ('mapping', 0.001), ('scale', 0.03), ('classical', 0.03)]
        >>> [(g["name"], round(g["lr"], 6)) for g in param_groups(model, 0.03)][1]
        ('mapping', 0.0001)
        >>> optimizer = torch.optim.Adam(param_groups(model, 0.03, mapping_lr=1e-4))
    """
    check_number("lr", lr, positive=True)
    rates = {"source": lr, "mapping": mapping_lr, "scale": scale_lr, "classical": classical_lr}
    for name in ("mapping", "scale", "classical"):
        check_number(f"{name}_lr", rates[name], positive=True, allow_none=True)
    if hasattr(model, "parameter_groups"):
        groups = model.parameter_groups()
    else:
        groups = {"classical": [p for p in model.parameters() if p.requires_grad]}
    if rates["mapping"] is None:
        mapping = getattr(getattr(model, "generator", None), "mapping", None)
        rates["mapping"] = lr * getattr(mapping, "relative_lr", 1.0)
    return [{"name": name, "params": groups[name], "lr": rates[name] if rates[name] is not None else lr}
            for name in GROUPS if groups.get(name)]


def make_optimizer(name: str, model: nn.Module, lr: float, **rates) -> torch.optim.Optimizer:
    """The registered gradient optimizer called ``name`` over :func:`param_groups` of ``model``.

    L-BFGS takes a single group: it refuses per-group rates.

    Raises:
        ValueError: an unknown or gradient-free optimizer, or a bad rate.
    """
    trainer = check_trainer(name, kind="gradient")
    groups = param_groups(model, lr, **rates)
    if trainer.optimizer is torch.optim.LBFGS:
        given = sorted(k for k, v in rates.items() if v is not None)
        if given:
            raise ValueError(f"optimizer={name!r} takes one learning rate for all parameters; drop {given}")
        return trainer.optimizer([p for group in groups for p in group["params"]], lr=lr)
    return trainer.optimizer(groups, lr=lr)


def fit(
    model: nn.Module,
    train_data,
    test_data=None,
    *,
    loss_fn=None,
    optimizer: str = "adam",
    lr: float = 0.01,
    mapping_lr: float | None = None,
    scale_lr: float | None = None,
    classical_lr: float | None = None,
    epochs: int = 10,
    batch_size: int | None = None,
    seed: int = 0,
    lr_schedule: str = "cosine",
    eval_every: int = 1,
    train_eval_limit: int | None = None,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    config: dict | None = None,
    progress: bool = True,
    confirm: bool = False,
) -> list[dict]:
    """Train ``model`` with a registered gradient optimizer; evaluate, checkpoint and resume.

    Each batch regenerates the weights (one circuit run per step). Every ``eval_every`` epochs
    (and after the last) the exported model is evaluated on the training data (the first
    ``train_eval_limit`` examples) and the test data, and with ``checkpoint`` the state is
    written atomically. ``resume`` continues from such a checkpoint to the same result as an
    uninterrupted run: with a ``Dataset``, ``fit`` shuffles it in a seeded order per epoch; with
    your own loader, resume is exact when its order is (a sampler with ``set_epoch``, such as
    ``DistributedSampler``, is told the epoch).

    Under ``torchrun`` the run is data-parallel (:mod:`~qt_pennylane.training.distributed`): each
    process takes its part of every global batch of ``batch_size`` (a ``Dataset``) or the batches
    of its own loader (give it a ``DistributedSampler``), the model runs in
    ``DistributedDataParallel``, evaluation is sharded, and rank 0 alone writes the checkpoint and
    shows progress. Each rank's loss is weighted by its share of the global batch, so the step is
    the gradient of the mean loss over the global batch, as on one process (``loss_fn`` must be a
    mean over the examples, as the built-in losses are). The returned history is rank 0's, on every rank.

    Args:
        model: a :class:`~qt_pennylane.QuantumTrainModel` or any module.
        train_data: a ``Dataset`` of ``(input, target)`` pairs (``fit`` batches and shuffles it) or
            any iterable of ``(inputs, targets)`` batches, such as a ``DataLoader`` with its own
            sampler, augmentation or streaming.
        test_data: the same kinds, or ``None``.
        loss_fn: ``None`` (cross-entropy), a name of :data:`~qt_pennylane.training.losses.LOSSES`
            or a callable ``(outputs, targets) -> loss``.
        optimizer: a gradient trainer of :data:`~qt_pennylane.training.registry.TRAINERS`.
        lr: the learning rate of the circuit angles (see :func:`param_groups`).
        mapping_lr: the mapping's learning rate (``None``: ``lr``).
        scale_lr: the per-tensor gains' learning rate (``None``: ``lr``).
        classical_lr: the learning rate of the parameters kept classical (``None``: ``lr``).
        epochs: total epochs (a resumed run continues up to this number).
        batch_size: with a ``Dataset``: the minibatch size (``None``: full batch). Must be ``None``
            with a loader, which has its own.
        seed: seeds the order of a ``Dataset``'s batches.
        lr_schedule: ``"cosine"`` (per step, to 0 at the end; needs the loader's length) or ``"constant"``.
        eval_every: epochs between evaluations and checkpoints.
        train_eval_limit: training accuracy on the first N examples only (``None``: all).
        checkpoint: file written after every evaluation.
        resume: a checkpoint of the same run to continue from.
        config: settings stored in the checkpoint and compared on resume.
        progress: show a progress bar.
        confirm: run on real hardware even above the estimate's confirmation threshold
            (:mod:`qt_pennylane.devices.estimate`).

    Returns:
        The history: one dict per evaluation with ``epoch, loss`` (mean training loss of the
        epoch's steps) ``, train_loss, train_accuracy, test_loss, test_accuracy, train_seconds``.

    Raises:
        ValueError: a bad argument (named), an optimizer that cannot work with the model's
            probability source, a checkpoint of another run, or (data-parallel) shots sampled by
            a device (:func:`~qt_pennylane.training.distributed.check_shared_samples`) or a global
            batch without an example for every process.
        NonFiniteError: the loss or a parameter became NaN or infinite (the step is named).
        UnconfirmedRunError: a costly run on real hardware without ``confirm=True``.
    """
    distributed.setup()
    check_trainer(optimizer, model, kind="gradient")
    distributed.check_shared_samples(model)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size, allow_none=True)
    check_positive_int("eval_every", eval_every)
    check_positive_int("train_eval_limit", train_eval_limit, allow_none=True)
    check_seed("seed", seed, allow_none=False)
    check_choice("lr_schedule", lr_schedule, LR_SCHEDULES)
    check_data("train_data", train_data)
    check_data("test_data", test_data, allow_none=True)
    loss_fn = resolve_loss(loss_fn)
    opt = make_optimizer(optimizer, model, lr, mapping_lr=mapping_lr, scale_lr=scale_lr, classical_lr=classical_lr)
    sampler = None
    if is_dataset(train_data):
        sampler = distributed.ShardedBatches(len(train_data), len(train_data) if batch_size is None else batch_size,
                                             shuffle=batch_size is not None, seed=seed)
        steps_per_epoch = len(sampler)
    else:
        if batch_size is not None:
            raise fail("batch_size", "None when train_data is a loader (it has its own batch size)", batch_size)
        steps_per_epoch = len(train_data) if hasattr(train_data, "__len__") else None
    if lr_schedule == "cosine" and steps_per_epoch is None:
        raise ValueError("lr_schedule='cosine' needs the number of batches per epoch, but train_data has no len(); "
                         "use lr_schedule='constant'")
    total_steps = epochs * (steps_per_epoch or 1)
    factor = (lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))) \
        if lr_schedule == "cosine" else (lambda step: 1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    log = RunLog(model, total=epochs, unit="epoch", checkpoint=checkpoint, resume=resume, config=config,
                 progress=progress)
    state = log.resume()
    if state is not None:
        try:
            opt.load_state_dict(state["trainer"]["optimizer"])
            scheduler.load_state_dict(state["trainer"]["scheduler"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"checkpoint {str(resume)!r} does not hold this optimizer's state: {error}") from None
    if getattr(source_of(model), "hardware", False):
        from ..devices.estimate import plan_epochs, preflight

        preflight(model, plan_epochs("gradient", epochs=epochs, steps_per_epoch=steps_per_epoch,
                                     eval_every=eval_every, done=log.done), confirm=confirm)
    train_seconds = log.history[-1]["train_seconds"] if log.history else 0.0
    step = scheduler.last_epoch
    net = distributed.wrap(model)
    for epoch in log.units():
        net.train()
        started = time.perf_counter()
        running, steps = 0.0, 0
        for inputs, targets, share in _epoch_batches(train_data, sampler, epoch):
            def closure():
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(inputs), targets)
                if share is None:
                    loss.backward()
                    return loss
                (loss * share).backward()  # DDP averages the ranks' gradients: the global batch's mean
                (total,) = distributed.all_reduce_sum(float(loss.detach()) * share)
                return torch.tensor(total / distributed.world_size())  # the same on every rank

            loss = float(opt.step(closure).detach())
            scheduler.step()
            step += 1
            check_finite(None, loss, f"epoch {epoch + 1}, step {step}")
            running, steps = running + loss, steps + 1
        if steps == 0:
            raise fail("train_data", "data with at least one batch per epoch", train_data)
        train_seconds += time.perf_counter() - started
        if (epoch + 1) % eval_every and epoch + 1 != epochs:
            continue
        check_finite(model, None, f"epoch {epoch + 1}")
        record = {"epoch": epoch + 1, "loss": running / steps, "train_seconds": train_seconds}
        record.update(log.evaluate(train_data, test_data, loss_fn, train_limit=train_eval_limit))
        log.record(record)
        log.save(epoch + 1, {"optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()})
    return log.history


def _epoch_batches(train_data, sampler, epoch):
    """The epoch's ``(inputs, targets, share)``: this rank's part of a Dataset's seeded shuffle, or a loader's batches.

    ``share`` weights the rank's mean loss, ``count * W / global count`` (``None`` on one
    process): the global count of a Dataset's batch is known, a loader's is all-reduced.
    """
    if sampler is not None:
        sampler.set_epoch(epoch)
        loader, totals = DataLoader(train_data, batch_sampler=sampler), iter(sampler.global_sizes())
    else:
        loader, totals = train_data, None
        own = getattr(loader, "sampler", None)
        if hasattr(own, "set_epoch"):
            own.set_epoch(epoch)
    for batch in loader:
        inputs, targets = split_batch(batch)
        share = None
        if distributed.active():
            total = next(totals) if totals is not None else distributed.all_reduce_sum(len(targets))[0]
            share = len(targets) * distributed.world_size() / total
        yield inputs, targets, share
