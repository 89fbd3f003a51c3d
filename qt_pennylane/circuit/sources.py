"""Probability sources: modules that own circuit angles and return ``2**n_qubits`` probabilities.

A Quantum-Train generator is a probability source followed by a mapping. Every source is an
``nn.Module`` whose ``forward()`` takes no input and returns the probabilities (PennyLane order:
wire 0 is the most significant bit of the basis index), differentiable in its own parameters.
It says what it is and what it can do:

* ``n_qubits``: the number of qubits (the length of the output is ``2**n_qubits``);
* ``shots``: ``None`` for exact probabilities, else the shots per evaluation;
* ``exact``: the output is a deterministic function of the parameters;
* ``hardware``: it runs on a real quantum computer (each evaluation is a queued job);
* ``description``: one line naming what computes the probabilities, for ``repr``, logs and run summaries.

Sources:

* :class:`EngineSource`: the Hadamard + EfficientSU2 circuit on the fast exact engine
  (:mod:`qt_pennylane.circuit.engine`), optionally sampled with shots
  (:mod:`qt_pennylane.circuit.sampling`). When it stands in for a named statevector simulator
  it says so.
* :class:`QNodeSource`: a PennyLane QNode on a device given by name or as a device object the
  user built (for example a ``qiskit.remote`` device in a Runtime session), running EfficientSU2
  or the user's own circuit (a function of the angles that applies PennyLane operations, or a
  PennyLane template class), with the angle shape given.

:func:`make_source` picks one from the generator's options. PennyLane is imported only when a
QNode is built.

Example:
    >>> source = EngineSource(3, reps=1, seed=0)
    >>> source().shape, source.exact, source.description
    (torch.Size([8]), True, 'engine (exact statevector)')
"""
from __future__ import annotations

import logging
import math

import torch
from torch import nn

from .._validation import SEED_MAX, check_choice, check_dtype, check_int, check_positive_int, check_seed, fail
from .ansatz import angle_shape, check_entanglement, efficient_su2
from .engine import check_circuit_size
from .sampling import SHOT_NOISE, ShotSampler, sampled_probabilities

logger = logging.getLogger(__name__)

ENGINES = ("auto", "engine", "qnode")
"""How probabilities are computed: ``"auto"`` picks the engine on noiseless statevector simulators."""


def initial_angles(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """Angles uniform in ``[0, 2π)`` drawn from torch's global generator (seed it first)."""
    return (2 * math.pi * torch.rand(shape, dtype=torch.float64)).to(dtype)


class ProbabilitySource(nn.Module):
    """Base class of the sources: ``forward()`` → ``(2**n_qubits,)`` probabilities.

    Subclasses set ``n_qubits``, ``shots``, ``exact``, ``hardware`` and ``description``.
    """

    n_qubits: int
    shots: int | None = None
    exact: bool = True
    hardware: bool = False
    description: str = ""

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, {self.description}"


class EngineSource(ProbabilitySource):
    """Hadamards + EfficientSU2 on the fast engine: exact, or sampled with ``shots``.

    Args:
        n_qubits: N.
        reps: EfficientSU2 repetitions L; the angles ``phi`` have shape ``(reps + 1, 2, n_qubits)``.
        entanglement: a key of :data:`qt_pennylane.circuit.ansatz.ENTANGLEMENTS`.
        shots: ``None`` (exact) or the samples per evaluation (parameter-shift gradients).
        shot_noise: ``"fresh"`` or ``"fixed"`` (see :mod:`qt_pennylane.circuit.sampling`).
        seed: seeds the sampler (the angles come from torch's global generator, seeded by the caller).
        dtype: ``torch.float32`` (complex64 states) or ``torch.float64``.
        stands_in_for: the name of the statevector simulator the engine replaces, if any; it
            appears in :attr:`description`.

    Example:
        >>> EngineSource(2, reps=1, shots=100, seed=0, stands_in_for="lightning.qubit").description
        "engine (100 shots, fresh noise) standing in for device 'lightning.qubit'"
    """

    def __init__(self, n_qubits: int, *, reps: int = 1, entanglement: str = "reverse_linear",
                 shots: int | None = None, shot_noise: str = "fresh", seed: int | None = None,
                 dtype: torch.dtype = torch.float32, stands_in_for: str | None = None):
        super().__init__()
        from .engine import StatevectorEngine

        self.n_qubits = check_positive_int("n_qubits", n_qubits)
        self.reps = check_int("reps", reps, minimum=0)
        self.entanglement = check_entanglement(entanglement)
        check_choice("shot_noise", shot_noise, SHOT_NOISE)
        check_dtype("dtype", dtype)
        self.engine = StatevectorEngine(n_qubits, reps, entanglement)  # refuses a circuit too large to run
        self.phi = nn.Parameter(initial_angles(angle_shape(n_qubits, reps), dtype))
        self.shots = shots
        self.exact = shots is None
        self.sampler = None if shots is None else ShotSampler(shots, noise=shot_noise, seed=seed)
        how = "exact statevector" if shots is None else f"{shots} shots, {shot_noise} noise"
        self.stands_in_for = stands_in_for
        self.description = f"engine ({how})" + (f" standing in for device {stands_in_for!r}" if stands_in_for else "")

    def forward(self) -> torch.Tensor:
        """The probabilities of the current angles (sampled when ``shots`` is set)."""
        if self.sampler is not None:
            return sampled_probabilities(self.phi, self.engine.probabilities, self.sampler,
                                         self.engine.batch_probabilities)
        return self.engine.probabilities(self.phi)


class _Shared:
    """Holds an object that ``copy.deepcopy`` must share, not copy (a user's device or session)."""

    def __init__(self, value):
        self.value = value

    def __deepcopy__(self, memo):
        return self


class QNodeSource(ProbabilitySource):
    """A PennyLane QNode on a device (a name or a device object), with EfficientSU2 or the user's circuit.

    The device is resolved once, here (:func:`qt_pennylane.devices.resolve_device`), so a bad
    name, backend, shot count or wire count fails at construction.

    Args:
        n_qubits: N, the wires measured (``qml.probs`` on the first ``n_qubits`` wires).
        reps: EfficientSU2 repetitions (ignored when ``circuit`` is given).
        device: a key of :data:`qt_pennylane.devices.DEVICES`, or a PennyLane device object.
        shots: ``None`` (the device's own default), else the shots per evaluation.
        backend: as in :func:`qt_pennylane.devices.make_device` (names only).
        noise_backend: as in :func:`qt_pennylane.devices.make_device` (names only).
        entanglement: EfficientSU2's CNOT pattern (ignored when ``circuit`` is given).
        circuit: ``None`` for Hadamards + EfficientSU2; else a function called as
            ``circuit(angles, wires=wires)`` inside the QNode that applies PennyLane operations,
            or a PennyLane template class such as ``qml.StronglyEntanglingLayers``.
        angle_shape: the shape of the angles ``circuit`` takes (required with ``circuit``).
        seed: seeds the device's sampling (simulators).
        dtype: dtype of the angles; the probabilities are returned in it.

    Example:
        >>> import pennylane as qml
        >>> def ring(angles, wires):
        ...     for w, a in zip(wires, angles):
        ...         qml.RY(a, wires=w)
        ...     qml.CNOT(wires=[wires[0], wires[1]])
        >>> source = QNodeSource(2, device=qml.device("default.qubit", wires=2), circuit=ring, angle_shape=(2,))
        >>> source().shape, source.description
        (torch.Size([4]), "qnode on device object 'default.qubit' (backprop), user circuit ring")
    """

    def __init__(self, n_qubits: int, *, reps: int = 1, device="default.qubit", shots: int | None = None,
                 backend: str | None = None, noise_backend: str | None = None,
                 entanglement: str = "reverse_linear", circuit=None, angle_shape: tuple[int, ...] | None = None,
                 seed: int | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        from ..devices import resolve_device

        self.n_qubits = check_positive_int("n_qubits", n_qubits)
        check_dtype("dtype", dtype)
        if circuit is None:
            if angle_shape is not None:
                raise fail("angle_shape", "None without circuit= (EfficientSU2's shape follows from reps)", angle_shape)
            self.reps = check_int("reps", reps, minimum=0)
            self.entanglement = check_entanglement(entanglement)
            check_circuit_size(n_qubits, self.reps)
            shape = globals()["angle_shape"](n_qubits, self.reps)
        else:
            if not callable(circuit):
                raise fail("circuit", "a function of the angles or a PennyLane template class", circuit)
            shape = _check_angle_shape(angle_shape)
            self.reps, self.entanglement = None, None
        self.circuit = circuit
        self.resolved = _Shared(resolve_device(device, n_qubits, shots=shots, backend=backend,
                                               noise_backend=noise_backend, seed=seed))
        info = self.resolved.value
        self.shots, self.exact, self.hardware = info.shots, info.shots is None, info.hardware
        what = "EfficientSU2" if circuit is None else f"user circuit {getattr(circuit, '__name__', type(circuit).__name__)}"
        self.description = f"qnode on {info.label} ({info.diff_method})" + ("" if circuit is None else f", {what}")
        self.phi = nn.Parameter(initial_angles(shape, dtype))
        self._qnode = None

    def qnode(self):
        """The PennyLane QNode (``qnode()(phi)`` → probabilities); built on first use."""
        if self._qnode is None:
            self._qnode = self._build()
        return self._qnode

    def _build(self):
        import pennylane as qml

        info = self.resolved.value
        wires = info.wires
        circuit, entanglement = self.circuit, self.entanglement

        @qml.qnode(info.device, interface="torch", diff_method=info.diff_method)
        def probabilities(phi):
            if circuit is None:
                efficient_su2(phi, wires=wires, entanglement=entanglement)
            else:
                circuit(phi, wires=wires)
            return qml.probs(wires=wires)

        return probabilities if info.set_shots is None else qml.set_shots(probabilities, shots=info.set_shots)

    def forward(self) -> torch.Tensor:
        """The device's probabilities for the current angles, in the angles' dtype."""
        return self.qnode()(self.phi).to(self.phi.dtype)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_qnode"] = None  # rebuilt on use: QNodes do not pickle
        return state


def _check_angle_shape(angle_shape) -> tuple[int, ...]:
    if angle_shape is None:
        raise fail("angle_shape", "the shape of the angles the circuit takes, e.g. (3, 8, 3)", angle_shape)
    shape = (angle_shape,) if isinstance(angle_shape, int) and not isinstance(angle_shape, bool) else angle_shape
    try:
        shape = tuple(shape)
    except TypeError:
        raise fail("angle_shape", "a tuple of positive ints", angle_shape) from None
    if not shape or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in shape):
        raise fail("angle_shape", "a tuple of positive ints", angle_shape)
    return shape


def make_source(n_qubits: int, *, reps: int = 1, device=None, shots: int | None = None,
                backend: str | None = None, noise_backend: str | None = None, entanglement: str = "reverse_linear",
                circuit=None, angle_shape=None, engine: str = "auto", shot_noise: str = "fresh",
                seed: int | None = None, dtype: torch.dtype = torch.float32,
                max_circuit_qubits: int | None = None) -> ProbabilitySource:
    """The source the generator's options describe.

    ``device=None`` (the default) runs EfficientSU2 on the fast engine. With ``engine="auto"`` a
    *named* noiseless statevector simulator (``default.qubit``, ``lightning.*``, ``qiskit.aer``
    without a noise model), with or without shots, also runs on the engine, which gives the same
    probabilities; the source's description, the log (INFO) and run summaries say that the engine
    stands in for the device. ``engine="qnode"`` runs the device itself (``device=None`` then means
    ``default.qubit``). A device *object* and a user ``circuit`` always run as a QNode.

    ``max_circuit_qubits=k`` with ``n_qubits > k`` builds the distributed ansatz instead: a
    :class:`~qt_pennylane.circuit.product.ProductSource` of ``ceil(n_qubits / k)`` independent
    EfficientSU2 sub-circuits of at most ``k`` qubits each (sizes as even as possible), each made
    by this function with the same options (sub-circuit ``i`` samples with seed ``seed + i``).

    Raises:
        ValueError: for a bad option, naming it (``engine="engine"`` where the engine cannot stand in).

    Example:
        >>> make_source(3, device="lightning.qubit").description
        "engine (exact statevector) standing in for device 'lightning.qubit'"
        >>> make_source(3).description
        'engine (exact statevector)'
        >>> make_source(3, device="default.qubit", engine="qnode").description
        "qnode on device 'default.qubit' (backprop)"
        >>> make_source(22, max_circuit_qubits=8).sizes
        (8, 7, 7)
    """
    from ..devices import check_device_options, check_shots, effective_shots

    check_positive_int("max_circuit_qubits", max_circuit_qubits, allow_none=True)
    if max_circuit_qubits is not None and n_qubits > max_circuit_qubits:
        from .product import ProductSource, split_qubits

        if circuit is not None:
            raise fail("max_circuit_qubits", "None with a user circuit (build a ProductSource of your circuits)",
                       max_circuit_qubits)
        options = dict(reps=reps, device=device, shots=shots, backend=backend, noise_backend=noise_backend,
                       entanglement=entanglement, angle_shape=angle_shape, engine=engine, shot_noise=shot_noise,
                       dtype=dtype)
        check_seed("seed", seed)
        return ProductSource([make_source(size, seed=None if seed is None else (seed + i) % (SEED_MAX + 1),
                                          **options)
                              for i, size in enumerate(split_qubits(check_positive_int("n_qubits", n_qubits),
                                                                    max_circuit_qubits))])
    check_choice("engine", engine, ENGINES)
    check_choice("shot_noise", shot_noise, SHOT_NOISE)
    check_seed("seed", seed)
    check_shots(shots)
    if device is None and (engine == "qnode" or circuit is not None):
        device = "default.qubit"
    named = isinstance(device, str) or device is None
    if device is None:
        if backend is not None or noise_backend is not None:
            raise fail("backend" if backend is not None else "noise_backend",
                       "None unless a device that uses it is named ('qiskit.remote', 'qiskit.aer')",
                       backend or noise_backend)
    elif named:
        check_device_options(device, backend=backend, noise_backend=noise_backend)
    elif backend is not None or noise_backend is not None:
        raise fail("backend" if backend is not None else "noise_backend",
                   "None with a device object (configure the device itself)", backend or noise_backend)
    statevector = device is None or (named and effective_shots(device, None, noise_backend=noise_backend) is None)
    if engine == "engine" and not (statevector and circuit is None):
        why = "a device object" if not named else ("a user circuit" if circuit is not None else f"device={device!r}")
        raise ValueError(f"engine='engine' needs EfficientSU2 on a named noiseless statevector simulator; "
                         f"{why} is not one: use engine='auto' or 'qnode'")
    if shot_noise == "fixed" and not (engine != "qnode" and statevector and circuit is None and shots is not None):
        raise ValueError(
            f"shot_noise='fixed' needs shots sampled by the engine (a statevector simulator with shots and "
            f"engine='auto' or 'engine'); got device={device!r}, shots={shots!r}, engine={engine!r}"
        )
    if engine != "qnode" and statevector and circuit is None:
        if angle_shape is not None:
            raise fail("angle_shape", "None without circuit= (EfficientSU2's shape follows from reps)", angle_shape)
        source = EngineSource(n_qubits, reps=reps, entanglement=entanglement, shots=shots, shot_noise=shot_noise,
                              seed=seed, dtype=dtype, stands_in_for=device)
        if device is not None:
            logger.info("device %r is a noiseless statevector simulator: the fast engine computes the same "
                        "probabilities in its place (engine='qnode' runs the device)", device)
        return source
    return QNodeSource(n_qubits, reps=reps, device=device, shots=shots, backend=backend, noise_backend=noise_backend,
                       entanglement=entanglement, circuit=circuit, angle_shape=angle_shape, seed=seed, dtype=dtype)
