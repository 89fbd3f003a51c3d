import subprocess
import sys

import pytest
import torch
from torch import nn

from qt_pennylane import QuantumTrainModel, QuantumWeightGenerator, param_groups

PAPER = dict(generate="all", scale="none", mapping="paper")


@pytest.mark.parametrize("policy", [PAPER, {}])
def test_injection_equals_load_state_dict(tiny_mlp, policy):
    model = QuantumTrainModel(tiny_mlp, reps=2, seed=0, **policy)
    x = torch.randn(7, 3)
    reference = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        reference.load_state_dict({**tiny_mlp.state_dict(), **model.generated_parameters()})
    assert torch.allclose(model(x), reference(x), atol=1e-7)


def test_only_generator_parameters_are_trainable_and_counted(tiny_mlp):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=0, **PAPER)
    names = [name for name, _ in model.named_parameters()]
    assert all(name.startswith("generator.") for name in names)
    assert sum(p.numel() for p in model.parameters()) == 2 * 5 * 2 + 1  # 20 angles + gamma
    assert model.counts() == {"generated_params": 26, "classical_params": 0, "trainable_params": 21}
    assert sum(p.numel() for p in tiny_mlp.parameters()) == 26  # the caller's module is untouched


def test_default_policy_keeps_biases_classical_and_counts_them(tiny_mlp):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=0)
    names = sorted(name for name, _ in model.named_parameters() if not name.startswith("generator.mapping."))
    assert names == ["generator.source.phi", "scale.gain", "target.0.bias", "target.2.bias"]
    assert model.generator.mapping_name == "learned"
    mapping = sum(p.numel() for p in model.generator.mapping.parameters())
    # 12 + 8 weights generated on 5 qubits; 4 + 2 biases classical; 20 angles + G + 2 gains + 6 biases
    assert model.counts() == {"generated_params": 20, "classical_params": 6, "trainable_params": 28 + mapping}
    assert sorted(model.parameter_groups()) == ["classical", "mapping", "scale", "source"]
    assert torch.equal(model.target[0].bias, tiny_mlp[0].bias)  # classical ones start at the target's values


@pytest.mark.parametrize("policy", [PAPER, {}])
def test_export_matches_and_is_plain(tiny_mlp, policy):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=2, **policy)
    plain = model.export()
    x = torch.randn(4, 3)
    assert type(plain) is nn.Sequential
    assert [n for n, _ in plain.named_parameters()] == [n for n, _ in tiny_mlp.named_parameters()]
    assert torch.allclose(plain(x), model(x), atol=1e-7)


def test_export_runs_where_pennylane_cannot_be_imported(tiny_mlp, tmp_path):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=2)
    x = torch.randn(4, 3)
    torch.save({"state": model.export().state_dict(), "x": x, "y": model(x).detach()}, tmp_path / "plain.pt")
    script = f"""
import sys
sys.modules["pennylane"] = None   # any import of pennylane now raises ImportError
sys.modules["qiskit"] = None
import torch
from torch import nn
blob = torch.load({str(tmp_path / 'plain.pt')!r}, weights_only=True)
net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
net.load_state_dict(blob["state"])
assert torch.allclose(net(blob["x"]), blob["y"], atol=1e-7)
assert not any(name.startswith(("pennylane", "qt_pennylane", "qiskit")) for name in sys.modules if sys.modules[name])
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_state_dict_round_trip_gives_same_outputs(tiny_mlp):
    model = QuantumTrainModel(tiny_mlp, reps=2, mapping="learned", seed=0)
    other = QuantumTrainModel(tiny_mlp, reps=2, mapping="learned", seed=99)
    x = torch.randn(5, 3)
    assert not torch.allclose(model(x), other(x))
    other.load_state_dict(model.state_dict())
    assert torch.equal(model(x), other(x))


def test_buffers_behave_as_in_the_target():
    target = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model = QuantumTrainModel(target, reps=1, seed=0)
    assert "target.1.running_mean" in model.state_dict()
    model.train()
    model(torch.randn(16, 3) + 5.0)
    assert model.target[1].num_batches_tracked.item() == 1
    assert model.target[1].running_mean.abs().sum() > 0
    model.eval()
    x = torch.randn(3, 3)
    plain = model.export().eval()
    assert torch.allclose(plain(x), model(x), atol=1e-6)


def test_dtype_follows_the_target():
    model = QuantumTrainModel(nn.Linear(2, 2).double(), reps=1, seed=0)
    assert model(torch.randn(3, 2, dtype=torch.float64)).dtype == torch.float64
    assert model.export().weight.dtype == torch.float64


def test_plain_torch_loop_lowers_the_loss(tiny_mlp):
    torch.manual_seed(0)
    x = torch.randn(64, 3)
    y = (x[:, 0] > 0).long()
    model = QuantumTrainModel(tiny_mlp, reps=2, seed=0)
    optimizer = torch.optim.Adam(param_groups(model, lr=0.1))
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_custom_generator_and_errors(tiny_mlp):
    generator = QuantumWeightGenerator(26, reps=1, seed=0)
    assert QuantumTrainModel(tiny_mlp, generator, generate="all", scale="none").generator is generator
    with pytest.raises(ValueError, match=r"generator.n_params=26 but the target has 20 generated parameters"):
        QuantumTrainModel(tiny_mlp, generator)
    with pytest.raises(ValueError, match=r"scale must be one of \['init', 'none'\], got 'fan_in'"):
        QuantumTrainModel(tiny_mlp, scale="fan_in")
    with pytest.raises(ValueError, match=r"not both"):
        QuantumTrainModel(tiny_mlp, generator, reps=2)
    with pytest.raises(ValueError, match=r"has no parameters"):
        QuantumTrainModel(nn.ReLU())
    with pytest.raises(ValueError, match=r"target must be a torch.nn.Module, got 3"):
        QuantumTrainModel(3)


def test_repr_names_the_sizes_and_the_target_shows_its_biases(tiny_mlp):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=0, **PAPER)
    text = repr(model)
    assert "generated_params=26" in text and "n_qubits=5" in text and "mapping='paper'" in text
    assert repr(model.target[0]) == "Linear(in_features=3, out_features=4, bias=True)"
    assert model.state_dict().keys() == {"generator.source.phi", "generator.mapping.log_gamma",
                                         "generator.mapping.first", "generator.mapping.second"}
    assert torch.isnan(model.target(torch.randn(2, 3))).all()  # the copy alone holds no weights


def test_moving_and_casting_keep_the_placeholders_free(tiny_mlp):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=0).double()
    placeholder = model.target[0].weight
    assert placeholder.dtype == torch.float64 and placeholder.stride() == (0, 0)
    assert model(torch.randn(2, 3, dtype=torch.float64)).dtype == torch.float64
