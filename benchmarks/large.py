"""Quantum-Train on a large network: batched parameter generation on the 1.86M-weight MNIST MLP, with its controls.

The network is the ``mnist-mlp`` task's 784–1024–1024–10 MLP (1,863,690 parameters: 1,861,632
weights, generated; 2,058 biases, kept classical). Methods, every one at the same budget (data,
epochs, batch size, seeds):

- ``qt``: ``qt-pennylane train --task mnist-mlp --mapping batched --seed S`` (the CLI itself, with the
  task's defaults: ``qt_pennylane.tasks.LARGE_MLP_DEFAULTS``), an EfficientSU2 circuit on the fast engine.
- ``fixed-input``: the same generator with a fixed random vector in place of the circuit's
  probabilities (``source="fixed-random"``): the circuit's angles are the only trainable numbers it lacks.
- ``hashednets``: HashedNets, buckets sized so that the model has exactly QT's trainable count.
- ``fastfood``: the random subspace (Li et al. 2018) through a Fastfood projection (a dense one,
  1.86M × 30k floats, does not fit in memory), dimension sized to QT's trainable count.
- ``classical``: the network trained directly.

Experiments (``--only NAME``; default: all three, in this order):

- ``tune``: settings chosen on training data only: trained on training images 0–49,999 for
  ``TUNE_EPOCHS`` epochs, validated on training images 50,000–59,999 (the test set plays no
  part). QT: the mapping's chunk size, widths, per-chunk embedding and learning rates
  (``QT_GRID``); the controls and the classical network: their learning rate (``RATE_GRID``).
  Writes ``large_tune.json``; the chosen values are the task's defaults and ``RATES`` below.
- ``main``: every method × seeds 0–2 on the full 60k / 10k split. Writes ``large.json``.
- ``timing``: step time (forward, backward, Adam step; batch 128) of every method, measured in one
  process, methods interleaved round by round, and each one's ratio to the classical step.
  Writes ``large_timing.json``.

Each JSON is re-read and rewritten after every run (under a file lock), and runs already there
(same config) are reused, so an interrupted benchmark continues and two processes can share the
work (``--methods``, one torch thread each). ``--quick`` runs a tiny version on a few hundred images.

Usage::

    python benchmarks/large.py --only tune
    python benchmarks/large.py --only main --methods qt fixed-input classical   # beside: hashednets fastfood
    python benchmarks/large.py --only timing
"""
from __future__ import annotations

import argparse
import fcntl
import json
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import torch
from provenance import run_meta  # benchmarks/provenance.py, beside this script
from torch.utils.data import Subset

from qt_pennylane import QuantumTrainModel, fit
from qt_pennylane.cli import run_train
from qt_pennylane.cli_options import build_parser
from qt_pennylane.controls import matched_control
from qt_pennylane.tasks import get_task
from qt_pennylane.tasks.datasets import mnist_tensors

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_ROOT = HERE.parents[1] / "shared" / "data"

TASK = get_task("mnist-mlp")
QT = {k: TASK.defaults[k] for k in ("mapping", "mapping_options", "generate", "scale", "reps", "lr", "mapping_lr",
                                    "classical_lr")}
"""QT's settings: the task's defaults (chosen by ``tune``)."""

METHODS = ("qt", "fixed-input", "hashednets", "fastfood", "classical")

RATES = {"hashednets": dict(lr=3e-2, classical_lr=1e-3), "fastfood": dict(lr=3e-2, classical_lr=1e-3),
         "classical": dict(lr=1e-3)}
"""Learning rates of the controls (their free numbers, and the classical biases) and of the classical
network, chosen by ``tune``. ``fixed-input`` takes QT's."""

BUDGET = dict(epochs=TASK.defaults["epochs"], batch_size=TASK.defaults["batch_size"])
QUICK_BUDGET = dict(epochs=1, batch_size=64)
TUNE_EPOCHS = 2
EVAL_LIMIT = TASK.defaults["train_eval_limit"]

QT_GRID = [
    dict(mapping_options={"chunk_size": 1024, "hidden": [32, 24]}),
    dict(mapping_options={"chunk_size": 1024, "hidden": [32, 24]}, mapping_lr=3e-3),
    dict(mapping_options={"chunk_size": 1024, "hidden": [32, 24]}, lr=0.1),
    dict(mapping_options={"chunk_size": 1024, "hidden": [32, 24], "embedding": 4}),
    dict(mapping_options={"chunk_size": 512, "hidden": [64, 48]}),
    dict(mapping_options={"chunk_size": 1024, "hidden": [32, 24], "activation": "gelu"}),
    dict(mapping_options={"chunk_size": 1024, "hidden": [32, 24]}, mapping_lr=1e-2),
    dict(mapping_options={"chunk_size": 1024, "hidden": [128, 24]}, mapping_lr=3e-3),
    dict(mapping_options={"chunk_size": 1024, "hidden": [32, 24], "embedding": 4}, mapping_lr=3e-3),
]
"""QT variants compared in ``tune`` (each overrides ``QT``); all at most 2 % of the weights trainable."""

RATE_GRID = {"hashednets": [1e-3, 3e-3, 1e-2, 3e-2, 1e-1], "fastfood": [3e-3, 1e-2, 3e-2, 1e-1],
             "classical": [3e-4, 1e-3]}
"""Learning rates compared in ``tune`` for the controls (their free numbers) and the classical network."""


def load(data_root: Path, quick: bool, split: str):
    """``(train, evaluation)``: the test set (``split="test"``) or a validation part of the training set."""
    train = mnist_tensors("mnist", train=True, data_root=data_root)
    if split == "validation":
        first, held = (range(0, 512), range(59_488, 60_000)) if quick else (range(50_000), range(50_000, 60_000))
        return Subset(train, first), Subset(train, held)
    test = mnist_tensors("mnist", train=False, data_root=data_root)
    if quick:
        return Subset(train, range(512)), Subset(test, range(256))
    return train, test


def build(method: str, seed: int, settings: dict, trainable: int | None = None) -> torch.nn.Module:
    """The model of one run; every random choice comes from ``seed``."""
    torch.manual_seed(seed)
    target = TASK.build_model()
    policy = dict(generate=settings["generate"], scale=settings["scale"])
    if method == "classical":
        return target
    if method == "qt":
        return QuantumTrainModel(target, mapping=settings["mapping"], mapping_options=settings["mapping_options"],
                                 reps=settings["reps"], seed=seed, **policy)
    if method == "fixed-input":
        return QuantumTrainModel(target, source="fixed-random", mapping=settings["mapping"],
                                 mapping_options=settings["mapping_options"], seed=seed, **policy)
    return matched_control(target, method, trainable, seed=seed, **policy)


def rates_of(method: str, settings: dict) -> dict:
    """The learning rates ``fit`` takes for ``method``."""
    if method in ("qt", "fixed-input"):
        return {k: settings[k] for k in ("lr", "mapping_lr", "classical_lr")}
    if method == "classical":  # a plain module is one group, trained at ``lr``
        return {"lr": settings["lr"]}
    return {k: settings[k] for k in ("lr", "classical_lr")}


def train(model, rates: dict, data, seed: int, budget: dict) -> dict:
    """Train with ``fit`` as the CLI does (seeded batches of the dataset, cosine schedule); evaluate the export."""
    train_set, evaluation_set = data
    started = time.perf_counter()
    history = fit(model, train_set, evaluation_set, epochs=budget["epochs"], batch_size=budget["batch_size"],
                  seed=seed, train_eval_limit=EVAL_LIMIT, progress=False, **rates)
    return summarize_run(model, history, time.perf_counter() - started)


def summarize_run(model, history: list[dict], seconds: float) -> dict:
    counts = model.counts() if hasattr(model, "counts") else {
        "generated_params": 0, "classical_params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters())}
    return {"history": history, "accuracy": history[-1]["test_accuracy"], "loss": history[-1]["test_loss"],
            "seconds": seconds, "target_params": 1_863_690, **counts, "torch_threads": torch.get_num_threads()}


def train_qt_with_cli(seed: int, data_root: Path, quick: bool, budget: dict) -> dict:
    """QT through the command line's own code: ``qt-pennylane train --task mnist-mlp --mapping batched``."""
    argv = ["train", "--task", "mnist-mlp", "--mapping", "batched", "--seed", str(seed), "--data-root",
            str(data_root), "--quiet"]
    if quick:
        argv += ["--limit", "512", "--epochs", str(budget["epochs"]), "--batch-size", str(budget["batch_size"])]
    torch.manual_seed(seed)  # the target's own initialization (its biases stay classical)
    summary = run_train(build_parser().parse_args(argv))
    return {"command": "qt-pennylane " + " ".join(argv), "history": summary["history"],
            "accuracy": summary["test_accuracy"], "loss": summary["history"][-1]["test_loss"],
            "seconds": summary["seconds"], "target_params": summary["target_params"],
            **{k: summary[k] for k in ("generated_params", "classical_params", "trainable_params", "n_qubits",
                                       "mapping_options", "reps")},
            "torch_threads": summary["torch_threads"]}


class Results:
    """A JSON file of runs, re-read and rewritten under a lock after every run; runs with the same config are reused."""

    def __init__(self, path: Path, argv: list[str] | None):
        self.path, self.started, self.argv = path, time.perf_counter(), argv

    @contextmanager
    def _locked(self):
        with open(Path(tempfile.gettempdir()) / f"{self.path.name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text()) if self.path.exists() else {"runs": []}
            yield data
            fcntl.flock(lock, fcntl.LOCK_UN)

    def runs(self) -> list[dict]:
        with self._locked() as data:
            return data["runs"]

    def find(self, config: dict) -> dict | None:
        return next((r for r in self.runs() if r["config"] == config), None)

    def add(self, config: dict, result: dict, **extra) -> None:
        with self._locked() as data:
            data["runs"] = [r for r in data["runs"] if r["config"] != config] + [{"config": config, **result}]
            data.update(extra, meta=run_meta("benchmarks/large.py", self.argv, self.started))
            self.path.write_text(json.dumps(data, indent=1))


def _config(**items) -> dict:
    return json.loads(json.dumps(items))


def run_tune(args) -> None:
    budget = QUICK_BUDGET if args.quick else dict(BUDGET, epochs=TUNE_EPOCHS)
    results = Results(args.out / f"large_tune{'_quick' if args.quick else ''}.json", args.argv)
    data = load(args.data_root, args.quick, "validation")
    qt_trainable = None
    for method in args.methods:
        if method == "fixed-input":
            continue  # the same generator as QT: it takes QT's settings
        variants = QT_GRID if method == "qt" else [dict(lr=rate) for rate in RATE_GRID[method]]
        for variant in variants:
            settings = {**QT, **variant} if method == "qt" else {**QT, **RATES[method], **variant}
            config = _config(method=method, seed=0, **budget, **(settings if method == "qt" else variant))
            found = results.find(config)
            if found is None:
                model = build(method, 0, settings, qt_trainable or _qt_trainable())
                found = train(model, rates_of(method, settings), data, 0, budget)
                results.add(config, found)
                print(f"tune {method} {variant}: validation accuracy {found['accuracy']:.4f} "
                      f"({found['trainable_params']} trainable, {found['seconds']:.0f} s)", flush=True)
    summarize_tune(results)


def _qt_trainable() -> int:
    """QT's trainable count with the task's settings (what the sized controls match)."""
    return build("qt", 0, QT).counts()["trainable_params"]


def summarize_tune(results: Results) -> None:
    with results._locked() as data:
        best = {}
        for run in data["runs"]:
            method = run["config"]["method"]
            if method not in best or run["accuracy"] > best[method]["validation_accuracy"]:
                best[method] = {"config": run["config"], "validation_accuracy": run["accuracy"],
                                "trainable_params": run["trainable_params"]}
        data["selected"] = best
        results.path.write_text(json.dumps(data, indent=1))


def run_main(args) -> None:
    budget = QUICK_BUDGET if args.quick else BUDGET
    results = Results(args.out / f"large{'_quick' if args.quick else ''}.json", args.argv)
    data = None
    trainable = _qt_trainable()
    for seed in args.seeds:
        for method in args.methods:
            settings = dict(QT) if method in ("qt", "fixed-input") else {**QT, **RATES[method]}
            config = _config(method=method, seed=seed, **budget, **(settings if method != "classical"
                                                                      else RATES["classical"]))
            if results.find(config) is not None:
                continue
            if method == "qt":
                result = train_qt_with_cli(seed, args.data_root, args.quick, budget)
            else:
                data = data or load(args.data_root, args.quick, "test")
                result = train(build(method, seed, settings, trainable), rates_of(method, settings), data, seed,
                               budget)
            results.add(config, result)
            print(f"{method} seed {seed}: test accuracy {result['accuracy']:.4f} "
                  f"({result['trainable_params']} trainable, {result['seconds']:.0f} s)", flush=True)
    summarize_main(results)


def summarize_main(results: Results) -> None:
    with results._locked() as data:
        rows = []
        for method in METHODS:
            runs = [r for r in data["runs"] if r["config"]["method"] == method]
            if not runs:
                continue
            accuracies = [r["accuracy"] for r in runs]
            rows.append({"method": method, "seeds": len(runs), "test_accuracy_mean": statistics.mean(accuracies),
                         "test_accuracy_std": statistics.stdev(accuracies) if len(runs) > 1 else 0.0,
                         "test_accuracies": accuracies, "trainable_params": runs[0]["trainable_params"],
                         "target_params": runs[0]["target_params"],
                         "trainable_fraction": runs[0]["trainable_params"] / runs[0]["target_params"],
                         "seconds_mean": statistics.mean(r["seconds"] for r in runs)})
        data["summary"] = rows
        results.path.write_text(json.dumps(data, indent=1))


def run_timing(args) -> None:
    """Median step time of every method, measured round-robin in this process, and its ratio to the classical step."""
    batch = QUICK_BUDGET["batch_size"] if args.quick else BUDGET["batch_size"]
    rounds, steps = (2, 2) if args.quick else (args.rounds, 10)
    images, labels = mnist_tensors("mnist", train=True, data_root=args.data_root, limit=batch).tensors
    trainable = _qt_trainable()
    models = {m: build(m, 0, QT if m in ("qt", "fixed-input") else {**QT, **RATES[m]}, trainable)
              for m in args.methods}
    optimizers = {m: torch.optim.Adam(model.parameters(), lr=1e-4) for m, model in models.items()}
    times = {m: [] for m in models}
    for _ in range(rounds):
        for method, model in models.items():
            optimizer = optimizers[method]
            started = time.perf_counter()
            for _ in range(steps):
                optimizer.zero_grad(set_to_none=True)
                torch.nn.functional.cross_entropy(model(images), labels).backward()
                optimizer.step()
            times[method].append((time.perf_counter() - started) / steps)
    median = {m: statistics.median(t) for m, t in times.items()}
    classical = median.get("classical")
    rows = [{"method": m, "step_seconds_median": median[m], "step_seconds_per_round": times[m],
             "ratio_to_classical": median[m] / classical if classical else None,
             "trainable_params": sum(p.numel() for p in models[m].parameters() if p.requires_grad)}
            for m in models]
    path = args.out / f"large_timing{'_quick' if args.quick else ''}.json"
    path.write_text(json.dumps({"batch_size": batch, "rounds": rounds, "steps_per_round": steps, "rows": rows,
                                "note": "one torch thread; machine shared with other jobs: ratios, not absolute times",
                                "meta": run_meta("benchmarks/large.py", args.argv, args.started)}, indent=1))
    for row in rows:
        print(f"{row['method']}: {1000 * row['step_seconds_median']:.1f} ms/step, "
              f"{row['ratio_to_classical'] or float('nan'):.2f}x classical", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["tune", "main", "timing"])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=7, help="timing: rounds of 10 steps per method")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    args.argv, args.started = argv, time.perf_counter()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "tune"):
        run_tune(args)
    if args.only in (None, "main"):
        run_main(args)
    if args.only in (None, "timing"):
        run_timing(args)


if __name__ == "__main__":
    main()
