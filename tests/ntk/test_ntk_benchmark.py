"""``benchmarks/ntk.py --quick`` runs end to end on a generated MNIST file set."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_benchmark_quick_mode_writes_json_and_figures(mnist_root, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "ntk.py"), "--quick", "--data-root", str(mnist_root),
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "ntk_quick.json").read_text())
    assert [row["n"] for row in result["fc"]] == [8, 16]
    assert [row["trials"] for row in result["fc"]] == [2, 1]
    assert result["qsvt"] and min(row["overlap"] for row in result["qsvt"]) >= 0.99
    assert {"log", "power"} <= set(result["fit"]["fc-erf"])
    assert result["meta"]["torch_threads"] == 1 and "--quick" in result["meta"]["command"]
    for name in ("accuracy", "condition", "costs"):
        assert (tmp_path / f"ntk_{name}_quick.png").stat().st_size > 1000
