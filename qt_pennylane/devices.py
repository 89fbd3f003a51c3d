"""One place that turns a device name (+ shots, backend) into a PennyLane device.

Every device runs the circuit on wires ``range(n_wires)``. Pick one by name from
:data:`DEVICES`:

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
                          (``backend="ibm_brisbane"``; needs IBM Quantum credentials)
``qiskit.ibmq``           alias of ``qiskit.remote`` (its name in old pennylane-qiskit
                          releases); emits a one-line ``FutureWarning``
========================  ===========================================================

Shots:
    ``shots=None`` means exact probabilities. Devices that can only sample
    (``qiskit.basicsim``, ``qiskit.remote``, ``qiskit.aer`` with a noise model) then use
    :data:`DEFAULT_SHOTS` (1024) and log that at INFO level; :func:`effective_shots` tells
    which number a device really uses. Otherwise ``shots`` must be a positive ``int``;
    ``qml.probs`` on a device with shots returns the frequencies of the sampled bit strings.

Credentials for real IBM hardware (never needed for fake backends):
    either the environment variable ``QISKIT_IBM_TOKEN`` (optionally ``QISKIT_IBM_INSTANCE``,
    a CRN or instance name, and ``QISKIT_IBM_CHANNEL``, default ``ibm_quantum_platform``), or
    an account saved once with ``QiskitRuntimeService.save_account(token=..., instance=...,
    set_as_default=True)``. The token is never put into an error message, log line or
    ``repr``: failures raise :class:`IBMCredentialsError` with the token replaced by ``***``
    and without chaining the original exception.

Qiskit, Qiskit Aer, qiskit-ibm-runtime and pennylane-qiskit are imported only inside the
functions that need them: ``import qt_pennylane.devices`` imports none of them.

Example:
    >>> dev = make_device("default.qubit", 3)
    >>> is_analytic("default.qubit"), diff_method_for("default.qubit")
    (True, 'backprop')
    >>> diff_method_for("lightning.qubit"), diff_method_for("default.qubit", shots=100)
    ('parameter-shift', 'parameter-shift')
    >>> effective_shots("qiskit.remote", None)
    1024
"""
from __future__ import annotations

import importlib
import logging
import os
import warnings
from dataclasses import dataclass

logger = logging.getLogger(__name__)

DEFAULT_SHOTS = 1024
"""Shots used by sample-only devices when ``shots=None`` is asked for."""

QISKIT_EXTRA_HINT = "pip install 'qt_pennylane[qiskit]'"

TOKEN_ENV = "QISKIT_IBM_TOKEN"
INSTANCE_ENV = "QISKIT_IBM_INSTANCE"
CHANNEL_ENV = "QISKIT_IBM_CHANNEL"


@dataclass(frozen=True)
class DeviceInfo:
    """What :func:`make_device` knows about one device name.

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
        "qiskit.remote",
        exact=False,
        qiskit=True,
        needs_backend=True,
        install=QISKIT_EXTRA_HINT,
        alias_of="qiskit.remote",
    ),
}
"""Supported device names. ``qiskit.ibmq`` is an alias of ``qiskit.remote``."""

GRADIENT_FREE_OPTIMIZERS = frozenset({"paper"})
"""Optimizers that need no gradient (the paper's COBYLA / Nelder–Mead schedule): work on every device."""

DETERMINISTIC_OPTIMIZERS = frozenset({"lbfgs", "l-bfgs", "l-bfgs-b", "bfgs"})
"""Gradient optimizers with line searches that assume a deterministic loss: exact devices only."""

SIMULATOR_BACKENDS = frozenset({"aer_simulator"})
"""Backend names of ``qiskit.remote`` that are local noiseless simulators."""


class IBMCredentialsError(RuntimeError):
    """No usable IBM Quantum credentials, or the IBM Quantum service could not be reached.

    Its message never contains the API token.
    """


# --------------------------------------------------------------------------- validation


def _info(name) -> DeviceInfo:
    if not isinstance(name, str) or name not in DEVICES:
        raise ValueError(f"device={name!r} is not a known device; expected one of {sorted(DEVICES)}")
    return DEVICES[name]


def _check_shots(shots) -> int | None:
    if shots is None:
        return None
    if isinstance(shots, bool) or not isinstance(shots, int) or shots <= 0:
        raise ValueError(f"shots must be None (exact) or a positive int, got shots={shots!r}")
    return int(shots)


def _check_wires(n_wires) -> int:
    if isinstance(n_wires, bool) or not isinstance(n_wires, int) or n_wires < 1:
        raise ValueError(f"n_wires must be a positive int, got n_wires={n_wires!r}")
    return n_wires


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
    shots = _check_shots(shots)
    if shots is None and _samples_only(info, noise_backend):
        return DEFAULT_SHOTS
    return shots


def is_analytic(name: str, shots: int | None = None, *, noise_backend: str | None = None) -> bool:
    """True when the device computes exact probabilities: a statevector simulator and ``shots is None``.

    Then the package may use its own fast exact engine instead of the QNode.

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
    _check_shots(shots)
    return "parameter-shift"


def _is_fake_name(backend: str) -> bool:
    return backend.strip().lower().startswith("fake")


def _is_hardware(info: DeviceInfo, backend: str | None) -> bool:
    return info.needs_backend and isinstance(backend, str) and not (
        _is_fake_name(backend) or backend in SIMULATOR_BACKENDS
    )


def check_gradient_support(
    name: str, shots: int | None, optimizer: str, *, backend: str | None = None, noise_backend: str | None = None
) -> None:
    """Refuse device × optimizer combinations that cannot work; warn about costly ones.

    Rules (``shots`` as :func:`effective_shots` resolves it):

    * ``"paper"`` (gradient-free COBYLA / Nelder–Mead schedule): works on every device.
    * ``"lbfgs"`` / ``"bfgs"``: their line searches need a deterministic loss, so they need exact
      probabilities (a statevector simulator with ``shots=None``); otherwise ``ValueError``.
    * any other name is taken to be a stochastic gradient optimizer (``"adam"``, ``"sgd"``, ...):
      works everywhere (parameter-shift gives unbiased gradient estimates from shots). On real IBM
      hardware (``qiskit.remote`` with a non-fake ``backend``) a ``UserWarning`` says that every
      step submits ``2 · len(phi) + 1`` separate circuit jobs, each queued.

    This function does not check that ``optimizer`` exists; the training code does.

    Raises:
        ValueError: for an unknown device, bad ``shots``, a non-string optimizer or an impossible combination.

    Example:
        >>> check_gradient_support("qiskit.remote", 1024, "paper")
        >>> check_gradient_support("default.qubit", None, "lbfgs")
    """
    info = _info(name)
    resolved = effective_shots(name, shots, noise_backend=noise_backend)
    if not isinstance(optimizer, str) or not optimizer:
        raise ValueError(f"optimizer must be a non-empty str, got optimizer={optimizer!r}")
    key = optimizer.strip().lower()
    if key in GRADIENT_FREE_OPTIMIZERS:
        return
    if key in DETERMINISTIC_OPTIMIZERS and resolved is not None:
        where = f"device={name!r}" + (f" with backend={backend!r}" if backend else "")
        raise ValueError(
            f"optimizer={optimizer!r} needs a deterministic loss (exact probabilities), but {where} "
            f"estimates probabilities from shots={resolved}; use optimizer='paper' (gradient-free) or a "
            "stochastic gradient optimizer such as 'adam', or an exact simulator "
            "(default.qubit, lightning.qubit, qiskit.aer) with shots=None"
        )
    if _is_hardware(info, backend):
        warnings.warn(
            f"optimizer={optimizer!r} on IBM hardware backend={backend!r}: each gradient step uses "
            "parameter-shift, i.e. 2 * len(phi) + 1 separately queued circuit jobs; "
            "optimizer='paper' needs one job per loss evaluation",
            UserWarning,
            stacklevel=2,
        )


# --------------------------------------------------------------------------- lazy imports


def _import(module: str, what: str, install: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{what} needs the package {module!r}, which is not installed: {install}") from exc


# --------------------------------------------------------------------------- fake backends


def _normalize_backend(name: str) -> str:
    key = name.strip().lower().replace("_", "").replace("-", "")
    return key[:-2] if key.endswith("v2") else key


def _snake(class_name: str) -> str:
    base = class_name[:-2] if class_name.endswith("V2") else class_name
    return "fake_" + base[len("Fake"):].lower()


def _fake_backend_classes() -> dict[str, type]:
    """``{"fake_manila": FakeManilaV2, ...}``: every fake IBM device, preferring the V2 class."""
    fake_provider = _import("qiskit_ibm_runtime.fake_provider", "fake IBM backends", QISKIT_EXTRA_HINT)
    base = _import("qiskit_ibm_runtime.fake_provider.fake_backend", "fake IBM backends", QISKIT_EXTRA_HINT)
    classes: dict[str, type] = {}
    for attr in dir(fake_provider):
        cls = getattr(fake_provider, attr)
        if not (attr.startswith("Fake") and isinstance(cls, type) and issubclass(cls, base.FakeBackendV2)):
            continue
        if cls is base.FakeBackendV2 or attr == "FakeFractionalBackend":
            continue
        snake = _snake(attr)
        if snake not in classes or attr.endswith("V2"):
            classes[snake] = cls
    return classes


def list_fake_backends() -> list[str]:
    """Names of the fake IBM backends (``"fake_manila"``, ...) usable as ``backend`` or ``noise_backend``.

    Example:
        >>> "fake_manila" in list_fake_backends()  # doctest: +SKIP
        True
    """
    return sorted(_fake_backend_classes())


def fake_backend(name: str):
    """An instance of the fake IBM backend called ``name``.

    ``"fake_manila"``, ``"fake_manila_v2"``, ``"FakeManilaV2"`` and ``"FakeManila"`` all give
    ``qiskit_ibm_runtime.fake_provider.FakeManilaV2()``; the V2 class is preferred.

    Raises:
        ValueError: naming ``name`` and a few valid fake backends when it is unknown.
        ImportError: when qiskit-ibm-runtime is missing.

    Example:
        >>> fake_backend("fake_manila").num_qubits  # doctest: +SKIP
        5
    """
    classes = _fake_backend_classes()
    wanted = _normalize_backend(name)
    for snake, cls in classes.items():
        if wanted in (_normalize_backend(snake), _normalize_backend(cls.__name__)):
            return cls()
    examples = ", ".join(repr(n) for n in ["fake_manila", "fake_lima", "fake_guadalupe", "fake_brisbane"] if n in classes)
    raise ValueError(
        f"backend={name!r} is not a known fake IBM backend; expected e.g. {examples} "
        f"({len(classes)} in all: see qt_pennylane.devices.list_fake_backends()) "
        "or a real IBM backend name such as 'ibm_brisbane'"
    )


def _check_backend_size(label: str, num_qubits, n_wires: int) -> None:
    if num_qubits is not None and n_wires > int(num_qubits):
        raise ValueError(f"Backend {label!r} supports maximum {int(num_qubits)} wires; the model needs {n_wires}")


# --------------------------------------------------------------------------- IBM Quantum service


_NO_CREDENTIALS = (
    "no IBM Quantum credentials found for real-hardware backend={backend!r}. Provide them in one of two ways: "
    "(1) set the environment variable {token_env} to your API key (optionally {instance_env}=<CRN or instance "
    "name> and {channel_env}=ibm_quantum_platform), or (2) save an account once with "
    "`from qiskit_ibm_runtime import QiskitRuntimeService; QiskitRuntimeService.save_account("
    "token=..., instance=..., set_as_default=True)`. Fake backends such as 'fake_manila' need no credentials"
)


def _scrub(text: str, secret: str | None) -> str:
    if secret:
        text = text.replace(secret, "***")
        text = text.replace(repr(secret), "'***'")
    return text


def _runtime_backend(backend: str):
    """The real IBM backend called ``backend``, through ``QiskitRuntimeService``.

    The token is read from the environment (or the saved account) and only handed to
    ``QiskitRuntimeService``. Errors are re-raised *outside* the ``except`` block, with the token
    scrubbed, so the original exception (whose message may carry the token) is not chained.
    """
    runtime = _import("qiskit_ibm_runtime", "IBM Quantum hardware", QISKIT_EXTRA_HINT)
    token = os.environ.get(TOKEN_ENV) or None
    instance = os.environ.get(INSTANCE_ENV) or None
    channel = os.environ.get(CHANNEL_ENV) or None
    kwargs = {}
    if token is not None:
        kwargs["token"] = token
        kwargs["channel"] = channel or "ibm_quantum_platform"
    elif channel is not None:
        kwargs["channel"] = channel
    if instance is not None:
        kwargs["instance"] = instance

    failure: str | None = None
    missing = False
    service = None
    try:
        service = runtime.QiskitRuntimeService(**kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure becomes one scrubbed error
        account_errors = getattr(getattr(runtime, "accounts", None), "AccountNotFoundError", ())
        missing = token is None and isinstance(exc, account_errors)
        failure = _scrub(f"{type(exc).__name__}: {exc}", token)
    if missing:
        raise IBMCredentialsError(
            _NO_CREDENTIALS.format(
                backend=backend, token_env=TOKEN_ENV, instance_env=INSTANCE_ENV, channel_env=CHANNEL_ENV
            )
        )
    if failure is not None:
        source = f"the token in {TOKEN_ENV}" if token is not None else "the saved account"
        raise IBMCredentialsError(
            f"could not connect to IBM Quantum with {source} (backend={backend!r}): {failure}. "
            f"Check the token, {INSTANCE_ENV} and {CHANNEL_ENV}, or save an account with "
            "QiskitRuntimeService.save_account(token=..., instance=..., set_as_default=True)"
        )

    not_found = False
    try:
        return service.backend(backend)
    except Exception as exc:  # noqa: BLE001
        not_found = "NotFound" in type(exc).__name__
        failure = _scrub(f"{type(exc).__name__}: {exc}", token)
    if not_found:
        raise ValueError(
            f"backend={backend!r} is not available to this IBM Quantum account ({failure}); "
            "list yours with QiskitRuntimeService().backends(), or use a fake backend such as 'fake_manila'"
        )
    raise IBMCredentialsError(f"could not get backend={backend!r} from IBM Quantum: {failure}")


def _remote_backend(backend, n_wires: int):
    if backend is None:
        raise ValueError(
            "backend must be given for device 'qiskit.remote': a fake IBM backend such as 'fake_manila' "
            "(offline, noisy), 'aer_simulator', or a real IBM backend such as 'ibm_brisbane'"
        )
    if not isinstance(backend, str) or not backend.strip():
        raise ValueError(f"backend must be a backend name (str), got backend={backend!r}")
    if _is_fake_name(backend):
        instance = fake_backend(backend)
    elif backend in SIMULATOR_BACKENDS:
        instance = _import("qiskit_aer", "the Aer simulator", QISKIT_EXTRA_HINT).AerSimulator()
    else:
        instance = _runtime_backend(backend)
    num_qubits = getattr(instance, "num_qubits", None)
    _check_backend_size(backend, None if backend in SIMULATOR_BACKENDS else num_qubits, n_wires)
    return instance


# --------------------------------------------------------------------------- make_device


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
    info = _info(name)
    n_wires = _check_wires(n_wires)
    shots = _check_shots(shots)
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
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be None or an int, got seed={seed!r}")
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

    _import("pennylane_qiskit", f"device {name!r}", QISKIT_EXTRA_HINT)
    kwargs: dict = {}
    if name == "qiskit.aer":
        if noise_backend is None:
            # "automatic" would pick the sampling "aer_simulator" and silently estimate the
            # probabilities from 1024 shots; "statevector" saves the state, so shots=None is exact
            # and finite shots are drawn from the exact state.
            kwargs["method"] = "statevector"
        else:
            noisy = fake_backend(noise_backend)
            _check_backend_size(noise_backend, getattr(noisy, "num_qubits", None), n_wires)
            noise = _import("qiskit_aer.noise", "Aer noise models", QISKIT_EXTRA_HINT)
            # Measured counts, not a saved statevector: with "statevector" every shot would be
            # drawn from a single noisy trajectory.
            kwargs["noise_model"] = noise.NoiseModel.from_backend(noisy)
        if seed is not None:
            kwargs.update(seed_simulator=seed, seed_transpiler=seed)
    elif name == "qiskit.basicsim":
        if seed is not None:  # BasicSimulator warns about (and ignores) seed_transpiler
            kwargs["seed_simulator"] = seed
    else:  # qiskit.remote
        kwargs["backend"] = _remote_backend(backend, n_wires)
        if seed is not None:
            kwargs["seed_transpiler"] = seed
            if not _is_hardware(info, backend):
                kwargs["simulator"] = {"seed_simulator": seed}
    return _construct(info.pennylane_name, n_wires, resolved, info.install, **kwargs)
