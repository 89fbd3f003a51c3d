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
    assert [r["shots"] for r in shots["runs"]] == [256, 13 * 256]
    assert (tmp_path / "iris_shots_quick.png").stat().st_size > 0


@pytest.mark.notebook
def test_iris_notebook_runs_in_quick_mode(monkeypatch):
    text = run_notebook("iris_reproduction.ipynb", monkeypatch)
    assert "loaded without PennyLane: IrisMLP 131 weights" in text
