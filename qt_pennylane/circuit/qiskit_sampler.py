"""Probabilities from Qiskit's ``SamplerV2``: every optimizer step is one job.

:class:`SamplerSource` builds the Hadamard + EfficientSU2 circuit once as a parameterized Qiskit
circuit, transpiles it once for its backend and sends every set of angles a step needs as rows
of ONE primitive unified bloc (PUB): ``(transpiled circuit, values)`` with ``values`` of shape
``(B, P)``, one job. What a step needs:

* a loss evaluation without gradient (the paper schedule, an evaluation): ``B = 1``;
* a loss evaluation with a gradient (Adam & co.): the angles and, for each of the ``P'`` angles
  that can change the probabilities (all but the final RZ layer, whose derivative is zero), the
  two parameter-shift circuits ``φ ± π/2 e_j``: ``B = 1 + 2P'`` (49 for Iris: 8 qubits, L = 1).
  The shifted circuits run in the same job as the forward pass and the backward pass only reads
  them, so backward submits nothing;
* SPSA's two perturbed angle sets, sent together with :meth:`SamplerSource.prefetch`: ``B = 2``.

PennyLane's ``qiskit.remote`` device instead transpiles and submits every circuit as a job of its
own: ``2P + 1`` sequential jobs per gradient step (65 for Iris).

Bit order: classical bit ``N - 1 - q`` holds qubit ``q``, so the integer a bit string spells is
the PennyLane index (wire 0 the most significant bit), the order of
:mod:`qt_pennylane.circuit.engine`.

With ``mitigate=True`` the measured distributions are corrected for readout errors by M3
(:mod:`qt_pennylane.devices.mitigation`), calibrated once, at the first job, on the physical
qubits the transpiler chose.

Jobs, circuits and shots are counted (:attr:`SamplerSource.usage`), calibration included.

Evaluate under ``torch.no_grad()`` (as ``export()`` and the trainers' evaluations do): with
gradients enabled every forward pass measures the ``2P'`` shifted circuits as well.

Example:
    >>> source = SamplerSource(3, reps=1, backend="fake_manila", shots=256, mode="batch", seed=0)
    >>> with torch.no_grad():
    ...     p = source()
    >>> p.shape, source.usage["jobs"], source.usage["circuits"]
    (torch.Size([8]), 1, 1)
    >>> (source() @ torch.arange(8.0)).backward()  # with gradient: 1 + 2·9 circuits, one job
    >>> source.usage["jobs"], source.usage["circuits"]
    (2, 20)
    >>> source.close()
"""
from __future__ import annotations

import contextlib
import logging

import numpy as np
import torch

from .._validation import check_bool, check_dtype, check_int, check_positive_int, check_seed, fail
from .ansatz import angle_shape, check_entanglement
from .sampling import _shifted_indices
from .sources import ProbabilitySource, _Shared, initial_angles

logger = logging.getLogger(__name__)

REGISTER = "c"
"""Name of the classical register the circuit measures into."""


class _PrecomputedShift(torch.autograd.Function):
    """The sampled probabilities, with a backward from parameter-shift rows measured in the same job."""

    @staticmethod
    def forward(phi, probabilities, plus, minus, indices):
        return probabilities.clone()

    @staticmethod
    def setup_context(ctx, inputs, output):
        phi, _, plus, minus, indices = inputs
        ctx.save_for_backward(plus, minus, indices)
        ctx.shape = phi.shape

    @staticmethod
    def backward(ctx, grad):
        plus, minus, indices = ctx.saved_tensors
        values = ((plus - minus) * grad).sum(dim=1) / 2  # ∂p/∂φ_j = (p(φ + π/2 e_j) − p(φ − π/2 e_j)) / 2
        flat = torch.zeros(int(np.prod(ctx.shape)), dtype=grad.dtype, device=grad.device)
        return flat.index_copy(0, indices, values.to(grad.dtype)).reshape(ctx.shape), None, None, None, None


def efficient_su2_circuit(n_qubits: int, reps: int, entanglement: str = "reverse_linear"):
    """(circuit, parameters): Hadamards + Qiskit's ``efficient_su2``, measured in PennyLane's bit order.

    ``parameters[i]`` is the angle ``phi.reshape(-1)[i]`` (Qiskit's order ``(reps + 1, 2, N)``).

    Example:
        >>> circuit, parameters = efficient_su2_circuit(3, 1)
        >>> len(parameters), circuit.num_clbits
        (12, 3)
    """
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
    from qiskit.circuit.library import efficient_su2

    ansatz = efficient_su2(n_qubits, reps=reps, entanglement=entanglement)
    circuit = QuantumCircuit(QuantumRegister(n_qubits, "q"), ClassicalRegister(n_qubits, REGISTER))
    circuit.h(range(n_qubits))
    circuit.compose(ansatz, inplace=True)
    for q in range(n_qubits):
        circuit.measure(q, n_qubits - 1 - q)
    return circuit, list(ansatz.parameters)


def resolve_backend(backend, n_qubits: int):
    """(backend object, label, hardware): a backend name (fake, ``aer_simulator``, real) or a Qiskit backend."""
    from ..devices.ibm import check_backend_size, is_hardware_name, remote_backend
    from ..devices.modes import is_simulator

    if isinstance(backend, str):
        return remote_backend(backend, n_qubits), backend, is_hardware_name(backend)
    from qiskit.providers import BackendV2

    if not isinstance(backend, BackendV2):
        raise fail("backend", "a backend name ('fake_manila', 'ibm_brisbane', ...) or a Qiskit BackendV2", backend)
    label = getattr(backend, "name", type(backend).__name__)
    check_backend_size(label, getattr(backend, "num_qubits", None), n_qubits)
    return backend, label, not is_simulator(backend)


class SamplerSource(ProbabilitySource):
    """Hadamards + EfficientSU2 through Qiskit's ``SamplerV2``, one job per optimizer step.

    Args:
        n_qubits: N.
        reps: EfficientSU2 repetitions; the angles ``phi`` have shape ``(reps + 1, 2, n_qubits)``.
        backend: a fake IBM backend (``"fake_guadalupe"``: offline, with that device's noise),
            ``"aer_simulator"``, a real IBM backend name (``"ibm_brisbane"``; needs credentials, see
            :mod:`qt_pennylane.devices.ibm`) or a Qiskit backend object; ``None`` when ``mode`` is a
            ``Session`` / ``Batch`` (its backend is used).
        shots: shots per circuit (``None``: :data:`~qt_pennylane.devices.DEFAULT_SHOTS`).
        mode: ``"job"``, ``"batch"``, ``"session"`` (:mod:`qt_pennylane.devices.modes`) or a
            ``qiskit_ibm_runtime`` ``Session`` / ``Batch`` you opened, used as it is.
        mitigate: correct readout errors with M3 (:mod:`qt_pennylane.devices.mitigation`).
        calibration_shots: M3's calibration shots.
        entanglement: EfficientSU2's CNOT pattern.
        optimization_level: the transpiler's (0–3).
        seed: seeds the initial angles (as the generator's ``seed`` does), the transpiler and the
            simulators' sampling.
        dtype: dtype of the angles and of the probabilities returned.

    Raises:
        ValueError: a bad argument (named), a backend with fewer than ``n_qubits`` qubits.
        IBMCredentialsError: a real backend without usable credentials.

    Example:
        >>> from torch import nn
        >>> from qt_pennylane import QuantumTrainModel
        >>> source = SamplerSource(5, reps=1, backend="fake_manila", shots=256, seed=0)
        >>> model = QuantumTrainModel(nn.Linear(4, 4), source=source, generate="all", scale="none")
        >>> source.usage["jobs"]   # the learned mapping calibrated itself on one measurement
        1
        >>> with torch.no_grad():
        ...     model(torch.ones(1, 4)).shape, source.usage["jobs"]
        (torch.Size([1, 4]), 2)
    """

    one_job_per_step = True
    """Every optimizer step is one job (``check_trainer`` does not warn about parameter-shift's jobs)."""

    def __init__(self, n_qubits: int, *, reps: int = 1, backend=None, shots: int | None = None, mode="job",
                 mitigate: bool = False, calibration_shots: int | None = None,
                 entanglement: str = "reverse_linear", optimization_level: int = 1, seed: int | None = None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        from ..devices.mitigation import CALIBRATION_SHOTS, ReadoutMitigator
        from ..devices.modes import Executor, check_mode, mode_name
        from ..devices.registry import DEFAULT_SHOTS, check_shots

        self.n_qubits = check_positive_int("n_qubits", n_qubits)
        self.reps = check_int("reps", reps, minimum=0)
        self.entanglement = check_entanglement(entanglement)
        check_shots(shots)
        mode = check_mode(mode)
        check_bool("mitigate", mitigate)
        if calibration_shots is not None and not mitigate:
            raise fail("calibration_shots", "None unless mitigate=True", calibration_shots)
        calibration_shots = check_positive_int(
            "calibration_shots", CALIBRATION_SHOTS if calibration_shots is None else calibration_shots)
        check_int("optimization_level", optimization_level, minimum=0, maximum=3)
        seed = check_seed("seed", seed)
        check_dtype("dtype", dtype)
        if backend is None and isinstance(mode, str):
            raise fail("backend", "a backend name or object (or a Session / Batch as mode)", backend)
        if backend is None:
            backend = mode._backend
        named = isinstance(backend, str)
        backend, label, self.hardware = resolve_backend(backend, n_qubits)
        if named and seed is not None and not self.hardware and hasattr(backend, "set_options"):
            backend.set_options(seed_simulator=seed)  # our own simulator: M3's calibration job is seeded too
        if shots is None:
            logger.info("SamplerSource on backend %r samples: using shots=%d (pass shots= to change it)",
                        label, DEFAULT_SHOTS)
        self.shots, self.exact = shots or DEFAULT_SHOTS, False
        self.mode_name, self.mitigate = mode_name(mode), mitigate
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            self.phi = torch.nn.Parameter(initial_angles(angle_shape(n_qubits, self.reps), dtype))
        from qiskit.transpiler import generate_preset_pass_manager

        circuit, parameters = efficient_su2_circuit(n_qubits, self.reps, self.entanglement)
        manager = generate_preset_pass_manager(optimization_level=optimization_level, backend=backend,
                                               seed_transpiler=seed)
        transpiled = manager.run(circuit)
        position = {parameter: i for i, parameter in enumerate(parameters)}
        self.columns = [position[parameter] for parameter in transpiled.parameters]
        mitigator = mapping = None
        if mitigate:
            from mthree.utils import final_measurement_mapping

            mitigator = ReadoutMitigator(backend, shots=calibration_shots)
            mapping = final_measurement_mapping(transpiled)  # {classical bit: physical qubit}
        self._held = _Shared({"executor": Executor(backend, mode, seed=seed), "transpiled": transpiled,
                              "mitigator": mitigator, "mapping": mapping,
                              "calibration": {"jobs": 0, "circuits": 0, "shots": 0}})
        self.label = label
        self._prefetched: dict[bytes, torch.Tensor] = {}
        self.description = (f"SamplerV2 on backend {label!r} ({self.mode_name} mode, {self.shots} shots"
                            + (", M3 readout mitigation" if mitigate else "") + ")")

    # ------------------------------------------------------------------ what it holds

    @property
    def backend(self):
        """The Qiskit backend."""
        return self._held.value["executor"].backend

    @property
    def executor(self):
        """The :class:`~qt_pennylane.devices.modes.Executor` that submits and counts the jobs."""
        return self._held.value["executor"]

    @property
    def transpiled(self):
        """The circuit transpiled for the backend (once, at construction)."""
        return self._held.value["transpiled"]

    @property
    def mitigator(self):
        """The :class:`~qt_pennylane.devices.mitigation.ReadoutMitigator`, or ``None``."""
        return self._held.value["mitigator"]

    @property
    def shifted_angles(self) -> int:
        """P': the angles parameter-shift differentiates (all but the final RZ layer)."""
        return len(_shifted_indices(self.phi.shape))

    def circuits_per(self, kind: str) -> int:
        """Circuits in one job of ``kind``: ``"evaluation"`` 1, ``"gradient"`` 1 + 2P', ``"spsa"`` 2."""
        return {"evaluation": 1, "gradient": 1 + 2 * self.shifted_angles, "spsa": 2}[kind]

    @property
    def usage(self) -> dict[str, int]:
        """Jobs, circuits and shots submitted so far (calibration included), and the calibration's share."""
        calibration = self._held.value["calibration"]
        sampling = self.executor.usage.as_dict()
        totals = {key: sampling[key] + calibration[key] for key in sampling}
        return totals | {f"calibration_{key}": value for key, value in calibration.items()}

    # ------------------------------------------------------------------ running

    def _measure(self, phis: torch.Tensor) -> torch.Tensor:
        """Probabilities of every row of ``phis`` (``(B, *phi.shape)``), from ONE job: ``(B, 2**N)``."""
        held = self._held.value
        values = phis.detach().reshape(len(phis), -1).cpu().double().numpy()[:, self.columns]
        mitigator = held["mitigator"]
        if mitigator is not None and not mitigator.calibrated:
            counted = mitigator.calibrate(held["mapping"].values(), self.executor.runtime_mode)
            held["calibration"] = {key: held["calibration"][key] + counted[key] for key in counted}
        result = self.executor.run([(held["transpiled"], values)], self.shots)
        bits = getattr(result[0].data, REGISTER)
        if mitigator is not None:
            counts = [bits.get_counts(loc=i) for i in range(len(phis))]
            rows = mitigator.apply(counts, held["mapping"], self.n_qubits)
        else:
            rows = _frequencies(bits.array, self.n_qubits, self.shots)
        return torch.from_numpy(rows).to(phis.dtype)

    @torch.no_grad()
    def batch_probabilities(self, phis: torch.Tensor) -> torch.Tensor:
        """Probabilities of a batch of angle sets ``(B, reps + 1, 2, N)`` as one job: ``(B, 2**N)``, no gradient.

        Raises:
            ValueError: ``phis`` of the wrong shape.
        """
        if not isinstance(phis, torch.Tensor) or phis.dim() != 4 or tuple(phis.shape[1:]) != tuple(self.phi.shape):
            shape = tuple(phis.shape) if isinstance(phis, torch.Tensor) else type(phis).__name__
            raise ValueError(f"phis must have shape (batch, *{tuple(self.phi.shape)}), got {shape}")
        return self._measure(phis)

    @contextlib.contextmanager
    def prefetch(self, phis: torch.Tensor):
        """Measure the angle sets ``phis`` as one job now; inside the block, a forward pass without
        gradient at one of those angle sets returns its measured probabilities instead of submitting.

        SPSA sends its two perturbed angle sets this way.
        """
        rows = self.batch_probabilities(phis)
        self._prefetched = {_key(phi): row for phi, row in zip(phis.to(self.phi.dtype), rows)}
        try:
            yield
        finally:
            self._prefetched = {}

    def forward(self) -> torch.Tensor:
        """The measured probabilities (PennyLane order); with grad enabled, parameter-shift rows in the same job."""
        phi = self.phi
        if not (phi.requires_grad and torch.is_grad_enabled()):
            found = self._prefetched.get(_key(phi.detach()))
            return found if found is not None else self._measure(phi.detach()[None])[0]
        indices = torch.tensor(list(_shifted_indices(phi.shape)), dtype=torch.long)
        flat = phi.detach().reshape(-1)
        rows = flat.repeat(1 + 2 * len(indices), 1)
        steps = torch.arange(len(indices))
        rows[1 + 2 * steps, indices] += torch.pi / 2
        rows[2 + 2 * steps, indices] -= torch.pi / 2
        measured = self._measure(rows.reshape(-1, *phi.shape))
        return _PrecomputedShift.apply(phi, measured[0], measured[1::2], measured[2::2], indices)

    def close(self) -> None:
        """Close the ``Batch`` / ``Session`` this source opened (yours stays open)."""
        self.executor.close()

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, reps={self.reps}, {self.description}"


def _key(phi: torch.Tensor) -> bytes:
    return phi.detach().cpu().contiguous().numpy().tobytes()


def _frequencies(array: np.ndarray, n_bits: int, shots: int) -> np.ndarray:
    """Row frequencies of packed bit strings ``(B, shots, n_bytes)`` (big-endian bytes), indexed by integer."""
    values = np.zeros(array.shape[:2], dtype=np.int64)
    for k in range(array.shape[-1]):
        values = (values << 8) | array[..., k]
    batch, size = array.shape[0], 1 << n_bits
    offsets = (np.arange(batch, dtype=np.int64) * size)[:, None]
    counts = np.bincount((values + offsets).ravel(), minlength=batch * size).reshape(batch, size)
    return counts / shots
