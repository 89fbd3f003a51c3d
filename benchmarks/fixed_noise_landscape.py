"""Why the paper's schedule stalls with fixed shot noise: the loss around where it stops.

With ``shot_noise="fixed"`` the Iris shot sweep (``benchmarks/iris.py --only shots``) stalls for
some seeds: the loss stops improving after a period or two. This script reruns those runs
(L = 1, 13·2^8 shots, the paper's settings for ``--periods`` periods) and probes the loss
(CE + error rate on the training set) at the point where the schedule stopped:

- the scale of what the network sees: γ, the mean |θ|, and the mean spread of the logits
  (largest minus smallest class logit, averaged over training examples);
- ``--directions`` random directions of φ at each radius: how many change the loss, how many
  lower it, and the mean |change|, once with the fixed-noise probabilities the schedule saw and
  once with exact probabilities at the same φ and γ.

Writes ``benchmarks/results/fixed_noise_landscape.json``.

Usage::

    python benchmarks/fixed_noise_landscape.py            # a few seconds
    python benchmarks/fixed_noise_landscape.py --quick    # smoke run, writes *_quick.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits
from provenance import run_meta  # benchmarks/provenance.py, beside this script

from qt_pennylane import QuantumTrainModel
from qt_pennylane.training.losses import CrossEntropyWithErrorRate
from qt_pennylane.training.schedule import paper_schedule
from qt_pennylane.tasks import PAPER_SETTING, get_task

RESULTS = Path(__file__).resolve().parent / "results"
SHOTS = 13 * 2**8
RADII = (0.1, 0.01)


@torch.no_grad()
def probe(model: QuantumTrainModel, inputs, targets, radius: float, directions: int, seed: int) -> dict:
    """Loss changes along ``directions`` random unit directions of φ scaled to ``radius``."""
    loss_fn, phi = CrossEntropyWithErrorRate(), model.generator.phi
    start, base = phi.detach().clone(), loss_fn(model(inputs), targets).item()
    generator, changes = torch.Generator().manual_seed(seed), []
    for _ in range(directions):
        step = torch.randn(start.shape, generator=generator, dtype=start.dtype)
        phi.copy_(start + radius * step / step.norm())
        changes.append(loss_fn(model(inputs), targets).item() - base)
    phi.copy_(start)
    return {"radius": radius, "loss": base, "changed": sum(abs(c) > 1e-9 for c in changes),
            "lower": sum(c < -1e-9 for c in changes), "mean_abs_change": sum(map(abs, changes)) / directions}


@torch.no_grad()
def scales(model: QuantumTrainModel, inputs) -> dict:
    logits = model(inputs)
    return {"gamma": model.generator.mapping.gamma.item(), "mean_abs_theta": model.generator().abs().mean().item(),
            "mean_logit_spread": (logits.max(dim=1).values - logits.min(dim=1).values).mean().item()}


def run(seed: int, settings: dict, directions: int) -> dict:
    task = get_task("iris")
    train_set, test_set = task.load()
    inputs, targets = train_set.tensors
    sampled = QuantumTrainModel(task.build_model(), reps=1, seed=seed, shots=SHOTS, shot_noise="fixed", **PAPER_SETTING)
    history = paper_schedule(sampled, train_set, test_set, progress=False, **settings)
    exact = QuantumTrainModel(task.build_model(), reps=1, seed=seed, **PAPER_SETTING)
    exact.load_state_dict(sampled.state_dict())
    row = {"seed": seed, "period_losses": [r["loss"] for r in history],
           "train_accuracy": history[-1]["train_accuracy"]}
    for name, model in (("fixed_noise", sampled), ("exact", exact)):
        row[name] = scales(model, inputs) | {
            "probes": [probe(model, inputs, targets, radius, directions, seed) for radius in RADII]}
    print(json.dumps(row), flush=True)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--periods", type=int, default=3)
    parser.add_argument("--directions", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    settings = dict(periods=1, phi_iters=5, gamma_iters=1) if args.quick else dict(
        periods=args.periods, phi_iters=100, gamma_iters=10)
    started = time.perf_counter()
    with threadpool_limits(1):
        rows = [run(seed, settings, 3 if args.quick else args.directions) for seed in ((0,) if args.quick else (0, 1, 2))]
    payload = {"shots": SHOTS, "settings": settings, "rows": rows,
               "meta": run_meta("benchmarks/fixed_noise_landscape.py", argv, started)}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("fixed_noise_landscape_quick.json" if args.quick else "fixed_noise_landscape.json")
    path.write_text(json.dumps(payload, indent=1))
    print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
