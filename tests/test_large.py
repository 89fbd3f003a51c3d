"""Large models: the built-in large tasks, the command line's batched and distributed options, a 1M-weight export."""
import json
import re
import subprocess
import sys

import pytest
import torch

from qt_pennylane.cli import main
from qt_pennylane.tasks import TASKS, get_task
from qt_pennylane.tasks.models import MnistMLP, ResNet, RowLSTM


def test_the_large_tasks_and_their_networks():
    mlp, resnet = get_task("mnist-mlp"), get_task("fashion-resnet")
    assert isinstance(mlp.build_model(), MnistMLP) and isinstance(resnet.build_model(), ResNet)
    assert sum(p.numel() for p in mlp.build_model().parameters()) == 1_863_690
    assert mlp.defaults["mapping"] == "batched" and resnet.defaults["mapping"] == "batched"
    assert {"mnist-mlp", "fashion-resnet", "mnist-lstm", "mnist-bilstm"} <= set(TASKS)
    lstm, bilstm = get_task("mnist-lstm").build_model(), get_task("mnist-bilstm").build_model()
    assert isinstance(lstm, RowLSTM) and isinstance(bilstm, RowLSTM) and bilstm.lstm.bidirectional
    assert [sum(p.numel() for p in net.parameters()) for net in (lstm, bilstm)] == [24_714, 41_610]


def run_cli(capsys, *argv):
    assert main(["train", "--quiet", *argv]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_batched_generation_from_the_command_line(capsys):
    summary = run_cli(capsys, "--mapping", "batched", "--chunk-size", "8", "--hidden", "4", "--reps", "2",
                      "--epochs", "2")
    # Iris MLP, all 131 parameters generated: 17 chunks of 8 → 5 qubits; MLP (5 + 1)·4 + 4, head (4 + 1)·8
    assert summary["n_qubits"] == 5 and summary["mapping_options"] == {"chunk_size": 8, "hidden": [4]}
    assert summary["trainable_params"] == 2 * 5 * 3 + 28 + 40


def test_distributed_ansatz_from_the_command_line(capsys):
    summary = run_cli(capsys, "--max-circuit-qubits", "3", "--epochs", "1")
    assert summary["source"].startswith("product of 3 sub-circuits (3 + 3 + 2 qubits)")
    assert summary["max_circuit_qubits"] == 3 and summary["trainable_params"] == 2 * 8 * 2 + 1


@pytest.mark.parametrize("argv, match", [
    (["--chunk-size", "8"], r"--chunk-size 8 applies to --mapping batched, not --mapping paper"),
    (["--mapping", "batched", "--bond", "3"], r"--bond 3 applies to --mapping mps, not --mapping batched"),
    (["--max-circuit-qubits", "0"], r"argument --max-circuit-qubits: must be a positive int, got '0'"),
    (["--optimizer", "paper", "--classical-lr", "0.1"], r"--classical-lr 0.1 applies to gradient optimizers"),
])
def test_bad_large_options_exit_with_a_clear_message(capsys, argv, match):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--quiet", *argv])
    assert stop.value.code == 2
    assert re.search(match, capsys.readouterr().err)


EXPORT_1M = """
import sys, torch
from qt_pennylane import QuantumTrainModel
target = torch.nn.Sequential(torch.nn.Linear(1000, 1000), torch.nn.ReLU(), torch.nn.Linear(1000, 10))
model = QuantumTrainModel(target, mapping="batched", mapping_options={"chunk_size": 1024, "hidden": (16,)}, reps=2,
                          seed=0)
plain = model.export()
x = torch.randn(4, 1000)
assert torch.allclose(plain(x), model(x), atol=1e-6)
plain_torch = all(type(m).__module__.startswith("torch.nn.") for m in plain.modules())
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"pennylane", "qiskit"})
print("WEIGHTS", model.counts()["generated_params"], "PLAIN", plain_torch, "HEAVY", heavy)
"""


def test_export_of_a_one_million_weight_model_runs_without_pennylane():
    done = subprocess.run([sys.executable, "-c", EXPORT_1M], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "WEIGHTS 1010000 PLAIN True HEAVY []" in done.stdout, done.stdout


def test_fixed_random_control_is_one_option_away_on_the_large_network():
    from qt_pennylane import QuantumTrainModel

    task = get_task("mnist-mlp")
    options = {k: task.defaults[k] for k in ("mapping", "mapping_options", "generate", "scale")}
    torch.manual_seed(0)
    target = task.build_model()
    qt = QuantumTrainModel(target, reps=task.defaults["reps"], seed=0, **options)
    fixed = QuantumTrainModel(target, source="fixed-random", seed=0, **options)
    assert fixed.counts()["trainable_params"] == qt.counts()["trainable_params"] - qt.generator.phi.numel()
    assert fixed.generator.source.description == "fixed random vector (control: no circuit)"
