"""IBM Quantum through pennylane-qiskit: fake backends (offline, with real devices' noise) and real hardware.

Credentials for real IBM hardware (never needed for fake backends):
    either the environment variable ``QISKIT_IBM_TOKEN`` (optionally ``QISKIT_IBM_INSTANCE``,
    a CRN or instance name, and ``QISKIT_IBM_CHANNEL``, default ``ibm_quantum_platform``), or
    an account saved once with ``QiskitRuntimeService.save_account(token=..., instance=...,
    set_as_default=True)``. The token is never put into an error message, log line or
    ``repr``: failures raise :class:`IBMCredentialsError` with the token replaced by ``***``
    and without chaining the original exception.

Qiskit, Qiskit Aer and qiskit-ibm-runtime are imported only inside the functions that need them.

Example:
    >>> is_fake_name("fake_manila"), is_hardware_name("ibm_brisbane"), is_hardware_name("aer_simulator")
    (True, True, False)
"""
from __future__ import annotations

import importlib
import os

QISKIT_EXTRA_HINT = "pip install 'qt_pennylane[qiskit]'"

TOKEN_ENV = "QISKIT_IBM_TOKEN"
INSTANCE_ENV = "QISKIT_IBM_INSTANCE"
CHANNEL_ENV = "QISKIT_IBM_CHANNEL"

SIMULATOR_BACKENDS = frozenset({"aer_simulator"})
"""Backend names of ``qiskit.remote`` that are local noiseless simulators."""


class IBMCredentialsError(RuntimeError):
    """No usable IBM Quantum credentials, or the IBM Quantum service could not be reached.

    Its message never contains the API token.
    """


def is_fake_name(backend: str) -> bool:
    """True for the names of Qiskit's fake backends (``"fake_manila"``, ``"FakeManilaV2"``, ...)."""
    return backend.strip().lower().startswith("fake")


def is_hardware_name(backend) -> bool:
    """True when ``backend`` names real IBM hardware: a string that is neither fake nor a local simulator."""
    return isinstance(backend, str) and not (is_fake_name(backend) or backend in SIMULATOR_BACKENDS)


def import_optional(module: str, what: str, install: str = QISKIT_EXTRA_HINT):
    """``importlib.import_module(module)``, or an ImportError that says what needs it and what to install."""
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
    fake_provider = import_optional("qiskit_ibm_runtime.fake_provider", "fake IBM backends", QISKIT_EXTRA_HINT)
    base = import_optional("qiskit_ibm_runtime.fake_provider.fake_backend", "fake IBM backends", QISKIT_EXTRA_HINT)
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
        f"({len(classes)} in all: see qt_pennylane.devices.ibm.list_fake_backends()) "
        "or a real IBM backend name such as 'ibm_brisbane'"
    )


def check_backend_size(label: str, num_qubits, n_wires: int) -> None:
    """Refuse a circuit of more wires than the backend has (pennylane-qiskit's message format)."""
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
    runtime = import_optional("qiskit_ibm_runtime", "IBM Quantum hardware", QISKIT_EXTRA_HINT)
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


def remote_backend(backend, n_wires: int):
    """The Qiskit backend ``qiskit.remote`` runs on: a fake backend, the Aer simulator or real hardware."""
    if backend is None:
        raise ValueError(
            "backend must be given for device 'qiskit.remote': a fake IBM backend such as 'fake_manila' "
            "(offline, noisy), 'aer_simulator', or a real IBM backend such as 'ibm_brisbane'"
        )
    if not isinstance(backend, str) or not backend.strip():
        raise ValueError(f"backend must be a backend name (str), got backend={backend!r}")
    if is_fake_name(backend):
        instance = fake_backend(backend)
    elif backend in SIMULATOR_BACKENDS:
        instance = import_optional("qiskit_aer", "the Aer simulator", QISKIT_EXTRA_HINT).AerSimulator()
    else:
        instance = _runtime_backend(backend)
    num_qubits = getattr(instance, "num_qubits", None)
    check_backend_size(backend, None if backend in SIMULATOR_BACKENDS else num_qubits, n_wires)
    return instance
