"""The paper's gradient-free schedule: COBYLA over φ, then Nelder–Mead over γ, per period.

Parameters cross to scipy as flat float64 numpy vectors and back; every loss evaluation runs
under ``torch.no_grad()`` on the whole training set, so no backward pass is ever run and the
schedule works on any device, with or without shots.

Example:
    >>> from qt_pennylane import QuantumTrainModel
    >>> from qt_pennylane.tasks import get_task
    >>> train_set, test_set = get_task("iris").load()
    >>> model = QuantumTrainModel(get_task("iris").build_model(), seed=0)
    >>> history = paper_schedule(model, train_set, test_set, periods=1, phi_iters=10, gamma_iters=2, progress=False)
    >>> history[0]["period"], history[0]["phi_evaluations"] <= 33 + 10   # first simplex + iterations
    (1, True)
"""
from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import scipy.optimize
import torch
from threadpoolctl import threadpool_limits
from torch import nn
from torch.utils.data import TensorDataset
from tqdm import tqdm

from .checkpoint import check_same_config, load_checkpoint, save_atomic
from .losses import CrossEntropyWithErrorRate
from .sampling import random_states, restore_random_states
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
        self.evaluations, self.seconds = 0, 0.0

    @torch.no_grad()
    def __call__(self, vector: np.ndarray) -> float:
        started = time.perf_counter()
        assign(self.group, vector)
        self.evaluations += 1
        loss = float(self.loss_fn(self.model(self.inputs), self.targets))
        self.seconds += time.perf_counter() - started
        return loss


def paper_schedule(
    model,
    train_set: TensorDataset,
    test_set: TensorDataset | None = None,
    *,
    periods: int = 21,
    phi_iters: int = 100,
    gamma_iters: int = 10,
    cobyla_step: float = 0.5,
    gamma_step: float = 0.2,
    loss_fn: nn.Module | None = None,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    config: dict | None = None,
    progress: bool = True,
) -> list[dict]:
    """Train with the schedule of arXiv:2402.16465 (``METHOD.md`` §4).

    Each of ``periods`` periods runs ``phi_iters`` COBYLA iterations over φ with the mapping
    fixed, then ``gamma_iters`` Nelder–Mead iterations over the mapping's parameters (log γ for
    the paper mapping) with φ fixed. The loss defaults to :class:`CrossEntropyWithErrorRate`.

    Counting iterations: COBYLA first evaluates ``len(φ) + 1`` points to build its initial
    simplex (its linear model), then spends one evaluation per iteration; scipy's ``maxiter`` for
    COBYLA counts all evaluations, so it is set to ``len(φ) + 1 + phi_iters``. (Counting the
    simplex against the budget, as a literal ``maxiter=phi_iters`` would, leaves nothing to
    iterate with once ``len(φ) + 1 ≥ phi_iters``: 113 against Iris's 100 at L = 6.) Nelder–Mead spends
    ``n + 1`` evaluations on its simplex and one to ``n + 2`` per iteration.

    The step sizes, which the paper does not state, are the pair with the lowest final
    *training* loss on a grid at L = 1 and 6, seeds 10–12 (``benchmarks/iris.py --only tuning``);
    the test set played no part.

    Args:
        model: a :class:`~qt_pennylane.QuantumTrainModel`.
        train_set, test_set: ``TensorDataset`` s; the loss always uses the whole training set.
        periods, phi_iters, gamma_iters: the paper's N_train, N_φ, N_γ (Iris: 21, 100, 10).
        cobyla_step: COBYLA's initial trust-region radius in radians (scipy's ``rhobeg``, whose
            default is 1.0).
        gamma_step: the Nelder–Mead simplex's initial step in each mapping parameter (for the
            paper mapping, in log γ: 0.2 is a factor 1.22 in γ). Scipy's default (5 % of the
            value, or 0.00025 where it is 0, i.e. at γ = 1) barely moves γ in 10 iterations.
        loss_fn: the objective, evaluated on the whole training set (default: the paper's
            :class:`CrossEntropyWithErrorRate`; :func:`~qt_pennylane.losses.make_loss` names the others).
        checkpoint: file written atomically after every period.
        resume: a checkpoint to continue from (the same ``config`` is required).
        config: settings stored in the checkpoint and compared on resume.
        progress: show a progress bar over periods.

    Returns:
        One dict per period: ``period, loss, train_accuracy, test_accuracy, phi_evaluations,
        gamma_evaluations, loss_seconds`` (the period's time in loss evaluations; the rest of
        its time is the optimizers' own) ``, seconds`` (cumulative wall time).
    """
    for name, value in (("periods", periods), ("phi_iters", phi_iters), ("gamma_iters", gamma_iters)):
        check_positive_int(name, value)
    for name, value in (("cobyla_step", cobyla_step), ("gamma_step", gamma_step)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    loss_fn = loss_fn if loss_fn is not None else CrossEntropyWithErrorRate()
    phi_group, gamma_group = split_parameters(model)
    inputs, targets = train_set.tensors
    config = dict(config or {})
    phi_budget = phi_group[0].numel() + 1 + phi_iters
    history: list[dict] = []
    if resume is not None:
        state = load_checkpoint(resume)
        check_same_config(state.get("config", {}), config, resume)
        model.load_state_dict(state["model"])
        restore_random_states(model, state.get("random_states", {}))
        history = state["history"]
    seconds = history[-1]["seconds"] if history else 0.0
    model.eval()
    bar = tqdm(range(len(history), periods), desc="paper schedule", disable=not progress,
               initial=len(history), total=periods)
    for period in bar:
        started = time.perf_counter()
        with threadpool_limits(limits=1, user_api="blas"):  # COBYLA's many small matrix products
            phi_objective = _Objective(model, phi_group, inputs, targets, loss_fn)
            result = scipy.optimize.minimize(
                phi_objective, flatten(phi_group), method="COBYLA",
                options={"maxiter": phi_budget, "rhobeg": cobyla_step},
            )
            assign(phi_group, result.x)
            gamma_objective = _Objective(model, gamma_group, inputs, targets, loss_fn)
            if gamma_group:
                start = flatten(gamma_group)
                simplex = np.vstack([start, start + gamma_step * np.eye(start.size)])
                result = scipy.optimize.minimize(
                    gamma_objective, start, method="Nelder-Mead",
                    options={"maxiter": gamma_iters, "initial_simplex": simplex},
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
            "loss_seconds": phi_objective.seconds + gamma_objective.seconds,
            "seconds": seconds,
        }
        history.append(record)
        bar.set_postfix(loss=f"{loss:.4f}", test_acc=record["test_accuracy"])
        logger.info("period %d: %s", period + 1, record)
        if checkpoint is not None:
            save_atomic({"config": config, "model": model.state_dict(), "history": history,
                         "random_states": random_states(model)}, checkpoint)
    return history
