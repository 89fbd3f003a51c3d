import json
import re

import pytest
import torch
from torch.nn import functional as F

from qt_pennylane.cli import main
from qt_pennylane.cli_options import parse_shots, resolve_shots
from qt_pennylane.tasks import get_task, load_classical

KEYS = {"task", "n_qubits", "reps", "mapping", "device", "trainable_params", "target_params", "param_ratio",
        "train_accuracy", "test_accuracy", "seconds", "backend", "shots"}


def run_cli(capsys, *argv):
    assert main(["train", "--quiet", *argv]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_iris_gradient_run_prints_the_summary_and_writes_outputs(capsys, tmp_path):
    summary = run_cli(capsys, "--task", "iris", "--epochs", "5", "--eval-every", "1", "--out", str(tmp_path / "run"))
    assert KEYS <= set(summary)
    assert summary["n_qubits"] == 8 and summary["trainable_params"] == 33 and summary["target_params"] == 131
    assert summary["param_ratio"] == pytest.approx(33 / 131)
    written = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert written["test_accuracy"] == summary["test_accuracy"] and len(written["history"]) == 5
    plain = load_classical(tmp_path / "run" / "classical_model.pt")
    assert sum(p.numel() for p in plain.parameters()) == 131
    inputs, targets = get_task("iris").load()[1].tensors
    with torch.no_grad():
        assert (plain(inputs).argmax(1) == targets).sum().item() == round(summary["test_accuracy"] * 50)
    assert (tmp_path / "run" / "checkpoint.pt").is_file()


def test_paper_schedule_run_and_resume(capsys, tmp_path):
    args = ["--optimizer", "paper", "--phi-iters", "3", "--gamma-iters", "1", "--out", str(tmp_path)]
    first = run_cli(capsys, *args, "--periods", "1")
    second = run_cli(capsys, *args, "--periods", "2", "--resume", str(tmp_path / "checkpoint.pt"))
    assert first["trainable_params"] == second["trainable_params"] == 33
    history = json.loads((tmp_path / "summary.json").read_text())["history"]
    assert [r["period"] for r in history] == [1, 2]


def test_paper_schedule_with_fixed_shot_noise(capsys):
    summary = run_cli(capsys, "--optimizer", "paper", "--periods", "1", "--phi-iters", "2", "--gamma-iters", "1",
                      "--shots", "13x", "--shot-noise", "fixed", "--cobyla-step", "0.5", "--gamma-step", "0.1")
    assert summary["shots"] == 13 * 256 and summary["shot_noise"] == "fixed"
    assert summary["cobyla_step"] == 0.5 and summary["gamma_step"] == 0.1


@pytest.mark.parametrize("loss, error_rate_counted", [("paper", True), ("cross-entropy", False)])
def test_paper_schedule_minimizes_the_loss_named(capsys, tmp_path, loss, error_rate_counted):
    summary = run_cli(capsys, "--optimizer", "paper", "--periods", "1", "--phi-iters", "3", "--gamma-iters", "1",
                      "--loss", loss, "--out", str(tmp_path))
    assert summary["loss"] == loss
    (period,) = json.loads((tmp_path / "summary.json").read_text())["history"]
    inputs, targets = get_task("iris").load()[0].tensors
    with torch.no_grad():
        cross_entropy = float(F.cross_entropy(load_classical(tmp_path / "classical_model.pt")(inputs), targets))
    error_rate = 1 - period["train_accuracy"]
    assert error_rate > 0  # so the two objectives differ
    assert period["loss"] == pytest.approx(cross_entropy + (error_rate if error_rate_counted else 0), abs=1e-5)


def test_resume_with_another_loss_is_refused_and_the_checkpoint_kept(capsys, tmp_path):
    args = ["--optimizer", "paper", "--phi-iters", "3", "--gamma-iters", "1", "--out", str(tmp_path)]
    run_cli(capsys, *args, "--periods", "1")
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with pytest.raises(SystemExit):
        main(["train", "--quiet", *args, "--periods", "2", "--loss", "cross-entropy",
              "--resume", str(tmp_path / "checkpoint.pt")])
    assert "loss" in capsys.readouterr().err
    assert (tmp_path / "checkpoint.pt").read_bytes() == before


def test_shots_syntax():
    assert parse_shots("none") is None and parse_shots("4096") == 4096 and parse_shots("13x") == "13x"
    assert resolve_shots("13x", 8) == 13 * 256 and resolve_shots(100, 8) == 100 and resolve_shots(None, 8) is None


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--shots", "0"], r"argument --shots: must be positive, got '0'"),
        (["--shots", "many"], r"argument --shots: must be an int, 'Kx'"),
        (["--shots", "100000000000000000000"], r"argument --shots: must be at most 2\*\*40, got '100000000000000000000'"),
        (["--epochs", "0"], r"argument --epochs/--steps: must be a positive int, got '0'"),
        (["--optimizer", "paper", "--phi-iters", "0"], r"argument --phi-iters: must be a positive int, got '0'"),
        (["--optimizer", "paper", "--cobyla-step", "0"], r"argument --cobyla-step: must be a positive finite number, got '0'"),
        (["--lr", "inf"], r"argument --lr: must be a positive finite number, got 'inf'"),
        (["--seed", "99999999999999999999999"], r"argument --seed: must be an int in \[0, 2\*\*63 - 1\], got '99999999999999999999999'"),
        (["--seed", "-1"], r"argument --seed: must be an int in \[0, 2\*\*63 - 1\], got '-1'"),
        (["--limit", "0"], r"argument --limit: must be a positive int, got '0'"),
        (["--limit", "-5"], r"argument --limit: must be a positive int, got '-5'"),
        (["--reps", "-2"], r"argument --reps: must be an int >= 0, got '-2'"),
        (["--out", ""], r"argument --out: must name a folder, got ''"),
        (["--optimizer", "paper", "--lr", "-5"], r"argument --lr: must be a positive finite number, got '-5'"),
        (["--optimizer", "paper", "--lr", "0.1"], r"--lr 0.1 applies to gradient optimizers and --optimizer spsa, not --optimizer paper"),
        (["--periods", "3"], r"--periods 3 applies to --optimizer paper, not --optimizer adam"),
        (["--device", "qiskit.remote", "--backend", "nonsense"], r"backend must be a fake IBM backend .*got 'nonsense'"),
        (["--backend", "fake_manila"], r"backend must be None unless a device that uses it is named"),
        (["--device", "default.qubit", "--shots", "100", "--optimizer", "lbfgs"], r"optimizer='lbfgs' needs a deterministic loss"),
        (["--generate", "nothing.*"], r"generate item 'nothing.\*' matches no parameter of the target"),
        (["--shot-noise", "fixed"], r"shot_noise='fixed' needs shots sampled by the engine"),
        (["--resume", "/nonexistent/ckpt.pt"], r"--resume '/nonexistent/ckpt.pt' does not exist"),
        (["--task", "cifar"], r"invalid choice: 'cifar'"),
        (["--loss", "cross-entropy"], r"--loss cross-entropy applies to --optimizer paper"),
        (["--optimizer", "paper", "--loss", "hinge"], r"invalid choice: 'hinge'"),
    ],
)
def test_bad_input_exits_with_a_clear_message(capsys, argv, match):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--quiet", *argv])
    assert stop.value.code == 2
    assert re.search(match, capsys.readouterr().err)


def test_learned_mapping_options_from_the_command_line(capsys):
    summary = run_cli(capsys, "--mapping", "learned", "--hidden", "3,5", "--epochs", "2", "--mapping-lr", "1e-3")
    g = (9 + 1) * 3 + (3 + 1) * 5 + (5 + 1) * 1  # G = [N+1 → 3 → 5 → 1] at N = 8
    assert summary["hidden"] == [3, 5] and summary["mapping_lr"] == 1e-3
    assert summary["trainable_params"] == 2 * 8 * 2 + g


def test_hidden_needs_a_mapping_that_takes_it(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--quiet", "--hidden", "4"])
    assert "--hidden (4,) applies to --mapping batched or learned, not --mapping paper" in capsys.readouterr().err
