"""Tests of qt_pennylane.devices: device names → PennyLane devices, shots, backends, credentials.

Nothing here contacts IBM: real-hardware paths run against a monkeypatched ``QiskitRuntimeService``.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import traceback
import warnings

import numpy as np
import pennylane as qml
import pytest
import torch

from helpers import run_notebook
from qt_pennylane import devices
from qt_pennylane.devices import ibm
from qt_pennylane.circuit.ansatz import angle_shape, efficient_su2
from qt_pennylane.devices import (
    DEFAULT_SHOTS,
    DEVICES,
    IBMCredentialsError,
    diff_method_for,
    effective_shots,
    is_analytic,
    make_device,
)

needs_qiskit = pytest.mark.qiskit  # the qiskit extra, which `make test` installs

FAKE_TOKEN = "FAKE-TOKEN-7f3a9c2e51b8d4"


def _probs(dev, phi, n_wires, entanglement="reverse_linear"):
    @qml.qnode(dev)
    def circuit(angles):
        efficient_su2(angles, wires=range(n_wires), entanglement=entanglement)
        return qml.probs(wires=range(n_wires))

    return np.asarray(circuit(phi), dtype=float)


def _phi(n_wires, reps=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 2 * np.pi, angle_shape(n_wires, reps))


def _assert_valid_probabilities(p, n_wires):
    assert p.shape == (2**n_wires,)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    assert abs(p.sum() - 1) < 1e-9


@pytest.fixture
def quiet_qiskit():
    """Silence third-party deprecation chatter (stevedore / qiskit-ibm-runtime plugins)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


# ----------------------------------------------------------------------------- registry and pure functions


def test_registry_names():
    assert {"default.qubit", "lightning.qubit", "lightning.gpu", "lightning.kokkos", "qiskit.aer",
            "qiskit.basicsim", "qiskit.remote", "qiskit.ibmq"} <= set(DEVICES)
    assert DEVICES["qiskit.ibmq"].alias_of == "qiskit.remote"
    assert devices.canonical_name("qiskit.ibmq") == "qiskit.remote"


@pytest.mark.parametrize(
    "name, shots, analytic, method",
    [
        ("default.qubit", None, True, "backprop"),
        ("default.qubit", 100, False, "parameter-shift"),
        ("lightning.qubit", None, True, "parameter-shift"),
        ("lightning.qubit", 100, False, "parameter-shift"),
        ("lightning.gpu", None, True, "parameter-shift"),
        ("qiskit.aer", None, True, "parameter-shift"),
        ("qiskit.aer", 100, False, "parameter-shift"),
        ("qiskit.basicsim", None, False, "parameter-shift"),
        ("qiskit.remote", None, False, "parameter-shift"),
        ("qiskit.remote", 4096, False, "parameter-shift"),
        ("qiskit.ibmq", None, False, "parameter-shift"),
    ],
)
def test_is_analytic_and_diff_method(name, shots, analytic, method):
    assert is_analytic(name, shots) is analytic
    assert diff_method_for(name, shots) == method


def test_effective_shots():
    assert effective_shots("default.qubit") is None
    assert effective_shots("qiskit.aer") is None
    assert effective_shots("qiskit.aer", noise_backend="fake_manila") == DEFAULT_SHOTS
    assert not is_analytic("qiskit.aer", noise_backend="fake_manila")
    assert effective_shots("qiskit.remote") == DEFAULT_SHOTS == 1024
    assert effective_shots("qiskit.basicsim", 7) == 7


@pytest.mark.parametrize("func", [is_analytic, diff_method_for, effective_shots])
def test_unknown_name_lists_valid_ones(func):
    with pytest.raises(ValueError, match=r"device='qiskit\.nope' is not a known device; expected one of .*default\.qubit"):
        func("qiskit.nope")


@pytest.mark.parametrize("shots", [0, -5, 1.5, 100.0, True, "100"])
def test_bad_shots(shots):
    with pytest.raises(ValueError, match=rf"shots must be None \(exact\) or a positive int <= 2\*\*40, got {shots!r}"):
        is_analytic("default.qubit", shots)
    with pytest.raises(ValueError, match="shots must be"):
        make_device("default.qubit", 2, shots=shots)


@pytest.mark.parametrize("n_wires", [0, -1, 2.0, None])
def test_bad_n_wires(n_wires):
    with pytest.raises(ValueError, match=rf"n_wires must be a positive int, got {n_wires!r}"):
        make_device("default.qubit", n_wires)


def test_make_device_unknown_name():
    with pytest.raises(ValueError, match=r"device='default\.qbit' is not a known device; expected one of \[.*'lightning\.qubit'"):
        make_device("default.qbit", 2)


def test_backend_only_for_remote():
    with pytest.raises(ValueError, match=r"backend='fake_manila' is only used by devices 'qiskit\.remote'.*device='default\.qubit'"):
        make_device("default.qubit", 2, backend="fake_manila")
    with pytest.raises(ValueError, match="pass noise_backend="):
        make_device("qiskit.aer", 2, backend="fake_manila")
    with pytest.raises(ValueError, match=r"noise_backend='fake_manila' is only used by device 'qiskit\.aer'"):
        make_device("lightning.qubit", 2, noise_backend="fake_manila")


def test_import_is_lazy():
    code = (
        "import sys, qt_pennylane, qt_pennylane.devices as d\n"
        "d.make_device('default.qubit', 2)\n"
        "d.is_analytic('qiskit.remote'); d.diff_method_for('qiskit.aer')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'qiskit', 'qiskit_aer', 'qiskit_ibm_runtime', 'pennylane_qiskit'})\n"
        "assert 'qiskit' not in sys.modules, bad\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- simulators


@needs_qiskit
def test_same_probabilities_on_exact_simulators(quiet_qiskit):
    n_wires = 4
    phi = _phi(n_wires, reps=2, seed=3)
    reference = _probs(make_device("default.qubit", n_wires), phi, n_wires)
    _assert_valid_probabilities(reference, n_wires)
    for name in ("lightning.qubit", "qiskit.aer"):
        assert is_analytic(name)
        p = _probs(make_device(name, n_wires), phi, n_wires)
        np.testing.assert_allclose(p, reference, atol=1e-6, err_msg=name)
    # a non-default entanglement too
    reference = _probs(make_device("default.qubit", 3), _phi(3, 1, 4), 3, "full")
    np.testing.assert_allclose(_probs(make_device("qiskit.aer", 3), _phi(3, 1, 4), 3, "full"), reference, atol=1e-6)


def test_finite_shots_on_pennylane_simulators():
    phi = _phi(3, reps=1)
    for name in ("default.qubit", "lightning.qubit"):
        dev = make_device(name, 3, shots=200, seed=0)
        p = _probs(dev, phi, 3)
        _assert_valid_probabilities(p, 3)
        assert np.allclose(p * 200, np.round(p * 200))  # frequencies of 200 samples


@needs_qiskit
def test_qiskit_aer_shots_and_noise(quiet_qiskit, caplog):
    phi = _phi(3, reps=1)
    exact = _probs(make_device("default.qubit", 3), phi, 3)
    sampled = _probs(make_device("qiskit.aer", 3, shots=4000, seed=1), phi, 3)
    _assert_valid_probabilities(sampled, 3)
    assert 0.5 * np.abs(sampled - exact).sum() < 0.1
    with caplog.at_level(logging.INFO, logger="qt_pennylane.devices"):
        dev = make_device("qiskit.aer", 3, noise_backend="fake_manila", seed=1)
    assert "using shots=1024" in caplog.text
    noisy = _probs(dev, phi, 3)
    _assert_valid_probabilities(noisy, 3)
    assert np.allclose(noisy * 1024, np.round(noisy * 1024))


@needs_qiskit
def test_qiskit_basicsim_samples(quiet_qiskit):
    p = _probs(make_device("qiskit.basicsim", 3, seed=2), _phi(3, 1), 3)
    _assert_valid_probabilities(p, 3)
    assert np.allclose(p * DEFAULT_SHOTS, np.round(p * DEFAULT_SHOTS))


@needs_qiskit
def test_remote_fake_backend_gives_probabilities(quiet_qiskit):
    n_wires = 5
    dev = make_device("qiskit.remote", n_wires, backend="fake_manila", shots=512, seed=7)
    phi = _phi(n_wires, reps=1)
    p = _probs(dev, phi, n_wires)
    _assert_valid_probabilities(p, n_wires)
    assert np.allclose(p * 512, np.round(p * 512))
    exact = _probs(make_device("default.qubit", n_wires), phi, n_wires)
    assert 0.5 * np.abs(p - exact).sum() < 0.35  # noisy and sampled, but the same circuit
    # seeded: the same counts again
    again = _probs(make_device("qiskit.remote", n_wires, backend="FakeManilaV2", shots=512, seed=7), phi, n_wires)
    np.testing.assert_array_equal(p, again)


@needs_qiskit
def test_ibmq_alias_warns_and_works(quiet_qiskit):
    with pytest.warns(FutureWarning, match=r"'qiskit\.ibmq' is the old pennylane-qiskit name of 'qiskit\.remote'"):
        dev = make_device("qiskit.ibmq", 2, backend="fake_manila", shots=100)
    _assert_valid_probabilities(_probs(dev, _phi(2, 1), 2), 2)


@needs_qiskit
@pytest.mark.parametrize("name", ["fake_manila", "fake_manila_v2", "FakeManilaV2", "FakeManila", "Fake-Manila"])
def test_fake_backend_names(name):
    backend = devices.fake_backend(name)
    assert type(backend).__name__ == "FakeManilaV2" and backend.num_qubits == 5


@needs_qiskit
def test_list_fake_backends():
    names = devices.list_fake_backends()
    assert {"fake_manila", "fake_guadalupe", "fake_brisbane"} <= set(names)
    assert all(n.startswith("fake_") and n == n.lower() for n in names)


@needs_qiskit
def test_too_many_wires(quiet_qiskit):
    with pytest.raises(ValueError, match=r"Backend 'fake_manila' supports maximum 5 wires; the model needs 8"):
        make_device("qiskit.remote", 8, backend="fake_manila")
    with pytest.raises(ValueError, match=r"Backend 'fake_lima' supports maximum 5 wires; the model needs 6"):
        make_device("qiskit.aer", 6, noise_backend="fake_lima")


@needs_qiskit
def test_unknown_backend_lists_fake_ones():
    with pytest.raises(ValueError, match=r"backend='fake_nowhere' is not a known fake IBM backend; expected e\.g\. 'fake_manila'"):
        make_device("qiskit.remote", 2, backend="fake_nowhere")
    with pytest.raises(ValueError, match=r"backend='fake_atlantis' is not a known fake IBM backend"):
        make_device("qiskit.aer", 2, noise_backend="fake_atlantis")


def test_remote_needs_backend():
    with pytest.raises(ValueError, match=r"backend must be given for device 'qiskit\.remote'.*'fake_manila'.*'ibm_brisbane'"):
        make_device("qiskit.remote", 2)
    with pytest.raises(ValueError, match=r"backend must be a fake IBM backend .* got 5"):
        make_device("qiskit.remote", 2, backend=5)


def test_missing_qiskit_plugin_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pennylane_qiskit", None)  # makes `import pennylane_qiskit` fail
    with pytest.raises(ImportError, match=r"pip install 'qt_pennylane\[qiskit\]'"):
        make_device("qiskit.aer", 2)


@pytest.mark.parametrize("name, package", [("lightning.gpu", "pennylane-lightning-gpu"), ("lightning.kokkos", "pennylane-lightning-kokkos")])
def test_missing_lightning_plugin(name, package):
    try:
        make_device(name, 2)
    except ImportError as exc:
        assert f"device '{name}' needs a PennyLane plugin that is not installed: pip install {package}" in str(exc)
    else:  # the plugin is installed here: then it must be a working device
        assert is_analytic(name)


# ----------------------------------------------------------------------------- real IBM hardware (mocked)


@pytest.fixture
def no_ibm_env(monkeypatch):
    for var in (ibm.TOKEN_ENV, ibm.INSTANCE_ENV, ibm.CHANNEL_ENV):
        monkeypatch.delenv(var, raising=False)


def _assert_no_token(exc: BaseException, *texts: str):
    assert exc.__cause__ is None and exc.__context__ is None, "the token-carrying exception must not be chained"
    rendered = "".join(traceback.format_exception(exc))
    for text in (str(exc), repr(exc), rendered, *texts):
        assert FAKE_TOKEN not in text


@needs_qiskit
def test_no_credentials_explains_both_ways(monkeypatch, no_ibm_env):
    import qiskit_ibm_runtime
    from qiskit_ibm_runtime.accounts import AccountNotFoundError

    def no_account(**kwargs):
        assert "token" not in kwargs
        raise AccountNotFoundError("Unable to find account.")

    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", no_account)
    with pytest.raises(IBMCredentialsError, match=r"no IBM Quantum credentials.*backend='ibm_brisbane'") as info:
        make_device("qiskit.remote", 5, backend="ibm_brisbane", shots=100)
    message = str(info.value)
    assert "QISKIT_IBM_TOKEN" in message and "QISKIT_IBM_INSTANCE" in message and "save_account" in message


@needs_qiskit
def test_failed_service_never_shows_the_token(monkeypatch, no_ibm_env, caplog):
    import qiskit_ibm_runtime

    seen = {}

    def failing_service(**kwargs):
        seen.update(kwargs)
        raise RuntimeError(f"401 Unauthorized: invalid token {kwargs['token']!r} (token={kwargs['token']})")

    monkeypatch.setenv("QISKIT_IBM_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "crn:fake-instance")
    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", failing_service)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(IBMCredentialsError, match=r"could not connect to IBM Quantum with the token in QISKIT_IBM_TOKEN") as info:
            make_device("qiskit.remote", 5, backend="ibm_brisbane", shots=100)
    assert seen == {"token": FAKE_TOKEN, "channel": "ibm_quantum_platform", "instance": "crn:fake-instance"}
    assert "401 Unauthorized" in str(info.value) and "***" in str(info.value)
    _assert_no_token(info.value, caplog.text)


@needs_qiskit
def test_failed_backend_lookup_never_shows_the_token(monkeypatch, no_ibm_env):
    import qiskit_ibm_runtime
    from qiskit.providers.exceptions import QiskitBackendNotFoundError

    class Service:
        def __init__(self, **kwargs):
            self.token = kwargs["token"]

        def backend(self, name):
            raise QiskitBackendNotFoundError(f"No backend matches {name} for account {self.token}")

    monkeypatch.setenv("QISKIT_IBM_TOKEN", FAKE_TOKEN)
    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", Service)
    with pytest.raises(ValueError, match=r"backend='ibm_nowhere' is not available to this IBM Quantum account") as info:
        make_device("qiskit.remote", 2, backend="ibm_nowhere")
    _assert_no_token(info.value)


@needs_qiskit
def test_hardware_path_with_mocked_service(monkeypatch, no_ibm_env, quiet_qiskit):
    """A 'real' backend served by a mocked service: size check, shots default, token nowhere in the device."""
    import qiskit_ibm_runtime
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    class Service:
        def __init__(self, **kwargs):
            self._kwargs = kwargs

        def backend(self, name):
            return FakeManilaV2()

    monkeypatch.setenv("QISKIT_IBM_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("QISKIT_IBM_CHANNEL", "ibm_cloud")
    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", Service)
    with pytest.raises(ValueError, match=r"Backend 'ibm_fakeville' supports maximum 5 wires; the model needs 7"):
        make_device("qiskit.remote", 7, backend="ibm_fakeville")
    dev = make_device("qiskit.remote", 3, backend="ibm_fakeville")
    assert dev.shots.total_shots == DEFAULT_SHOTS
    assert FAKE_TOKEN not in repr(dev) and FAKE_TOKEN not in str(dev)
    _assert_valid_probabilities(_probs(dev, _phi(3, 1), 3), 3)


# ----------------------------------------------------------------------------- with the generator


@needs_qiskit
@pytest.mark.parametrize("name", ["qiskit.remote", "qiskit.ibmq"])
def test_generator_on_fake_backend(name, quiet_qiskit):
    from qt_pennylane import QuantumWeightGenerator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the alias notice, tested above
        gen = QuantumWeightGenerator(20, device=name, backend="fake_manila", shots=256, seed=0)
    assert gen.n_qubits == 5 and "qnode on device 'qiskit.remote' (backend 'fake_manila')" in gen.source.description
    with torch.no_grad():
        theta = gen()
    assert theta.shape == (20,) and torch.isfinite(theta).all()
    p = gen.probabilities().detach().numpy()
    _assert_valid_probabilities(p, 5)


@needs_qiskit
def test_generator_gradient_on_fake_backend(quiet_qiskit):
    """Parameter-shift through qiskit.remote: 2 · 6 + 1 circuits for a 3-qubit, reps=0 circuit."""
    from qt_pennylane import QuantumWeightGenerator

    gen = QuantumWeightGenerator(8, reps=0, device="qiskit.remote", backend="fake_manila", shots=256, seed=0)
    (gen() ** 2).sum().backward()
    assert gen.phi.grad is not None and torch.isfinite(gen.phi.grad).all() and gen.phi.grad.abs().sum() > 0


@needs_qiskit
def test_paper_schedule_on_fake_backend(tiny_mlp, quiet_qiskit, monkeypatch):
    from torch.utils.data import TensorDataset

    from qt_pennylane import QuantumTrainModel
    from qt_pennylane.training import schedule as optim_module
    from qt_pennylane.training.schedule import paper_schedule

    sent = []  # every angle vector the schedule sends to the backend
    real = optim_module._Objective.__call__

    def recording(self, vector):
        sent.append(vector.copy())
        return real(self, vector)

    monkeypatch.setattr(optim_module._Objective, "__call__", recording)

    # reps=0: 10 angles, so COBYLA's first simplex (n + 1 = 11 evaluations) keeps this quick
    model = QuantumTrainModel(tiny_mlp, generate="all", scale="none", mapping="paper", reps=0, device="qiskit.remote",
                              backend="fake_manila", shots=256, seed=0)
    assert model.generator.n_qubits == 5 and model.generator.phi.numel() == 10
    x = torch.randn(16, 3)
    data = TensorDataset(x, (x[:, 0] > 0).long())
    before = model.generator.phi.detach().clone()
    history = paper_schedule(model, data, data, periods=1, phi_iters=1, gamma_iters=1, progress=False)
    assert len(history) == 1 and np.isfinite(history[0]["loss"])
    assert history[0]["phi_evaluations"] == 12 and history[0]["gamma_evaluations"] >= 1
    # COBYLA keeps the start when no noisy evaluation beats it, so check what it asked the backend for
    angles = sent[:12]
    assert len({tuple(v) for v in angles}) == 12 and np.allclose(angles[0], before.reshape(-1).double().numpy())


# ----------------------------------------------------------------------------- the devices notebook

@needs_qiskit
@pytest.mark.notebook
def test_devices_notebook_runs_in_quick_mode(monkeypatch):
    text = run_notebook("devices.ipynb", monkeypatch)
    assert "QUICK=True" in text and "fake_manila, 1024 shots" in text and "supports maximum 5 wires" in text
    assert "'period': 1" in text
