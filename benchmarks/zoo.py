"""Quantum-Train on the models researchers use, beside the classical network and non-quantum controls.

Architectures (``ARCHS``): the papers' CNN on MNIST (6,690 weights), a BatchNorm ResNet on
FashionMNIST (44,014), an LSTM reading MNIST row by row (24,714) and a 2-layer bidirectional LSTM on
the same (41,610). Methods at equal budgets (same data, epochs, batch size, seeds):

- ``classical``: the network trained directly.
- ``qt``: ``QuantumTrainModel`` with the package's defaults (``generate="weights"``, ``scale="init"``,
  the learned mapping) and the circuit depth stated in ``QT``.
- ``hashednets``: the same policy and scale, the weights from HashedNets with as many buckets as make
  its trainable count equal QT's.
- ``fixed-input``: QT's generator with a fixed random vector in place of the circuit's probabilities
  (the circuit's angles are the only trainable numbers it lacks).

Experiments (``--only NAME``; default: all three, in this order):

- ``defaults``: how to set the defaults, chosen on training data only. For the ResNet and the two
  LSTMs, every combination of mapping (paper, learned), policy (all, weights), scale (none, init)
  and, for the learned mapping, its learning rate (1e-4, 1e-3), trained on the first 10,000
  training images for 2 epochs and validated on training images 50,000–59,999 (the test set plays
  no part). Writes ``zoo_defaults.json``.
- ``tune``: for the ResNet, where the defaults miss (the papers' mappings fix or share the weights'
  signs by index; a conv kernel wants its own pattern), mappings with more capacity (the learned
  mapping wider, batched chunk heads), each at most a quarter of the ResNet's weights trainable,
  chosen the same way (first 10,000 training images, 2 epochs, validated on 50,000–59,999).
  Writes ``zoo_tune.json``; its ``selected`` setting is the zoo's ``tuned`` variant.
- ``zoo``: every architecture × method × seed 0–2 on the full 60k / 10k split with the defaults,
  and for the tuned architectures QT and its two controls again with the ``tuned`` setting (the
  variant, in each config). Writes ``zoo.json`` and ``zoo.png``.

Each JSON is rewritten after every run and runs already there (same config) are reused, so an
interrupted benchmark continues. ``--arch``, ``--seeds`` and ``--variants`` restrict the work (several
processes can share it, one torch thread each). ``--quick`` runs a tiny version on a few hundred images.

Usage::

    python benchmarks/zoo.py --only defaults
    python benchmarks/zoo.py --only tune
    python benchmarks/zoo.py --only zoo --arch resnet cnn      # beside: --arch lstm bilstm
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from provenance import run_meta  # benchmarks/provenance.py, beside this script
from torch.utils.data import DataLoader, Subset, TensorDataset

from qt_pennylane import QuantumTrainModel, evaluate, fit, update_bn
from qt_pennylane.controls import HashedNetsGenerator
from qt_pennylane.tasks.datasets import mnist_tensors
from qt_pennylane.tasks.models import MnistCNN, ResNet, RowLSTM
from qt_pennylane.training.batchnorm import has_batchnorm

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_ROOT = HERE.parents[1] / "shared" / "data"

ARCHS = {
    "cnn": dict(dataset="mnist", build=MnistCNN),
    "resnet": dict(dataset="fashion-mnist", build=ResNet),
    "lstm": dict(dataset="mnist", build=lambda: RowLSTM(hidden=64)),
    "bilstm": dict(dataset="mnist", build=lambda: RowLSTM(hidden=32, layers=2, bidirectional=True)),
}
METHODS = ("classical", "qt", "hashednets", "fixed-input")

CLASSICAL = dict(lr=3e-3)
"""Adam with a cosine schedule for the network trained directly."""

QT = dict(reps=16, mapping="learned", mapping_options={"hidden": (16, 16)}, lr=0.03, mapping_lr=None,
          classical_lr=None)
"""QT in the zoo: the package's defaults (the learned mapping at its relative learning rate, the classical
parameters at ``lr``) with this circuit depth, mapping size and learning rate of the angles."""

DEFAULTS_RATES = dict(mapping_lr=None, classical_lr=3e-3)
"""The rates of the ``defaults`` experiment (its grid sets ``mapping_lr``)."""

TUNE_GRID = {"resnet": [
    dict(reps=16, mapping="learned", mapping_options={"hidden": (16, 16)}, mapping_lr=None),
    dict(reps=16, mapping="learned", mapping_options={"hidden": (32, 32)}, mapping_lr=None),
    dict(reps=16, mapping="batched", mapping_options={"chunk_size": 64, "hidden": (32, 32)}, mapping_lr=3e-3),
    dict(reps=16, mapping="batched", mapping_options={"chunk_size": 64, "hidden": (32, 32)}, mapping_lr=1e-3),
    dict(reps=16, mapping="batched", mapping_options={"chunk_size": 128, "hidden": (48, 48)}, mapping_lr=3e-3),
    dict(reps=16, mapping="batched", mapping_options={"chunk_size": 32, "hidden": (64, 64)}, mapping_lr=3e-3),
]}
"""The ``tune`` experiment's settings (the first is the zoo's default setting), with ``lr`` and ``classical_lr`` of
``QT``."""

BUDGET = dict(epochs=5, batch_size=128)
QUICK_BUDGET = dict(epochs=1, batch_size=32)

DEFAULTS_GRID = [dict(mapping=m, generate=g, scale=s, mapping_lr=r) for m, rates in (("paper", [None]),
                                                                                     ("learned", [1e-4, 1e-3]))
                 for g in ("all", "weights") for s in ("none", "init") for r in rates]
"""The combinations compared: mapping, policy, scale, and the learned mapping's rate (1e-4, the authors')."""


def load(dataset: str, data_root: Path, quick: bool, split: str):
    """``(train, evaluation)`` datasets: the test set (``split="test"``) or a validation part of the training set."""
    train = mnist_tensors(dataset, train=True, data_root=data_root)
    if split == "validation":
        first, evaluation = (range(0, 512), range(59_488, 60_000)) if quick else (range(10_000), range(50_000, 60_000))
        return Subset(train, first), Subset(train, evaluation)
    test = mnist_tensors(dataset, train=False, data_root=data_root)
    if quick:
        return Subset(train, range(512)), Subset(test, range(256))
    return train, test


def build(arch: str, method: str, seed: int, settings: dict, qt_trainable: int | None = None) -> torch.nn.Module:
    """The model of one run; every random choice comes from ``seed``."""
    torch.manual_seed(seed)
    target = ARCHS[arch]["build"]()
    if method == "classical":
        return target
    policy = {k: settings[k] for k in ("generate", "scale")}
    circuit = dict(reps=settings["reps"], mapping=settings["mapping"], mapping_options=settings["mapping_options"])
    if method == "qt":
        return QuantumTrainModel(target, seed=seed, **policy, **circuit)
    if method == "fixed-input":
        return QuantumTrainModel(target, seed=seed, source="fixed-random", **policy,
                                 mapping=settings["mapping"], mapping_options=settings["mapping_options"])
    if method == "hashednets":
        probe = QuantumTrainModel(target, generator=HashedNetsGenerator(_generated(target, policy), buckets=1, seed=seed),
                                  **policy)
        others = probe.counts()["trainable_params"] - 1  # gains and classical parameters
        generator = HashedNetsGenerator(probe.counts()["generated_params"], buckets=qt_trainable - others, seed=seed)
        return QuantumTrainModel(target, generator=generator, **policy)
    raise ValueError(f"method {method!r} is not known")


def _generated(target: torch.nn.Module, policy: dict) -> int:
    from qt_pennylane.generation import select_parameters

    return sum(slot.numel for slot in select_parameters(target, policy["generate"])[0])


def train(model, method: str, settings: dict, data, seed: int, budget: dict) -> dict:
    """Train one model with ``fit`` over a seeded DataLoader; evaluate after BatchNorm statistics are recomputed."""
    train_set, evaluation_set = data
    loader = DataLoader(train_set, batch_size=budget["batch_size"], shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    if method == "classical":
        rates = dict(lr=settings["classical_lr"])
    else:
        rates = dict(lr=settings["lr"])
        rates.update({k: settings[k] for k in ("mapping_lr", "classical_lr") if settings[k] is not None})
    started = time.perf_counter()
    history = fit(model, loader, DataLoader(evaluation_set, batch_size=1024), epochs=budget["epochs"],
                  train_eval_limit=5_000, progress=False, **rates)
    seconds = time.perf_counter() - started
    if has_batchnorm(model):
        update_bn(model, DataLoader(train_set, batch_size=256), max_batches=40)
    plain = model.export() if hasattr(model, "export") else model
    final = evaluate(plain, DataLoader(evaluation_set, batch_size=1024))
    counts = model.counts() if hasattr(model, "counts") else {
        "generated_params": 0, "classical_params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters())}
    return {"history": history, "accuracy": final["accuracy"], "loss": final["loss"], "seconds": seconds,
            "target_params": sum(p.numel() for p in plain.parameters()), **counts,
            "torch_threads": torch.get_num_threads()}


class Results:
    """A JSON file of runs, rewritten after every run; runs with the same config are reused."""

    def __init__(self, path: Path, argv: list[str] | None):
        self.path, self.started = path, time.perf_counter()
        self.data = json.loads(path.read_text()) if path.exists() else {"runs": []}
        self.argv = argv

    def find(self, config: dict) -> dict | None:
        return next((r for r in self.data["runs"] if r["config"] == config), None)

    def add(self, config: dict, result: dict) -> None:
        self.data["runs"] = [r for r in self.data["runs"] if r["config"] != config] + [{"config": config, **result}]
        self.data["meta"] = run_meta("benchmarks/zoo.py", self.argv, self.started)
        self.path.write_text(json.dumps(self.data, indent=1))


def run_defaults(args) -> None:
    budget = QUICK_BUDGET if args.quick else dict(epochs=2, batch_size=128)
    results = Results(args.out / f"zoo_defaults{'_quick' if args.quick else ''}.json", args.argv)
    for arch in [a for a in ("resnet", "lstm", "bilstm") if a in args.arch]:
        data = load(ARCHS[arch]["dataset"], args.data_root, args.quick, "validation")
        for combo in DEFAULTS_GRID:
            settings = {**QT, **DEFAULTS_RATES, "reps": 8, **combo,
                        "mapping_options": QT["mapping_options"] if combo["mapping"] == "learned" else None}
            config = {"arch": arch, "seed": 0, **budget, **settings}
            config["mapping_options"] = json.loads(json.dumps(config["mapping_options"]))
            if results.find(config) is None:
                result = train(build(arch, "qt", 0, settings), "qt", settings, data, 0, budget)
                results.add(config, result)
                print(f"{arch} {combo}: validation accuracy {result['accuracy']:.4f}", flush=True)
    summarize_defaults(results)


def summarize_defaults(results: Results) -> None:
    rows = []
    for combo in DEFAULTS_GRID:
        runs = [r for r in results.data["runs"] if all(r["config"][k] == v for k, v in combo.items())]
        if runs:
            rows.append({**combo, "validation_accuracy": {r["config"]["arch"]: r["accuracy"] for r in runs},
                         "mean_validation_accuracy": statistics.mean(r["accuracy"] for r in runs)})
    results.data["summary"] = sorted(rows, key=lambda r: -r["mean_validation_accuracy"])
    results.data["selected"] = results.data["summary"][0] if rows else None
    results.path.write_text(json.dumps(results.data, indent=1))


def run_tune(args) -> None:
    budget = QUICK_BUDGET if args.quick else dict(epochs=2, batch_size=128)
    results = Results(args.out / f"zoo_tune{'_quick' if args.quick else ''}.json", args.argv)
    for arch in [a for a in TUNE_GRID if a in args.arch]:
        data = load(ARCHS[arch]["dataset"], args.data_root, args.quick, "validation")
        for setting in TUNE_GRID[arch]:
            settings = {**QT, **setting, "generate": "weights", "scale": "init"}
            config = json.loads(json.dumps({"arch": arch, "seed": 0, **budget, **settings}))
            if results.find(config) is None:
                model = build(arch, "qt", 0, settings)
                counts = model.counts()
                if counts["trainable_params"] > (counts["generated_params"] + counts["classical_params"]) / 4:
                    raise ValueError(f"{setting} trains {counts['trainable_params']} numbers, over a quarter")
                result = train(model, "qt", settings, data, 0, budget)
                results.add(config, result)
                print(f"{arch} {setting}: validation accuracy {result['accuracy']:.4f} "
                      f"({result['trainable_params']} trainable)", flush=True)
        runs = [r for r in results.data["runs"] if r["config"]["arch"] == arch]
        best = max(runs, key=lambda r: r["accuracy"])
        results.data.setdefault("selected", {})[arch] = {
            "setting": {k: best["config"][k] for k in ("reps", "mapping", "mapping_options", "mapping_lr")},
            "validation_accuracy": best["accuracy"], "trainable_params": best["trainable_params"]}
    results.path.write_text(json.dumps(results.data, indent=1))


def tuned_settings(path: Path) -> dict:
    """The ``tune`` experiment's selected setting per architecture (none before it has run)."""
    if not path.exists():
        return {}
    return {arch: {**QT, **chosen["setting"]} for arch, chosen in json.loads(path.read_text()).get("selected", {}).items()}


def run_zoo(args) -> None:
    budget = QUICK_BUDGET if args.quick else BUDGET
    results = Results(args.out / f"zoo{'_quick' if args.quick else ''}.json", args.argv)
    policy = dict(generate="weights", scale="init")
    tuned = tuned_settings(HERE / "results" / f"zoo_tune{'_quick' if args.quick else ''}.json")
    for arch in args.arch:
        data = load(ARCHS[arch]["dataset"], args.data_root, args.quick, "test")
        variants = [("defaults", METHODS, QT)] + ([("tuned", METHODS[1:], tuned[arch])] if arch in tuned else [])
        variants = [v for v in variants if v[0] in args.variants]
        for seed, (variant, methods, qt_settings) in [(s, v) for v in variants for s in args.seeds]:
            qt_trainable = None
            for method in methods:
                settings = ({**CLASSICAL, "classical_lr": CLASSICAL["lr"]} if method == "classical"
                            else {**qt_settings, **policy})
                config = {"arch": arch, "method": method, "seed": seed, **budget, **settings}
                if variant != "defaults":
                    config["variant"] = variant
                config = json.loads(json.dumps(config))
                found = results.find(config)
                if found is None:
                    model = build(arch, method, seed, settings, qt_trainable)
                    found = train(model, method, settings, data, seed, budget)
                    results.add(config, found)
                    print(f"{arch} {variant} {method} seed {seed}: test accuracy {found['accuracy']:.4f} "
                          f"({found['trainable_params']} trainable, {found['seconds']:.0f} s)", flush=True)
                if method == "qt":
                    qt_trainable = found["trainable_params"]
    summarize_zoo(results)


def summarize_zoo(results: Results) -> None:
    rows = []
    for arch, variant, method in [(a, v, m) for a in ARCHS for v in ("defaults", "tuned") for m in METHODS]:
        runs = [r for r in results.data["runs"] if r["config"]["arch"] == arch and r["config"]["method"] == method
                and r["config"].get("variant", "defaults") == variant]
        if runs:
            accuracies = [r["accuracy"] for r in runs]
            rows.append({"arch": arch, "variant": variant, "method": method, "seeds": len(runs),
                         "test_accuracy_mean": statistics.mean(accuracies),
                         "test_accuracy_std": statistics.stdev(accuracies) if len(runs) > 1 else 0.0,
                         "trainable_params": runs[0]["trainable_params"], "target_params": runs[0]["target_params"],
                         "trainable_fraction": runs[0]["trainable_params"] / runs[0]["target_params"],
                         "seconds_mean": statistics.mean(r["seconds"] for r in runs)})
    results.data["summary"] = rows
    results.path.write_text(json.dumps(results.data, indent=1))
    plot_zoo(rows, results.path.with_suffix(".png"))


def plot_zoo(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys((r["arch"], r["variant"]) for r in rows))
    fig, ax = plt.subplots(figsize=(10, 3.8))
    width = 0.2
    for i, method in enumerate(METHODS):
        values = [next((r for r in rows if (r["arch"], r["variant"]) == g and r["method"] == method), None)
                  for g in groups]
        xs = [k + (i - 1.5) * width for k, v in enumerate(values) if v]
        ax.bar(xs, [100 * v["test_accuracy_mean"] for v in values if v], width,
               yerr=[100 * v["test_accuracy_std"] for v in values if v], capsize=3, label=method,
               color=f"C{i}")
    ax.set_xticks(range(len(groups)), [a if v == "defaults" else f"{a} ({v})" for a, v in groups])
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(ncol=4, fontsize="small", loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["defaults", "tune", "zoo"])
    parser.add_argument("--arch", nargs="+", choices=list(ARCHS), default=list(ARCHS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", choices=["defaults", "tuned"], default=["defaults", "tuned"])
    parser.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    args.argv = argv
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.only in (None, "defaults"):
        run_defaults(args)
    if args.only in (None, "tune"):
        run_tune(args)
    if args.only in (None, "zoo"):
        run_zoo(args)


if __name__ == "__main__":
    main()
