"""MNIST end to end: the paper's CNN, short QT runs on subsets, exact resume, the CLI, the notebook."""
import json
import re

import pytest
import torch

from helpers import TEST_DATA, run_notebook
from qt_pennylane import QuantumTrainModel
from qt_pennylane.cli import main
from qt_pennylane.tasks.datasets import mnist_tensors
from qt_pennylane.mappings import n_qubits_for
from qt_pennylane.tasks import MnistCNN, load_classical
from qt_pennylane import evaluate, fit



@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """One intra-op thread for this module: these small problems gain little from a second thread,
    and on a busy 2-core machine two OpenMP threads can slow the simulator down a hundredfold."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def mnist_subset():
    """The first 512 training and 256 test images of MNIST, shipped in tests/data (read once per module)."""
    return mnist_tensors("mnist", train=True, data_root=TEST_DATA), mnist_tensors("mnist", train=False, data_root=TEST_DATA)


@pytest.mark.parametrize("activation", [True, False])
def test_mnist_cnn_has_the_papers_6690_parameters_on_13_qubits(activation):
    model = MnistCNN(activation=activation)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 6690
    assert n_qubits_for(n_params) == 13
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def _short_run(mnist_subset, mapping, lr, epochs=5, mapping_lr=None, reps=2):
    train_set, test_set = mnist_subset
    model = QuantumTrainModel(MnistCNN(), reps=reps, mapping=mapping, seed=0, generate="all", scale="none")
    assert model.generator.n_qubits == 13
    before = evaluate(model.export(), train_set)["loss"]
    history = fit(model, train_set, test_set, lr=lr, mapping_lr=mapping_lr, epochs=epochs, batch_size=64,
                  lr_schedule="constant", progress=False)
    after = evaluate(model.export(), train_set)["loss"]
    assert [r["epoch"] for r in history] == list(range(1, epochs + 1))
    return before, after, history


def test_short_mnist_run_with_the_paper_mapping_learns(mnist_subset):
    # 512 examples, 5 epochs of 8 steps; over seeds 0-3 the loss falls from 2.31 to 1.71-1.87
    # and the training accuracy reaches 0.38-0.45 (chance: 0.1).
    before, after, history = _short_run(mnist_subset, "paper", lr=0.05)
    assert after < 0.9 * before, (before, after, history)
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["train_accuracy"] > 0.25, history


def test_short_mnist_run_with_the_learned_mapping_learns(mnist_subset):
    # The headline recipe (L = 16, lr 0.03, mapping_lr 1e-4), 64 steps on 512 examples: over
    # seeds 0-2 the loss falls from 2.30 to 0.74-1.44 and training accuracy reaches 0.55-0.73.
    before, after, history = _short_run(mnist_subset, "learned", lr=0.03, mapping_lr=1e-4, epochs=8, reps=16)
    assert after < 0.8 * before, (before, after, history)
    assert history[-1]["train_accuracy"] > 0.35, history


class _Interrupted(Exception):
    pass


def _resume_setup(mnist_subset):
    train_set, test_set = mnist_subset
    train_set = torch.utils.data.TensorDataset(*(t[:256] for t in train_set.tensors))
    return train_set, test_set


def _make_qt(seed=0, mapping="paper"):
    return QuantumTrainModel(MnistCNN(), reps=1, mapping=mapping, seed=seed, generate="all", scale="none")


def _assert_same_run(straight, full, resumed, history):
    assert [r["epoch"] for r in history] == [1, 2]
    assert [r["loss"] for r in history] == [r["loss"] for r in full]
    assert [r["test_accuracy"] for r in history] == [r["test_accuracy"] for r in full]
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name


def test_fit_one_epoch_then_resume_to_two_equals_two_epochs_on_mnist(mnist_subset, tmp_path):
    """fit(epochs=1) + resume to 2 == fit(epochs=2), with a constant learning rate (the schedule
    of a 1-epoch run differs from a 2-epoch one, so only a constant rate makes them comparable)."""
    train_set, test_set = _resume_setup(mnist_subset)
    kwargs = dict(lr=0.01, epochs=2, batch_size=64, seed=5, lr_schedule="constant", progress=False,
                  config={"task": "mnist", "reps": 1})
    straight = _make_qt(mapping="learned")
    full = fit(straight, train_set, test_set, checkpoint=tmp_path / "full.pt", **kwargs)
    fit(_make_qt(mapping="learned"), train_set, test_set, checkpoint=tmp_path / "part.pt", **{**kwargs, "epochs": 1})
    resumed = _make_qt(seed=7, mapping="learned")  # another start: the checkpoint must replace all of it
    history = fit(resumed, train_set, test_set, resume=tmp_path / "part.pt", checkpoint=tmp_path / "part.pt",
                  **kwargs)
    _assert_same_run(straight, full, resumed, history)


def test_run_killed_after_an_epoch_resumes_exactly_on_mnist(mnist_subset, tmp_path, monkeypatch):
    """A 2-epoch cosine-schedule run interrupted right after its first checkpoint, then resumed,
    gives the same losses, accuracies and parameters as the uninterrupted run."""
    import qt_pennylane.training.loop as train_module

    train_set, test_set = _resume_setup(mnist_subset)
    kwargs = dict(lr=0.01, epochs=2, batch_size=64, seed=5, lr_schedule="cosine", progress=False,
                  config={"task": "mnist", "reps": 1})
    straight = _make_qt()
    full = fit(straight, train_set, test_set, checkpoint=tmp_path / "full.pt", **kwargs)

    save = train_module.save_atomic

    def save_then_die(obj, path):
        save(obj, path)
        raise _Interrupted(f"killed after epoch {obj['done']}")

    monkeypatch.setattr(train_module, "save_atomic", save_then_die)
    with pytest.raises(_Interrupted, match="killed after epoch 1"):
        fit(_make_qt(), train_set, test_set, checkpoint=tmp_path / "part.pt", **kwargs)
    monkeypatch.setattr(train_module, "save_atomic", save)
    resumed = _make_qt(seed=7)
    history = fit(resumed, train_set, test_set, resume=tmp_path / "part.pt", checkpoint=tmp_path / "part.pt",
                  **kwargs)
    _assert_same_run(straight, full, resumed, history)


def test_cli_trains_mnist_and_prints_the_summary(capsys, data_root, mnist_subset, tmp_path):
    argv = ["train", "--quiet", "--task", "mnist", "--data-root", str(data_root), "--limit", "128",
            "--epochs", "1", "--reps", "1", "--batch-size", "64", "--mapping", "paper", "--lr", "0.02",
            "--out", str(tmp_path)]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["task"] == "mnist" and summary["limit"] == 128
    assert summary["n_qubits"] == 13 and summary["target_params"] == 6690
    assert summary["trainable_params"] == 2 * 13 * 2 + 1  # angles + gamma
    assert summary["mapping"] == "paper" and summary["reps"] == 1
    inputs, targets = (t[:128] for t in mnist_subset[1].tensors)  # --limit cuts the test split too
    with torch.no_grad():
        correct = (load_classical(tmp_path / "classical_model.pt")(inputs).argmax(1) == targets).sum().item()
    assert summary["test_accuracy"] == correct / 128  # the accuracy of the saved network on the first 128


def test_cli_with_an_empty_data_root_exits_2_naming_the_folder(capsys, tmp_path):
    empty = tmp_path / "no-data-here"
    empty.mkdir()
    with pytest.raises(SystemExit) as stop:
        main(["train", "--quiet", "--task", "mnist", "--data-root", str(empty), "--limit", "16", "--epochs", "1"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "error" in err
    assert re.search(re.escape(str(empty / "MNIST" / "raw")), err), err


@pytest.mark.notebook
def test_notebook_runs_end_to_end_in_quick_mode_on_the_shipped_subset(monkeypatch):
    # one OpenMP thread: see _one_torch_thread (robust timing on a busy machine)
    monkeypatch.delenv("QT_PENNYLANE_DATA", raising=False)  # quick mode needs nothing outside the repository
    text = run_notebook("mnist_quantum_train.ipynb", monkeypatch, OMP_NUM_THREADS="1")
    assert f"data from {TEST_DATA}" in text
    assert "512 training and 256 test images" in text
    assert "no pennylane or qiskit imported" in text
