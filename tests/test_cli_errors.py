"""Every bad input of issue 15 through the command line: exit status 2 and exactly one line on stderr,
``qt-pennylane: error: ...``, naming the option and the value; nothing trained or read before the check.

The same causes through the Python API are in ``test_bad_inputs.py``.
"""
from __future__ import annotations

import gzip
import json
import os
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import qt_pennylane.tasks
import qt_pennylane.training.gradient
import qt_pennylane.training.schedule
from qt_pennylane.cli import main

ROOT = Path(__file__).resolve().parents[1]
HELP = " (see qt-pennylane train --help)"
QUICK = ["--epochs", "2"]  # Iris with Adam: two full-batch steps


def cli_error(capsys, *argv: str) -> str:
    """Run ``qt-pennylane train --quiet ARGV``; it must exit with status 2 and print nothing to stdout."""
    with pytest.raises(SystemExit) as stop:
        main(["train", "--quiet", *argv])
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err


def cli_run(capsys, *argv: str) -> dict:
    assert main(["train", "--quiet", *argv]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the command reads data or trains before refusing its options."""
    def forbidden(*args, **kwargs):
        raise AssertionError("work was done before the options were checked")

    monkeypatch.setattr(qt_pennylane.tasks.Task, "load", forbidden)
    monkeypatch.setattr(qt_pennylane.training.gradient, "fit", forbidden)
    monkeypatch.setattr(qt_pennylane.training.schedule, "paper_schedule", forbidden)


# ---------------------------------------------------------------- one line per cause, checked before any work

SEED = "argument --seed: must be an int in [0, 2**63 - 1], got {!r}" + HELP
ARGUMENT_ERRORS = [
    (["--seed", "abc"], SEED.format("abc")),
    (["--seed", "1.5"], SEED.format("1.5")),
    (["--seed", str(2**70)], SEED.format(str(2**70))),
    (["--seed", "-1"], SEED.format("-1")),
    (["--seed", "-1", "--shots", "100"], SEED.format("-1")),
    (["--seed", "99999999999999999999999"], SEED.format("99999999999999999999999")),
    (["--lr", "inf"], "argument --lr: must be a positive finite number, got 'inf'" + HELP),
    (["--lr", "nan"], "argument --lr: must be a positive finite number, got 'nan'" + HELP),
    (["--mapping-lr", "inf"], "argument --mapping-lr: must be a positive finite number, got 'inf'" + HELP),
    (["--mapping-lr=-1e-3"], "argument --mapping-lr: must be a positive finite number, got '-1e-3'" + HELP),
    (["--optimizer", "paper", "--lr", "-5"], "argument --lr: must be a positive finite number, got '-5'" + HELP),
    (["--periods", "-1"], "argument --periods: must be a positive int, got '-1'" + HELP),
    (["--shots", "100000000000000000000"], "argument --shots: must be at most 2**40, got '100000000000000000000'" + HELP),
    (["--limit", "0"], "argument --limit: must be a positive int, got '0'" + HELP),
    (["--limit", "-5"], "argument --limit: must be a positive int, got '-5'" + HELP),
    (["--out", ""], "argument --out: must name a folder, got ''" + HELP),
    (["--reps", "-1"], "argument --reps: must be an int >= 0, got '-1'" + HELP),
    (["--task", "cifar"], "argument --task: invalid choice: 'cifar' (choose from 'fashion-mnist', 'fashion-resnet', 'iris', 'mnist', 'mnist-bilstm', 'mnist-lstm', 'mnist-mlp')" + HELP),
]
OPTION_ERRORS = [
    (["--backend", "nonsense"],
     "backend must be None unless a device that uses it is named ('qiskit.remote', 'qiskit.aer'), got 'nonsense'"),
    (["--device", "default.qubit", "--backend", "nonsense"],
     "backend='nonsense' is only used by devices 'qiskit.remote' and 'qiskit.ibmq', not device='default.qubit'"),
    (["--device", "qiskit.remote", "--backend", "nonsense"],
     "backend must be a fake IBM backend ('fake_manila', ...), 'aer_simulator' or a real IBM backend name "
     "('ibm_<name>'), got 'nonsense'"),
    (["--optimizer", "paper", "--lr", "0.1"], "--lr 0.1 applies to gradient optimizers and --optimizer spsa, not --optimizer paper"),
    (["--optimizer", "paper", "--epochs", "3"], "--epochs 3 applies to gradient optimizers and --optimizer spsa, not --optimizer paper"),
    (["--periods", "3"], "--periods 3 applies to --optimizer paper, not --optimizer adam"),
    (["--gamma-step", "0.5"], "--gamma-step 0.5 applies to --optimizer paper, not --optimizer adam"),
    (["--reps", "1000000000"],
     "reps must be an int <= 863530 on 8 qubits (the engine's memory limit is 8 GiB; reps=1000000000 needs about "
     "8107.2 GiB), got 1000000000"),
    (["--shots", "1099511627776x"], "--shots 1099511627776x means 281474976710656 shots on 8 qubits; at most 2**40 are taken"),
    (["--hidden", "16"], "--hidden (16,) applies to --mapping batched or learned, not --mapping paper"),
    (["--resume", "/nonexistent/checkpoint.pt"], "--resume '/nonexistent/checkpoint.pt' does not exist"),
]


@pytest.mark.parametrize("argv, message", ARGUMENT_ERRORS + OPTION_ERRORS,
                         ids=[" ".join(a) or "''" for a, _ in ARGUMENT_ERRORS + OPTION_ERRORS])
def test_a_bad_option_ends_in_one_line_before_any_work(capsys, no_work, argv, message):
    assert cli_error(capsys, *argv) == f"qt-pennylane: error: {message}\n"


def test_a_resume_path_that_is_a_folder_is_named(capsys, no_work, tmp_path):
    assert cli_error(capsys, "--resume", str(tmp_path)) == \
        f"qt-pennylane: error: --resume {str(tmp_path)!r} is a folder, not a checkpoint file\n"


# ---------------------------------------------------------------- --out


def test_out_naming_an_existing_file_is_refused_before_training(capsys, no_work, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    assert cli_error(capsys, "--out", str(path)) == \
        f"qt-pennylane: error: --out {str(path)!r} is an existing file; name a folder\n"
    assert path.read_text() == "mine"


def test_out_below_a_file_is_refused_before_training(capsys, no_work, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    assert cli_error(capsys, "--out", str(path / "run")) == (
        f"qt-pennylane: error: --out {str(path / 'run')!r} cannot be created: {str(path)!r} is a file, not a folder\n")


def test_out_in_a_folder_without_write_permission_is_refused_before_training(capsys, no_work, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # (the tests may run as root, who may write anywhere)
    assert cli_error(capsys, "--out", str(tmp_path / "run")) == (
        f"qt-pennylane: error: --out {str(tmp_path / 'run')!r} cannot be written: no permission to write in "
        f"{str(tmp_path)!r}\n")


def test_a_finished_run_is_replaced_only_with_overwrite(capsys, tmp_path):
    out = tmp_path / "run"
    first = cli_run(capsys, *QUICK, "--out", str(out))
    before = (out / "summary.json").read_text()
    assert cli_error(capsys, *QUICK, "--seed", "1", "--out", str(out)) == (
        f"qt-pennylane: error: --out {str(out)!r} holds a finished run (summary.json); pass --overwrite to replace "
        "it, or choose another folder\n")
    assert (out / "summary.json").read_text() == before
    second = cli_run(capsys, *QUICK, "--seed", "1", "--out", str(out), "--overwrite")
    assert (first["seed"], second["seed"]) == (0, 1)
    assert json.loads((out / "summary.json").read_text())["seed"] == 1


def test_an_interrupted_run_is_continued_only_with_resume_or_overwrite(capsys, tmp_path):
    out = tmp_path / "run"
    cli_run(capsys, *QUICK, "--out", str(out))
    (out / "summary.json").unlink()  # as if the run had been killed after its checkpoint
    checkpoint = out / "checkpoint.pt"
    assert cli_error(capsys, "--epochs", "3", "--out", str(out)) == (
        f"qt-pennylane: error: --out {str(out)!r} holds an interrupted run (checkpoint.pt); pass --resume "
        f"{str(checkpoint)!r} to continue it or --overwrite to start again\n")
    resumed = cli_run(capsys, "--epochs", "3", "--out", str(out), "--resume", str(checkpoint))
    assert [r["epoch"] for r in json.loads((out / "summary.json").read_text())["history"]] == [2, 3]  # evaluated last
    assert resumed["test_accuracy"] is not None


def test_temporary_files_of_killed_writes_are_removed(capsys, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in (".checkpoint.pt.k1lled.tmp", ".summary.json.4242.tmp", ".classical_model.pt.x.tmp"):
        (out / name).write_bytes(b"half a file")
    (out / ".mine.tmp").write_bytes(b"not the run's")
    cli_run(capsys, *QUICK, "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [".mine.tmp", "checkpoint.pt", "classical_model.pt", "summary.json"]


HOLDER = """
import sys
from pathlib import Path
from qt_pennylane.run_files import OutputFolder

with OutputFolder(Path(sys.argv[1])):
    print("holding", flush=True)
    sys.stdin.read()  # until the test closes stdin (or kills this process)
"""


def _hold(out: Path) -> subprocess.Popen:
    """A second process that holds ``out`` as a run does."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_folder_held_by_another_live_run_is_refused(capsys, no_work, tmp_path):
    out = tmp_path / "run"
    holder = _hold(out)
    try:
        assert cli_error(capsys, "--out", str(out)) == (
            f"qt-pennylane: error: --out {str(out)!r} is in use by another run (process {holder.pid}); wait for it "
            "or choose another folder\n")
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert not (out / ".lock").exists()  # released on exit


def test_the_lock_of_a_killed_run_does_not_keep_the_folder(capsys, tmp_path):
    out = tmp_path / "run"
    holder = _hold(out)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    holder.stdin.close()
    assert (out / ".lock").read_text() == str(holder.pid)  # left behind, but no longer held
    cli_run(capsys, *QUICK, "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "classical_model.pt", "summary.json"]


# ---------------------------------------------------------------- --resume with checkpoints that are not this run's


@pytest.fixture
def run_checkpoint(capsys, tmp_path) -> Path:
    """The checkpoint of a finished two-step Iris run (reps 1)."""
    cli_run(capsys, *QUICK, "--out", str(tmp_path / "run"))
    return tmp_path / "run" / "checkpoint.pt"


def _resume_error(capsys, checkpoint: Path, *argv: str) -> str:
    return cli_error(capsys, "--epochs", "3", "--resume", str(checkpoint), *argv)


def test_resume_refuses_a_checkpoint_that_is_a_list(capsys, run_checkpoint):
    torch.save([1, 2, 3], run_checkpoint)
    assert _resume_error(capsys, run_checkpoint) == (
        f"qt-pennylane: error: checkpoint {str(run_checkpoint)!r} is not a qt_pennylane checkpoint: it holds a list, "
        "not a dict\n")


def test_resume_refuses_a_checkpoint_without_its_model(capsys, run_checkpoint):
    state = torch.load(run_checkpoint, weights_only=True)
    del state["model"]
    torch.save(state, run_checkpoint)
    assert _resume_error(capsys, run_checkpoint) == (
        f"qt-pennylane: error: checkpoint {str(run_checkpoint)!r} is not a qt_pennylane checkpoint: it lacks "
        "['model']\n")


def test_resume_refuses_angles_of_another_shape(capsys, run_checkpoint):
    state = torch.load(run_checkpoint, weights_only=True)
    state["model"]["generator.source.phi"] = torch.zeros(3, 2, 8)
    torch.save(state, run_checkpoint)
    err = _resume_error(capsys, run_checkpoint)
    assert err.startswith(f"qt-pennylane: error: checkpoint {str(run_checkpoint)!r} belongs to a different model: "
                          "Error(s) in loading state_dict for QuantumTrainModel: size mismatch for "
                          "generator.source.phi: copying a param with shape torch.Size([3, 2, 8]) from checkpoint")
    assert err.count("\n") == 1


def test_resume_refuses_nan_angles(capsys, run_checkpoint):
    state = torch.load(run_checkpoint, weights_only=True)
    state["model"]["generator.source.phi"][0, 0, 0] = float("nan")
    torch.save(state, run_checkpoint)
    assert _resume_error(capsys, run_checkpoint) == (
        f"qt-pennylane: error: checkpoint {str(run_checkpoint)!r} holds non-finite values in 'generator.source.phi'; "
        "it cannot be resumed\n")


def test_resume_refuses_another_model(capsys, run_checkpoint):
    assert _resume_error(capsys, run_checkpoint, "--reps", "2") == (
        f"qt-pennylane: error: checkpoint {str(run_checkpoint)!r} belongs to a different model or run: reps: "
        "checkpoint 1 vs now 2\n")


# ---------------------------------------------------------------- data files


def _write_idx(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
                                   + array.tobytes()))


def _mnist_root(root: Path, images: np.ndarray, labels: np.ndarray) -> Path:
    for split in ("train", "t10k"):
        _write_idx(root / "MNIST" / "raw" / f"{split}-images-idx3-ubyte.gz", images)
        _write_idx(root / "MNIST" / "raw" / f"{split}-labels-idx1-ubyte.gz", labels)
    return root


def _mnist_error(capsys, root: Path) -> str:
    return cli_error(capsys, "--task", "mnist", "--data-root", str(root), "--epochs", "1", "--reps", "1")


def test_mnist_images_that_are_not_28_by_28_are_named(capsys, tmp_path):
    root = _mnist_root(tmp_path, np.zeros((4, 10, 10), np.uint8), np.zeros(4, np.uint8))
    images = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    assert _mnist_error(capsys, root) == (
        f"qt-pennylane: error: {images}: images must have shape (n, 28, 28) and dtype uint8, got shape (4, 10, 10) "
        "and dtype uint8\n")


def test_mnist_labels_outside_0_to_9_are_named(capsys, tmp_path):
    root = _mnist_root(tmp_path, np.zeros((4, 28, 28), np.uint8), np.array([0, 200, 3, 4], np.uint8))
    labels = root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz"
    assert _mnist_error(capsys, root) == (
        f"qt-pennylane: error: {labels}: labels must be in 0..9, got 200 at index 1 (1 such labels)\n")


def test_an_idx_header_claiming_2_31_images_is_named(capsys, tmp_path):
    root = _mnist_root(tmp_path, np.zeros((4, 28, 28), np.uint8), np.zeros(4, np.uint8))
    images = root / "MNIST" / "raw" / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(b"\x00\x00\x08\x03" + struct.pack(">iii", 2**31 - 1, 28, 28) + bytes(784)))
    assert _mnist_error(capsys, root) == (
        f"qt-pennylane: error: {images}: truncated or damaged gzip IDX file: the header claims shape "
        f"(2147483647, 28, 28) ({16 + (2**31 - 1) * 784} bytes), the gzip trailer records 800 bytes (mod 2**32)\n")
