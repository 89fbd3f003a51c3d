"""M3 readout mitigation of the measured distributions (offline, a fake backend's noise)."""
from __future__ import annotations

import warnings

import pytest
import torch

from qt_pennylane.circuit.engine import StatevectorEngine
from qt_pennylane.circuit.qiskit_sampler import SamplerSource
from qt_pennylane.devices.mitigation import calibration_size

pytestmark = pytest.mark.qiskit


@pytest.fixture(autouse=True)
def quiet_qiskit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _tvd(p, q) -> float:
    return 0.5 * float((p.double() - q.double()).abs().sum())


def test_mitigated_distributions_are_closer_to_the_exact_ones():
    """fake_manila's readout errors, 4 qubits, three random angle sets: M3 lowers the total variation distance."""
    raw = SamplerSource(4, reps=1, backend="fake_manila", shots=4000, seed=3, dtype=torch.float64)
    mitigated = SamplerSource(4, reps=1, backend="fake_manila", shots=4000, seed=3, dtype=torch.float64,
                              mitigate=True, calibration_shots=4000)
    engine = StatevectorEngine(4, 1)
    phis = torch.rand(3, *raw.phi.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 6.28
    exact = engine.batch_probabilities(phis)
    before = [_tvd(p, e) for p, e in zip(raw.batch_probabilities(phis), exact)]
    after = [_tvd(p, e) for p, e in zip(mitigated.batch_probabilities(phis), exact)]
    assert sum(after) < 0.85 * sum(before), (before, after)
    assert all(a < b for a, b in zip(after, before)), (before, after)


def test_calibration_runs_once_and_is_counted_as_estimated():
    source = SamplerSource(3, reps=0, backend="fake_manila", shots=100, seed=0, mitigate=True,
                           calibration_shots=1000)
    assert not source.mitigator.calibrated and "M3 readout mitigation" in source.description
    with torch.no_grad():
        first = source()
        source()
    assert source.mitigator.calibrated and len(source.mitigator.qubits) == 3
    expected = calibration_size(3, 1000)
    usage = source.usage
    assert {k: usage[f"calibration_{k}"] for k in expected} == expected  # counted from M3's own results
    assert usage["jobs"] == expected["jobs"] + 2 and usage["shots"] == expected["shots"] + 200
    assert float(first.sum()) == pytest.approx(1) and torch.all(first >= 0)


def test_calibration_size():
    assert calibration_size(8, 4000) == {"jobs": 1, "circuits": 16, "shots": 8000}
    assert calibration_size(5, 10_000) == {"jobs": 1, "circuits": 8, "shots": 20_000}
    with pytest.raises(ValueError, match=r"calibration_shots must be a positive int, got 0"):
        calibration_size(3, 0)
