"""``benchmarks/ntk.py --quick`` runs end to end on a generated MNIST file set (in this process)."""
import importlib.util
import json
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]


def _benchmark():
    spec = importlib.util.spec_from_file_location("benchmarks_ntk", ROOT / "benchmarks" / "ntk.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_quick_mode_writes_json_and_figures(mnist_root, tmp_path):
    threads = torch.get_num_threads()
    try:
        _benchmark().main(["--quick", "--data-root", str(mnist_root), "--out", str(tmp_path)])
        result = json.loads((tmp_path / "ntk_quick.json").read_text())
        assert [row["n"] for row in result["fc"]] == [8, 16]
        assert [row["trials"] for row in result["fc"]] == [2, 1]
        assert result["qsvt"] and min(row["overlap"] for row in result["qsvt"]) >= 0.99
        assert {"log", "power"} <= set(result["fit"]["fc-erf"])
        assert result["meta"]["torch_threads"] == 1 and "--quick" in result["meta"]["command"]
        for name in ("accuracy", "condition", "costs"):
            figure = tmp_path / f"ntk_{name}_quick.png"
            assert figure.stat().st_size > 1000
            figure.unlink()
        _benchmark().main(["--quick", "--replot", "--out", str(tmp_path)])
        assert all((tmp_path / f"ntk_{name}_quick.png").is_file() for name in ("accuracy", "condition", "costs"))
    finally:
        torch.set_num_threads(threads)
