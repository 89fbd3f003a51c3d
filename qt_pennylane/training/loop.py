"""What every trainer shares: resume, evaluation records, progress, checkpoints, finite checks.

A trainer (:func:`~qt_pennylane.training.gradient.fit`, the paper schedule) counts its work in
units (epochs, periods). :class:`RunLog` resumes from a checkpoint, evaluates the model after a
unit, keeps the history, shows progress, and writes the checkpoint atomically; the trainer adds
only its own state (an optimizer's, a scheduler's).

A checkpoint holds the model's ``state_dict``, the trainer's state, the history, the random
streams of the shot samplers, the run's ``config`` (compared on resume: another model or run is
refused), torch's thread count and the number of processes (a resume under another count of
either warns: results then differ in the last bits).

Data-parallel (:mod:`~qt_pennylane.training.distributed`): rank 0 alone reads the checkpoint it
resumes from (and checks it: an error stops every rank), writes checkpoints, shows progress and
logs; every rank gets rank 0's checkpoint state and records, and evaluation is sharded.

Example:
    >>> import torch
    >>> from torch.utils.data import TensorDataset
    >>> data = TensorDataset(torch.eye(2), torch.tensor([0, 1]))
    >>> log = RunLog(torch.nn.Identity(), total=1, unit="epoch", progress=False)
    >>> log.evaluate(data, None)["train_accuracy"]
    1.0
"""
from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import Dataset
from tqdm import tqdm

from .._validation import fail
from ..circuit.sampling import random_states, restore_random_states
from . import distributed
from .checkpoint import FORMAT, check_same_config, load_checkpoint, load_model_state, save_atomic
from .evaluation import evaluate

logger = logging.getLogger(__name__)


class NonFiniteError(FloatingPointError):
    """Training produced a NaN or infinite loss or parameter; the run stopped."""


def check_finite(model: nn.Module | None, loss: float | None, where: str) -> None:
    """Stop the run (``NonFiniteError`` naming ``where``) when the loss or a trainable parameter is not finite.

    Pass ``model=None`` to check the loss alone (cheap enough for every step).
    """
    if loss is not None and not math.isfinite(loss):
        raise NonFiniteError(f"the training loss became {loss} at {where}; lower the learning rate or check the data")
    for name, parameter in (model.named_parameters() if model is not None else ()):
        if parameter.requires_grad and not torch.isfinite(parameter).all():
            raise NonFiniteError(f"parameter {name!r} became non-finite at {where}; lower the learning rate")


def is_dataset(data) -> bool:
    """``data`` is a map-style ``Dataset`` with a length (else it is taken as an iterable of batches).

    Example:
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> data = TensorDataset(torch.zeros(4, 2), torch.zeros(4))
        >>> is_dataset(data), is_dataset(DataLoader(data, batch_size=2))
        (True, False)
    """
    return isinstance(data, Dataset) and hasattr(data, "__len__")


def check_data(name: str, data, allow_none: bool = False) -> None:
    """Refuse what cannot be training or test data: an empty ``Dataset``, or something that is not iterable.

    Example:
        >>> check_data("train_data", 5)
        Traceback (most recent call last):
        ...
        ValueError: train_data must be a Dataset of (input, target) pairs or an iterable of (inputs, targets) batches, got 5
    """
    if data is None and allow_none:
        return
    if is_dataset(data):
        if len(data) == 0:
            raise fail(name, "a non-empty dataset", data)
        return
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise fail(name, "a Dataset of (input, target) pairs or an iterable of (inputs, targets) batches", data)


def exported(model: nn.Module) -> nn.Module:
    """The plain module to evaluate: ``model.export()`` for a Quantum-Train model, else the model."""
    return model.export() if hasattr(model, "export") else model


class RunLog:
    """Resume, evaluation records, progress and checkpoints for one training run.

    Args:
        model: the model being trained.
        total: the number of units of the run (a resumed run continues up to it).
        unit: what a unit is called in the history (``"epoch"``, ``"period"``).
        checkpoint: file written after each recorded unit (``None``: none).
        resume: checkpoint to continue from (``None``: start fresh).
        config: the run's settings, stored and compared on resume.
        progress: show a progress bar.
    """

    def __init__(self, model: nn.Module, *, total: int, unit: str, checkpoint=None, resume=None,
                 config: dict | None = None, progress: bool = True):
        self.model, self.total, self.unit = model, total, unit
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.resume_path = Path(resume) if resume is not None else None
        self.config = dict(config or {})
        self.history: list[dict] = []
        self.done = 0
        self.progress = progress
        self.bar = None

    def resume(self) -> dict | None:
        """Load the checkpoint (if resuming) into the model; return it for the trainer's own state."""
        if self.resume_path is None:
            return None
        path = self.resume_path
        state = distributed.from_main(self._read)
        load_model_state(self.model, state["model"], path)
        restore_random_states(self.model, state["random_states"])
        self.history, self.done = list(state["history"]), int(state["done"])
        return state

    def _read(self) -> dict:
        """The checkpoint to resume from, checked against this run; warns where it was run otherwise."""
        path = self.resume_path
        state = load_checkpoint(path, required=("format", "model", "config", "history", "done", "random_states"))
        check_same_config(state["config"], self.config, path)
        for what, saved, now in (("torch threads", state.get("threads"), torch.get_num_threads()),
                                 ("processes", state.get("processes"), distributed.world_size())):
            if saved is not None and saved != now:
                warnings.warn(f"checkpoint {str(path)!r} was written with {saved} {what}, this run has {now}: "
                              "results differ from an uninterrupted run in the last bits", UserWarning, stacklevel=5)
        return state

    def units(self) -> range:
        """The units still to run, with a progress bar when asked."""
        remaining = range(self.done, self.total)
        self.bar = tqdm(remaining, desc=self.unit, disable=not (self.progress and distributed.is_main()),
                        initial=self.done, total=self.total)
        return self.bar

    def evaluate(self, train_data, test_data, loss_fn=None, *, train_limit: int | None = None,
                 plain: nn.Module | None = None) -> dict:
        """Training and test loss and accuracy of the exported model (or of ``plain``, exported already).

        With shots every export draws a new sample: pass the one already drawn to measure those weights.
        Data-parallel, every rank takes rank 0's buffers (BatchNorm statistics) first.
        """
        distributed.sync_buffers(self.model)
        plain = exported(self.model) if plain is None else plain
        train = evaluate(plain, train_data, loss_fn, limit=train_limit)
        record = {"train_loss": train["loss"], "train_accuracy": train["accuracy"]}
        if test_data is not None:
            test = evaluate(plain, test_data, loss_fn)
            record.update(test_loss=test["loss"], test_accuracy=test["accuracy"])
        else:
            record.update(test_loss=None, test_accuracy=None)
        return record

    def record(self, record: dict) -> None:
        """Append a unit's record (rank 0's, on every rank) to the history; show it."""
        record = distributed.broadcast_object(record)
        self.history.append(record)
        if self.bar is not None:
            self.bar.set_postfix({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in record.items()
                                  if k in ("loss", "test_accuracy")})
        if distributed.is_main():
            logger.info("%s %d: %s", self.unit, record[self.unit], record)

    def save(self, done: int, trainer_state: dict) -> None:
        """Write the checkpoint after ``done`` units (when a checkpoint file was given; rank 0 only)."""
        self.done = done
        if self.checkpoint is None or not distributed.is_main():
            return
        save_atomic({"format": FORMAT, "config": self.config, "model": self.model.state_dict(),
                     "trainer": trainer_state, "history": self.history, "done": done,
                     "random_states": random_states(self.model), "threads": torch.get_num_threads(),
                     "processes": distributed.world_size()},
                    self.checkpoint)
