"""The paper's gradient-free schedule: COBYLA over the angles, then Nelder–Mead over the rest, per period.

Parameters cross to scipy as flat float64 numpy vectors and back; every loss evaluation runs
under ``torch.no_grad()`` on the whole training set, so no backward pass is ever run and the
schedule works on any device, with or without shots.

Data-parallel (under ``torchrun``, :mod:`~qt_pennylane.training.distributed`): rank 0 runs scipy
and broadcasts each point it asks for; every rank generates the weights of that point (the same
calls on every rank, so the same samples with shots) and sums the loss over its contiguous part
of the training data; the loss is the all-reduced sum divided by the global count. For a mean
loss such as the paper's CE + error rate (a sum of cross-entropies plus a count of errors, over
the examples) this is the one-process value up to the order of floating-point sums.

Example:
    >>> from qt_pennylane import QuantumTrainModel
    >>> from qt_pennylane.tasks import get_task
    >>> train_set, test_set = get_task("iris").load()
    >>> model = QuantumTrainModel(get_task("iris").build_model(), generate="all", scale="none", seed=0)
    >>> history = paper_schedule(model, train_set, test_set, periods=1, phi_iters=10, gamma_iters=2, progress=False)
    >>> history[0]["period"], history[0]["phi_evaluations"] <= 33 + 10   # first simplex + iterations
    (1, True)
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import scipy.optimize
import torch
from threadpoolctl import threadpool_limits
from torch import nn
from torch.utils.data import TensorDataset

from .._validation import check_number, check_positive_int, fail
from . import distributed
from .evaluation import batches_of, split_batch
from .loop import RunLog, check_data, check_finite, exported
from .losses import resolve_loss
from .registry import check_trainer, source_of

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
    """(the circuit angles, every other trainable parameter): the two groups the schedule alternates over.

    For the papers' setting (``generate="all"``, ``scale="none"``, the paper mapping) the second
    group is γ alone.
    """
    if not hasattr(model, "parameter_groups"):
        raise fail("model", "a QuantumTrainModel (the schedule alternates over its circuit angles and the rest)",
                   type(model).__name__)
    groups = model.parameter_groups()
    first = list(groups["source"])
    rest = [p for name, group in groups.items() if name != "source" for p in group]
    if not first:
        raise ValueError("the model's probability source has no trainable parameters for COBYLA")
    return first, rest


class _Objective:
    """The schedule's loss on the whole training set as a function of one flat parameter group."""

    def __init__(self, model, group, data, loss_fn):
        self.model, self.group, self.data, self.loss_fn = model, group, data, loss_fn
        self.evaluations, self.seconds = 0, 0.0

    @torch.no_grad()
    def __call__(self, vector: np.ndarray) -> float:
        started = time.perf_counter()
        assign(self.group, vector)
        self.evaluations += 1
        loss = full_loss(self.model, self.data, self.loss_fn)
        self.seconds += time.perf_counter() - started
        return loss


@torch.no_grad()
def full_loss(model: nn.Module, data, loss_fn) -> float:
    """The loss of ``model`` on all of ``data``: one pass for a ``TensorDataset``, else the example-weighted mean.

    The weights are generated once (one sample with shots) for the whole of ``data``.
    Data-parallel, ``data`` is this rank's part and the result is the mean over all ranks' parts.
    """
    if isinstance(data, TensorDataset) and not distributed.active():
        inputs, targets = data.tensors
        return float(loss_fn(model(inputs), targets))
    if isinstance(data, TensorDataset):  # this rank's part, perhaps empty: the weights are generated regardless
        inputs, targets = data.tensors
        outputs = model(inputs)
        total, count = (float(loss_fn(outputs, targets)) * len(targets), len(targets)) if len(targets) else (0.0, 0)
    else:
        plain, total, count = exported(model), 0.0, 0
        for batch in batches_of(data):
            inputs, targets = split_batch(batch)
            total += float(loss_fn(plain(inputs), targets)) * len(targets)
            count += len(targets)
    total, count = distributed.all_reduce_sum(total, count)
    if count == 0:
        raise fail("train_data", "data with at least one example", data)
    return total / count


def _minimize(objective: _Objective, start: np.ndarray, settings: dict) -> np.ndarray:
    """``scipy.optimize.minimize(objective, start, **settings).x``, run by rank 0 (every rank evaluates)."""
    return distributed.optimize_on_main(objective, start,
                                        lambda f, x0: scipy.optimize.minimize(f, x0, **settings).x)


def paper_schedule(
    model,
    train_data,
    test_data=None,
    *,
    periods: int = 21,
    phi_iters: int = 100,
    gamma_iters: int = 10,
    cobyla_step: float = 0.5,
    gamma_step: float = 0.2,
    loss_fn=None,
    checkpoint: str | Path | None = None,
    resume: str | Path | None = None,
    config: dict | None = None,
    progress: bool = True,
    confirm: bool = False,
) -> list[dict]:
    """Train with the schedule of arXiv:2402.16465 (``METHOD.md`` §4).

    Each of ``periods`` periods runs ``phi_iters`` COBYLA iterations over the circuit angles with
    everything else fixed, then ``gamma_iters`` Nelder–Mead iterations over the model's other
    trainable parameters (log γ alone in the papers' setting) with the angles fixed. The loss
    defaults to the paper's cross-entropy plus training error rate.

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
        train_data: a ``Dataset`` or an iterable of ``(inputs, targets)`` batches; the loss always
            uses the whole training data.
        test_data: the same kinds, or ``None``.
        periods: the paper's N_train (Iris: 21).
        phi_iters: the paper's N_φ (Iris: 100).
        gamma_iters: the paper's N_γ (Iris: 10).
        cobyla_step: COBYLA's initial trust-region radius in radians (scipy's ``rhobeg``, whose
            default is 1.0).
        gamma_step: the Nelder–Mead simplex's initial step in each parameter (for the paper
            mapping, in log γ: 0.2 is a factor 1.22 in γ). Scipy's default (5 % of the value, or
            0.00025 where it is 0, i.e. at γ = 1) barely moves γ in 10 iterations.
        loss_fn: the objective: ``None`` (the paper's CE + error rate), a loss name or a callable.
        checkpoint: file written atomically after every period.
        resume: a checkpoint to continue from (the same ``config`` is required).
        config: settings stored in the checkpoint and compared on resume.
        progress: show a progress bar over periods.
        confirm: run on real hardware even above the estimate's confirmation threshold
            (:mod:`qt_pennylane.devices.estimate`; the schedule's count is an upper bound).

    Returns:
        One dict per period: ``period, loss, train_loss, train_accuracy, test_loss, test_accuracy,
        phi_evaluations, gamma_evaluations, loss_seconds`` (the period's time in loss evaluations;
        the rest of its time is the optimizers' own) ``, seconds`` (cumulative wall time).

    Raises:
        ValueError: a bad argument (named), a checkpoint of another run, or (data-parallel) shots
            sampled by a device (:func:`~qt_pennylane.training.distributed.check_shared_samples`).
        NonFiniteError: the loss became NaN or infinite (the period is named).
        UnconfirmedRunError: a costly run on real hardware without ``confirm=True``.
    """
    distributed.setup()
    check_trainer("paper", model, kind="schedule")
    distributed.check_shared_samples(model)
    for name, value in (("periods", periods), ("phi_iters", phi_iters), ("gamma_iters", gamma_iters)):
        check_positive_int(name, value)
    for name, value in (("cobyla_step", cobyla_step), ("gamma_step", gamma_step)):
        check_number(name, value, positive=True)
    check_data("train_data", train_data)
    check_data("test_data", test_data, allow_none=True)
    loss_fn = resolve_loss(loss_fn, default="paper")
    phi_group, gamma_group = split_parameters(model)
    phi_budget = sum(p.numel() for p in phi_group) + 1 + phi_iters
    log = RunLog(model, total=periods, unit="period", checkpoint=checkpoint, resume=resume, config=config,
                 progress=progress)
    log.resume()
    distributed.sync_model(model)
    part = distributed.shard(train_data)
    if getattr(source_of(model), "hardware", False):
        from ..devices.estimate import plan_schedule, preflight

        preflight(model, plan_schedule(periods=periods, phi_iters=phi_iters, gamma_iters=gamma_iters,
                                       n_angles=sum(p.numel() for p in phi_group),
                                       n_other=sum(p.numel() for p in gamma_group), done=log.done), confirm=confirm)
    seconds = log.history[-1]["seconds"] if log.history else 0.0
    model.eval()
    for period in log.units():
        started = time.perf_counter()
        with threadpool_limits(limits=1, user_api="blas"):  # COBYLA's many small matrix products
            phi_objective = _Objective(model, phi_group, part, loss_fn)
            cobyla = {"method": "COBYLA", "options": {"maxiter": phi_budget, "rhobeg": cobyla_step}}
            assign(phi_group, _minimize(phi_objective, flatten(phi_group), cobyla))
            gamma_objective = _Objective(model, gamma_group, part, loss_fn)
            if gamma_group:
                start = flatten(gamma_group)
                simplex = np.vstack([start, start + gamma_step * np.eye(start.size)])
                nelder_mead = {"method": "Nelder-Mead", "options": {"maxiter": gamma_iters, "initial_simplex": simplex}}
                assign(gamma_group, _minimize(gamma_objective, start, nelder_mead))
        seconds += time.perf_counter() - started
        plain = exported(model)  # one sample with shots: the weights the record describes
        loss = full_loss(plain, part, loss_fn)
        check_finite(model, loss, f"period {period + 1}")
        record = {"period": period + 1, "loss": loss}
        record.update(log.evaluate(train_data, test_data, loss_fn, plain=plain))
        record.update(phi_evaluations=phi_objective.evaluations, gamma_evaluations=gamma_objective.evaluations,
                      loss_seconds=phi_objective.seconds + gamma_objective.seconds, seconds=seconds)
        log.record(record)
        log.save(period + 1, {})
    return log.history
