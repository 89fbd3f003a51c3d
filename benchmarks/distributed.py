"""Throughput of data-parallel training on this machine: 1 and 2 processes, 1 torch thread each.

Models, in the papers' setting (paper mapping, ``generate="all"``, ``scale="none"``):

- ``cnn``: the papers' MNIST CNN (6,690 weights), L = 26 (13 qubits, 702 angles + γ);
- ``resnet``: the zoo's BatchNorm ResNet (44,014 weights, 16 qubits), L = 8: the largest built-in model.

Data: random MNIST-shaped images and labels (throughput does not depend on the pixels). Modes:

- ``fit``: examples per second of :func:`qt_pennylane.fit`'s training steps (Adam, global batch
  128 split over the processes): each run trains ``--epochs`` epochs of ``--steps`` global batches;
  the figure is the median of the epochs after the first (``train_seconds`` excludes the evaluations).
- ``schedule``: examples per second of the paper schedule's loss evaluations (rank 0 drives, every
  rank generates the weights and evaluates its part of ``--schedule-examples`` images, the loss is
  all-reduced): ``--evaluations`` points after one warm-up point, through
  :func:`qt_pennylane.training.distributed.optimize_on_main` with the schedule's ``full_loss``.

Each run starts fresh processes (``torch.multiprocessing``, spawn) with the environment ``torchrun``
sets; runs on 1 and 2 processes alternate ``--repeats`` times and each figure is the median over
the repeats, so both see the same background load. The ratio is that of the medians. Also measured,
in one process: a training step and the weight generation's forward and backward within it (every
rank repeats that part), and from these the ratio Amdahl's law allows on 2 free cores. The machine's
load average is recorded before and after each run: other work on the machine lowers the ratio.

Usage::

    python benchmarks/distributed.py                 # both models, both modes (~10 minutes)
    python benchmarks/distributed.py --quick         # smoke run: tiny sizes, 1 repeat

Writes ``benchmarks/results/distributed.json`` (``distributed_quick.json`` with ``--quick``),
rewritten after every run, with the command, torch's thread count and machine information.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.multiprocessing as mp
from provenance import run_meta  # benchmarks/provenance.py, beside this script

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("cnn", "resnet")
MODES = ("fit", "schedule")
REPS = {"cnn": 26, "resnet": 8}
BATCH = 128


def build(name: str):
    """The Quantum-Train model ``name`` in the papers' setting (seeded)."""
    from qt_pennylane import QuantumTrainModel
    from qt_pennylane.tasks.models import MnistCNN, ResNet

    torch.manual_seed(0)
    target = MnistCNN() if name == "cnn" else ResNet()
    return QuantumTrainModel(target, generate="all", scale="none", mapping="paper", reps=REPS[name], seed=0)


def images(count: int):
    from torch.utils.data import TensorDataset

    g = torch.Generator().manual_seed(1)
    return TensorDataset(torch.rand(count, 1, 28, 28, generator=g), torch.randint(0, 10, (count,), generator=g))


# --------------------------------------------------------------------------- worker side
def worker(rank: int, world: int, port: int, job: dict, out: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from qt_pennylane.training import distributed

    distributed.setup()
    model = build(job["model"])
    result = fit_throughput(model, job) if job["mode"] == "fit" else schedule_throughput(model, job)
    if distributed.is_main():
        Path(out).write_text(json.dumps(dict(result, torch_threads=torch.get_num_threads(),
                                             processes=distributed.world_size())))
    distributed.shutdown()


def fit_throughput(model, job: dict) -> dict:
    from qt_pennylane import fit

    data = images(job["steps"] * BATCH)
    history = fit(model, data, epochs=job["epochs"], batch_size=BATCH, lr=0.01, lr_schedule="constant",
                  train_eval_limit=BATCH, progress=False)
    seconds = [b["train_seconds"] - a["train_seconds"] for a, b in zip(history, history[1:])]
    return {"epoch_seconds": seconds, "examples_per_epoch": len(data),
            "examples_per_s": len(data) / statistics.median(seconds)}


def schedule_throughput(model, job: dict) -> dict:
    import numpy as np

    from qt_pennylane.training import distributed
    from qt_pennylane.training.losses import make_loss
    from qt_pennylane.training.schedule import assign, flatten, full_loss, split_parameters

    data, loss_fn = images(job["schedule_examples"]), make_loss("paper")
    part = distributed.shard(data)
    angles, _ = split_parameters(model)
    model.eval()

    def objective(x):
        assign(angles, x)
        return full_loss(model, part, loss_fn)

    times = []

    def probe(f, start):  # one warm-up point, then the timed points
        f(start)
        for i in range(job["evaluations"]):
            began = time.perf_counter()
            f(start + 0.01 * (i + 1))
            times.append(time.perf_counter() - began)
        return start

    with torch.no_grad():
        distributed.optimize_on_main(objective, flatten(angles), probe)
    if not distributed.is_main():  # rank 0 alone times the points it asks for
        return {}
    return {"evaluation_seconds": times, "examples_per_evaluation": len(data),
            "examples_per_s": len(data) / statistics.median(times), "angles": int(np.size(flatten(angles)))}


def step_profile(name: str, repeats: int) -> dict:
    """In this process (1 thread): a training step, and the generation's forward + backward within it."""
    from qt_pennylane.training.losses import make_loss

    model = build(name)
    x, y = images(BATCH).tensors
    optimizer, loss_fn = torch.optim.Adam(model.parameters(), lr=0.01), make_loss("cross-entropy")

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    def generation():
        theta = model.generator()
        theta.backward(torch.ones_like(theta))

    out = {}
    for key, fn in (("step_ms", step), ("generation_ms", generation)):
        fn()
        times = []
        for _ in range(repeats):
            began = time.perf_counter()
            fn()
            times.append(1e3 * (time.perf_counter() - began))
        out[key] = statistics.median(times)
    serial, parallel = out["generation_ms"], out["step_ms"] - out["generation_ms"]
    out["amdahl_ratio_2"] = out["step_ms"] / (serial + parallel / 2)
    return out


# --------------------------------------------------------------------------- driver side
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(job: dict, world: int) -> dict:
    """One run on ``world`` fresh processes; rank 0's result with the load averages around it."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        load_before = os.getloadavg()[0]
        began = time.perf_counter()
        mp.start_processes(worker, args=(world, free_port(), job, str(out)), nprocs=world, start_method="spawn")
        result = json.loads(out.read_text())
    return dict(result, wall_seconds=time.perf_counter() - began, load_before=load_before,
                load_after=os.getloadavg()[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs on 1 and 2 processes")
    parser.add_argument("--epochs", type=int, default=3, help="fit: epochs per run (the first is warm-up)")
    parser.add_argument("--steps", type=int, default=16, help="fit: global batches of 128 per epoch")
    parser.add_argument("--schedule-examples", type=int, default=2048, help="schedule: examples per loss evaluation")
    parser.add_argument("--evaluations", type=int, default=5, help="schedule: timed loss evaluations per run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1 repeat (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.steps, args.schedule_examples, args.evaluations = 1, 2, 2, 256, 2
    started = time.perf_counter()
    torch.set_num_threads(1)
    path = RESULTS / ("distributed_quick.json" if args.quick else "distributed.json")
    data = {"settings": {k: v for k, v in vars(args).items()}, "batch": BATCH, "reps": REPS, "results": []}

    def save():
        data["meta"] = run_meta("benchmarks/distributed.py", argv, started)
        path.write_text(json.dumps(data, indent=1))

    for name in args.models:
        data["results"].append({"model": name, "mode": "profile", **step_profile(name, 3 if args.quick else 10)})
        save()
        for mode in args.modes:
            job = {"model": name, "mode": mode, **{k: getattr(args, k) for k in
                                                   ("epochs", "steps", "schedule_examples", "evaluations")}}
            runs = {1: [], 2: []}
            for _ in range(args.repeats):
                for world in (1, 2):
                    runs[world].append(launch(job, world))
                    print(f"{name} {mode} {world} process(es): {runs[world][-1]['examples_per_s']:.1f} examples/s "
                          f"(load {runs[world][-1]['load_before']:.1f})", file=sys.stderr, flush=True)
            medians = {w: statistics.median(r["examples_per_s"] for r in runs[w]) for w in runs}
            data["results"].append({"model": name, "mode": mode, "examples_per_s_1": medians[1],
                                    "examples_per_s_2": medians[2], "ratio": medians[2] / medians[1],
                                    "runs_1": runs[1], "runs_2": runs[2]})
            save()


if __name__ == "__main__":
    main()
