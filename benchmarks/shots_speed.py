"""Speed of probabilities from shots: the engine's sampler against a device that samples.

For each (N qubits, reps) and ``shots = 13 * 2**N`` (the top of the paper's shot sweep), in one
process, one torch thread:

- ``forward``: one evaluation of the sampled probabilities (what every step of the paper's
  gradient-free schedule costs), by ``QuantumWeightGenerator(..., shots=S)`` with
  ``engine="auto"`` (exact engine + :class:`qt_pennylane.sampling.ShotSampler`) and with
  ``engine="qnode"`` (PennyLane's ``default.qubit`` samples);
- ``forward_backward``: probabilities and their parameter-shift gradient (what a gradient step
  with shots costs), the same two ways; the QNode is skipped where one gradient would take more
  than a minute (it runs ``2 · len(φ)`` sampled circuits, as the engine does).

Times are medians of up to ``--repeats`` calls after one warm-up call (``speed.measure_calls``). Writes
``benchmarks/results/shots_speed.json`` with the command and machine facts.

Usage::

    python benchmarks/shots_speed.py              # about a minute
    python benchmarks/shots_speed.py --quick      # smoke run, writes shots_speed_quick.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from provenance import run_meta  # benchmarks/provenance.py, beside this script
from speed import measure_calls  # benchmarks/speed.py, beside this script

from qt_pennylane import QuantumWeightGenerator

RESULTS = Path(__file__).resolve().parent / "results"
GRID = ((8, 1), (8, 6), (13, 1), (13, 26))
QNODE_GRADIENT_LIMIT = ((8, 1), (8, 6), (13, 1))
"""Where the QNode's parameter-shift gradient is measured; elsewhere it is skipped as too slow."""
BUDGET_S = 20.0
"""Seconds of timed calls per measurement (at least one call)."""


def measure(n_qubits: int, reps: int, engine: str, gradient: bool, repeats: int) -> float:
    n_params = 2 ** (n_qubits - 1) + 1  # the smallest weight count that needs n_qubits
    generator = QuantumWeightGenerator(n_params, reps=reps, mapping="paper", seed=0, shots=13 * 2**n_qubits,
                                       engine=engine)
    weights = torch.randn(2**n_qubits, generator=torch.Generator().manual_seed(1))

    def step():
        generator.phi.grad = None
        probabilities = generator.probabilities()
        if gradient:
            (probabilities @ weights.to(probabilities.dtype)).backward()

    if gradient:
        return measure_calls(step, repeats, BUDGET_S)["median_ms"] / 1e3
    with torch.no_grad():
        return measure_calls(step, repeats, BUDGET_S)["median_ms"] / 1e3


def run(quick: bool, repeats: int) -> list[dict]:
    rows = []
    for n_qubits, reps in ((8, 1),) if quick else GRID:
        for gradient in (False, True):
            row = {"n_qubits": n_qubits, "reps": reps, "shots": 13 * 2**n_qubits,
                   "measure": "forward_backward" if gradient else "forward"}
            for engine in ("auto", "qnode"):
                key = "engine_s" if engine == "auto" else "qnode_default_qubit_s"
                if gradient and engine == "qnode" and (n_qubits, reps) not in QNODE_GRADIENT_LIMIT:
                    row[key], row["skipped"] = None, "QNode parameter-shift gradient over a minute per call"
                    continue
                row[key] = measure(n_qubits, reps, engine, gradient, 2 if quick else repeats)
            if row.get("qnode_default_qubit_s"):
                row["speedup"] = row["qnode_default_qubit_s"] / row["engine_s"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    rows = run(args.quick, args.repeats)
    payload = {
        "rows": rows,
        "meta": run_meta("benchmarks/shots_speed.py", argv, started),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("shots_speed_quick.json" if args.quick else "shots_speed.json")
    path.write_text(json.dumps(payload, indent=1))
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
