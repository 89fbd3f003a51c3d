"""Trainers by name, each registered once with what it needs and what it can work with.

The CLI and the Python API (:func:`~qt_pennylane.training.gradient.fit`,
:func:`~qt_pennylane.training.schedule.paper_schedule`, :func:`~qt_pennylane.training.spsa.spsa`)
consult the same registry through :func:`check_trainer`, so both refuse the same impossible combinations and warn about the same
costly ones:

* a trainer that needs a deterministic loss (L-BFGS's line search) is refused when the
  probabilities come from shots;
* a gradient trainer on real hardware warns that each step queues ``2·P + 1`` circuit jobs
  (parameter-shift over P angles), unless the source sends a step as one job
  (:class:`~qt_pennylane.circuit.qiskit_sampler.SamplerSource`).

Example:
    >>> check_trainer("adam").needs_gradients, check_trainer("paper").needs_gradients
    (True, False)
    >>> sorted(TRAINERS)
    ['adagrad', 'adam', 'adamw', 'lbfgs', 'paper', 'rmsprop', 'sgd', 'spsa']
    >>> check_trainer("spsa").entry
    'spsa'
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch

from .._validation import check_choice


@dataclass(frozen=True)
class Trainer:
    """One trainer and its capabilities.

    Attributes:
        name: its key in :data:`TRAINERS`.
        needs_gradients: it runs backward passes (parameter-shift on devices with shots or hardware).
        works_with_shots: it can train on probabilities estimated from shots.
        deterministic_loss: it assumes the same parameters always give the same loss (line searches).
        optimizer: the ``torch.optim`` class of a gradient trainer, else ``None``.
        description: one line for help texts.
        entry: the Python function that runs it (``"fit"``, ``"paper_schedule"``, ``"spsa"``).
    """

    name: str
    needs_gradients: bool
    works_with_shots: bool
    deterministic_loss: bool
    optimizer: type | None
    description: str
    entry: str = "fit"


def _gradient(name: str, optimizer: type, description: str, *, deterministic: bool = False) -> Trainer:
    return Trainer(name, needs_gradients=True, works_with_shots=not deterministic,
                   deterministic_loss=deterministic, optimizer=optimizer, description=description)


TRAINERS: dict[str, Trainer] = {
    "adam": _gradient("adam", torch.optim.Adam, "Adam (torch.optim.Adam)"),
    "adamw": _gradient("adamw", torch.optim.AdamW, "AdamW (torch.optim.AdamW)"),
    "sgd": _gradient("sgd", torch.optim.SGD, "SGD (torch.optim.SGD)"),
    "rmsprop": _gradient("rmsprop", torch.optim.RMSprop, "RMSprop (torch.optim.RMSprop)"),
    "adagrad": _gradient("adagrad", torch.optim.Adagrad, "Adagrad (torch.optim.Adagrad)"),
    "lbfgs": _gradient("lbfgs", torch.optim.LBFGS, "L-BFGS with line search (exact probabilities only)",
                       deterministic=True),
    "paper": Trainer("paper", needs_gradients=False, works_with_shots=True, deterministic_loss=False, optimizer=None,
                     description="the paper's gradient-free schedule: COBYLA over the angles, Nelder-Mead over the rest",
                     entry="paper_schedule"),
    "spsa": Trainer("spsa", needs_gradients=False, works_with_shots=True, deterministic_loss=False, optimizer=None,
                    description="SPSA: two loss evaluations per step whatever the number of parameters", entry="spsa"),
}
"""Trainers by name."""

KINDS = {"gradient": "fit", "schedule": "paper_schedule", "spsa": "spsa"}
"""The entry points of :func:`check_trainer`'s ``kind`` and the function each is."""


def source_of(model):
    """The probability source of a Quantum-Train model, or ``None`` (a plain module or a control)."""
    return getattr(getattr(model, "generator", None), "source", None)


def check_trainer(name: str, model=None, *, kind: str | None = None) -> Trainer:
    """The trainer called ``name``, checked against the model's probability source.

    Args:
        name: a key of :data:`TRAINERS`.
        model: the model to train (its ``generator.source`` tells shots and hardware); optional.
        kind: the entry point asking: ``"gradient"`` (``fit``), ``"schedule"`` (``paper_schedule``) or
            ``"spsa"`` (``spsa``); the trainer must be the one it runs.

    Raises:
        ValueError: an unknown name, a trainer of the wrong kind, or a combination that cannot work.
    """
    trainer = TRAINERS[check_choice("optimizer", name, TRAINERS)]
    entry = KINDS[check_choice("kind", kind, KINDS)] if kind is not None else trainer.entry
    if entry != trainer.entry:
        if trainer.needs_gradients:
            raise ValueError(f"optimizer={name!r} is a gradient optimizer: train with fit, not {entry}")
        raise ValueError(f"optimizer={name!r} is gradient-free: train with {trainer.entry} (CLI: --optimizer {name}), "
                         f"not {entry}")
    source = source_of(model)
    if source is None:
        return trainer
    if trainer.deterministic_loss and not source.exact:
        raise ValueError(
            f"optimizer={name!r} needs a deterministic loss (exact probabilities), but the probabilities come from "
            f"{source.description}; use a stochastic optimizer such as 'adam', the gradient-free 'paper' schedule, "
            "or exact probabilities (shots=None on a statevector simulator)"
        )
    if trainer.needs_gradients and source.hardware and not getattr(source, "one_job_per_step", False):
        warnings.warn(
            f"optimizer={name!r} on real hardware ({source.description}): each gradient step runs parameter-shift, "
            "2 * len(angles) + 1 separately queued circuit jobs; optimizer='paper' needs one job per loss evaluation; "
            "a SamplerSource sends each step as one job",
            UserWarning, stacklevel=3,
        )
    return trainer
