"""``QuantumWeightGenerator``: circuit angles φ → probabilities → flat weight vector θ.

The circuit is the PennyLane QNode of :func:`qt_pennylane.ansatz.efficient_su2` on the
chosen device. On noiseless statevector simulators the generator runs the same circuit
on :class:`qt_pennylane.engine.StatevectorEngine` instead, which gives identical
probabilities and exact gradients without PennyLane's per-gate overhead; with shots it samples
the engine's probabilities (:mod:`qt_pennylane.sampling`, parameter-shift gradients).

Example:
    >>> gen = QuantumWeightGenerator(131, reps=1, seed=0)
    >>> gen.n_qubits, gen().shape
    (8, torch.Size([131]))
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .ansatz import angle_shape, check_entanglement, efficient_su2
from .devices import diff_method_for, effective_shots, is_analytic, make_device
from .mapping import make_mapping, n_qubits_for
from .sampling import SHOT_NOISE, ShotSampler, sampled_probabilities

ENGINES = ("auto", "engine", "qnode")
"""How probabilities are computed: ``"auto"`` picks the engine on noiseless statevector simulators."""


class QuantumWeightGenerator(nn.Module):
    """Generates ``n_params`` classical weights from an EfficientSU2 circuit.

    ``n_qubits = ceil(log2(n_params))``; the angles ``phi`` have shape ``(reps + 1, 2, n_qubits)``
    (Qiskit's order: ``phi[r, 0, q]`` is the RY angle, ``phi[r, 1, q]`` the RZ angle of qubit
    ``q`` in rotation layer ``r``) and start uniform in ``[0, 2π)``.

    Args:
        n_params: number of weights to generate (M).
        reps: EfficientSU2 repetitions (the paper's "QNN layers" L).
        mapping: ``"paper"`` or ``"learned"`` (see :mod:`qt_pennylane.mapping`).
        mapping_options: keyword options of the mapping (e.g. ``{"gamma": 0.3}``).
        device: a device name understood by :func:`qt_pennylane.devices.make_device`.
        shots: ``None`` for exact probabilities, else the number of samples per evaluation.
        backend: backend name for remote Qiskit devices (e.g. ``"fake_manila"``).
        noise_backend: for ``qiskit.aer``: a fake IBM backend whose noise model is simulated.
        entanglement: ``"reverse_linear"`` (Qiskit's default), ``"linear"``, ``"circular"``, ``"full"``.
        shot_noise: with shots on the engine: ``"fresh"`` samples per evaluation (default, as on
            hardware) or ``"fixed"`` random numbers reused every evaluation (a seeded simulator;
            see :mod:`qt_pennylane.sampling`).
        seed: seeds the initial angles, the paper mapping's pairing, the mapping's initial weights
            and the sampling.
        engine: ``"auto"`` (fast engine on noiseless statevector simulators, with or without
            shots), ``"engine"`` (require it) or ``"qnode"`` (the device runs the QNode and samples).
        dtype: floating dtype of the angles and of the computation (``torch.float32``: complex64
            states, about twice as fast as ``torch.float64``, which gradient checks use).

    Raises:
        ValueError: for a bad argument, naming it and its value.

    Example:
        >>> gen = QuantumWeightGenerator(10, reps=2, mapping="learned", seed=1)
        >>> gen.phi.shape, gen.probabilities().shape
        (torch.Size([3, 2, 4]), torch.Size([16]))
    """

    def __init__(
        self,
        n_params: int,
        *,
        reps: int = 1,
        mapping: str = "paper",
        mapping_options: dict | None = None,
        device: str = "default.qubit",
        shots: int | None = None,
        backend: str | None = None,
        noise_backend: str | None = None,
        entanglement: str = "reverse_linear",
        seed: int | None = None,
        engine: str = "auto",
        dtype: torch.dtype = torch.float32,
        shot_noise: str = "fresh",
    ):
        super().__init__()
        n_qubits = n_qubits_for(n_params)
        if not isinstance(reps, int) or isinstance(reps, bool) or reps < 0:
            raise ValueError(f"reps must be a non-negative int, got {reps!r}")
        if engine not in ENGINES:
            raise ValueError(f"engine={engine!r} is not known; expected one of {list(ENGINES)}")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
        statevector = is_analytic(device, None, noise_backend=noise_backend)
        self.shots = effective_shots(device, shots, noise_backend=noise_backend)
        if engine == "engine" and not statevector:
            raise ValueError(
                f"engine='engine' needs a noiseless statevector simulator; device={device!r}"
                f"{f', noise_backend={noise_backend!r}' if noise_backend else ''} is not one: use engine='auto' or 'qnode'"
            )
        if shot_noise not in SHOT_NOISE:
            raise ValueError(f"shot_noise={shot_noise!r} is not known; expected one of {list(SHOT_NOISE)}")
        self.uses_engine = engine == "engine" or (engine == "auto" and statevector)
        if shot_noise == "fixed" and not (self.uses_engine and self.shots is not None):
            raise ValueError(
                f"shot_noise='fixed' needs shots sampled by the engine (a statevector simulator with shots and "
                f"engine='auto' or 'engine'); got device={device!r}, shots={shots!r}, engine={engine!r}"
            )
        self.n_params, self.n_qubits, self.reps = n_params, n_qubits, reps
        self.entanglement = check_entanglement(entanglement)
        self.device_name, self.backend, self.noise_backend = device, backend, noise_backend
        self.seed = seed
        self.mapping_name = mapping

        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            phi = (2 * math.pi * torch.rand(angle_shape(n_qubits, reps), dtype=torch.float64)).to(dtype)
            options = dict(mapping_options or {})
            if mapping == "paper":
                options.setdefault("seed", seed)
            self.mapping = make_mapping(mapping, n_qubits, n_params, **options).to(dtype)
        self.phi = nn.Parameter(phi)
        self._engine = None
        self._qnode = None
        self.sampler = None
        if self.uses_engine:
            from .engine import StatevectorEngine

            self._engine = StatevectorEngine(n_qubits, reps, self.entanglement)
            if self.shots is not None:
                self.sampler = ShotSampler(self.shots, noise=shot_noise, seed=seed)
        else:  # build the device now so a bad device, backend or shots fails here, not mid-training
            self._qnode = self._build_qnode()
        if hasattr(self.mapping, "calibrate"):  # data-dependent init of a learned mapping
            with torch.no_grad():
                self.mapping.calibrate(self.probabilities())

    def _build_qnode(self):
        import pennylane as qml

        wires = list(range(self.n_qubits))
        dev = make_device(
            self.device_name, self.n_qubits, shots=self.shots, backend=self.backend,
            noise_backend=self.noise_backend, seed=self.seed,
        )
        entanglement = self.entanglement

        @qml.qnode(dev, interface="torch", diff_method=diff_method_for(self.device_name, self.shots))
        def circuit(phi):
            efficient_su2(phi, wires=wires, entanglement=entanglement)
            return qml.probs(wires=wires)

        return circuit

    def qnode(self):
        """The PennyLane QNode of the circuit (``qnode()(phi)`` → probabilities); the circuit's definition."""
        if self._qnode is None:
            self._qnode = self._build_qnode()
        return self._qnode

    def probabilities(self) -> torch.Tensor:
        """The ``2**n_qubits`` measurement probabilities (PennyLane order), differentiable in ``phi``."""
        if self.sampler is not None:
            return sampled_probabilities(self.phi, self._engine.probabilities, self.sampler,
                                         self._engine.batch_probabilities)
        if self.uses_engine:
            return self._engine.probabilities(self.phi)
        return self.qnode()(self.phi).to(self.phi.dtype)

    def forward(self) -> torch.Tensor:
        """The flat weight vector θ of length ``n_params``."""
        return self.mapping(self.probabilities())

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_qnode"] = None  # rebuilt on use: devices do not pickle or deep-copy reliably
        return state

    def extra_repr(self) -> str:
        where = "engine" if self.uses_engine else f"qnode on {self.device_name!r}"
        shots = "" if self.shots is None else f", shots={self.shots}"
        if self.sampler is not None:
            shots += f", shot_noise={self.sampler.noise!r}"
        return (
            f"n_params={self.n_params}, n_qubits={self.n_qubits}, reps={self.reps}, "
            f"entanglement={self.entanglement!r}, mapping={self.mapping_name!r}, {where}{shots}"
        )
