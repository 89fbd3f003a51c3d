"""Speed and memory at scale: a Quantum-Train step against the classical step of the same network, M = 10^5 … 10^7.

Targets: MLPs 784–w–w–10 with w chosen so that the weights (generated; the biases stay classical)
number about M. Methods (every one on the fast engine, float32, reps = 10):

- ``batched``: batched generation (``mapping="batched"``, chunks of 1024 weights, MLP widths (128, 24), as
  the ``mnist-mlp`` task): ``ceil(log2(M / 1024))`` qubits.
- ``distributed``: one basis state per weight (``N = ceil(log2 M)`` qubits) from independent
  sub-circuits of at most ``MAX_CIRCUIT_QUBITS`` qubits (the product distribution), mapped by the
  MPS mapping (χ = 4), as in arXiv:2409.06992.
- ``full``: the same mapping with one ``N``-qubit circuit, where ``N <= FULL_CIRCUIT_MAX_QUBITS``.
- ``classical``: the network trained directly.

Each (M, method) runs in a fresh process with one torch thread: it builds the model, takes a few
Adam steps on a batch of 128 random 28×28 inputs, and records its peak resident memory
(``ru_maxrss``, and the same minus a process that only built the batch); then it builds the
classical network of the same size and times the two steps round by round, interleaved, so the
ratio is measured under the same load. It also times the generator alone (forward and backward of
θ), to say where the generator dominates the step.

Writes ``benchmarks/results/scale.json`` (rewritten after every case; cases already there are
reused). The machine may be shared: the ratios are the result; absolute times vary with the load.

Usage::

    python benchmarks/scale.py
    python benchmarks/scale.py --sizes 100000 1000000 --quick
"""
from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

from provenance import run_meta  # benchmarks/provenance.py, beside this script

HERE = Path(__file__).resolve().parent
SIZES = (100_000, 300_000, 1_000_000, 3_000_000, 10_000_000)
METHODS = ("batched", "distributed", "full")
MAX_CIRCUIT_QUBITS = 12
FULL_CIRCUIT_MAX_QUBITS = 22
REPS = 10
BATCHED = {"chunk_size": 1024, "hidden": [128, 24]}
MPS = {"bond": 4}

CASE = r"""
import json, resource, statistics, sys, time
import torch
torch.set_num_threads(1)
from qt_pennylane import QuantumTrainModel
config = json.loads(sys.argv[1])
torch.manual_seed(0)
x, y = torch.randn(config["batch"], 1, 28, 28), torch.randint(0, 10, (config["batch"],))

def kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def network():
    w = config["width"]
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, w), torch.nn.ReLU(), torch.nn.Linear(w, w),
                               torch.nn.ReLU(), torch.nn.Linear(w, 10))

def step_fn(model):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    return step

base = kib()
out = {"baseline_rss_mib": base / 1024}
if config["method"] == "none":
    print(json.dumps(out)); sys.exit()
started = time.perf_counter()
method = config["method"]
if method == "classical":
    model = network()
else:
    options = dict(mapping=config["mapping"], mapping_options=config["mapping_options"], reps=config["reps"], seed=0)
    if config.get("max_circuit_qubits"):
        options["max_circuit_qubits"] = config["max_circuit_qubits"]
    model = QuantumTrainModel(network(), **options)
out["build_seconds"] = time.perf_counter() - started
step = step_fn(model)
step(); step()
out["peak_rss_mib"] = kib() / 1024
out["trainable_params"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
if method != "classical":
    out["n_qubits"] = model.generator.n_qubits
    out["source"] = model.generator.source.description
    out["generated_params"] = model.counts()["generated_params"]
    reference = step_fn(network())
    reference()
    times = {"method": [], "classical": [], "generator": []}
    def generator_pass():
        theta = model.generator()
        theta.backward(torch.ones_like(theta))
    for _ in range(config["rounds"]):
        for name, fn in (("method", step), ("classical", reference), ("generator", generator_pass)):
            t = time.perf_counter()
            for _ in range(config["steps"]):
                fn()
            times[name].append((time.perf_counter() - t) / config["steps"])
    median = {k: statistics.median(v) for k, v in times.items()}
    out.update(step_seconds=median["method"], classical_step_seconds=median["classical"],
               generator_seconds=median["generator"], ratio_to_classical=median["method"] / median["classical"],
               generator_share=median["generator"] / median["method"], rounds=times)
print(json.dumps(out))
"""


def width_for(n_weights: int) -> int:
    """The hidden width w of 784–w–w–10 whose ``794·w + w²`` weights come closest to ``n_weights``."""
    return round((-794 + math.sqrt(794**2 + 4 * n_weights)) / 2)


def cases(sizes, methods, quick: bool):
    """The (M, method) configurations, with ``None`` for a full circuit that does not fit."""
    for size in sizes:
        width = width_for(size)
        weights = 794 * width + width * width
        n_qubits = max(1, math.ceil(math.log2(weights)))
        common = dict(size=size, width=width, weights=weights, batch=32 if quick else 128, reps=REPS,
                      rounds=2 if quick else 3, steps=1 if quick else 3)
        yield dict(common, method="classical")
        for method in methods:
            if method == "batched":
                yield dict(common, method=method, mapping="batched", mapping_options=BATCHED)
            elif method == "distributed":
                yield dict(common, method=method, mapping="mps", mapping_options=MPS,
                           max_circuit_qubits=MAX_CIRCUIT_QUBITS)
            elif n_qubits <= FULL_CIRCUIT_MAX_QUBITS:
                yield dict(common, method=method, mapping="mps", mapping_options=MPS)


def run_case(config: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", CASE, json.dumps(config)], capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    path = args.out / f"scale{'_quick' if args.quick else ''}.json"
    data = json.loads(path.read_text()) if path.exists() else {"runs": []}
    if "baseline" not in data:
        data["baseline"] = run_case({"method": "none", "batch": 32 if args.quick else 128})
    for config in cases(args.sizes, args.methods, args.quick):
        if any(r["config"] == config for r in data["runs"]):
            continue
        result = run_case(config)
        if "peak_rss_mib" in result:
            result["step_memory_mib"] = result["peak_rss_mib"] - data["baseline"]["baseline_rss_mib"]
        command = run_meta("benchmarks/scale.py", argv, started)["command"]
        data["runs"].append({"config": config, **result, "command": command})
        data["meta"] = run_meta("benchmarks/scale.py", argv, started)
        data["settings"] = {"max_circuit_qubits": MAX_CIRCUIT_QUBITS, "full_circuit_max_qubits": FULL_CIRCUIT_MAX_QUBITS,
                            "reps": REPS, "batched": BATCHED, "mps": MPS, "torch_threads": 1,
                            "note": "machine shared with other jobs: ratios measured in one process, "
                                    "absolute times vary with the load"}
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1))
        summary = {k: result.get(k) for k in ("n_qubits", "ratio_to_classical", "generator_share", "peak_rss_mib",
                                              "error")}
        print(f"M={config['weights']} {config['method']}: {summary}", flush=True)


if __name__ == "__main__":
    main()
