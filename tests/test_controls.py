"""Tests for qt_pennylane.baselines: non-quantum weight generators."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from qt_pennylane.controls import RandomSubspaceGenerator, SoftmaxPaperGenerator

# ---------------------------------------------------------------- RandomSubspaceGenerator


def test_shapes_and_trainable_count():
    gen = RandomSubspaceGenerator(131, n_trainable=32, seed=0)
    assert gen.n_params == 131 and gen.n_trainable == 32
    assert gen().shape == (131,) and gen().dtype == torch.float32
    assert gen.theta0.shape == (131,) and gen.projection.shape == (131, 32)
    assert [name for name, _ in gen.named_parameters()] == ["z"]
    assert sum(p.numel() for p in gen.parameters()) == 32
    assert "n_params=131, n_trainable=32" in repr(gen)


def test_theta_equals_theta0_at_init():
    gen = RandomSubspaceGenerator(50, n_trainable=7, seed=1)
    assert torch.count_nonzero(gen.z) == 0
    assert torch.equal(gen(), gen.theta0)


def test_projection_statistics():
    gen = RandomSubspaceGenerator(4000, n_trainable=25, seed=2, init_std=0.1)
    assert gen.projection.mean().item() == pytest.approx(0.0, abs=0.01)
    assert gen.projection.var().item() == pytest.approx(1 / 25, rel=0.05)
    assert gen.theta0.std().item() == pytest.approx(0.1, rel=0.05)


def test_gradient_flows_only_to_z():
    gen = RandomSubspaceGenerator(20, n_trainable=4, seed=0)
    weights = torch.randn(20)
    (gen() * weights).sum().backward()
    assert gen.z.grad is not None
    torch.testing.assert_close(gen.z.grad, gen.projection.T @ weights)
    assert not gen.theta0.requires_grad and gen.theta0.grad is None
    assert not gen.projection.requires_grad and gen.projection.grad is None


def test_gradcheck_float64():
    gen = RandomSubspaceGenerator(9, n_trainable=3, seed=0, dtype=torch.float64)

    def theta(z):
        return torch.addmv(gen.theta0, gen.projection, z)

    torch.testing.assert_close(theta(gen.z), gen())
    assert torch.autograd.gradcheck(theta, (torch.randn(3, dtype=torch.float64, requires_grad=True),))


def test_same_seed_same_projection():
    a = RandomSubspaceGenerator(30, n_trainable=5, seed=7)
    b = RandomSubspaceGenerator(30, n_trainable=5, seed=7)
    c = RandomSubspaceGenerator(30, n_trainable=5, seed=8)
    with_theta0 = RandomSubspaceGenerator(30, n_trainable=5, seed=7, theta0=torch.ones(30))
    assert torch.equal(a.projection, b.projection) and torch.equal(a.theta0, b.theta0)
    assert torch.equal(a.projection, with_theta0.projection)
    assert not torch.equal(a.projection, c.projection)


def test_seed_none_follows_global_rng():
    torch.manual_seed(3)
    a = RandomSubspaceGenerator(10, n_trainable=2)
    torch.manual_seed(3)
    b = RandomSubspaceGenerator(10, n_trainable=2)
    assert torch.equal(a.projection, b.projection)


def test_state_dict_round_trip():
    gen = RandomSubspaceGenerator(40, n_trainable=6, seed=0)
    with torch.no_grad():
        gen.z.normal_()
    other = RandomSubspaceGenerator(40, n_trainable=6, seed=99)
    assert not torch.equal(other(), gen())
    other.load_state_dict(gen.state_dict())
    assert torch.equal(other(), gen())
    assert set(gen.state_dict()) == {"z", "theta0", "projection"}


def test_theta0_argument_and_from_module():
    target = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    flat = nn.utils.parameters_to_vector(target.parameters()).detach()
    gen = RandomSubspaceGenerator.from_module(target, n_trainable=5, seed=0)
    assert gen.n_params == 67
    assert torch.equal(gen(), flat)
    explicit = RandomSubspaceGenerator(67, n_trainable=5, seed=0, theta0=flat)
    assert torch.equal(explicit.theta0, flat) and explicit.theta0.data_ptr() != flat.data_ptr()


def test_float64():
    gen = RandomSubspaceGenerator(10, n_trainable=3, seed=0, dtype=torch.float64, theta0=torch.zeros(10))
    assert gen().dtype == torch.float64 and gen.projection.dtype == torch.float64


def test_works_with_quantum_train_model():
    from qt_pennylane.model import QuantumTrainModel

    target = nn.Linear(4, 3)
    gen = RandomSubspaceGenerator.from_module(target, n_trainable=5, seed=0)
    model = QuantumTrainModel(target, generator=gen, generate="all", scale="none")
    torch.testing.assert_close(model(torch.eye(4)), target(torch.eye(4)))  # θ == θ0 == target's init
    x = torch.randn(6, 4)
    model(x).sum().backward()
    assert gen.z.grad is not None and torch.count_nonzero(gen.z.grad) > 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_params": 0, "n_trainable": 3}, r"n_params must be a positive int, got 0"),
        ({"n_params": -5, "n_trainable": 3}, r"n_params must be a positive int, got -5"),
        ({"n_params": 10.0, "n_trainable": 3}, r"n_params must be a positive int, got 10.0"),
        ({"n_params": 10, "n_trainable": 0}, r"n_trainable must be a positive int, got 0"),
        ({"n_params": 10, "n_trainable": -1}, r"n_trainable must be a positive int, got -1"),
        ({"n_params": 10, "n_trainable": True}, r"n_trainable must be a positive int, got True"),
        ({"n_params": 10, "n_trainable": 3, "init_std": -1.0}, r"init_std must be a finite number >= 0, got -1.0"),
        ({"n_params": 10, "n_trainable": 3, "seed": 1.5}, r"seed must be an int >= 0 and <= 9223372036854775807 or None, got 1.5"),
        ({"n_params": 10, "n_trainable": 3, "dtype": torch.int64}, r"dtype must be torch.float32 or torch.float64"),
        (
            {"n_params": 10, "n_trainable": 3, "theta0": torch.zeros(9)},
            r"theta0 must be a tensor of shape \(10,\) \(n_params\), got \(9,\)",
        ),
        ({"n_params": 10, "n_trainable": 3, "theta0": [0.0] * 10}, r"theta0 must be a tensor .* got list"),
        ({"n_params": 2, "n_trainable": 1, "theta0": torch.tensor([0.0, float("nan")])}, r"theta0 must be finite"),
    ],
)
def test_bad_arguments(kwargs, message):
    n_params = kwargs.pop("n_params")
    with pytest.raises(ValueError, match=message):
        RandomSubspaceGenerator(n_params, **kwargs)


# ---------------------------------------------------------------- SoftmaxPaperGenerator


def test_softmax_generator_shapes_and_parameters():
    gen = SoftmaxPaperGenerator(131, seed=0)
    assert gen.n_qubits == 8 and gen.n_params == 131
    theta = gen()
    assert theta.shape == (131,) and theta.dtype == torch.float32
    assert gen.n_trainable == 2**8 + 1
    names = [name for name, _ in gen.named_parameters()]
    assert names[0] == "logits" and all(name.startswith("mapping.") for name in names[1:])
    assert sum(p.numel() for p in gen.mapping.parameters()) == 1  # the mapping's trainable γ
    torch.testing.assert_close(gen.probabilities().sum(), torch.tensor(1.0))
    assert theta.abs().max().item() <= 0.3 + 1e-6  # |θ| <= γ
    assert "n_params=131, n_qubits=8" in repr(gen)


def test_softmax_generator_uniform_start_matches_mapping():
    gen = SoftmaxPaperGenerator(6, seed=0, init_std=0.0)
    uniform = torch.full((8,), 1 / 8)
    torch.testing.assert_close(gen(), gen.mapping(uniform))


def test_softmax_generator_gradients_and_round_trip():
    gen = SoftmaxPaperGenerator(20, seed=1)
    gen().pow(2).sum().backward()
    assert gen.logits.grad is not None and torch.count_nonzero(gen.logits.grad) > 0
    assert all(p.grad is not None for p in gen.mapping.parameters())  # γ is trained too
    other = SoftmaxPaperGenerator(20, seed=2)
    assert not torch.equal(other(), gen())
    other.load_state_dict(gen.state_dict())
    assert torch.equal(other(), gen())
    assert torch.equal(SoftmaxPaperGenerator(20, seed=1)(), gen())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_params": 0}, r"n_params must be a positive int, got 0"),
        ({"n_params": 4, "init_std": float("inf")}, r"init_std must be a finite number >= 0, got inf"),
        ({"n_params": 4, "gamma": 0.0}, r"gamma must be a finite number > 0, got 0.0"),
    ],
)
def test_softmax_generator_bad_arguments(kwargs, message):
    n_params = kwargs.pop("n_params")
    with pytest.raises(ValueError, match=message):
        SoftmaxPaperGenerator(n_params, **kwargs)
