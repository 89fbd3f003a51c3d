"""SPSA: simultaneous-perturbation stochastic approximation (Spall 1992), two loss evaluations per step.

Every step perturbs all trainable parameters θ at once along a random sign vector
``Δ ∈ {−1, +1}^d`` and estimates the gradient from two losses, whatever the number d of
parameters::

    c_k = c / (k + 1)^γ            a_k = a / (k + 1 + A)^α
    ĝ_k = (L(θ + c_k Δ) − L(θ − c_k Δ)) / (2 c_k) · Δ
    θ ← θ − a_k ĝ_k

with Spall's exponents α = 0.602, γ = 0.101 and stability constant A = 10 % of the steps. No
backward pass ever runs, so SPSA works on every probability source, with or without shots. On a
:class:`~qt_pennylane.circuit.qiskit_sampler.SamplerSource` the two perturbed angle sets go to
the QPU as ONE job (:meth:`~qt_pennylane.circuit.qiskit_sampler.SamplerSource.prefetch`); the
authors' Quantum-Train toolkit trains with SPSA on hardware for the same reason.

Example:
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> from qt_pennylane import QuantumTrainModel
    >>> x = torch.randn(32, 3)
    >>> data = TensorDataset(x, (x[:, 0] > 0).long())
    >>> model = QuantumTrainModel(torch.nn.Linear(3, 2), generate="all", scale="none", reps=1, seed=0)
    >>> history = spsa(model, data, epochs=20, eval_every=10, progress=False)
    >>> [record["epoch"] for record in history]
    [10, 20]
"""
from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

import torch
from torch import nn

from .._validation import check_number, check_positive_int, check_seed
from . import distributed
from .gradient import _epoch_batches
from .loop import check_data, is_dataset
from .loop import RunLog, check_finite
from .losses import resolve_loss
from .registry import check_trainer, source_of
from .schedule import assign, flatten

logger = logging.getLogger(__name__)

LR_DECAY = 0.602
"""Spall's α: the gain ``a_k`` falls as ``(k + 1 + A)^-α``."""

PERTURBATION_DECAY = 0.101
"""Spall's γ: the perturbation ``c_k`` falls as ``(k + 1)^-γ``."""


def trainable(model: nn.Module) -> list[nn.Parameter]:
    """The parameters SPSA perturbs: every trainable one, by role (angles first) for a Quantum-Train model."""
    if hasattr(model, "parameter_groups"):
        return [p for group in model.parameter_groups().values() for p in group]
    return [p for p in model.parameters() if p.requires_grad]


class _Step:
    """One SPSA step's two losses, measured together where the source can (one job)."""

    def __init__(self, model, parameters, loss_fn):
        self.model, self.parameters, self.loss_fn = model, parameters, loss_fn
        source = source_of(model)
        self.source = source if hasattr(source, "prefetch") else None

    @torch.no_grad()
    def losses(self, points: list, inputs, targets) -> list[float]:
        """The loss at each flat parameter vector of ``points``."""
        batch = contextlib.nullcontext()
        if self.source is not None:
            angles = []
            for point in points:
                assign(self.parameters, point)
                angles.append(self.source.phi.detach().clone())
            batch = self.source.prefetch(torch.stack(angles))
        values = []
        with batch:
            for point in points:
                assign(self.parameters, point)
                values.append(float(self.loss_fn(self.model(inputs), targets)))
        return values


def spsa(
    model: nn.Module,
    train_data,
    test_data=None,
    *,
    loss_fn=None,
    lr: float = 1.0,
    perturbation: float = 0.15,
    lr_decay: float = LR_DECAY,
    perturbation_decay: float = PERTURBATION_DECAY,
    stability: float | None = None,
    epochs: int = 300,
    batch_size: int | None = None,
    seed: int = 0,
    eval_every: int = 1,
    train_eval_limit: int | None = None,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    config: dict | None = None,
    progress: bool = True,
    confirm: bool = False,
) -> list[dict]:
    """Train ``model`` with SPSA: one step per batch, two loss evaluations per step.

    The default ``lr`` (a) and ``perturbation`` (c) were chosen for the Iris task with 13·2^8 shots on a
    validation split of its training set, at 2,450 steps (``benchmarks/hardware.py --only spsa_tuning``).

    Args:
        model: a :class:`~qt_pennylane.QuantumTrainModel` or any module.
        train_data: as in :func:`~qt_pennylane.training.gradient.fit`.
        test_data: as in :func:`~qt_pennylane.training.gradient.fit`.
        loss_fn: ``None`` (cross-entropy), a loss name or a callable.
        lr: a, the gain at the first step (before the stability constant).
        perturbation: c, the first perturbation (radians for the angles).
        lr_decay: α, the gain's decay exponent.
        perturbation_decay: γ, the perturbation's decay exponent.
        stability: A (``None``: 10 % of the run's steps).
        epochs: total epochs (a resumed run continues up to this number); one step per batch.
        batch_size: with a ``Dataset``: the minibatch size (``None``: full batch).
        seed: seeds the perturbation signs and the batch order.
        eval_every: epochs between evaluations and checkpoints.
        train_eval_limit: training accuracy on the first N examples only.
        checkpoint: file written after every evaluation, as in ``fit``.
        resume: a checkpoint of the same run to continue from.
        config: settings stored in the checkpoint and compared on resume.
        progress: show a progress bar.
        confirm: run on real hardware even above the estimate's confirmation threshold
            (:mod:`qt_pennylane.devices.estimate`).

    Returns:
        One dict per evaluation: ``epoch, loss`` (mean over the epoch's steps of the two perturbed
        losses' mean) ``, train_seconds, train_loss, train_accuracy, test_loss, test_accuracy``, and
        ``jobs, circuits, shots`` so far when the source counts them.

    Raises:
        ValueError: a bad argument (named), or a checkpoint of another run.
        UnconfirmedRunError: a costly hardware run without ``confirm=True``.
        NonFiniteError: the loss became NaN or infinite.
    """
    check_trainer("spsa", model, kind="spsa")
    for name, value in (("lr", lr), ("perturbation", perturbation)):
        check_number(name, value, positive=True)
    for name, value in (("lr_decay", lr_decay), ("perturbation_decay", perturbation_decay)):
        check_number(name, value, minimum=0, maximum=1)
    check_number("stability", stability, minimum=0, allow_none=True)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size, allow_none=True)
    check_positive_int("eval_every", eval_every)
    check_positive_int("train_eval_limit", train_eval_limit, allow_none=True)
    check_seed("seed", seed, allow_none=False)
    check_data("train_data", train_data)
    check_data("test_data", test_data, allow_none=True)
    if distributed.world_size() > 1:
        raise ValueError(f"spsa runs on one process; this run has {distributed.world_size()} (use fit or "
                         "paper_schedule data-parallel)")
    from ..devices.estimate import plan_epochs, preflight

    loss_fn = resolve_loss(loss_fn)
    sampler = None
    if is_dataset(train_data):
        sampler = distributed.ShardedBatches(len(train_data), batch_size or len(train_data),
                                             shuffle=batch_size is not None, seed=seed)
        steps_per_epoch = len(sampler)
    elif batch_size is not None:
        raise ValueError(f"batch_size must be None when train_data is a loader (it has its own batch size), "
                         f"got {batch_size!r}")
    else:
        steps_per_epoch = len(train_data) if hasattr(train_data, "__len__") else None
    parameters = trainable(model)
    signs = torch.Generator().manual_seed(seed)
    log = RunLog(model, total=epochs, unit="epoch", checkpoint=checkpoint, resume=resume, config=config,
                 progress=progress)
    state = log.resume()
    if state is not None:
        try:
            signs.set_state(state["trainer"]["signs"])
            step = int(state["trainer"]["step"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"checkpoint {str(resume)!r} does not hold SPSA's state: {error}") from None
    else:
        step = 0
    total_steps = epochs * steps_per_epoch if steps_per_epoch is not None else None
    if stability is None:
        stability = 0.1 * total_steps if total_steps is not None else 0.0
    source = source_of(model)
    if getattr(source, "hardware", False):
        preflight(model, plan_epochs("spsa", epochs=epochs, steps_per_epoch=steps_per_epoch, eval_every=eval_every,
                                     done=log.done), confirm=confirm)
    evaluator = _Step(model, parameters, loss_fn)
    train_seconds = log.history[-1]["train_seconds"] if log.history else 0.0
    model.eval()
    for epoch in log.units():
        started = time.perf_counter()
        running, steps = 0.0, 0
        for inputs, targets, _ in _epoch_batches(train_data, sampler, epoch):
            a_k = lr / (step + 1 + stability) ** lr_decay
            c_k = perturbation / (step + 1) ** perturbation_decay
            theta = flatten(parameters)
            delta = (torch.randint(0, 2, (theta.size,), generator=signs) * 2 - 1).double().numpy()
            plus, minus = evaluator.losses([theta + c_k * delta, theta - c_k * delta], inputs, targets)
            check_finite(None, plus + minus, f"epoch {epoch + 1}, step {step + 1}")
            assign(parameters, theta - a_k * (plus - minus) / (2 * c_k) * delta)
            step += 1
            running, steps = running + (plus + minus) / 2, steps + 1
        if steps == 0:
            raise ValueError(f"train_data must be data with at least one batch per epoch, got {train_data!r}")
        train_seconds += time.perf_counter() - started
        if (epoch + 1) % eval_every and epoch + 1 != epochs:
            continue
        check_finite(model, None, f"epoch {epoch + 1}")
        record = {"epoch": epoch + 1, "loss": running / steps, "train_seconds": train_seconds}
        record.update(log.evaluate(train_data, test_data, loss_fn, train_limit=train_eval_limit))
        if hasattr(source, "usage"):
            record.update({key: source.usage[key] for key in ("jobs", "circuits", "shots")})
        log.record(record)
        log.save(epoch + 1, {"signs": signs.get_state(), "step": step})
    return log.history

