"""SamplerSource: the EfficientSU2 circuit through Qiskit's SamplerV2, one job per optimizer step.

Offline only: fake backends (with their noise) and Aer. Nothing here contacts IBM.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from qt_pennylane import QuantumTrainModel
from qt_pennylane.circuit.engine import StatevectorEngine
from qt_pennylane.circuit.qiskit_sampler import SamplerSource, _frequencies, efficient_su2_circuit
from qt_pennylane.devices.modes import EXECUTION_MODES, Executor, Usage, check_mode

pytestmark = pytest.mark.qiskit


@pytest.fixture(autouse=True)
def quiet_qiskit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _tvd(p, q) -> float:
    return 0.5 * float((torch.as_tensor(p, dtype=torch.float64) - torch.as_tensor(q, dtype=torch.float64)).abs().sum())


def test_bit_order_and_parameter_order_match_the_engine():
    """Many shots on the noiseless Aer simulator: the same distribution as the engine (PennyLane order)."""
    source = SamplerSource(3, reps=2, backend="aer_simulator", shots=100_000, seed=1, dtype=torch.float64,
                           entanglement="linear")
    with torch.no_grad():
        measured = source()
    exact = StatevectorEngine(3, 2, "linear").probabilities(source.phi.detach())
    assert _tvd(measured, exact) < 0.01
    reversed_order = exact.reshape(2, 2, 2).permute(2, 1, 0).reshape(-1)  # Qiskit's little-endian order
    assert _tvd(measured, reversed_order) > 0.05  # so the check above can tell the two orders apart


def test_gradient_is_the_engine_gradient_and_costs_one_job():
    source = SamplerSource(3, reps=1, backend="aer_simulator", shots=20_000, seed=2, dtype=torch.float64)
    weights = torch.randn(8, dtype=torch.float64)
    (source() @ weights).backward()
    assert source.usage["jobs"] == 1 and source.usage["circuits"] == 1 + 2 * 9 == source.circuits_per("gradient")
    assert source.usage["shots"] == 19 * 20_000
    phi = source.phi.detach().clone().requires_grad_(True)
    (StatevectorEngine(3, 1).probabilities(phi) @ weights).backward()
    assert torch.allclose(source.phi.grad, phi.grad, atol=0.03)  # about 6 standard deviations of the shot noise
    assert torch.all(source.phi.grad[-1, 1] == 0)  # the final RZ layer: never shifted, exactly zero


def test_evaluation_without_gradient_is_one_circuit(tmp_path):
    source = SamplerSource(2, reps=0, backend="fake_manila", shots=64, seed=0)
    with torch.no_grad():
        p = source()
    assert p.shape == (4,) and p.dtype == torch.float32 and float(p.sum()) == pytest.approx(1)
    assert torch.all(p * 64 == torch.round(p * 64))  # frequencies of 64 shots
    assert source.usage == {"jobs": 1, "circuits": 1, "shots": 64, "calibration_jobs": 0, "calibration_circuits": 0,
                            "calibration_shots": 0}


def test_seeded_sources_repeat_their_samples_and_jobs_draw_fresh_noise():
    first, second = (SamplerSource(3, reps=1, backend="fake_manila", shots=128, seed=5) for _ in range(2))
    with torch.no_grad():
        a, b = first(), second()
        again = first()
    assert torch.equal(a, b) and torch.equal(first.phi, second.phi)
    assert not torch.equal(a, again)  # the same angles, a new job: new shot noise, as on hardware


def test_prefetch_sends_several_angle_sets_as_one_job():
    source = SamplerSource(3, reps=1, backend="fake_manila", shots=128, seed=0)
    phis = torch.stack([source.phi.detach(), source.phi.detach() + 0.3])
    with torch.no_grad(), source.prefetch(phis):
        inside = source()
        with torch.no_grad():
            source.phi.add_(0.3)
        shifted = source()
    assert source.usage["jobs"] == 1 and source.usage["circuits"] == 2
    assert not torch.equal(inside, shifted)
    with torch.no_grad():
        source()
    assert source.usage["jobs"] == 2  # outside the block the source submits again


def test_batch_probabilities_checks_its_shape():
    source = SamplerSource(2, reps=0, backend="fake_manila", shots=32, seed=0)
    with pytest.raises(ValueError, match=r"phis must have shape \(batch, \*\(1, 2, 2\)\), got \(1, 2, 2\)"):
        source.batch_probabilities(source.phi.detach())
    assert source.batch_probabilities(source.phi.detach()[None].repeat(3, 1, 1, 1)).shape == (3, 4)


@pytest.mark.parametrize("mode", ["job", "batch", "session"])
def test_every_execution_mode_runs_on_a_fake_backend(mode):
    source = SamplerSource(2, reps=0, backend="fake_manila", shots=32, mode=mode, seed=0)
    with torch.no_grad():
        source()
    assert source.usage["jobs"] == 1 and f"({mode} mode, 32 shots)" in source.description
    opened = source.executor._opened
    assert (opened is None) == (mode == "job")
    source.close()
    assert source.executor._opened is None


def test_a_batch_you_opened_is_used_as_it_is_and_left_open():
    from qiskit_ibm_runtime import Batch
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    batch = Batch(backend=FakeManilaV2())
    source = SamplerSource(2, reps=0, mode=batch, shots=32, seed=0)  # the backend comes from the batch
    with torch.no_grad():
        source()
    assert source.executor.runtime_mode is batch and source.usage["jobs"] == 1
    assert "fake_manila" in source.description and "(batch mode" in source.description
    source.close()
    assert source.executor._opened is batch  # yours: not closed
    with pytest.raises(ValueError, match=r"backend must be None or the backend of the batch given as mode"):
        SamplerSource(2, reps=0, backend=FakeManilaV2(), mode=batch)
    batch.close()


def test_a_model_trains_through_it_one_job_per_step(tiny_mlp):
    from torch.utils.data import TensorDataset

    from qt_pennylane import fit

    source = SamplerSource(5, reps=0, backend="aer_simulator", shots=64, mode="batch", seed=0)
    model = QuantumTrainModel(tiny_mlp, source=source, generate="all", scale="none", mapping="paper", seed=0)
    x = torch.randn(12, 3)
    before = source.phi.detach().clone()
    history = fit(model, TensorDataset(x, (x[:, 0] > 0).long()), epochs=2, eval_every=2, progress=False)
    assert len(history) == 1 and np.isfinite(history[0]["loss"]) and not torch.equal(source.phi, before)
    assert source.usage["jobs"] == 2 + 1  # two steps, one evaluation
    assert source.usage["circuits"] == 2 * (1 + 2 * 5) + 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(backend="fake_manila", mode="sessions"), r"mode must be one of \['batch', 'job', 'session'\], got 'sessions'"),
    (dict(backend="fake_manila", mode=3), r"mode must be one of .* or a qiskit_ibm_runtime Session or Batch, got 3"),
    (dict(backend=None), r"backend must be a backend name or object \(or a Session / Batch as mode\), got None"),
    (dict(backend=7), r"backend must be a backend name \('fake_manila', 'ibm_brisbane', \.\.\.\) or a Qiskit BackendV2, got 7"),
    (dict(backend="fake_manila", calibration_shots=100), r"calibration_shots must be None unless mitigate=True, got 100"),
    (dict(backend="fake_manila", mitigate="yes"), r"mitigate must be True or False, got 'yes'"),
    (dict(backend="fake_manila", mitigate=True, calibration_shots=0), r"calibration_shots must be a positive int, got 0"),
    (dict(backend="fake_manila", shots=0), r"shots must be None \(exact\) or a positive int"),
    (dict(backend="fake_manila", optimization_level=4), r"optimization_level must be an int >= 0 and <= 3, got 4"),
    (dict(backend="fake_nowhere"), r"backend='fake_nowhere' is not a known fake IBM backend"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SamplerSource(2, reps=0, **kwargs)


def test_too_few_qubits_on_the_backend():
    with pytest.raises(ValueError, match=r"Backend 'fake_manila' supports maximum 5 wires; the model needs 8"):
        SamplerSource(8, backend="fake_manila")


def test_default_shots_are_logged(caplog):
    with caplog.at_level("INFO", logger="qt_pennylane.circuit.qiskit_sampler"):
        source = SamplerSource(2, reps=0, backend="fake_manila")
    assert source.shots == 1024 and "using shots=1024" in caplog.text


def test_frequencies_of_packed_bit_strings():
    # two circuits, 3 shots each, 9 bits (two bytes, big-endian): values 0, 256 + 1, 511 and 5, 5, 2
    values = np.array([[0, 257, 511], [5, 5, 2]])
    packed = np.stack([values >> 8, values & 255], axis=-1).astype(np.uint8)
    rows = _frequencies(packed, 9, 3)
    assert rows.shape == (2, 512) and rows[0, 257] == pytest.approx(1 / 3) and rows[1, 5] == pytest.approx(2 / 3)
    assert np.allclose(rows.sum(axis=1), 1)


def test_the_circuit_measures_qubit_q_into_bit_n_minus_1_minus_q():
    circuit, parameters = efficient_su2_circuit(3, 1)
    measured = {circuit.find_bit(op.qubits[0]).index: circuit.find_bit(op.clbits[0]).index
                for op in circuit.data if op.operation.name == "measure"}
    assert measured == {0: 2, 1: 1, 2: 0} and len(parameters) == 12


def test_modes_and_usage():
    assert set(EXECUTION_MODES) == {"job", "batch", "session"} and check_mode("session") == "session"
    usage = Usage()
    usage.add(circuits=3, shots=300)
    usage.add(circuits=2, shots=200, jobs=2)
    assert usage.as_dict() == {"jobs": 3, "circuits": 5, "shots": 500}
    with pytest.raises(ValueError, match=r"backend must be a Qiskit backend .* got None"):
        Executor(None, "job")
