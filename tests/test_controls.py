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


# ---------------------------------------------------------------- Fastfood random subspace


def test_hadamard_transform_is_the_sylvester_matrix():
    from qt_pennylane.controls.fastfood import hadamard_transform, sylvester

    for size in (1, 2, 8, 32, 512):
        x = torch.randn(3, size, dtype=torch.float64)
        torch.testing.assert_close(hadamard_transform(x), x @ sylvester(size, torch.float64))
    h = sylvester(16)
    torch.testing.assert_close(h @ h, 16 * torch.eye(16))
    with pytest.raises(ValueError, match=r"x.shape\[-1\] must be a power of 2, got 12"):
        hadamard_transform(torch.zeros(12))


def _dense_fastfood(gen):
    """V / sqrt(d) column by column: the generator's map z → θ − θ0 is linear."""
    eye = torch.eye(gen.n_trainable, dtype=gen.z.dtype)
    return torch.stack([gen.projection_times(column) for column in eye], dim=1)


def test_fastfood_blocks_follow_s_h_g_pi_h_b():
    from qt_pennylane.controls import FastfoodSubspaceGenerator
    from qt_pennylane.controls.fastfood import sylvester

    gen = FastfoodSubspaceGenerator(20, n_trainable=5, seed=0, dtype=torch.float64)
    assert (gen.block_size, gen.n_blocks) == (8, 3)
    h = sylvester(8, torch.float64)
    blocks = []
    for b in range(3):
        permutation = torch.eye(8, dtype=torch.float64)[gen.permutation[b]]
        blocks.append(torch.diag(gen.scale[b]) @ h @ torch.diag(gen.gauss[b]) @ permutation @ h
                      @ torch.diag(gen.signs[b].double()))
    expected = torch.cat(blocks)[:20, :5]
    torch.testing.assert_close(_dense_fastfood(gen), expected)


def test_fastfood_projection_has_the_dense_versions_spread():
    from qt_pennylane.controls import FastfoodSubspaceGenerator

    gen = FastfoodSubspaceGenerator(2048, n_trainable=64, seed=1, dtype=torch.float64)
    v = _dense_fastfood(gen)
    assert v.mean().item() == pytest.approx(0.0, abs=0.01)
    assert v.var().item() == pytest.approx(1 / 64, rel=0.05)  # like RandomSubspaceGenerator's N(0, 1/d)
    assert torch.linalg.matrix_rank(v) == 64


def test_fastfood_starts_at_theta0_trains_only_z_and_round_trips():
    from qt_pennylane.controls import FastfoodSubspaceGenerator

    gen = FastfoodSubspaceGenerator(100, n_trainable=7, seed=2)
    assert torch.equal(gen(), gen.theta0) and [n for n, _ in gen.named_parameters()] == ["z"]
    weights = torch.randn(100)
    (gen() * weights).sum().backward()
    torch.testing.assert_close(gen.z.grad, _dense_fastfood(gen).T @ weights, rtol=1e-4, atol=1e-5)
    with torch.no_grad():
        gen.z.normal_()
    other = FastfoodSubspaceGenerator(100, n_trainable=7, seed=3)
    other.load_state_dict(gen.state_dict())
    assert torch.equal(other(), gen())
    assert torch.equal(FastfoodSubspaceGenerator(100, n_trainable=7, seed=2).permutation, gen.permutation)


def test_fastfood_from_module_and_bad_arguments():
    from qt_pennylane.controls import FastfoodSubspaceGenerator

    target = nn.Linear(5, 4)
    gen = FastfoodSubspaceGenerator.from_module(target, n_trainable=3, seed=0)
    assert torch.equal(gen(), nn.utils.parameters_to_vector(target.parameters()))
    with pytest.raises(ValueError, match=r"n_trainable must be a positive int, got 0"):
        FastfoodSubspaceGenerator(10, n_trainable=0)
    with pytest.raises(ValueError, match=r"theta0 must be a tensor of shape \(10,\) \(n_params\), got \(3,\)"):
        FastfoodSubspaceGenerator(10, n_trainable=2, theta0=torch.zeros(3))


# ---------------------------------------------------------------- HashedNets and the fixed random input


def test_hashednets_weights_are_signed_bucket_values():
    from qt_pennylane.controls import HashedNetsGenerator

    gen = HashedNetsGenerator(500, buckets=20, seed=0)
    theta = gen()
    torch.testing.assert_close(theta, gen.values[gen.bucket.long()] * gen.sign)
    assert set(gen.sign.tolist()) == {-1, 1} and set(gen.bucket.tolist()) == set(range(20))
    assert torch.equal(HashedNetsGenerator(500, buckets=20, seed=0).bucket, gen.bucket)
    with pytest.raises(ValueError, match=r"buckets must be a positive int, got 0"):
        HashedNetsGenerator(10, buckets=0)


def test_fixed_random_source_is_a_seeded_distribution_without_parameters():
    from qt_pennylane.controls import FixedRandomSource

    source = FixedRandomSource(6, seed=4)
    p = source()
    assert p.shape == (64,) and float(p.sum()) == pytest.approx(1.0, abs=1e-6) and (p > 0).all()
    assert list(source.parameters()) == [] and "p" in source.state_dict()
    assert torch.equal(FixedRandomSource(6, seed=4)(), p) and not torch.equal(FixedRandomSource(6, seed=5)(), p)


# ---------------------------------------------------------------- controls at a stated trainable count


@pytest.mark.parametrize("name", ["hashednets", "subspace", "fastfood"])
@pytest.mark.parametrize("generate, scale", [("weights", "init"), ("all", "none"), ("weights", "none")])
def test_matched_control_has_exactly_the_stated_trainable_count(name, generate, scale):
    from qt_pennylane.controls import matched_control

    target = nn.Sequential(nn.Linear(30, 40), nn.ReLU(), nn.Linear(40, 5))
    control = matched_control(target, name, 300, generate=generate, scale=scale, seed=0)
    assert control.counts()["trainable_params"] == 300
    assert control(torch.randn(2, 30)).shape == (2, 5)


def test_matched_controls_match_a_batched_quantum_train_model():
    from qt_pennylane import QuantumTrainModel
    from qt_pennylane.controls import control_budget, matched_control

    target = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    qt = QuantumTrainModel(target, mapping="batched", mapping_options={"chunk_size": 64, "hidden": (8,)}, reps=3,
                           seed=0)
    trainable = qt.counts()["trainable_params"]
    for name in ("hashednets", "subspace", "fastfood"):
        assert matched_control(target, name, trainable, seed=1).counts()["trainable_params"] == trainable
    assert control_budget(target, trainable) == trainable - 2 - 74  # two gains, 74 biases
    fixed = QuantumTrainModel(target, source="fixed-random", mapping="batched",
                              mapping_options={"chunk_size": 64, "hidden": (8,)}, seed=0)
    assert fixed.counts()["trainable_params"] == trainable - qt.generator.phi.numel()


def test_matched_control_refusals():
    from qt_pennylane.controls import matched_control

    target = nn.Linear(100, 10)
    with pytest.raises(ValueError, match=r"trainable must be more than the 11 gains and classical parameters of the "
                                         r"target, got 11"):
        matched_control(target, "hashednets", 11)
    with pytest.raises(ValueError, match=r"name must be one of \['fastfood', 'hashednets', 'subspace'\], got 'lora'"):
        matched_control(target, "lora", 50)
    big = nn.Linear(10_000, 2_000)
    with pytest.raises(ValueError, match=r"name='subspace' needs a dense 20000000 x 2000 projection .*use "
                                         r"name='fastfood'"):
        matched_control(big, "subspace", 4001)
