"""Where Qiskit jobs go (a backend, a ``Batch`` or a ``Session``) and a count of what was sent.

IBM Qiskit Runtime runs primitive jobs in one of three execution modes:

===========  ======================================================================================
mode         what it is
===========  ======================================================================================
``job``      every job queued on its own (``SamplerV2(mode=backend)``); billed: each job's QPU time
``batch``    the run's jobs in one ``Batch``, scheduled together; billed: the jobs' QPU time
``session``  the QPU reserved for the run (``Session``): no queue between jobs; billed: the
             session's wall-clock time while it is active, classical work between jobs included
===========  ======================================================================================

A ``Session`` or ``Batch`` that you opened yourself is accepted as it is (pass it as ``mode``) and
left open. A mode this module opens is opened at the first job, not before (on hardware, opening a
session starts its clock), and closed by :meth:`Executor.close`.

Every job is counted (:class:`Usage`): jobs, circuits (parameter sets of a sweep count one each)
and shots. On simulators (fake backends, Aer) each job draws its own sampling seed from ``seed``,
so results are reproducible and, as on hardware, every job has fresh shot noise.

Example:
    >>> usage = Usage()
    >>> usage.add(circuits=49, shots=49 * 1024)
    >>> usage.as_dict()
    {'jobs': 1, 'circuits': 49, 'shots': 50176}
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .._validation import check_choice, check_seed, fail
from .ibm import QISKIT_EXTRA_HINT, import_optional

EXECUTION_MODES = {
    "job": "every job queued on its own",
    "batch": "the run's jobs grouped in one Batch",
    "session": "the QPU reserved for the run in one Session (billed by wall-clock time)",
}
"""Execution modes by name."""


@dataclass
class Usage:
    """What was submitted: jobs, circuits (each parameter set of a sweep is one) and shots."""

    jobs: int = 0
    circuits: int = 0
    shots: int = 0

    def add(self, *, circuits: int, shots: int, jobs: int = 1) -> None:
        """Count ``jobs`` job(s) of ``circuits`` circuits and ``shots`` shots in all."""
        self.jobs += jobs
        self.circuits += circuits
        self.shots += shots

    def as_dict(self) -> dict[str, int]:
        """``{"jobs": ..., "circuits": ..., "shots": ...}``."""
        return asdict(self)


def is_runtime_mode(value) -> bool:
    """True for a ``qiskit_ibm_runtime`` ``Session`` or ``Batch`` (a ``Batch`` is a kind of ``Session``)."""
    try:
        from qiskit_ibm_runtime import Session
    except ImportError:
        return False
    return isinstance(value, Session)


def is_simulator(backend) -> bool:
    """True for a local simulator: a fake IBM backend or Qiskit Aer (they take a sampling seed)."""
    from qiskit_ibm_runtime.fake_provider.fake_backend import FakeBackendV2

    if isinstance(backend, FakeBackendV2):
        return True
    return type(backend).__module__.startswith("qiskit_aer")


def mode_name(mode) -> str:
    """``"job"``, ``"batch"`` or ``"session"`` for a mode name or a ``Session`` / ``Batch`` object."""
    if isinstance(mode, str):
        return mode
    return "batch" if type(mode).__name__ == "Batch" else "session"


def check_mode(mode) -> object:
    """``mode`` if it is a key of :data:`EXECUTION_MODES` or a ``Session`` / ``Batch`` object.

    Example:
        >>> check_mode("batch")
        'batch'
        >>> check_mode("sessions")
        Traceback (most recent call last):
        ...
        ValueError: mode must be one of ['batch', 'job', 'session'], got 'sessions'
    """
    if isinstance(mode, str):
        return check_choice("mode", mode, EXECUTION_MODES)
    if not is_runtime_mode(mode):
        raise fail("mode", f"one of {sorted(EXECUTION_MODES)} or a qiskit_ibm_runtime Session or Batch", mode)
    return mode


class Executor:
    """Runs SamplerV2 jobs on one backend in one execution mode, and counts them.

    Args:
        backend: a Qiskit backend object; ``None`` when ``mode`` is a ``Session`` / ``Batch``
            (its backend is used).
        mode: ``"job"``, ``"batch"``, ``"session"`` or a ``Session`` / ``Batch`` you opened.
        seed: seeds the per-job sampling seeds of simulators; ignored by hardware.

    Raises:
        ValueError: a bad ``mode`` or ``seed``, or no backend.

    Example:
        >>> from qiskit import QuantumCircuit
        >>> from qiskit_ibm_runtime.fake_provider import FakeManilaV2
        >>> executor = Executor(FakeManilaV2(), "batch", seed=0)
        >>> circuit = QuantumCircuit(1, 1)
        >>> circuit.measure(0, 0)  # doctest: +ELLIPSIS
        <qiskit.circuit.instructionset.InstructionSet object at ...>
        >>> result = executor.run([(circuit, [])], shots=100)
        >>> executor.label, executor.usage.as_dict()
        ("backend 'fake_manila', batch mode", {'jobs': 1, 'circuits': 1, 'shots': 100})
        >>> executor.close()
    """

    def __init__(self, backend, mode="job", *, seed: int | None = None):
        mode = check_mode(mode)
        seed = check_seed("seed", seed)
        import_optional("qiskit_ibm_runtime", "Qiskit Runtime execution modes", QISKIT_EXTRA_HINT)
        if not isinstance(mode, str):
            own = getattr(mode, "_backend", None)
            if backend is None:
                backend = own
            elif own is not None and own is not backend:
                raise fail("backend", f"None or the backend of the {mode_name(mode)} given as mode", backend)
            self._opened = mode
        else:
            self._opened = None
        if backend is None:
            raise fail("backend", "a Qiskit backend (or a Session / Batch with one as mode)", backend)
        self.backend = backend
        self.mode = mode
        self.mode_name = mode_name(mode)
        self.simulator = is_simulator(backend)
        self.usage = Usage()
        self._seeds = np.random.default_rng(seed)
        self._sampler = None

    @property
    def label(self) -> str:
        """How summaries name it: ``"backend 'fake_manila', batch mode"``."""
        return f"backend {getattr(self.backend, 'name', type(self.backend).__name__)!r}, {self.mode_name} mode"

    @property
    def runtime_mode(self):
        """The open ``Session`` / ``Batch`` (for other clients such as mthree), or ``None`` in job mode."""
        self._open()
        return None if self.mode == "job" else self._opened

    def _open(self) -> None:
        if self._opened is None and self.mode != "job":
            from qiskit_ibm_runtime import Batch, Session

            self._opened = (Batch if self.mode == "batch" else Session)(backend=self.backend)

    def sampler(self):
        """The ``SamplerV2`` of this backend and mode (the mode is opened on first use)."""
        if self._sampler is None:
            from qiskit_ibm_runtime import SamplerV2

            self._open()
            self._sampler = SamplerV2(mode=self.backend if self.mode == "job" else self._opened)
        return self._sampler

    def run(self, pubs: list, shots: int):
        """Submit ``pubs`` as ONE SamplerV2 job with ``shots`` per circuit; wait and return its result.

        Each pub is ``(circuit, values)`` with ``values`` of shape ``(B, P)``: ``B`` circuits.
        """
        sampler = self.sampler()
        if self.simulator:
            sampler.options.simulator.seed_simulator = int(self._seeds.integers(2**31 - 1))
        circuits = sum(int(np.prod(np.shape(values)[:-1])) if np.ndim(values) > 1 else 1 for _, values in pubs)
        result = sampler.run(pubs, shots=shots).result()
        self.usage.add(circuits=circuits, shots=circuits * shots)
        return result

    def close(self) -> None:
        """Close the ``Batch`` / ``Session`` this executor opened (one you passed in stays open)."""
        if self.mode in ("batch", "session") and self._opened is not None:
            self._opened.close()
            self._opened, self._sampler = None, None
