"""Per-tensor scale: generated tensors start at the spread of the target's own init."""
import pytest
import torch
from torch import nn

from qt_pennylane import QuantumTrainModel
from qt_pennylane.scaling import CONSTANT_SPREAD, TensorScale


@pytest.fixture
def net():
    torch.manual_seed(0)
    # a wide and a narrow layer: PyTorch's init gives them spreads 12 times apart
    return nn.Sequential(nn.Linear(576, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Linear(64, 10), nn.Linear(10, 4))


@pytest.mark.parametrize("mapping", ["paper", "learned"])
def test_each_tensor_starts_at_its_layers_spread(net, mapping):
    model = QuantumTrainModel(net, generate="all", mapping=mapping, reps=2, seed=0)
    generated = model.generated_parameters()
    for name, reference in net.named_parameters():
        value = generated[name].detach()
        if reference.std() > 0 and reference.numel() >= 40:
            assert value.std().item() / reference.std().item() == pytest.approx(1.0, rel=1e-3), name
    assert generated["1.weight"].mean().item() == pytest.approx(1.0, abs=1e-5)  # BatchNorm scale starts at 1
    assert generated["1.weight"].std().item() == pytest.approx(CONSTANT_SPREAD, rel=1e-3)
    assert generated["1.bias"].mean().abs().item() < 1e-5


def test_without_scale_the_mapping_output_is_untouched(net):
    model = QuantumTrainModel(net, generate="all", scale="none", reps=1, seed=0)
    theta = model.generator().detach()
    flat = torch.cat([model.generated_parameters()[name].detach().reshape(-1) for name, _ in net.named_parameters()])
    assert torch.equal(flat, theta)
    assert model.scale is None and model.parameter_groups()["scale"] == []


def test_gains_are_trainable_and_saved_with_the_scale(net):
    model = QuantumTrainModel(net, reps=1, seed=0)
    assert model.scale.gain.shape == (3,) and model.parameter_groups()["scale"] == [model.scale.gain]
    x = torch.randn(8, 576)
    model(x).square().sum().backward()
    assert model.scale.gain.grad.abs().min() > 0
    state = model.state_dict()
    assert {"scale.gain", "scale.factor", "scale.center"} <= set(state)
    other = QuantumTrainModel(net, reps=1, seed=5)
    other.load_state_dict(state)
    model.eval(), other.eval()
    assert torch.equal(other(x), model(x))


def test_coefficients_by_hand():
    references = [torch.tensor([1.0, -1.0, 1.0, -1.0]), torch.zeros(3), torch.full((2,), 2.0)]
    raw = torch.tensor([0.6, -0.4, 0.6, -0.4, 0.5, 0.5, 0.5, 0.2, 0.4])
    scale = TensorScale(references, raw)
    multiplier, offset = scale.coefficients()
    own = raw[:4].double().std().item()           # the first tensor's own spread, mean 0.1
    whole = raw.double().std().item()             # the second is constant in raw: the whole θ's spread
    last = raw[7:].double().std().item()          # the third: its own spread, mean 0.3
    spread = references[0].std().item()           # the first reference's spread (2 / sqrt(3))
    expected = [spread / own, CONSTANT_SPREAD / whole, CONSTANT_SPREAD / last]
    torch.testing.assert_close(multiplier.detach(), torch.tensor(expected))
    torch.testing.assert_close(offset.detach(),
                               torch.tensor([-0.1 * spread / own, 0.0, 2.0 - 0.3 * CONSTANT_SPREAD / last]))
