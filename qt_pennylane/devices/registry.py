"""Devices: a name (+ shots, backend) or a ready PennyLane device object, resolved once.

Every device runs the circuit on wires ``range(n_wires)``. Pick one by name from
:data:`DEVICES`, or pass a device you built (``qml.device(...)``, for example a
``qiskit.remote`` device inside a Runtime session): :func:`resolve_device` turns either into a
:class:`ResolvedDevice` that says what the device can do.

========================  ===========================================================
name                      what it is
========================  ===========================================================
``default.qubit``         PennyLane's statevector simulator (exact; backprop)
``lightning.qubit``       PennyLane-Lightning's C++ statevector simulator (exact)
``lightning.gpu``         Lightning on NVIDIA GPUs (needs ``pennylane-lightning-gpu``)
``lightning.kokkos``      Lightning on Kokkos (needs ``pennylane-lightning-kokkos``)
``qiskit.aer``            Qiskit Aer: exact statevector when ``shots=None``; sampled
                          with shots; noisy with ``noise_backend="fake_manila"``
``qiskit.basicsim``       Qiskit's pure-Python ``BasicSimulator`` (samples only)
``qiskit.remote``         any Qiskit backend: a fake IBM device (``backend="fake_manila"``,
                          offline, with that device's noise model and coupling map),
                          ``backend="aer_simulator"``, or real IBM hardware
                          (``backend="ibm_brisbane"``; needs IBM Quantum credentials,
                          see :mod:`qt_pennylane.devices.ibm`)
``qiskit.ibmq``           alias of ``qiskit.remote`` (its name in old pennylane-qiskit
                          releases); emits a one-line ``FutureWarning``
========================  ===========================================================

Shots:
    ``shots=None`` means exact probabilities. Devices that can only sample
    (``qiskit.basicsim``, ``qiskit.remote``, ``qiskit.aer`` with a noise model) then use
    :data:`DEFAULT_SHOTS` (1024) and log that at INFO level; :func:`effective_shots` tells
    which number a device really uses. Otherwise ``shots`` must be a positive ``int``;
    ``qml.probs`` on a device with shots returns the frequencies of the sampled bit strings.

PennyLane and the Qiskit packages are imported only inside the functions that need them:
``import qt_pennylane.devices`` imports none of them.

Example:
    >>> is_analytic("default.qubit"), diff_method_for("default.qubit")
    (True, 'backprop')
    >>> diff_method_for("lightning.qubit"), diff_method_for("default.qubit", shots=100)
    ('parameter-shift', 'parameter-shift')
    >>> effective_shots("qiskit.remote", None)
    1024
"""
from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass

from .._validation import check_positive_int, check_seed, fail
from .ibm import (
    QISKIT_EXTRA_HINT,
    SIMULATOR_BACKENDS,
    check_backend_size,
    fake_backend,
    import_optional,
    is_fake_name,
    is_hardware_name,
    remote_backend,
)

logger = logging.getLogger(__name__)

DEFAULT_SHOTS = 1024
"""Shots used by sample-only devices when ``shots=None`` is asked for."""

MAX_SHOTS = 2**40
"""Largest number of shots accepted (numpy's samplers overflow far beyond it)."""

HARDWARE_BACKEND = re.compile(r"^ibmq?_[a-z0-9_]+$")
"""What the name of a real IBM backend looks like (``ibm_brisbane``, ``ibm_torino``, ...)."""


@dataclass(frozen=True)
class DeviceInfo:
    """What the package knows about one device name.

    Attributes:
        pennylane_name: the name passed to ``qml.device``.
        exact: computes exact probabilities when ``shots=None`` (a statevector simulator).
        backprop: supports ``diff_method="backprop"`` (only ``default.qubit``).
        qiskit: runs through pennylane-qiskit (parameter-shift gradients only).
        needs_backend: needs ``backend=`` (``qiskit.remote``).
        install: what to ``pip install`` when the plugin is missing.
        alias_of: the canonical name when this name is an alias, else ``None``.
    """

    pennylane_name: str
    exact: bool
    backprop: bool = False
    qiskit: bool = False
    needs_backend: bool = False
    install: str = ""
    alias_of: str | None = None


DEVICES: dict[str, DeviceInfo] = {
    "default.qubit": DeviceInfo("default.qubit", exact=True, backprop=True, install="pip install pennylane"),
    "lightning.qubit": DeviceInfo("lightning.qubit", exact=True, install="pip install pennylane-lightning"),
    "lightning.gpu": DeviceInfo("lightning.gpu", exact=True, install="pip install pennylane-lightning-gpu"),
    "lightning.kokkos": DeviceInfo("lightning.kokkos", exact=True, install="pip install pennylane-lightning-kokkos"),
    "qiskit.aer": DeviceInfo("qiskit.aer", exact=True, qiskit=True, install=QISKIT_EXTRA_HINT),
    "qiskit.basicsim": DeviceInfo("qiskit.basicsim", exact=False, qiskit=True, install=QISKIT_EXTRA_HINT),
    "qiskit.remote": DeviceInfo(
        "qiskit.remote", exact=False, qiskit=True, needs_backend=True, install=QISKIT_EXTRA_HINT
    ),
    "qiskit.ibmq": DeviceInfo(
        "qiskit.remote", exact=False, qiskit=True, needs_backend=True, install=QISKIT_EXTRA_HINT,
        alias_of="qiskit.remote",
    ),
}
"""Supported device names. ``qiskit.ibmq`` is an alias of ``qiskit.remote``."""


def _info(name) -> DeviceInfo:
    if not isinstance(name, str) or name not in DEVICES:
        raise ValueError(f"device={name!r} is not a known device; expected one of {sorted(DEVICES)} or a device object")
    return DEVICES[name]


def check_shots(shots) -> int | None:
    """``None`` (exact) or a positive int up to :data:`MAX_SHOTS`."""
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int) or not 1 <= shots <= MAX_SHOTS:
        raise fail("shots", f"None (exact) or a positive int <= 2**40", shots)
    return int(shots)


def _samples_only(info: DeviceInfo, noise_backend: str | None) -> bool:
    return not info.exact or noise_backend is not None


def canonical_name(name: str) -> str:
    """The canonical device name (``"qiskit.ibmq"`` → ``"qiskit.remote"``), without any warning.

    Example:
        >>> canonical_name("qiskit.ibmq")
        'qiskit.remote'
    """
    info = _info(name)
    return info.alias_of or name


def effective_shots(name: str, shots: int | None = None, *, noise_backend: str | None = None) -> int | None:
    """The number of shots the device really uses: ``None`` (exact) or a positive int.

    Sample-only devices (``qiskit.basicsim``, ``qiskit.remote``/``qiskit.ibmq``, ``qiskit.aer``
    with ``noise_backend``) turn ``shots=None`` into :data:`DEFAULT_SHOTS`.

    Raises:
        ValueError: for an unknown device name or bad ``shots``.

    Example:
        >>> effective_shots("default.qubit"), effective_shots("qiskit.basicsim"), effective_shots("qiskit.aer", 10)
        (None, 1024, 10)
    """
    info = _info(name)
    shots = check_shots(shots)
    if shots is None and _samples_only(info, noise_backend):
        return DEFAULT_SHOTS
    return shots


def is_analytic(name: str, shots: int | None = None, *, noise_backend: str | None = None) -> bool:
    """True when the device computes exact probabilities: a statevector simulator and ``shots is None``.

    Raises:
        ValueError: for an unknown device name or bad ``shots``.

    Example:
        >>> is_analytic("lightning.qubit"), is_analytic("qiskit.aer"), is_analytic("qiskit.aer", 100)
        (True, True, False)
        >>> is_analytic("qiskit.remote"), is_analytic("qiskit.aer", noise_backend="fake_manila")
        (False, False)
    """
    return effective_shots(name, shots, noise_backend=noise_backend) is None


def diff_method_for(name: str, shots: int | None = None, *, noise_backend: str | None = None) -> str:
    """The ``diff_method`` for a QNode returning ``qml.probs`` on this device.

    ``"backprop"`` for ``default.qubit`` without shots; ``"parameter-shift"`` otherwise:
    Lightning's adjoint method cannot differentiate ``qml.probs``, finite shots rule out
    backprop, and Qiskit devices support parameter-shift only. (Parameter-shift evaluates
    ``2 · len(phi)`` shifted circuits per gradient.)

    Raises:
        ValueError: for an unknown device name or bad ``shots``.

    Example:
        >>> diff_method_for("default.qubit"), diff_method_for("qiskit.aer")
        ('backprop', 'parameter-shift')
    """
    info = _info(name)
    if info.backprop and is_analytic(name, shots, noise_backend=noise_backend):
        return "backprop"
    check_shots(shots)
    return "parameter-shift"


def check_device_options(name: str, *, backend=None, noise_backend=None) -> DeviceInfo:
    """Refuse a ``backend`` or ``noise_backend`` that device ``name`` does not use, or a malformed one.

    Called before any work, so a bad option fails at once even when the fast engine computes
    the probabilities in place of the named device.

    Raises:
        ValueError: naming the option, its value and what is expected.

    Example:
        >>> check_device_options("qiskit.remote", backend="fake_manila").needs_backend
        True
        >>> check_device_options("default.qubit", backend="fake_manila")
        Traceback (most recent call last):
        ...
        ValueError: backend='fake_manila' is only used by devices 'qiskit.remote' and 'qiskit.ibmq', not device='default.qubit'
    """
    info = _info(name)
    if backend is not None and not info.needs_backend:
        raise ValueError(
            f"backend={backend!r} is only used by devices 'qiskit.remote' and 'qiskit.ibmq', not device={name!r}"
            + ("; for a noise model on qiskit.aer pass noise_backend=" if name == "qiskit.aer" else "")
        )
    if noise_backend is not None and name != "qiskit.aer":
        raise ValueError(
            f"noise_backend={noise_backend!r} is only used by device 'qiskit.aer', not device={name!r}"
            + ("; qiskit.remote takes the noise of backend= itself" if info.needs_backend else "")
        )
    if info.needs_backend:
        if backend is None:
            raise ValueError(
                f"backend must be given for device {name!r}: a fake IBM backend such as 'fake_manila' "
                "(offline, noisy), 'aer_simulator', or a real IBM backend such as 'ibm_brisbane'"
            )
        if not isinstance(backend, str) or not (
            is_fake_name(backend) or backend in SIMULATOR_BACKENDS or HARDWARE_BACKEND.match(backend)
        ):
            raise fail("backend", "a fake IBM backend ('fake_manila', ...), 'aer_simulator' or a real IBM "
                       "backend name ('ibm_<name>')", backend)
    if noise_backend is not None and (not isinstance(noise_backend, str) or not is_fake_name(noise_backend)):
        raise fail("noise_backend", "the name of a fake IBM backend such as 'fake_manila'", noise_backend)
    return info


def _construct(pennylane_name: str, n_wires: int, shots: int | None, install: str, **kwargs):
    import pennylane as qml
    from pennylane.exceptions import DeviceError

    with warnings.catch_warnings():
        # Shots on the device are deprecated in favour of ``qml.set_shots`` on the QNode; the device's
        # shots remain the QNode's default, which is how the generator uses them.
        warnings.filterwarnings("ignore", message="Setting shots on device is deprecated")
        try:
            return qml.device(pennylane_name, wires=n_wires, shots=shots, **kwargs)
        except DeviceError as exc:
            if "does not exist" not in str(exc):
                raise
            message = f"device {pennylane_name!r} needs a PennyLane plugin that is not installed: {install}"
    raise ImportError(message)


def make_device(
    name: str,
    n_wires: int,
    *,
    shots: int | None = None,
    backend: str | None = None,
    noise_backend: str | None = None,
    seed: int | None = None,
):
    """Return a PennyLane device on wires ``range(n_wires)``.

    Args:
        name: a key of :data:`DEVICES`. ``"qiskit.ibmq"`` gives ``"qiskit.remote"`` and a ``FutureWarning``.
        n_wires: number of qubits the circuit needs.
        shots: ``None`` for exact probabilities (sample-only devices then use :data:`DEFAULT_SHOTS`),
            else a positive int. The shots are set on the device, so they are every QNode's default.
        backend: for ``qiskit.remote`` only: a fake IBM backend (``"fake_manila"``, ``"FakeManilaV2"``,
            any class of ``qiskit_ibm_runtime.fake_provider``), ``"aer_simulator"``, or a real IBM
            backend name (``"ibm_brisbane"``; needs credentials, see the module docstring).
        noise_backend: for ``qiskit.aer`` only: a fake IBM backend whose noise model
            (``NoiseModel.from_backend``) the simulation applies; it samples, so it uses shots.
        seed: seeds the sampling (and Qiskit's transpiler) of simulators; ignored by real hardware.

    Returns:
        A PennyLane device.

    Raises:
        ValueError: unknown device or backend name, bad ``shots`` or ``n_wires``, ``backend`` or
            ``noise_backend`` given to a device that does not use it, or more wires than the backend has.
        ImportError: the plugin (pennylane-qiskit, pennylane-lightning-gpu, ...) is not installed.
        IBMCredentialsError: real hardware without usable IBM Quantum credentials.

    Example:
        >>> make_device("lightning.qubit", 4).wires.tolist()
        [0, 1, 2, 3]
        >>> make_device("qiskit.remote", 5, backend="fake_manila", shots=100)  # doctest: +SKIP
        <RemoteDevice device (wires=5, shots=100) at ...>
    """
    info = check_device_options(name, backend=backend, noise_backend=noise_backend)
    n_wires = check_positive_int("n_wires", n_wires)
    shots = check_shots(shots)
    seed = check_seed("seed", seed)
    if info.alias_of is not None:
        warnings.warn(
            f"device {name!r} is the old pennylane-qiskit name of {info.alias_of!r}; using {info.alias_of!r}",
            FutureWarning,
            stacklevel=2,
        )
    resolved = effective_shots(name, shots, noise_backend=noise_backend)
    if shots is None and resolved is not None:
        logger.info("device %r samples only: using shots=%d (pass shots= to change it)", name, resolved)

    if not info.qiskit:
        kwargs = {} if seed is None else {"seed": seed}
        return _construct(info.pennylane_name, n_wires, resolved, info.install, **kwargs)

    import_optional("pennylane_qiskit", f"device {name!r}")
    kwargs: dict = {}
    if name == "qiskit.aer":
        if noise_backend is None:
            # "automatic" would pick the sampling "aer_simulator" and silently estimate the
            # probabilities from 1024 shots; "statevector" saves the state, so shots=None is exact
            # and finite shots are drawn from the exact state.
            kwargs["method"] = "statevector"
        else:
            noisy = fake_backend(noise_backend)
            check_backend_size(noise_backend, getattr(noisy, "num_qubits", None), n_wires)
            noise = import_optional("qiskit_aer.noise", "Aer noise models")
            # Measured counts, not a saved statevector: with "statevector" every shot would be
            # drawn from a single noisy trajectory.
            kwargs["noise_model"] = noise.NoiseModel.from_backend(noisy)
        if seed is not None:
            kwargs.update(seed_simulator=seed, seed_transpiler=seed)
    elif name == "qiskit.basicsim":
        if seed is not None:  # BasicSimulator warns about (and ignores) seed_transpiler
            kwargs["seed_simulator"] = seed
    else:  # qiskit.remote
        kwargs["backend"] = remote_backend(backend, n_wires)
        if seed is not None:
            kwargs["seed_transpiler"] = seed
            if not is_hardware_name(backend):
                kwargs["simulator"] = {"seed_simulator": seed}
    return _construct(info.pennylane_name, n_wires, resolved, info.install, **kwargs)


@dataclass(frozen=True)
class ResolvedDevice:
    """A device resolved once: the PennyLane device and what it can do.

    Attributes:
        device: the PennyLane device object.
        label: how logs and summaries name it (``"device 'qiskit.remote' (backend 'fake_manila')"``).
        wires: the wires the circuit runs on and measures.
        shots: shots per evaluation, or ``None`` for exact probabilities.
        diff_method: the QNode's ``diff_method`` (``"backprop"`` or ``"parameter-shift"``).
        hardware: a real quantum computer (every evaluation is a queued job).
        set_shots: shots to apply to the QNode with ``qml.set_shots`` (a device object given with
            ``shots=``), else ``None``.
    """

    device: object
    label: str
    wires: list
    shots: int | None
    diff_method: str
    hardware: bool
    set_shots: int | None = None


def resolve_device(device, n_wires: int, *, shots: int | None = None, backend: str | None = None,
                   noise_backend: str | None = None, seed: int | None = None) -> ResolvedDevice:
    """A device name (built with :func:`make_device`) or a ready PennyLane device object, resolved.

    A device object is used as it is (for example ``qml.device("qiskit.remote", wires=5,
    backend=backend, session=session)``); ``shots=`` then overrides its shots on the QNode
    (``qml.set_shots``). It must have at least ``n_wires`` wires (or none fixed).

    Raises:
        ValueError: as :func:`make_device`; a device object that is not a PennyLane device or
            has too few wires.

    Example:
        >>> import pennylane as qml
        >>> resolved = resolve_device(qml.device("default.qubit", wires=3), 2, shots=100)
        >>> resolved.label, resolved.wires, resolved.shots, resolved.diff_method
        ("device object 'default.qubit'", [0, 1], 100, 'parameter-shift')
    """
    n_wires = check_positive_int("n_wires", n_wires)
    shots = check_shots(shots)
    if isinstance(device, str):
        info = check_device_options(device, backend=backend, noise_backend=noise_backend)
        dev = make_device(device, n_wires, shots=shots, backend=backend, noise_backend=noise_backend, seed=seed)
        resolved = effective_shots(device, shots, noise_backend=noise_backend)
        label = f"device {canonical_name(device)!r}" + (f" (backend {backend!r})" if backend else "") + (
            f" (noise of {noise_backend!r})" if noise_backend else "")
        return ResolvedDevice(dev, label, list(range(n_wires)), resolved,
                              diff_method_for(device, shots, noise_backend=noise_backend),
                              info.needs_backend and is_hardware_name(backend))
    import pennylane as qml

    if not isinstance(device, qml.devices.Device):
        raise fail("device", f"a device name (one of {sorted(DEVICES)}) or a PennyLane device object", device)
    wires = list(range(n_wires)) if device.wires is None else list(device.wires)
    if len(wires) < n_wires:
        raise ValueError(f"device has {len(wires)} wires ({wires}); the circuit needs {n_wires}")
    own = device.shots.total_shots if device.shots else None
    effective = shots if shots is not None else own
    name = getattr(device, "name", type(device).__name__)
    backprop = name == "default.qubit" and effective is None
    remote = getattr(device, "backend", None)
    hardware = remote is not None and not (type(remote).__name__.startswith("Fake") or "Simulator" in type(remote).__name__)
    label = f"device object {name!r}" + (f" (backend {getattr(remote, 'name', remote)!r})" if remote is not None else "")
    return ResolvedDevice(device, label, wires[:n_wires], effective, "backprop" if backprop else "parameter-shift",
                          hardware, set_shots=shots)
