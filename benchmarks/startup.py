"""Start-up cost: importing the package and building a model, each in a fresh process.

Cases (medians over ``--repeats`` fresh processes, one torch thread):

- ``engine``: ``import qt_pennylane`` and build the papers' MNIST model (6,690 weights, 13 qubits,
  L = 26) on the fast engine, then one forward pass. PennyLane is not imported.
- ``qnode``: the same model with ``engine="qnode"`` (a PennyLane QNode on ``default.qubit``).
- ``import pennylane``: PennyLane alone, for scale.

Writes ``benchmarks/results/startup.json``.

Usage::

    python benchmarks/startup.py --repeats 5
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from provenance import run_meta  # benchmarks/provenance.py, beside this script

RESULTS = Path(__file__).resolve().parent / "results"

CASES = {
    "engine": "engine='auto'",
    "qnode": "engine='qnode', device='default.qubit'",
}

PROBE = """
import time
started = time.perf_counter()
import sys
import torch
torch.set_num_threads(1)
imported_torch = time.perf_counter()
from qt_pennylane import QuantumTrainModel
from qt_pennylane.tasks import MnistCNN
imported = time.perf_counter()
model = QuantumTrainModel(MnistCNN(), reps=26, generate="all", scale="none", seed=0, {options})
built = time.perf_counter()
model(torch.zeros(1, 1, 28, 28))
ran = time.perf_counter()
print({{"torch_s": imported_torch - started, "import_s": imported - imported_torch, "build_s": built - imported,
        "first_forward_s": ran - built, "total_s": ran - imported_torch, "pennylane_imported": "pennylane" in sys.modules}})
"""

PENNYLANE_ALONE = """
import time
started = time.perf_counter()
import pennylane
print({"import_s": time.perf_counter() - started})
"""


def measure(code: str, repeats: int) -> dict:
    samples = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        samples.append(eval(done.stdout.strip().splitlines()[-1]))  # noqa: S307 - our own probe's dict literal
    keys = [k for k, v in samples[0].items() if isinstance(v, float)]
    return {**{f"{k}_median": statistics.median(s[k] for s in samples) for k in keys},
            **{k: v for k, v in samples[0].items() if not isinstance(v, float)}, "repeats": repeats}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = {name: measure(PROBE.format(options=options), args.repeats) for name, options in CASES.items()}
    results["import pennylane"] = measure(PENNYLANE_ALONE, args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("startup.json" if args.out == RESULTS else "startup_quick.json")
    path.write_text(json.dumps({"results": results, "meta": run_meta("benchmarks/startup.py", argv, started)},
                               indent=1))
    for name, row in results.items():
        print(name, {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()})


if __name__ == "__main__":
    main()
