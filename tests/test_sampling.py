"""Tests of qt_pennylane.sampling: shot sampling of exact probabilities and its parameter-shift gradient."""
import pytest
import torch

from qt_pennylane import QuantumWeightGenerator
from qt_pennylane.circuit.engine import StatevectorEngine
from qt_pennylane.circuit.sampling import ShotSampler, random_states, restore_random_states, sampled_probabilities

PROBS = torch.tensor([0.5, 0.3, 0.2, 0.0], dtype=torch.float64)


def test_frequencies_are_counts_over_shots_and_never_hit_impossible_outcomes():
    freq = ShotSampler(999, seed=0)(PROBS)
    assert freq.dtype == PROBS.dtype and freq.shape == PROBS.shape
    assert torch.isclose(freq.sum(), torch.tensor(1.0, dtype=torch.float64)) and freq[3] == 0
    assert torch.allclose(freq * 999, (freq * 999).round())


def test_fresh_noise_is_unbiased_and_shrinks_like_one_over_root_shots():
    sampler = ShotSampler(400, seed=1)
    draws = torch.stack([sampler(PROBS) for _ in range(500)])
    assert not torch.equal(draws[0], draws[1])
    assert torch.allclose(draws.mean(0), PROBS, atol=0.005)
    expected_std = (PROBS * (1 - PROBS) / 400).sqrt()  # multinomial
    assert torch.allclose(draws.std(0), expected_std, rtol=0.15, atol=1e-12)


def test_fixed_noise_replays_the_same_random_numbers():
    sampler = ShotSampler(1000, noise="fixed", seed=2)
    first = sampler(PROBS)
    assert torch.equal(first, sampler(PROBS))
    moved = sampler(torch.tensor([0.3, 0.5, 0.2, 0.0], dtype=torch.float64))
    assert not torch.equal(first, moved)  # a deterministic function of the probabilities
    assert not torch.equal(first, ShotSampler(1000, noise="fixed", seed=3)(PROBS))


@pytest.mark.parametrize("noise", ["fresh", "fixed"])
def test_a_batch_is_sampled_as_one_call_per_row_in_order(noise):
    rows = torch.softmax(torch.randn(6, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)), dim=-1)
    batched, per_row = ShotSampler(300, noise=noise, seed=5), ShotSampler(300, noise=noise, seed=5)
    batch = batched(rows.reshape(2, 3, 16))
    assert batch.shape == (2, 3, 16) and torch.allclose(batch.sum(-1), torch.ones(2, 3, dtype=torch.float64))
    assert torch.equal(batch.reshape(6, 16), torch.stack([per_row(row) for row in rows]))
    assert batched.random_state() == per_row.random_state()


def test_random_states_round_trip_and_stay_out_of_the_state_dict():
    model = torch.nn.Sequential(ShotSampler(100, seed=4))
    model(PROBS)
    states = random_states(model)
    expected = [model(PROBS) for _ in range(3)]
    other = torch.nn.Sequential(ShotSampler(100, seed=99))
    restore_random_states(other, states)
    assert all(torch.equal(a, other(PROBS)) for a in expected)
    assert list(states) == ["0"] and model.state_dict() == {}


def test_trained_angles_move_between_exact_and_sampled_generators():
    exact = QuantumWeightGenerator(6, reps=1, seed=3)
    sampled = QuantumWeightGenerator(6, reps=1, seed=8, shots=100)
    sampled.load_state_dict(exact.state_dict())
    assert torch.equal(sampled.phi, exact.phi)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(shots=0), r"shots must be a positive int, got shots=0"),
        (dict(shots=1.5), r"shots=1.5"),
        (dict(shots=10, noise="frozen"), r"shot_noise='frozen' is not known"),
        (dict(shots=10, seed="a"), r"seed must be an int or None, got seed='a'"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ShotSampler(**kwargs)


def test_parameter_shift_gradient_is_unbiased():
    engine = StatevectorEngine(3, 1)
    phi = torch.rand(2, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 6
    weights = torch.randn(8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    exact_phi = phi.clone().requires_grad_()
    (engine.probabilities(exact_phi) @ weights).backward()
    sampler = ShotSampler(4000, seed=5)
    estimates = []
    for _ in range(30):
        sampled_phi = phi.clone().requires_grad_()
        (sampled_probabilities(sampled_phi, engine.probabilities, sampler) @ weights).backward()
        estimates.append(sampled_phi.grad)
    estimates = torch.stack(estimates)
    assert torch.all(estimates[:, 1, 1] == 0)  # the last RZ layer cannot change probabilities
    assert (estimates.mean(0) - exact_phi.grad).abs().max() < 0.02
    assert estimates.std(0).max() > 0  # really sampled


@pytest.mark.parametrize("chunk_amplitudes", [2**22, 64])
@pytest.mark.parametrize("noise", ["fresh", "fixed"])
def test_batched_shifted_circuits_give_the_same_samples_and_gradient(noise, chunk_amplitudes, monkeypatch):
    import qt_pennylane.circuit.sampling as sampling

    monkeypatch.setattr(sampling, "CHUNK_AMPLITUDES", chunk_amplitudes)  # 64: two circuits per batch
    engine = StatevectorEngine(5, 2)
    phi = torch.rand(3, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 6
    weights = torch.randn(32, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    batches = []

    def one_call_per_row(phis):  # a batch function whose rows are exactly the unbatched ones
        batches.append(len(phis))
        return torch.stack([engine.probabilities(p) for p in phis])

    grads, streams = [], []
    for batch in (None, one_call_per_row):
        sampler, angles = ShotSampler(500, noise=noise, seed=7), phi.clone().requires_grad_()
        (sampled_probabilities(angles, engine.probabilities, sampler, batch) @ weights).backward()
        grads.append(angles.grad)
        streams.append(sampler.random_state()["rng"])
    assert torch.equal(grads[0], grads[1]) and grads[0].abs().sum() > 0
    assert streams[0] == streams[1]  # the shifted circuits drew from the stream in the same order
    shifted = 2 * (2 * 2 * 5 + 5)  # two circuits per angle, all but the final RZ layer
    assert sum(batches) == shifted and max(batches) == min(shifted, chunk_amplitudes // 32)


def test_generator_with_shots_on_the_engine_trains_with_gradients():
    gen = QuantumWeightGenerator(6, reps=1, seed=3, shots=1000)
    assert gen.source.description == "engine (1000 shots, fresh noise)"
    gen().sum().backward()
    assert torch.isfinite(gen.phi.grad).all() and gen.phi.grad.abs().sum() > 0


def test_engine_samples_match_the_device_samples_in_distribution():
    engine = QuantumWeightGenerator(6, reps=1, seed=3, shots=2000, dtype=torch.float64)
    device = QuantumWeightGenerator(6, reps=1, seed=3, shots=2000, dtype=torch.float64, engine="qnode")
    a = torch.stack([engine.probabilities().detach() for _ in range(30)]).mean(0)
    b = torch.stack([device.probabilities().detach() for _ in range(30)]).mean(0)
    assert (a - b).abs().max() < 0.01


def test_shots_speed_benchmark_quick_mode_writes_results(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "shots_speed.py"
    done = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "shots_speed_quick.json").read_text())["rows"]
    assert [(r["n_qubits"], r["measure"]) for r in rows] == [(8, "forward"), (8, "forward_backward")]
    for row in rows:
        assert row["engine_s"] > 0 and row["speedup"] == row["qnode_default_qubit_s"] / row["engine_s"]
