import logging

import pytest
import torch

from qt_pennylane import QuantumWeightGenerator
from qt_pennylane.circuit.sources import EngineSource, QNodeSource


def test_default_dtype_is_float32():
    gen = QuantumWeightGenerator(10, seed=0)
    assert gen.phi.dtype == torch.float32 and gen().dtype == torch.float32


def test_sizes_and_shapes():
    gen = QuantumWeightGenerator(131, reps=1, mapping="paper", seed=0)
    assert gen.n_qubits == 8 and gen.phi.shape == (2, 2, 8)
    probs = gen.probabilities()
    assert probs.shape == (256,) and torch.isclose(probs.sum(), torch.tensor(1.0, dtype=probs.dtype))
    assert gen().shape == (131,)
    assert sum(p.numel() for p in gen.parameters()) == 33


def test_small_n_params_use_one_qubit():
    gen = QuantumWeightGenerator(1, reps=0, seed=0)
    weights = gen()
    assert gen.n_qubits == 1 and weights.shape == (1,) and torch.isfinite(weights).all()


def test_engine_and_qnode_agree_and_both_differentiate():
    fast = QuantumWeightGenerator(20, reps=2, seed=4, mapping="paper", engine="engine", dtype=torch.float64)
    slow = QuantumWeightGenerator(20, reps=2, seed=4, mapping="paper", engine="qnode", dtype=torch.float64)
    assert isinstance(fast.source, EngineSource) and isinstance(slow.source, QNodeSource)
    assert torch.allclose(fast(), slow(), atol=1e-10)
    fast().square().sum().backward()
    slow().square().sum().backward()
    assert torch.allclose(fast.phi.grad, slow.phi.grad, atol=1e-8)
    assert torch.allclose(fast.mapping.log_gamma.grad, slow.mapping.log_gamma.grad, atol=1e-8)


def test_auto_picks_engine_on_statevector_simulators_and_says_so(caplog):
    assert QuantumWeightGenerator(8).source.description == "engine (exact statevector)"
    with caplog.at_level(logging.INFO, logger="qt_pennylane.circuit.sources"):
        lightning = QuantumWeightGenerator(8, device="lightning.qubit")
    assert lightning.source.description == "engine (exact statevector) standing in for device 'lightning.qubit'"
    assert "device 'lightning.qubit' is a noiseless statevector simulator: the fast engine" in caplog.text
    assert "standing in for device 'lightning.qubit'" in repr(lightning)
    sampled = QuantumWeightGenerator(8, device="default.qubit", shots=100)
    assert isinstance(sampled.source, EngineSource) and sampled.source.sampler.shots == 100
    assert sampled.source.sampler.noise == "fresh" and sampled.describe()["shots"] == 100
    device_sampled = QuantumWeightGenerator(8, device="default.qubit", shots=100, engine="qnode")
    assert isinstance(device_sampled.source, QNodeSource) and device_sampled.shots == 100
    assert device_sampled.source.description == "qnode on device 'default.qubit' (parameter-shift)"
    assert isinstance(QuantumWeightGenerator(8, device="qiskit.basicsim", shots=100).source, QNodeSource)


def test_seed_reproduces_and_differs():
    a, b, c = (QuantumWeightGenerator(30, reps=1, seed=s) for s in (5, 5, 6))
    assert torch.equal(a.phi, b.phi) and torch.equal(a(), b())
    assert not torch.equal(a.phi, c.phi)


def test_lightning_qnode_with_parameter_shift_gives_gradients():
    gen = QuantumWeightGenerator(6, reps=1, device="lightning.qubit", engine="qnode", seed=0, dtype=torch.float64)
    reference = QuantumWeightGenerator(6, reps=1, engine="engine", seed=0, dtype=torch.float64)
    gen().sum().backward()
    reference().sum().backward()
    assert torch.allclose(gen.phi.grad, reference.phi.grad, atol=1e-6)


def test_float32_generation():
    gen = QuantumWeightGenerator(40, reps=2, seed=0, dtype=torch.float32)
    reference = QuantumWeightGenerator(40, reps=2, seed=0, dtype=torch.float64)
    assert gen().dtype == torch.float32
    assert torch.allclose(gen().double(), reference(), atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_params=0), r"n_params must be a positive int, got 0"),
        (dict(n_params=10, reps=-1), r"reps must be a non-negative int, got -1"),
        (dict(n_params=10, engine="gpu"), r"engine must be one of \['auto', 'engine', 'qnode'\], got 'gpu'"),
        (dict(n_params=10, dtype=torch.float16), r"dtype must be"),
        (dict(n_params=10, mapping="nope"), r"mapping must be one of \['batched', 'learned', 'mps', 'paper'\], got 'nope'"),
        (dict(n_params=10, entanglement="ring"), r"entanglement must be one of .*got 'ring'"),
        (dict(n_params=10, device="qiskit.basicsim", engine="engine"), r"engine='engine' needs EfficientSU2 on a named noiseless statevector simulator; device='qiskit.basicsim'"),
        (dict(n_params=10, shots=100, shot_noise="frozen"), r"shot_noise must be one of \['fixed', 'fresh'\], got 'frozen'"),
        (dict(n_params=10, seed=-1), r"seed must be an int >= 0 and <= 9223372036854775807 or None, got -1"),
        (dict(n_params=10, seed=1.5), r"seed must be .* got 1.5"),
        (dict(n_params=10, mapping_options=[1]), r"mapping_options must be a dict of the mapping's keyword options, got \[1\]"),
        (dict(n_params=10, mapping="learned", mapping_options={"hidden": 16}), r"hidden must be a sequence of positive ints, got 16"),
        (dict(n_params=10, mapping_options={"gamma": float("inf")}), r"gamma must be a finite number > 0, got inf"),
        (dict(n_params=10, mapping_options={"depth": 2}), r"mapping_options \['depth'\] are not options of mapping='learned'"),
        (dict(n_params=10, backend="nonsense"), r"backend must be None unless a device that uses it is named"),
        (dict(n_params=10, device="qiskit.remote", backend="nonsense"), r"backend must be a fake IBM backend .*got 'nonsense'"),
        (dict(n_params=10, device="default.qubit", backend="fake_manila"), r"backend='fake_manila' is only used by devices 'qiskit.remote'"),
        (dict(n_params=10, shot_noise="fixed"), r"shot_noise='fixed' needs shots sampled by the engine.*shots=None"),
        (dict(n_params=10, shots=100, engine="qnode", shot_noise="fixed"), r"shot_noise='fixed' needs.*engine='qnode'"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QuantumWeightGenerator(**kwargs)


def test_repr_shows_sizes_not_state():
    text = repr(QuantumWeightGenerator(131, reps=1, seed=0))
    assert "n_qubits=8" in text and "reps=1" in text and "n_params=131" in text and "tensor" not in text


@pytest.mark.parametrize("engine", ["auto", "qnode"])
def test_shots_give_valid_probabilities_whose_mean_converges_to_the_exact_ones(engine):
    exact = QuantumWeightGenerator(6, reps=1, seed=3, dtype=torch.float64).probabilities().detach()
    sampled = QuantumWeightGenerator(6, reps=1, seed=3, shots=500, dtype=torch.float64, engine=engine)
    draws = torch.stack([sampled.probabilities().detach() for _ in range(40)])
    assert torch.all(draws >= 0) and torch.allclose(draws.sum(1), torch.ones(40, dtype=torch.float64))
    assert torch.allclose(draws * 500, (draws * 500).round())  # frequencies of 500 samples
    error_one = (draws[0] - exact).abs().max()
    error_mean = (draws.mean(0) - exact).abs().max()
    assert error_mean < 0.02 and error_mean < error_one


def test_gradient_training_with_shots_on_the_device_uses_parameter_shift():
    """The device runs one circuit for the forward pass and two shifted circuits per angle for the backward pass,
    each sampled with the shots; the gradient they give matches the exact one within shot noise."""
    import pennylane as qml

    shots, repeats, n_angles = 20_000, 4, 2 * 3 * 2  # 6 weights: N = 3 qubits, reps = 1
    gen = QuantumWeightGenerator(6, reps=1, seed=3, shots=shots, engine="qnode", dtype=torch.float64)
    assert gen.source.description == "qnode on device 'default.qubit' (parameter-shift)" and gen.shots == shots
    exact = QuantumWeightGenerator(6, reps=1, seed=3, engine="engine", dtype=torch.float64)
    assert torch.equal(gen.phi, exact.phi)
    exact().sum().backward()
    grads = []
    with qml.Tracker(gen.source.resolved.value.device) as tracker:
        for _ in range(repeats):
            gen.zero_grad()
            gen().sum().backward()
            grads.append(gen.phi.grad.clone())
    assert tracker.totals["executions"] == repeats * (1 + 2 * n_angles)
    assert tracker.totals["shots"] == repeats * (1 + 2 * n_angles) * shots
    mean = torch.stack(grads).mean(0)
    # one gradient's shot noise is about 0.0015 per angle here (measured over 8 repeats); the largest component
    # is 0.19, so a wrong shift, sign or factor, or an exact gradient where shots were asked, fails
    assert torch.allclose(mean, exact.phi.grad, atol=0.006), (mean - exact.phi.grad).abs().max()
    assert not torch.allclose(grads[0], exact.phi.grad, atol=1e-4)  # sampled, not exact
