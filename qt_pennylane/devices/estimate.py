"""What a training run will submit, counted before it starts: jobs, circuits, shots and QPU time.

A run is first described by its trainer's budget (:func:`plan_epochs` for ``fit`` and ``spsa``,
:func:`plan_schedule` for the paper schedule); :func:`estimate_run` turns that plan into jobs,
circuits and shots for the model's probability source, and an estimate of the QPU time:

* a :class:`~qt_pennylane.circuit.qiskit_sampler.SamplerSource` sends one job per optimizer step:
  ``1 + 2P'`` circuits for a gradient step (P' angles shifted), 2 for an SPSA step, 1 for a loss
  evaluation of the paper schedule and for each evaluation of the model; M3 calibration, when
  asked for, adds its job once;
* a PennyLane QNode on a Qiskit device sends one job per circuit: ``1 + 2P`` for a gradient step
  (PennyLane shifts every angle), 2 for an SPSA step, 1 per evaluation.

The job and shot counts are exact for ``fit`` and ``spsa`` (tests compare them with what the run
then submits). For the paper schedule they are upper bounds: COBYLA and Nelder–Mead may stop early.

QPU time is modelled as ``jobs · JOB_SECONDS + shots · (rep_delay + circuit duration)``: the
backend's default repetition delay and the transpiled circuit's duration from the backend's
target, plus a fixed overhead per job (IBM's usage guide shows a one-circuit, 4,096-shot job of a
2-qubit circuit using 4.1 quantum seconds, about 1 s of it shots). It is a rough guide, not a
quote: IBM reports the real figure per job (``job.usage_estimation``, ``job.usage()``). In session
mode IBM bills the session's wall-clock time, classical work between jobs included, which no
count of jobs can foresee.

On real hardware :func:`preflight` logs the estimate before anything runs and refuses a run above
:data:`CONFIRM_ABOVE_SECONDS` of estimated QPU time unless it is confirmed (``confirm=True`` in the
API, ``--yes`` in the CLI).

Example:
    >>> plan = plan_epochs("spsa", epochs=300, steps_per_epoch=1, eval_every=100)
    >>> plan.steps, plan.evaluations, plan.exact
    (300, 3, True)
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from .._validation import check_choice, check_int, check_number, check_positive_int, fail

logger = logging.getLogger(__name__)

CONFIRM_ABOVE_SECONDS = 60.0
"""Estimated QPU seconds above which a run on real hardware must be confirmed."""

JOB_SECONDS = 3.0
"""Assumed fixed QPU time per job (loading, compiling, readout overhead) in the estimate."""

REP_DELAY_SECONDS = 250e-6
"""Repetition delay assumed when the backend does not state its default (IBM's usual 250 µs)."""

STEP_KINDS = {"gradient": "gradient", "spsa": "spsa", "paper": "evaluation"}
"""What each kind of trainer's step asks of the source: a gradient, SPSA's two perturbations, a loss."""


@dataclass(frozen=True)
class Plan:
    """A run's budget in source calls, from its trainer's settings.

    Attributes:
        trainer: ``"gradient"``, ``"spsa"`` or ``"paper"``.
        steps: optimizer steps (``"paper"``: loss evaluations, an upper bound).
        evaluations: plain evaluations of the model (each exports it once: one circuit).
        exact: ``False`` where ``steps`` is an upper bound.
    """

    trainer: str
    steps: int
    evaluations: int
    exact: bool = True

    def plus_evaluations(self, count: int) -> Plan:
        """The same plan with ``count`` more evaluations (e.g. the CLI's final export, a scale's init)."""
        return replace(self, evaluations=self.evaluations + check_int("count", count, minimum=0))


def _evaluated_units(done: int, total: int, every: int) -> int:
    """Units in ``(done, total]`` after which the model is evaluated: every ``every``-th and the last."""
    return sum(1 for unit in range(done + 1, total + 1) if unit % every == 0 or unit == total)


def plan_epochs(trainer: str, *, epochs: int, steps_per_epoch: int | None, eval_every: int = 1,
                done: int = 0) -> Plan:
    """The plan of ``fit`` (``trainer="gradient"``) or ``spsa`` (``trainer="spsa"``).

    Args:
        trainer: ``"gradient"`` (any gradient optimizer of ``fit``) or ``"spsa"``.
        epochs: the run's epochs; ``done`` of them already run (a resumed run).
        steps_per_epoch: batches per epoch (``None``: a loader without ``len()``, which cannot be planned).
        eval_every: epochs between evaluations (the last epoch is always evaluated).

    Raises:
        ValueError: a bad argument, or ``steps_per_epoch=None``.
    """
    check_choice("trainer", trainer, ("gradient", "spsa"))
    epochs = check_positive_int("epochs", epochs)
    if steps_per_epoch is None:
        raise fail("steps_per_epoch", "known before the run (train_data needs a len()) to count its jobs",
                   steps_per_epoch)
    steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)
    eval_every = check_positive_int("eval_every", eval_every)
    done = check_int("done", done, minimum=0, maximum=epochs)
    return Plan(trainer, (epochs - done) * steps_per_epoch, _evaluated_units(done, epochs, eval_every))


def plan_schedule(*, periods: int, phi_iters: int, gamma_iters: int, n_angles: int, n_other: int,
                  done: int = 0) -> Plan:
    """The plan of the paper schedule: an upper bound on its loss evaluations.

    Per period COBYLA evaluates at most ``n_angles + 1 + phi_iters`` points and Nelder–Mead over
    ``n_other`` parameters at most ``n_other + 1 + gamma_iters · (n_other + 2)``; each period ends
    with one evaluation.

    Example:
        >>> plan_schedule(periods=21, phi_iters=100, gamma_iters=10, n_angles=32, n_other=1)
        Plan(trainer='paper', steps=3465, evaluations=21, exact=False)
    """
    for name, value in (("periods", periods), ("phi_iters", phi_iters), ("gamma_iters", gamma_iters),
                        ("n_angles", n_angles)):
        check_positive_int(name, value)
    check_int("n_other", n_other, minimum=0)
    done = check_int("done", done, minimum=0, maximum=periods)
    per_period = n_angles + 1 + phi_iters + (n_other + 1 + gamma_iters * (n_other + 2) if n_other else 0)
    return Plan("paper", (periods - done) * per_period, periods - done, exact=False)


@dataclass(frozen=True)
class RunEstimate:
    """Jobs, circuits, shots and QPU seconds of a whole run, counted before it starts.

    Attributes:
        jobs, circuits, shots: totals (calibration included).
        qpu_seconds: the estimated QPU time (see the module docstring for the model).
        exact: the counts are exact (``False``: upper bounds).
        hardware: the source runs on a real quantum computer.
        backend, mode: where and how it runs.
        parts: the same counts by part: ``"steps"``, ``"evaluations"``, ``"calibration"``.
    """

    jobs: int
    circuits: int
    shots: int
    qpu_seconds: float
    exact: bool
    hardware: bool
    backend: str
    mode: str
    parts: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """For run summaries (JSON)."""
        return {"jobs": self.jobs, "circuits": self.circuits, "shots": self.shots,
                "qpu_seconds": round(self.qpu_seconds, 3), "exact": self.exact, "hardware": self.hardware,
                "backend": self.backend, "mode": self.mode, "parts": self.parts}

    def describe(self) -> str:
        """One line: ``"up to 3465 jobs, 3465 circuits, ... on backend 'ibm_brisbane' (job mode)"``."""
        bound = "" if self.exact else "up to "
        return (f"{bound}{self.jobs} jobs, {self.circuits} circuits, {self.shots} shots, about "
                f"{self.qpu_seconds:.0f} s of QPU time on backend {self.backend!r} ({self.mode} mode)")


def _job_shape(source, kind: str) -> tuple[int, int]:
    """(jobs, circuits) of one source call of ``kind``."""
    if getattr(source, "one_job_per_step", False):
        return 1, source.circuits_per(kind)
    n = source.phi.numel()
    circuits = {"evaluation": 1, "gradient": 1 + 2 * n, "spsa": 2}[kind]
    return circuits, circuits


def _backend_and_mode(source) -> tuple[object, str, str]:
    if hasattr(source, "executor"):
        return source.backend, source.label, source.mode_name
    device = getattr(getattr(source, "resolved", None), "value", None)
    backend = getattr(getattr(device, "device", None), "backend", None)
    return backend, getattr(backend, "name", getattr(device, "label", "?")), "job"


def seconds_per_shot(backend, transpiled=None) -> float:
    """``rep_delay + circuit duration`` in seconds for one shot on ``backend`` (either part 0 when unknown)."""
    rep_delay = getattr(backend, "default_rep_delay", None)
    if rep_delay is None:
        try:
            rep_delay = backend.configuration().default_rep_delay
        except Exception:  # noqa: BLE001 - simulators have no such configuration
            rep_delay = REP_DELAY_SECONDS
    duration = 0.0
    if transpiled is not None:
        try:
            duration = float(transpiled.estimate_duration(backend.target, unit="s"))
        except Exception:  # noqa: BLE001 - a target without gate durations (Aer)
            duration = 0.0
    return float(rep_delay or 0.0) + duration


def estimate_run(source, plan: Plan) -> RunEstimate:
    """Jobs, circuits, shots and QPU seconds of ``plan`` on ``source``.

    Args:
        source: a :class:`~qt_pennylane.circuit.qiskit_sampler.SamplerSource`, or a
            :class:`~qt_pennylane.circuit.sources.QNodeSource` on a Qiskit device with shots.
        plan: from :func:`plan_epochs` or :func:`plan_schedule`.

    Raises:
        ValueError: a source that submits no jobs (the engine, a statevector simulator).
    """
    if not isinstance(plan, Plan):
        raise fail("plan", "a Plan (plan_epochs or plan_schedule)", plan)
    if getattr(source, "shots", None) is None or not hasattr(source, "phi"):
        raise fail("source", "a probability source that submits circuits with shots (SamplerSource, a Qiskit "
                             "QNodeSource)", getattr(source, "description", source))
    backend, label, mode = _backend_and_mode(source)
    shots = source.shots
    parts = {}
    step_jobs, step_circuits = _job_shape(source, STEP_KINDS[plan.trainer])
    eval_jobs, eval_circuits = _job_shape(source, "evaluation")
    parts["steps"] = {"jobs": plan.steps * step_jobs, "circuits": plan.steps * step_circuits,
                      "shots": plan.steps * step_circuits * shots}
    parts["evaluations"] = {"jobs": plan.evaluations * eval_jobs, "circuits": plan.evaluations * eval_circuits,
                            "shots": plan.evaluations * eval_circuits * shots}
    mitigator = getattr(source, "mitigator", None)
    if mitigator is not None and not mitigator.calibrated:
        from .mitigation import calibration_size

        parts["calibration"] = calibration_size(source.n_qubits, mitigator.shots)
    totals = {key: sum(part[key] for part in parts.values()) for key in ("jobs", "circuits", "shots")}
    per_shot = seconds_per_shot(backend, getattr(source, "transpiled", None)) if backend is not None else 0.0
    seconds = totals["jobs"] * JOB_SECONDS + totals["shots"] * per_shot
    return RunEstimate(totals["jobs"], totals["circuits"], totals["shots"], seconds, plan.exact,
                       bool(getattr(source, "hardware", False)), label, mode, parts)


class UnconfirmedRunError(ValueError):
    """A run on real hardware above the confirmation threshold was not confirmed."""


def check_confirmed(estimate: RunEstimate, confirm: bool, *, how: str = "confirm=True",
                    threshold: float = CONFIRM_ABOVE_SECONDS) -> None:
    """Refuse a hardware run whose estimated QPU time exceeds ``threshold`` unless ``confirm``.

    Raises:
        UnconfirmedRunError: naming the estimate, the threshold and ``how`` to confirm.

    Example:
        >>> big = RunEstimate(100, 4900, 5017600, 1434.0, True, True, "ibm_brisbane", "batch")
        >>> check_confirmed(big, confirm=False)
        Traceback (most recent call last):
        ...
        qt_pennylane.devices.estimate.UnconfirmedRunError: this run would submit 100 jobs, 4900 circuits, 5017600 shots, about 1434 s of QPU time on backend 'ibm_brisbane' (batch mode), above the 60 s that run without confirmation: pass confirm=True to run it
    """
    threshold = check_number("threshold", threshold, minimum=0)
    if estimate.hardware and estimate.qpu_seconds > threshold and not confirm:
        raise UnconfirmedRunError(f"this run would submit {estimate.describe()}, above the {threshold:.0f} s that "
                                  f"run without confirmation: pass {how} to run it")


def preflight(model, plan: Plan, *, confirm: bool = False) -> RunEstimate | None:
    """Before a trainer starts: on real hardware, log the run's estimate and refuse it unconfirmed above the threshold.

    Returns the estimate on hardware, else ``None`` (nothing to confirm).

    Raises:
        UnconfirmedRunError: above :data:`CONFIRM_ABOVE_SECONDS` without ``confirm=True``.
    """
    source = getattr(getattr(model, "generator", None), "source", None)
    if not getattr(source, "hardware", False):
        return None
    estimate = estimate_run(source, plan)
    logger.warning("IBM hardware: %s", estimate.describe())
    check_confirmed(estimate, confirm)
    return estimate
