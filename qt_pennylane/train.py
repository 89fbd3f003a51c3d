"""Gradient training of a Quantum-Train model, with evaluation, checkpoints and resume.

Example:
    >>> from qt_pennylane import QuantumTrainModel
    >>> from qt_pennylane.tasks import get_task
    >>> task = get_task("iris")
    >>> train_set, test_set = task.load()
    >>> model = QuantumTrainModel(task.build_model(), seed=0)
    >>> history = fit(model, train_set, test_set, epochs=2, lr=0.1, progress=False)
    >>> sorted(history[-1])
    ['epoch', 'loss', 'test_accuracy', 'train_accuracy', 'train_seconds']
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

from .checkpoint import check_same_config, load_checkpoint, save_atomic
from .sampling import random_states, restore_random_states

logger = logging.getLogger(__name__)

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}
"""Gradient optimizers by name (``torch.optim`` classes)."""


LR_SCHEDULES = ("cosine", "constant")
"""Learning-rate schedules: ``"cosine"`` anneals to 0 over the run's steps; ``"constant"`` keeps ``lr``."""


def make_optimizer(name: str, model: nn.Module, lr: float, mapping_lr: float | None = None) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer called ``name`` over ``model``'s trainable parameters.

    With ``mapping_lr``, the parameters of ``model.generator.mapping`` form a second group with
    that learning rate (a learned mapping model wants a much smaller one than the angles).
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not a gradient optimizer; expected one of {sorted(OPTIMIZERS)}")
    for label, value in (("lr", lr), ("mapping_lr", mapping_lr)):
        if value is not None and not value > 0:
            raise ValueError(f"{label} must be positive, got {value!r}")
    trainable = [p for p in model.parameters() if p.requires_grad]
    if mapping_lr is None:
        return OPTIMIZERS[name](trainable, lr=lr)
    mapping = getattr(getattr(model, "generator", None), "mapping", None)
    if mapping is None:
        raise ValueError(f"mapping_lr={mapping_lr!r} needs a model with generator.mapping, got {type(model).__name__}")
    in_mapping = {id(p) for p in mapping.parameters()}
    groups = [{"params": [p for p in trainable if id(p) not in in_mapping]},
              {"params": [p for p in trainable if id(p) in in_mapping], "lr": mapping_lr}]
    return OPTIMIZERS[name]([g for g in groups if g["params"]], lr=lr)


@torch.no_grad()
def evaluate(module: nn.Module, dataset: TensorDataset, *, batch_size: int = 2048) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a plain classifier ``module`` on ``dataset``."""
    was_training = module.training
    module.eval()
    total_loss, correct, count = 0.0, 0, 0
    for inputs, targets in DataLoader(dataset, batch_size=batch_size):
        logits = module(inputs)
        total_loss += F.cross_entropy(logits, targets, reduction="sum").item()
        correct += (logits.argmax(dim=-1) == targets).sum().item()
        count += len(targets)
    module.train(was_training)
    return total_loss / count, correct / count


def check_positive_int(name: str, value, allow_none: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a positive int (or ``None`` when allowed)."""
    if value is None and allow_none:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def fit(
    model,
    train_set: TensorDataset,
    test_set: TensorDataset | None = None,
    *,
    optimizer: str = "adam",
    lr: float = 0.01,
    mapping_lr: float | None = None,
    epochs: int = 10,
    batch_size: int | None = None,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    config: dict | None = None,
    eval_every: int = 1,
    train_eval_limit: int | None = None,
    lr_schedule: str = "cosine",
    progress: bool = True,
) -> list[dict]:
    """Train ``model`` (any module whose parameters are trainable) with a ``torch.optim`` optimizer.

    Each minibatch regenerates the weights (one circuit run per step). After every epoch the
    ``eval_every`` epochs (and after the last) the model is evaluated on the full training and
    test sets and, with ``checkpoint``, the state is written atomically. ``resume`` continues from such a checkpoint to the same result as an
    uninterrupted run with the same seed (minibatch order is seeded per epoch).

    Args:
        model: e.g. a :class:`~qt_pennylane.QuantumTrainModel`.
        train_set, test_set: ``TensorDataset`` s of ``(inputs, labels)``.
        optimizer, lr: a key of :data:`OPTIMIZERS` and its learning rate.
        mapping_lr: a separate learning rate for the generator's mapping (``None``: ``lr``).
        epochs: total epochs (a resumed run continues up to this number).
        batch_size: minibatch size; ``None`` trains full-batch (one step per epoch).
        seed: seeds the minibatch order.
        checkpoint: file written after every epoch.
        resume: checkpoint to continue from; must come from the same ``config``.
        config: settings stored in the checkpoint and compared on resume.
        eval_every: epochs between evaluations (and checkpoints).
        train_eval_limit: measure training accuracy on the first this many examples (``None``: all).
        lr_schedule: a member of :data:`LR_SCHEDULES`, stepped once per minibatch.
        progress: show a tqdm progress bar.

    Returns:
        The history: one dict per evaluation with ``epoch, loss, train_accuracy, test_accuracy, train_seconds``.
    """
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size, allow_none=True)
    check_positive_int("eval_every", eval_every)
    check_positive_int("train_eval_limit", train_eval_limit, allow_none=True)
    train_eval_set = train_set if train_eval_limit is None else TensorDataset(*(t[:train_eval_limit] for t in train_set.tensors))
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule={lr_schedule!r} is not known; expected one of {list(LR_SCHEDULES)}")
    config = dict(config or {})
    opt = make_optimizer(optimizer, model, lr, mapping_lr)
    size = len(train_set) if batch_size is None else batch_size
    total_steps = epochs * -(-len(train_set) // size)
    factor = (lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))) \
        if lr_schedule == "cosine" else (lambda step: 1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    history: list[dict] = []
    start_epoch, train_seconds = 0, 0.0
    if resume is not None:
        state = load_checkpoint(resume)
        check_same_config(state.get("config", {}), config, resume)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        restore_random_states(model, state.get("random_states", {}))
        history, start_epoch = state["history"], state["epoch"]
        train_seconds = history[-1]["train_seconds"] if history else 0.0
    bar = tqdm(range(start_epoch, epochs), desc="train", disable=not progress, initial=start_epoch, total=epochs)
    for epoch in bar:
        model.train()
        order = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        started = time.perf_counter()
        running, steps = 0.0, 0
        for inputs, targets in DataLoader(train_set, batch_size=size, shuffle=batch_size is not None, generator=order):
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(inputs), targets)
            loss.backward()
            opt.step()
            scheduler.step()
            running, steps = running + loss.item(), steps + 1
        train_seconds += time.perf_counter() - started
        if (epoch + 1) % eval_every and epoch + 1 != epochs:
            continue
        record = {"epoch": epoch + 1, "loss": running / steps, "train_seconds": train_seconds}
        exported = model.export() if hasattr(model, "export") else model
        record["train_accuracy"] = evaluate(exported, train_eval_set)[1]
        record["test_accuracy"] = evaluate(exported, test_set)[1] if test_set is not None else None
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}", test_acc=record["test_accuracy"])
        logger.info("epoch %d: %s", epoch + 1, record)
        if checkpoint is not None:
            save_atomic(
                {"config": config, "model": model.state_dict(), "optimizer": opt.state_dict(),
                 "scheduler": scheduler.state_dict(), "epoch": epoch + 1, "history": history,
                 "random_states": random_states(model)},
                checkpoint,
            )
    return history
