import pytest
import torch

from qt_pennylane import QuantumWeightGenerator


def test_default_dtype_is_float32():
    gen = QuantumWeightGenerator(10, seed=0)
    assert gen.phi.dtype == torch.float32 and gen().dtype == torch.float32


def test_sizes_and_shapes():
    gen = QuantumWeightGenerator(131, reps=1, seed=0)
    assert gen.n_qubits == 8 and gen.phi.shape == (2, 2, 8)
    probs = gen.probabilities()
    assert probs.shape == (256,) and torch.isclose(probs.sum(), torch.tensor(1.0, dtype=probs.dtype))
    assert gen().shape == (131,)
    assert sum(p.numel() for p in gen.parameters()) == 33


def test_small_n_params_use_one_qubit():
    gen = QuantumWeightGenerator(1, reps=0, seed=0)
    assert gen.n_qubits == 1 and gen().shape == (1,)


def test_engine_and_qnode_agree_and_both_differentiate():
    fast = QuantumWeightGenerator(20, reps=2, seed=4, engine="engine", dtype=torch.float64)
    slow = QuantumWeightGenerator(20, reps=2, seed=4, engine="qnode", dtype=torch.float64)
    assert fast.uses_engine and not slow.uses_engine
    assert torch.allclose(fast(), slow(), atol=1e-10)
    fast().square().sum().backward()
    slow().square().sum().backward()
    assert torch.allclose(fast.phi.grad, slow.phi.grad, atol=1e-8)
    assert torch.allclose(fast.mapping.log_gamma.grad, slow.mapping.log_gamma.grad, atol=1e-8)


def test_auto_picks_engine_on_statevector_simulators_with_or_without_shots():
    assert QuantumWeightGenerator(8, device="default.qubit").uses_engine
    assert QuantumWeightGenerator(8, device="lightning.qubit").uses_engine
    sampled = QuantumWeightGenerator(8, device="default.qubit", shots=100)
    assert sampled.uses_engine and sampled.sampler.shots == 100 and sampled.sampler.noise == "fresh"
    device_sampled = QuantumWeightGenerator(8, device="default.qubit", shots=100, engine="qnode")
    assert not device_sampled.uses_engine and device_sampled.sampler is None
    assert not QuantumWeightGenerator(8, device="qiskit.basicsim", shots=100).uses_engine


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
        (dict(n_params=10, engine="gpu"), r"engine='gpu'"),
        (dict(n_params=10, dtype=torch.float16), r"dtype must be"),
        (dict(n_params=10, mapping="nope"), r"mapping='nope'"),
        (dict(n_params=10, entanglement="ring"), r"entanglement='ring'"),
        (dict(n_params=10, device="qiskit.basicsim", engine="engine"), r"engine='engine' needs a noiseless statevector simulator; device='qiskit.basicsim'"),
        (dict(n_params=10, shots=100, shot_noise="frozen"), r"shot_noise='frozen' is not known"),
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
    gen = QuantumWeightGenerator(6, reps=1, seed=3, shots=1000, engine="qnode")
    assert not gen.uses_engine and gen.shots == 1000
    gen().sum().backward()
    assert torch.isfinite(gen.phi.grad).all() and gen.phi.grad.abs().sum() > 0
