"""The paper's gradient-free schedule: COBYLA over φ, then Nelder–Mead over γ, per period.

Parameters cross to scipy as flat float64 numpy vectors and back; every loss evaluation runs
under ``torch.no_grad()`` on the whole training set, so no backward pass is ever run and the
schedule works on any device, with or without shots.

Example:
    >>> from qt_pennylane import QuantumTrainModel
    >>> from qt_pennylane.tasks import get_task
    >>> train_set, test_set = get_task("iris").load()
    >>> model = QuantumTrainModel(get_task("iris").build_model(), seed=0)
    >>> history = paper_schedule(model, train_set, test_set, periods=1, phi_iters=40, gamma_iters=2, progress=False)
    >>> history[0]["period"], history[0]["phi_evaluations"] <= 40
    (1, True)
"""
from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.optimize
import torch
from torch import nn
from torch.utils.data import TensorDataset
from tqdm import tqdm

from .checkpoint import check_same_config, load_checkpoint, save_atomic
from .losses import CrossEntropyWithErrorRate
from .train import check_positive_int, evaluate

logger = logging.getLogger(__name__)


def flatten(parameters: list[nn.Parameter]) -> np.ndarray:
    """The parameters' values as one float64 numpy vector."""
    return np.concatenate([p.detach().cpu().double().reshape(-1).numpy() for p in parameters])


@torch.no_grad()
def assign(parameters: list[nn.Parameter], vector: np.ndarray) -> None:
    """Write a flat vector (from :func:`flatten`) back into the parameters, in place."""
    start = 0
    for p in parameters:
        chunk = torch.as_tensor(vector[start : start + p.numel()], dtype=p.dtype).reshape(p.shape)
        p.copy_(chunk)
        start += p.numel()


def split_parameters(model) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(φ, the other trainable generator parameters): the two groups the schedule alternates over."""
    phi = model.generator.phi
    others = [p for p in model.generator.parameters() if p.requires_grad and p is not phi]
    return [phi], others


class _Objective:
    """The paper's loss on the whole training set as a function of one flat parameter group."""

    def __init__(self, model, group, inputs, targets, loss_fn):
        self.model, self.group, self.inputs, self.targets, self.loss_fn = model, group, inputs, targets, loss_fn
        self.evaluations = 0

    @torch.no_grad()
    def __call__(self, vector: np.ndarray) -> float:
        assign(self.group, vector)
        self.evaluations += 1
        return float(self.loss_fn(self.model(self.inputs), self.targets))


def paper_schedule(
    model,
    train_set: TensorDataset,
    test_set: TensorDataset | None = None,
    *,
    periods: int = 21,
    phi_iters: int = 100,
    gamma_iters: int = 10,
    cobyla_step: float = 1.0,
    loss_fn: nn.Module | None = None,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    config: dict | None = None,
    progress: bool = True,
) -> list[dict]:
    """Train with the schedule of arXiv:2402.16465 (``METHOD.md`` §4).

    Each of ``periods`` periods runs COBYLA over φ for at most ``phi_iters`` function evaluations
    (scipy's ``maxiter`` for COBYLA counts evaluations; COBYLA needs at least ``len(φ) + 2`` to
    build its first simplex, so a smaller budget is raised to that, with a warning) with the
    mapping fixed, then Nelder–Mead
    over the mapping's parameters (γ for the paper mapping) for ``gamma_iters`` iterations with φ
    fixed (Nelder–Mead spends one to ``n + 2`` evaluations per iteration, plus ``n + 1`` for its
    first simplex). The loss defaults to :class:`CrossEntropyWithErrorRate`.

    Args:
        model: a :class:`~qt_pennylane.QuantumTrainModel`.
        train_set, test_set: ``TensorDataset`` s; the loss always uses the whole training set.
        periods, phi_iters, gamma_iters: the paper's N_train, N_φ, N_γ (Iris: 21, 100, 10).
        cobyla_step: COBYLA's initial trust-region radius in radians (scipy's ``rhobeg``); the
            paper does not state it; scipy's default is 1.0.
        checkpoint: file written atomically after every period.
        resume: a checkpoint to continue from (the same ``config`` is required).
        config: settings stored in the checkpoint and compared on resume.
        progress: show a progress bar over periods.

    Returns:
        One dict per period: ``period, loss, train_accuracy, test_accuracy, phi_evaluations,
        gamma_evaluations, seconds`` (cumulative wall time).
    """
    for name, value in (("periods", periods), ("phi_iters", phi_iters), ("gamma_iters", gamma_iters)):
        check_positive_int(name, value)
    if not cobyla_step > 0:
        raise ValueError(f"cobyla_step must be positive, got {cobyla_step!r}")
    loss_fn = loss_fn if loss_fn is not None else CrossEntropyWithErrorRate()
    phi_group, gamma_group = split_parameters(model)
    inputs, targets = train_set.tensors
    config = dict(config or {})
    phi_budget = max(phi_iters, phi_group[0].numel() + 2)
    if phi_budget > phi_iters:
        warnings.warn(
            f"phi_iters={phi_iters} is below COBYLA's minimum of len(phi) + 2 = {phi_budget} evaluations; "
            f"using {phi_budget}", UserWarning, stacklevel=2,
        )
    history: list[dict] = []
    if resume is not None:
        state = load_checkpoint(resume)
        check_same_config(state.get("config", {}), config, resume)
        model.load_state_dict(state["model"])
        history = state["history"]
    seconds = history[-1]["seconds"] if history else 0.0
    model.eval()
    bar = tqdm(range(len(history), periods), desc="paper schedule", disable=not progress,
               initial=len(history), total=periods)
    for period in bar:
        started = time.perf_counter()
        phi_objective = _Objective(model, phi_group, inputs, targets, loss_fn)
        result = scipy.optimize.minimize(
            phi_objective, flatten(phi_group), method="COBYLA", options={"maxiter": phi_budget, "rhobeg": cobyla_step}
        )
        assign(phi_group, result.x)
        gamma_objective = _Objective(model, gamma_group, inputs, targets, loss_fn)
        if gamma_group:
            result = scipy.optimize.minimize(
                gamma_objective, flatten(gamma_group), method="Nelder-Mead", options={"maxiter": gamma_iters}
            )
            assign(gamma_group, result.x)
        seconds += time.perf_counter() - started
        exported = model.export()
        with torch.no_grad():
            loss = float(loss_fn(exported(inputs), targets))
        record = {
            "period": period + 1,
            "loss": loss,
            "train_accuracy": evaluate(exported, train_set)[1],
            "test_accuracy": evaluate(exported, test_set)[1] if test_set is not None else None,
            "phi_evaluations": phi_objective.evaluations,
            "gamma_evaluations": gamma_objective.evaluations,
            "seconds": seconds,
        }
        history.append(record)
        bar.set_postfix(loss=f"{loss:.4f}", test_acc=record["test_accuracy"])
        logger.info("period %d: %s", period + 1, record)
        if checkpoint is not None:
            save_atomic({"config": config, "model": model.state_dict(), "history": history}, checkpoint)
    return history
