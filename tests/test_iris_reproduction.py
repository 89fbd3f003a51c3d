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
        ("paper", None, None), ("adam", "fresh", 13 * 256),
    ]
    assert (tmp_path / "iris_shots_quick.png").stat().st_size > 0
    tuning = json.loads((tmp_path / "iris_tuning_quick.json").read_text())
    best = min(tuning["overall"], key=lambda row: row["train_loss_mean"])
    assert tuning["selected"]["cobyla_step"] == best["cobyla_step"] and len(tuning["overall"]) == 2


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
