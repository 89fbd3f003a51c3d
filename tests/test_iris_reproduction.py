"""The Iris reproduction: the benchmark script and notebook run end to end in quick mode."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import run_notebook

ROOT = Path(__file__).resolve().parents[1]


def _count_of(accuracy: float, examples: int) -> bool:
    """``accuracy`` is k / ``examples`` for a whole number k in 0..examples: a fraction of that many predictions."""
    correct = accuracy * examples
    return 0 <= round(correct) <= examples and abs(correct - round(correct)) < 1e-9


def test_iris_benchmark_quick_mode_writes_results(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "iris.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    layers = json.loads((tmp_path / "iris_layers_quick.json").read_text())
    assert {r["optimizer"] for r in layers["runs"]} == {"paper", "adam"}
    assert all(r["trainable_params"] == 2 * 8 * (r["reps"] + 1) + 1 for r in layers["runs"])
    shots = json.loads((tmp_path / "iris_shots_quick.json").read_text())
    assert [(r["optimizer"], r["shot_noise"], r["shots"]) for r in shots["runs"]] == [
        ("paper", "fresh", 256), ("paper", "fresh", 13 * 256), ("paper", "fixed", 256), ("paper", "fixed", 13 * 256),
        ("paper", None, None), ("adam", "fresh", 13 * 256), ("adam", None, None),
    ]
    iris = _iris_benchmark()
    assert all((tmp_path / f"iris_{name}_quick.png").stat().st_size > 0 for name in iris.EXPERIMENTS)
    assert all(_count_of(r["exact_readout_test_accuracy"], 50) for r in shots["runs"] if r["shots"] is not None)
    assert all("exact_readout_test_accuracy" not in r for r in shots["runs"] if r["shots"] is None)
    tuning = json.loads((tmp_path / "iris_tuning_quick.json").read_text())
    best = min(tuning["overall"], key=lambda row: row["train_loss_mean"])
    assert tuning["selected"]["cobyla_step"] == best["cobyla_step"] and len(tuning["overall"]) == 2
    seeds = json.loads((tmp_path / "iris_seeds_quick.json").read_text())
    assert [(r["reps"], r["seed"]) for r in seeds["runs"]] == [(1, 0), (1, 1)]
    for run in seeds["runs"]:
        assert len(run["held_out_errors"]) == round((1 - run["test_accuracy"]) * 50)
    assert sum(seeds["test_error_counts"].values()) == sum(len(r["held_out_errors"]) for r in seeds["runs"])
    network = json.loads((tmp_path / "iris_network_quick.json").read_text())
    assert [r["activation"] for r in network["runs"]] == [True, False]
    assert all("test_accuracy" not in r and _count_of(r["validation_accuracy"], 20) for r in network["runs"])
    assert all(r["function_evaluations"] > 0 and len(r["history"]) == 1 for r in network["runs"])
    best = max(network["overall"], key=lambda row: (row["validation_accuracy_mean"], -row["train_loss_mean"]))
    assert network["selected"]["activation"] == best["activation"]
    adam_tuning = json.loads((tmp_path / "iris_adam_tuning_quick.json").read_text())
    assert [(r["epochs"], r["optimizer"]) for r in adam_tuning["runs"]] == [(5, "adam"), (10, "adam")]
    assert all("test_accuracy" not in r and _count_of(r["validation_accuracy"], 20) for r in adam_tuning["runs"])
    best = max(adam_tuning["overall"], key=lambda row: (row["validation_accuracy_mean"], -row["train_loss_mean"]))
    assert adam_tuning["selected"]["epochs"] == best["epochs"]
    shots_tuning = json.loads((tmp_path / "iris_shots_tuning_quick.json").read_text())
    best = min(shots_tuning["summary"], key=lambda row: row["train_loss_mean"])
    assert shots_tuning["selected"]["epochs"] == best["epochs"] and len(shots_tuning["summary"]) == 2
    loss_terms = json.loads((tmp_path / "iris_loss_terms_quick.json").read_text())
    paper_run, ce_run = loss_terms["runs"]
    assert (paper_run["loss"], ce_run["loss"]) == ("paper", "cross-entropy")
    assert paper_run["train_loss"] == pytest.approx(paper_run["train_cross_entropy"] + paper_run["train_error_rate"])
    assert ce_run["train_loss"] == pytest.approx(ce_run["train_cross_entropy"]) and ce_run["train_error_rate"] > 0
    assert paper_run["train_error_rate"] == pytest.approx(1 - paper_run["train_accuracy"])
    assert paper_run["continued_periods"] == 1 and "continued_train_cross_entropy" not in ce_run
    assert paper_run["continued_train_cross_entropy"] < paper_run["train_cross_entropy"]  # CE alone lowers it
    splits = json.loads((tmp_path / "iris_splits_quick.json").read_text())
    assert [(r["split"], r["optimizer"], r["reps"]) for r in splits["runs"]] == [
        (split, optimizer, reps) for split in (0, 1)
        for optimizer, reps in (("classical", 0), ("paper", 1), ("adam", 1), ("subspace", 0), ("hashednets", 0))]
    assert all(r["seed"] == r["split"] for r in splits["runs"])
    for run in splits["runs"]:
        assert len(run["held_out_errors"]) == round((1 - run["test_accuracy"]) * 50)
    classical = splits["runs"][0]
    assert classical["trainable_params"] == classical["target_params"] == 131 and classical["param_ratio"] == 1.0
    assert {(r["optimizer"], r["reps"], r["seeds"]) for r in splits["summary"]} == {
        ("classical", 0, 2), ("paper", 1, 2), ("adam", 1, 2), ("subspace", 0, 2), ("hashednets", 0, 2)}
    adam, controls = splits["runs"][2], splits["runs"][3:5]
    assert all(c["trainable_params"] == adam["trainable_params"] == 33 for c in controls)  # the same count as QT


@pytest.mark.notebook
def test_iris_notebook_runs_in_quick_mode(monkeypatch):
    text = run_notebook("iris_reproduction.ipynb", monkeypatch)
    assert "loaded without PennyLane: IrisMLP 131 weights" in text


def test_schedule_defaults_are_the_committed_tuning_selection():
    import inspect

    from qt_pennylane.cli_options import SCHEDULE_DEFAULTS
    from qt_pennylane.training.schedule import paper_schedule

    selected = json.loads((ROOT / "benchmarks" / "results" / "iris_tuning.json").read_text())["selected"]
    parameters = inspect.signature(paper_schedule).parameters
    for name in ("cobyla_step", "gamma_step"):
        assert parameters[name].default == SCHEDULE_DEFAULTS[name] == selected[name]


def test_iris_task_network_is_the_committed_cross_validation_selection():
    from qt_pennylane.tasks import get_task

    committed = json.loads((ROOT / "benchmarks" / "results" / "iris_network.json").read_text())
    network = get_task("iris").build_model()
    assert any(isinstance(m, torch.nn.ReLU) for m in network.modules()) == committed["selected"]["activation"]
    assert sum(p.numel() for p in network.parameters()) == 131
    assert {r["activation"] for r in committed["runs"]} == {True, False}
    assert all("test_accuracy" not in r for r in committed["runs"])  # selected without the test set


def test_iris_splits_are_stratified_disjoint_and_standardized_on_the_training_part():
    from qt_pennylane.tasks import get_task, load_iris_split

    task_train, task_test = get_task("iris").load()
    seen_tests = []
    for seed in (0, 1):
        train, test = load_iris_split(seed=seed)
        (x_train, y_train), (x_test, y_test) = train.tensors, test.tensors
        assert (len(train), len(test)) == (100, 50)
        assert sorted(torch.bincount(y_test).tolist()) == [16, 17, 17]  # stratified: 50 per class overall
        assert torch.allclose(x_train.mean(0), torch.zeros(4), atol=1e-5)
        assert torch.allclose(x_train.std(0, unbiased=False), torch.ones(4), atol=1e-5)
        rows = {tuple(row) for row in torch.cat([x_train, x_test]).tolist()}
        assert len(rows) >= 147  # Iris has 3 duplicated rows; nothing else repeats between the parts
        seen_tests.append(x_test)
    assert torch.equal(seen_tests[0], task_test.tensors[0])  # seed 0 is the task's split
    assert not torch.equal(seen_tests[0], seen_tests[1])

@pytest.mark.parametrize("activation", [True, False])
def test_iris_mlp_is_affine_exactly_without_its_activation(activation):
    from qt_pennylane.tasks import IrisMLP

    torch.manual_seed(0)
    network = IrisMLP(activation=activation).double()
    a, b = torch.randn(8, 4, dtype=torch.float64), torch.randn(8, 4, dtype=torch.float64)
    midpoint = network((a + b) / 2)
    assert sum(p.numel() for p in network.parameters()) == 131
    assert torch.allclose(midpoint, (network(a) + network(b)) / 2) is not activation


def test_iris_adam_settings_are_the_committed_cross_validation_selection():
    from qt_pennylane.tasks import get_task

    iris = _iris_benchmark()
    selected = json.loads((ROOT / "benchmarks" / "results" / "iris_adam_tuning.json").read_text())["selected"]
    defaults = get_task("iris").defaults
    assert (iris.ADAM_SETTINGS["epochs"], iris.ADAM_SETTINGS["lr"]) == (selected["epochs"], selected["lr"])
    assert (defaults["epochs"], defaults["lr"]) == (selected["epochs"], selected["lr"])  # the CLI's Iris defaults


def _iris_benchmark():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import iris
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return iris


@pytest.mark.parametrize("value", ["no", 0, None])
def test_network_activation_must_be_a_bool(value):
    from qt_pennylane.tasks import IrisMLP, MnistCNN

    for network in (IrisMLP, MnistCNN):
        with pytest.raises(ValueError, match=rf"activation must be True or False, got {value!r}"):
            network(activation=value)


def test_shots_benchmark_uses_the_committed_adam_selection():
    iris = _iris_benchmark()
    selected = json.loads((ROOT / "benchmarks" / "results" / "iris_shots_tuning.json").read_text())["selected"]
    assert (iris.SHOTS_ADAM_SETTINGS["epochs"], iris.SHOTS_ADAM_SETTINGS["lr"]) == (selected["epochs"], selected["lr"])


def test_fixed_noise_landscape_quick_mode_probes_both_probabilities(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fixed_noise_landscape.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads((tmp_path / "fixed_noise_landscape_quick.json").read_text())["rows"]
    assert row["fixed_noise"]["gamma"] == row["exact"]["gamma"] > 0
    for kind in ("fixed_noise", "exact"):
        assert [p["radius"] for p in row[kind]["probes"]] == [0.1, 0.01]
        assert all(0 <= p["lower"] <= p["changed"] <= 3 for p in row[kind]["probes"])
    assert row["fixed_noise"]["probes"][0]["loss"] == row["period_losses"][-1]
