"""Which parameters are generated: presets, patterns, module types, functions, tied parameters."""
import pytest
import torch
from torch import nn

from qt_pennylane import QuantumTrainModel
from qt_pennylane.generation import select_parameters


@pytest.fixture
def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))


def names(slots):
    return [slot.names[0] for slot in slots]


def test_presets(net):
    slots, classical = select_parameters(net, "all")
    assert names(slots) == ["0.weight", "0.bias", "1.weight", "1.bias", "3.weight", "3.bias"] and classical == []
    slots, classical = select_parameters(net, "weights")
    assert names(slots) == ["0.weight", "3.weight"]
    assert classical == ["0.bias", "1.weight", "1.bias", "3.bias"]


def test_patterns_types_and_functions(net):
    assert names(select_parameters(net, "3.*")[0]) == ["3.weight", "3.bias"]
    assert names(select_parameters(net, ["*.bias", nn.BatchNorm2d])[0]) == ["0.bias", "1.weight", "1.bias", "3.bias"]
    assert names(select_parameters(net, nn.Conv2d)[0]) == ["0.weight", "0.bias"]
    assert names(select_parameters(net, lambda name, p: p.numel() > 10)[0]) == ["0.weight", "3.weight"]


@pytest.mark.parametrize(
    "policy, match",
    [
        ("blocks.*", r"generate item 'blocks.\*' matches no parameter of the target; its parameters are \['0.weight'"),
        ([nn.LSTM], r"generate item <class 'torch.nn.modules.rnn.LSTM'> matches no parameter"),
        ([3], r"generate must be name patterns \(str\) and nn.Module types, got 3"),
        ([], r"generate must be a non-empty policy, got \[\]"),
        (5, r"generate must be one of \['all', 'weights'\], name patterns, module types or a function, got 5"),
        (lambda name, p: False, r"selects no parameter of the target"),
    ],
)
def test_bad_policies_are_named(net, policy, match):
    with pytest.raises(ValueError, match=match):
        select_parameters(net, policy)


def test_target_without_parameters_is_refused():
    with pytest.raises(ValueError, match=r"target ReLU has no parameters to generate"):
        select_parameters(nn.ReLU())


class Tied(nn.Module):
    """An encoder and a decoder sharing one weight matrix (as language models tie embeddings)."""

    def __init__(self):
        super().__init__()
        self.encode = nn.Linear(6, 6)
        self.decode = nn.Linear(6, 6)
        self.decode.weight = self.encode.weight

    def forward(self, x):
        return self.decode(torch.tanh(self.encode(x)))


@pytest.mark.parametrize("generate", ["all", "weights"])
def test_tied_weights_are_generated_once_and_tied_again_on_export(generate):
    model = QuantumTrainModel(Tied(), generate=generate, reps=1, seed=0)
    assert model.slots[0].names == ("encode.weight", "decode.weight")
    assert model.counts()["generated_params"] == (36 + 12 if generate == "all" else 36)
    trainable = dict(model.named_parameters())
    assert not any(name.endswith("decode.weight") or name.endswith("encode.weight") for name in trainable)
    generated = model.generated_parameters()
    assert generated["encode.weight"] is generated["decode.weight"]
    x = torch.randn(4, 6)
    plain = model.export()
    assert plain.encode.weight is plain.decode.weight
    assert len(list(plain.parameters())) == 3  # the shared matrix counts once
    assert torch.allclose(plain(x), model(x), atol=1e-6)
    model(x).sum().backward()  # the shared tensor gets the gradient of both uses
    assert model.generator.phi.grad.abs().sum() > 0
