"""The MPS (tensor-train) mapping: the contraction its docstring states, its size, init and gradients."""
import pytest
import torch
from torch import nn

from qt_pennylane import QuantumTrainModel
from qt_pennylane.mappings import MPSMapping, make_mapping, qubits_for
from qt_pennylane.mappings.batched import probability_feature


def probabilities(n_qubits: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(2**n_qubits, generator=generator, dtype=torch.float64), 0)


def row_by_row(m: MPSMapping, p: torch.Tensor) -> torch.Tensor:
    """θ_i = A_1(b_1) A_2(b_2) ⋯ A_N(b_N) A_{N+1}(x_i) + c, one row at a time, with A_k(v) = A_k[0] + v A_k[1]."""
    x = probability_feature(p[: m.n_params], m.n_qubits, gamma=m.gamma, beta=m.beta, alpha=m.alpha,
                            standardize=m.standardize)
    out = []
    for i in range(m.n_params):
        bits = [1.0 if i >> (m.n_qubits - 1 - k) & 1 else -1.0 for k in range(m.n_qubits)]
        vector = m.cores[0][0] + bits[0] * m.cores[0][1]
        for k in range(1, m.n_qubits):
            vector = vector @ (m.cores[k][0] + bits[k] * m.cores[k][1])
        out.append(vector @ (m.cores[-1][0] + x[i] * m.cores[-1][1]) + m.bias)
    return torch.stack(out)


@pytest.mark.parametrize("n_qubits, n_params, bond", [(5, 20, 3), (4, 16, 2), (6, 33, 4), (1, 2, 3), (2, 1, 2)])
def test_the_prefix_contraction_equals_the_row_by_row_tensor_train(n_qubits, n_params, bond):
    m = MPSMapping(n_qubits, n_params, bond=bond, seed=1).double()
    with torch.no_grad():
        for core in m.cores:
            core.add_(0.2 * torch.randn_like(core))
        m.bias.fill_(0.3)
    p = probabilities(n_qubits)
    torch.testing.assert_close(m(p), row_by_row(m, p))


@pytest.mark.parametrize("n_qubits, bond", [(13, 4), (5, 1), (1, 3)])
def test_trainable_count(n_qubits, bond):
    m = MPSMapping(n_qubits, 2**n_qubits, bond=bond)
    assert sum(p.numel() for p in m.parameters()) == 4 * bond + 2 * (n_qubits - 1) * bond**2 + 1
    assert len(m.cores) == n_qubits + 1


def test_calibrate_gives_mean_zero_and_the_stated_spread():
    m = MPSMapping(8, 200, bond=4, init_std=0.03, seed=0)
    p = probabilities(8).float()
    m.calibrate(p)
    theta = m(p).detach()
    assert abs(float(theta.mean())) < 1e-6 and float(theta.std()) == pytest.approx(0.03, rel=1e-4)
    assert theta.unique().numel() == 200  # the weights differ through their bits


def test_gradients_reach_every_core_and_the_probabilities():
    m = MPSMapping(3, 7, bond=2, seed=0).double()
    p = probabilities(3).requires_grad_()
    assert torch.autograd.gradcheck(m, (p,))
    m(p).pow(2).sum().backward()
    assert all(core.grad is not None and core.grad.abs().sum() > 0 for core in m.cores)


def test_quantum_train_model_with_the_mps_mapping():
    target = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 3))
    model = QuantumTrainModel(target, mapping="mps", mapping_options={"bond": 3}, reps=2, seed=0)
    assert qubits_for("mps", 90) == model.generator.n_qubits == 7
    mapping = model.generator.mapping
    assert model.counts()["trainable_params"] == 2 * 7 * 3 + 4 * 3 + 2 * 6 * 9 + 1 + 2 + 13
    x = torch.randn(4, 6)
    torch.testing.assert_close(model.export()(x), model(x))


def test_distributed_circuit_with_the_mps_mapping():
    model = QuantumTrainModel(nn.Linear(30, 20), mapping="mps", max_circuit_qubits=5, reps=1, seed=0)
    assert model.generator.source.sizes == (5, 5)
    model(torch.randn(2, 30)).sum().backward()
    assert all(s.phi.grad is not None for s in model.generator.source.sources)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(bond=0), r"bond must be a positive int, got 0"),
        (dict(init_noise=-1.0), r"init_noise must be a finite number >= 0, got -1.0"),
        (dict(gamma=float("nan")), r"gamma must be a finite number > 0, got nan"),
        (dict(standardize=1), r"standardize must be True or False, got 1"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_mapping("mps", 4, 10, **kwargs)


def test_too_many_weights_for_the_qubits():
    with pytest.raises(ValueError, match=r"n_params=20 exceeds the 16 basis states of n_qubits=4"):
        MPSMapping(4, 20)
