"""``QuantumWeightGenerator``: a probability source followed by a mapping, angles → probabilities → flat θ.

The source (:mod:`qt_pennylane.circuit.sources`) owns the circuit angles and returns the
``2**n_qubits`` measurement probabilities; the mapping (:mod:`qt_pennylane.mappings`) turns them
into the flat weight vector θ of length ``n_params``. Both are chosen independently.

Example:
    >>> gen = QuantumWeightGenerator(131, reps=1, seed=0)
    >>> gen.n_qubits, gen().shape
    (8, torch.Size([131]))
"""
from __future__ import annotations

import torch
from torch import nn

from ._validation import check_choice, check_positive_int, check_seed, fail
from .circuit.sources import ProbabilitySource, make_source
from .mappings import make_mapping, qubits_for
from .mappings import mapping_options as options_of

CONTROL_SOURCES = ("fixed-random",)
"""Sources by name that take the circuit out (controls)."""

_SOURCE_OPTIONS = dict(reps=1, n_qubits=None, device=None, shots=None, backend=None, noise_backend=None,
                       entanglement="reverse_linear", circuit=None, angle_shape=None, engine="auto", shot_noise="fresh",
                       max_circuit_qubits=None)


def _refuse_non_finite(module, state_dict, prefix, *unused) -> None:
    """``load_state_dict`` pre-hook: refuse NaN or infinite angles or mapping values before any is loaded."""
    for key, value in state_dict.items():
        if key.startswith(prefix) and isinstance(value, torch.Tensor) and value.is_floating_point():
            bad = int((~torch.isfinite(value)).sum())
            if bad:
                raise ValueError(f"state_dict[{key!r}] must hold finite values, got {bad} NaN or infinite "
                                 f"of {value.numel()}")


class QuantumWeightGenerator(nn.Module):
    """Generates ``n_params`` classical weights from a probability source and a mapping.

    By default the source is Hadamards + EfficientSU2 on ``n_qubits`` qubits (``ceil(log2(n_params))``
    for the paper and learned mappings) on the fast exact engine; its angles ``phi`` have shape
    ``(reps + 1, 2, n_qubits)`` (Qiskit's order: ``phi[r, 0, q]`` is the RY angle, ``phi[r, 1, q]``
    the RZ angle of qubit ``q`` in rotation layer ``r``) and start uniform in ``[0, 2π)``.

    Args:
        n_params: number of weights to generate (M).
        mapping: a key of :data:`qt_pennylane.mappings.MAPPINGS`: ``"learned"`` (the default, the mapping
            model of arXiv:2405.11304, which sees each weight's index), ``"paper"`` (the fixed mapping of
            arXiv:2402.16465), ...
        mapping_options: keyword options of the mapping (e.g. ``{"gamma": 0.3}``).
        source: a ready :class:`~qt_pennylane.circuit.sources.ProbabilitySource`, or
            ``"fixed-random"`` for the control without a circuit
            (:class:`~qt_pennylane.controls.FixedRandomSource` on ``n_qubits`` qubits, seeded by ``seed``);
            then the circuit options below must keep their defaults.
        reps: EfficientSU2 repetitions (the paper's "QNN layers" L).
        n_qubits: qubits of the circuit (default: what the mapping needs for ``n_params``).
        device: ``None`` (the fast engine), a device name of :data:`qt_pennylane.devices.DEVICES`,
            or a PennyLane device object (e.g. ``qiskit.remote`` inside a Runtime session).
        shots: ``None`` for exact probabilities, else the samples per evaluation.
        backend: backend of ``qiskit.remote`` (e.g. ``"fake_manila"``).
        noise_backend: for ``qiskit.aer``: a fake IBM backend whose noise model is simulated.
        entanglement: ``"reverse_linear"`` (Qiskit's default), ``"linear"``, ``"circular"``, ``"full"``.
        circuit: the user's own circuit instead of EfficientSU2 (see
            :class:`~qt_pennylane.circuit.sources.QNodeSource`), with ``angle_shape``.
        angle_shape: the shape of ``circuit``'s angles.
        engine: ``"auto"`` (the fast engine also stands in for named noiseless statevector
            simulators, and says so), ``"engine"`` (require it) or ``"qnode"`` (run the device).
        shot_noise: with shots on the engine: ``"fresh"`` samples per evaluation (default, as on
            hardware) or ``"fixed"`` random numbers reused every evaluation (a seeded simulator).
        max_circuit_qubits: the distributed ansatz: split the ``n_qubits`` into independent
            sub-circuits of at most this many qubits, whose probabilities multiply
            (:class:`~qt_pennylane.circuit.product.ProductSource`; ``None``: one circuit).
        seed: seeds the initial angles, the mapping's initial weights and random choices, and the sampling.
        dtype: floating dtype of the angles and of the computation (``torch.float32``: complex64
            states, about twice as fast as ``torch.float64``, which gradient checks use).

    Raises:
        ValueError: for a bad argument, naming it and its value. ``load_state_dict`` refuses a
            state with NaN or infinite angles or mapping values, naming the entry, and loads nothing.

    Example:
        >>> gen = QuantumWeightGenerator(10, reps=2, mapping="learned", seed=1)
        >>> gen.phi.shape, gen.probabilities().shape, sorted(gen.parameter_groups())
        (torch.Size([3, 2, 4]), torch.Size([16]), ['mapping', 'source'])
    """

    def __init__(self, n_params: int, *, mapping: str = "learned", mapping_options: dict | None = None,
                 source: ProbabilitySource | None = None, reps: int = 1, n_qubits: int | None = None,
                 device=None, shots: int | None = None, backend: str | None = None,
                 noise_backend: str | None = None, entanglement: str = "reverse_linear", circuit=None,
                 angle_shape=None, engine: str = "auto", shot_noise: str = "fresh",
                 max_circuit_qubits: int | None = None, seed: int | None = None, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n_params = check_positive_int("n_params", n_params)
        self.seed = check_seed("seed", seed)
        known = options_of(mapping)
        if mapping_options is not None and not isinstance(mapping_options, dict):
            raise fail("mapping_options", "a dict of the mapping's keyword options", mapping_options)
        options = dict(mapping_options or {})
        if "seed" in known:
            options.setdefault("seed", seed)
        sizing = {k: v for k, v in options.items() if k in known and k != "seed"}
        given = dict(reps=reps, n_qubits=n_qubits, device=device, shots=shots, backend=backend,
                     noise_backend=noise_backend, entanglement=entanglement, circuit=circuit,
                     angle_shape=angle_shape, engine=engine, shot_noise=shot_noise,
                     max_circuit_qubits=max_circuit_qubits)
        with torch.random.fork_rng(devices=[]):
            if seed is not None:
                torch.manual_seed(seed)
            if isinstance(source, str):
                from .controls import FixedRandomSource

                check_choice("source", source, CONTROL_SOURCES)
                needed = qubits_for(mapping, n_params, **sizing)
                n_qubits = needed if n_qubits is None else check_positive_int("n_qubits", n_qubits)
                given["n_qubits"] = None
                source = FixedRandomSource(n_qubits, seed=seed, dtype=dtype)
            if source is not None:
                changed = sorted(k for k, v in given.items() if v is not _SOURCE_OPTIONS[k] and v != _SOURCE_OPTIONS[k])
                if not isinstance(source, ProbabilitySource):
                    raise fail("source", "a ProbabilitySource (see qt_pennylane.circuit.sources)", source)
                if changed:
                    raise ValueError(f"pass a source or the source options {changed}, not both")
            else:
                needed = qubits_for(mapping, n_params, **sizing)
                n_qubits = needed if n_qubits is None else check_positive_int("n_qubits", n_qubits)
                source = make_source(n_qubits, reps=reps, device=device, shots=shots, backend=backend,
                                     noise_backend=noise_backend, entanglement=entanglement, circuit=circuit,
                                     angle_shape=angle_shape, engine=engine, shot_noise=shot_noise, seed=seed,
                                     dtype=dtype, max_circuit_qubits=max_circuit_qubits)
            self.source = source
            self.mapping = make_mapping(mapping, source.n_qubits, n_params, **options).to(dtype)
        self.mapping_name = mapping
        self.register_load_state_dict_pre_hook(_refuse_non_finite)
        if hasattr(self.mapping, "calibrate"):  # data-dependent init of a learned mapping
            with torch.no_grad():
                self.mapping.calibrate(self.probabilities())

    @property
    def n_qubits(self) -> int:
        """The qubits of the source."""
        return self.source.n_qubits

    @property
    def shots(self) -> int | None:
        """Shots per evaluation, or ``None`` for exact probabilities."""
        return self.source.shots

    @property
    def phi(self) -> nn.Parameter:
        """The circuit angles of a single-circuit source."""
        return self.source.phi

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """The trainable parameters by role: ``"source"`` (circuit angles) and ``"mapping"``."""
        return {"source": [p for p in self.source.parameters() if p.requires_grad],
                "mapping": [p for p in self.mapping.parameters() if p.requires_grad]}

    def probabilities(self) -> torch.Tensor:
        """The ``2**n_qubits`` measurement probabilities (PennyLane order), differentiable in the angles."""
        return self.source()

    def forward(self) -> torch.Tensor:
        """The flat weight vector θ of length ``n_params``."""
        return self.mapping(self.probabilities())

    def describe(self) -> dict:
        """What generates the weights, for run summaries: qubits, mapping and the probability source."""
        return {"n_qubits": self.n_qubits, "mapping": self.mapping_name, "source": self.source.description,
                "shots": self.shots}

    def extra_repr(self) -> str:
        return f"n_params={self.n_params}, n_qubits={self.n_qubits}, mapping={self.mapping_name!r}"
