"""MNIST end to end: the paper's CNN, short QT runs on subsets, exact resume, the CLI, the notebook."""
import json
import os
import re
from pathlib import Path

import pytest
import torch

from qt_pennylane import QuantumTrainModel
from qt_pennylane.cli import main
from qt_pennylane.datasets import mnist_tensors
from qt_pennylane.mapping import n_qubits_for
from qt_pennylane.tasks import MnistCNN
from qt_pennylane.train import evaluate, fit

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "mnist_quantum_train.ipynb"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def mnist_subset():
    """The first 512 training and 256 test images (a module-wide cache: reading the files takes a moment)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data folder {SHARED_DATA} is missing")
    return (
        mnist_tensors("mnist", train=True, data_root=SHARED_DATA, limit=512),
        mnist_tensors("mnist", train=False, data_root=SHARED_DATA, limit=256),
    )


@pytest.mark.parametrize("activation", [True, False])
def test_mnist_cnn_has_the_papers_6690_parameters_on_13_qubits(activation):
    model = MnistCNN(activation=activation)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == 6690
    assert n_qubits_for(n_params) == 13
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


@pytest.mark.parametrize(
    "mapping, lr",
    [("learned", 0.01), ("paper", 0.05)],
)
def test_short_mnist_run_lowers_the_training_loss(mnist_subset, mapping, lr):
    train_set, test_set = mnist_subset
    model = QuantumTrainModel(MnistCNN(), reps=2, mapping=mapping, seed=0, dtype=torch.float32)
    assert model.generator.n_qubits == 13
    before = evaluate(model.export(), train_set)[0]
    history = fit(model, train_set, test_set, lr=lr, epochs=3, batch_size=64, lr_schedule="constant",
                  progress=False)
    after = evaluate(model.export(), train_set)[0]
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert after < 0.9 * before, (before, after, history)
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["train_accuracy"] > 0.2


def test_resume_after_interruption_continues_exactly_on_mnist(mnist_subset, tmp_path):
    train_set, test_set = mnist_subset
    train_set = torch.utils.data.TensorDataset(*(t[:256] for t in train_set.tensors))
    kwargs = dict(lr=0.01, epochs=2, batch_size=64, seed=5, progress=False, config={"task": "mnist", "reps": 1})

    def make(seed=0):
        return QuantumTrainModel(MnistCNN(), reps=1, mapping="learned", seed=seed)

    straight = make()
    full = fit(straight, train_set, test_set, checkpoint=tmp_path / "full.pt", **kwargs)
    interrupted = make()
    fit(interrupted, train_set, test_set, checkpoint=tmp_path / "part.pt", **{**kwargs, "epochs": 1})
    resumed = make(seed=7)  # a different start: the checkpoint must replace all of it
    history = fit(resumed, train_set, test_set, resume=tmp_path / "part.pt", checkpoint=tmp_path / "part.pt",
                  **kwargs)
    assert [r["epoch"] for r in history] == [1, 2]
    assert [r["loss"] for r in history] == [r["loss"] for r in full]
    assert [r["test_accuracy"] for r in history] == [r["test_accuracy"] for r in full]
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name


def test_cli_trains_mnist_and_prints_the_summary(capsys, shared_data):
    argv = ["train", "--quiet", "--task", "mnist", "--data-root", str(shared_data), "--limit", "256",
            "--epochs", "1", "--reps", "1", "--batch-size", "64", "--mapping", "learned", "--lr", "0.01"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["task"] == "mnist"
    assert summary["n_qubits"] == 13 and summary["target_params"] == 6690
    assert summary["trainable_params"] == 2 * 13 * 2 + 249  # angles + the learned mapping G
    assert 0.0 <= summary["test_accuracy"] <= 1.0


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
def test_notebook_runs_end_to_end_in_quick_mode(shared_data, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("QT_QUICK", "1")  # the kernel inherits this process's environment
    monkeypatch.setenv("QT_PENNYLANE_DATA", str(shared_data))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "store the notebook without outputs"
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    errors = [out for cell in notebook.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
    text = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("output_type") == "stream")
    assert "no pennylane or qiskit imported" in text
    assert os.environ["QT_QUICK"] == "1"
