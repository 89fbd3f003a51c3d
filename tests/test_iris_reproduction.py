"""The Iris reproduction: the benchmark script and notebook run end to end in quick mode."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_notebook

ROOT = Path(__file__).resolve().parents[1]


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
    assert (tmp_path / "iris_shots_quick.png").stat().st_size > 0
    assert all(0 <= r["exact_readout_test_accuracy"] <= 1 for r in shots["runs"] if r["shots"] is not None)
    assert all("exact_readout_test_accuracy" not in r for r in shots["runs"] if r["shots"] is None)
    tuning = json.loads((tmp_path / "iris_tuning_quick.json").read_text())
    best = min(tuning["overall"], key=lambda row: row["train_loss_mean"])
    assert tuning["selected"]["cobyla_step"] == best["cobyla_step"] and len(tuning["overall"]) == 2
    shots_tuning = json.loads((tmp_path / "iris_shots_tuning_quick.json").read_text())
    best = min(shots_tuning["summary"], key=lambda row: row["train_loss_mean"])
    assert shots_tuning["selected"]["epochs"] == best["epochs"] and len(shots_tuning["summary"]) == 2


@pytest.mark.notebook
def test_iris_notebook_runs_in_quick_mode(monkeypatch):
    text = run_notebook("iris_reproduction.ipynb", monkeypatch)
    assert "loaded without PennyLane: IrisMLP 131 weights" in text


def test_schedule_defaults_are_the_committed_tuning_selection():
    import inspect

    from qt_pennylane.cli import build_parser
    from qt_pennylane.optim import paper_schedule

    selected = json.loads((ROOT / "benchmarks" / "results" / "iris_tuning.json").read_text())["selected"]
    parameters = inspect.signature(paper_schedule).parameters
    cli = build_parser().parse_args(["train"])
    for name in ("cobyla_step", "gamma_step"):
        assert parameters[name].default == getattr(cli, name) == selected[name]


def test_shots_benchmark_uses_the_committed_adam_selection():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import iris
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
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
