"""IBM hardware in practice, measured offline on fake backends (their noise models) and on the engine with shots.

Experiments (``--only NAME`` runs one):

- ``step_time``: one Adam step of the 8-qubit Iris model (``IrisMLP(activation=False)``, ``generate="all"``,
  ``scale="none"``, L = 1, 1024 shots) on ``fake_guadalupe``: through PennyLane's ``qiskit.remote`` device
  (one job per circuit: 2·32 + 1) and through :class:`SamplerSource` (one job of 1 + 2·24 circuits) in
  job, batch and session mode; and one SPSA step (one job of 2 circuits). Jobs are counted by wrapping
  ``qiskit_ibm_runtime.SamplerV2.run``, which both paths call. Each path trains 2 steps with ``fit``
  (the time per step is ``train_seconds / 2``, evaluations excluded). The estimate of each SamplerSource run is
  compared with what it submitted.
- ``mitigation``: total variation distance (TVD) to the exact distribution (the engine) of the measured
  distributions, with and without M3 readout mitigation, on ``fake_guadalupe`` (8 qubits) and
  ``fake_manila`` (5 qubits), 10 random angle sets each, 1024 and 4096 shots; beside it the shot-noise floor
  (the exact distribution sampled with the same shots, no device noise).
- ``spsa_tuning``: SPSA's gain ``lr`` (a) and ``perturbation`` (c) for Iris with 13·2^8 shots, chosen on a
  validation split of the training set (stratified 75 / 25 of the 100 training examples), seeds 10–11, at
  the budget of ``spsa`` (below); the highest mean validation accuracy wins, the lower mean validation loss
  breaks ties. The test set plays no part.
- ``spsa``: SPSA against Adam on Iris with 13·2^8 shots (fresh shot noise, the engine), at the same number
  of circuit executions: Adam 100 steps (its 13·2^8-shot selection at that step count in
  ``iris_shots_tuning.json``: lr 0.1), 1 + 2·24 = 49 circuits per step, 4,900 circuits; SPSA 2,450 steps of
  2 circuits. Seeds 0–2. Accuracy with the weights of one shots readout (as trained) and with the trained
  angles read out exactly. Beside them the non-quantum controls at the same trainable count (33): a random
  subspace (Li et al. 2018) and HashedNets with 33 buckets, trained by Adam (100 steps) and by SPSA (2,450
  steps) with the same settings (not tuned for them). The jobs and estimated QPU time each run would cost on
  IBM hardware through SamplerSource are recorded.
- ``fake_spsa``: SPSA on ``fake_guadalupe`` (noise and 1024 shots, batch mode, M3 mitigation) with the
  selected settings for 300 steps, seed 0: test accuracy, jobs, and the estimate beside what it submitted.

Writes ``benchmarks/results/hardware_<experiment>.json`` with the command and machine. The machine is
shared with other work: compare times measured in the same run (ratios), not across runs.

Usage::

    PYTHONPATH=. python benchmarks/hardware.py                  # every experiment
    PYTHONPATH=. python benchmarks/hardware.py --only step_time # one
    PYTHONPATH=. python benchmarks/hardware.py --quick          # smoke run, writes *_quick.json
"""
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # Aer and torch: one thread each (recorded), before they load

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from provenance import run_meta  # noqa: E402  benchmarks/provenance.py, beside this script
from torch.utils.data import TensorDataset  # noqa: E402

from qt_pennylane import QuantumTrainModel, evaluate, fit, spsa  # noqa: E402
from qt_pennylane.circuit.engine import StatevectorEngine  # noqa: E402
from qt_pennylane.circuit.qiskit_sampler import SamplerSource  # noqa: E402
from qt_pennylane.circuit.sampling import ShotSampler  # noqa: E402
from qt_pennylane.controls import HashedNetsGenerator, RandomSubspaceGenerator  # noqa: E402
from qt_pennylane.devices.estimate import (  # noqa: E402
    JOB_SECONDS,
    estimate_run,
    plan_epochs,
    seconds_per_shot,
)
from qt_pennylane.tasks import PAPER_SETTING, IrisMLP, get_task  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SHOTS = 13 * 2**8
"""Iris training shots: the paper's largest finite setting (13·2^N)."""
ADAM = dict(lr=0.1, epochs=100, lr_schedule="cosine")
"""Adam with 13·2^8 shots at 100 steps: ``iris_shots_tuning.json``'s best lr at that step count."""
CIRCUITS_PER_ADAM_STEP = 1 + 2 * 24
SPSA_STEPS = ADAM["epochs"] * CIRCUITS_PER_ADAM_STEP // 2
"""SPSA steps with Adam's circuit executions: 100 · 49 / 2 = 2,450."""
SPSA_GRID = dict(lr=(0.3, 1.0, 3.0), perturbation=(0.05, 0.15))
TUNING_SEEDS = (10, 11)
SEEDS = (0, 1, 2)
SPSA_SELECTED = dict(lr=1.0, perturbation=0.15)
"""``hardware_spsa_tuning.json``'s selection (a test checks they agree)."""
FAKE = "fake_guadalupe"


def iris_model(seed: int, **options) -> QuantumTrainModel:
    """The Iris task's model in the papers' setting (``generate="all"``, ``scale="none"``, paper mapping), L = 1."""
    return QuantumTrainModel(IrisMLP(activation=False), reps=1, seed=seed, **PAPER_SETTING, **options)


def validation_split(train: TensorDataset, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """A stratified 75 / 25 split of the training set (the test set is not touched)."""
    from sklearn.model_selection import train_test_split

    x, y = train.tensors
    fit_index, val_index = train_test_split(np.arange(len(y)), test_size=25, stratify=y.numpy(), random_state=seed)
    return TensorDataset(x[fit_index], y[fit_index]), TensorDataset(x[val_index], y[val_index])


def exact_readout(model: QuantumTrainModel, seed: int, data: TensorDataset) -> float:
    """Accuracy with the trained angles read out exactly (the same state_dict in a model without shots)."""
    exact = iris_model(seed)
    exact.load_state_dict(model.state_dict())
    return evaluate(exact.export(), data)["accuracy"]


def sampler_cost(steps: int, kind: str, evaluations: int = 1) -> dict:
    """What a run of ``steps`` would submit through SamplerSource on IBM hardware (no job is sent)."""
    from qt_pennylane.devices.estimate import Plan

    source = SamplerSource(8, reps=1, backend=FAKE, shots=SHOTS, seed=0)
    estimate = estimate_run(source, Plan(kind, steps, evaluations))
    return {"jobs": estimate.jobs, "circuits": estimate.circuits, "shots": estimate.shots,
            "estimated_qpu_seconds": round(estimate.qpu_seconds, 1)}


# ----------------------------------------------------------------------------- step_time


def count_jobs():
    """Wrap ``qiskit_ibm_runtime.SamplerV2.run``; return the list each call appends to."""
    import qiskit_ibm_runtime

    calls = []
    original = qiskit_ibm_runtime.SamplerV2.run

    def run(self, pubs, *args, **kwargs):
        calls.append(sum(int(np.prod(np.shape(p[1])[:-1])) if isinstance(p, tuple) and np.ndim(p[1]) > 1 else 1
                         for p in pubs))  # a PUB (circuit, (B, P) values) is B circuits; a bare circuit one
        return original(self, pubs, *args, **kwargs)

    qiskit_ibm_runtime.SamplerV2.run = run
    return calls


def step_time(quick: bool) -> dict:
    train, _ = get_task("iris").load()
    shots, steps = (256, 1) if quick else (1024, 2)
    calls = count_jobs()
    runs = []

    def timed(name: str, model, source=None, mode=None):
        start = len(calls)
        history = fit(model, train, optimizer="adam", lr=0.1, epochs=steps, eval_every=steps,
                      lr_schedule="constant", progress=False)
        step_jobs = calls[start:]
        run = {"path": name, "mode": mode, "steps": steps, "shots": shots,
               "seconds_per_step": history[-1]["train_seconds"] / steps,
               "jobs_per_step": (len(step_jobs) - 1) / steps,  # the last job is the evaluation
               "circuits_per_step": sum(step_jobs[:-1]) / steps}
        if source is not None:
            estimate = estimate_run(source, plan_epochs("gradient", epochs=steps, steps_per_epoch=1,
                                                        eval_every=steps))
            run["estimate"] = {"jobs": estimate.jobs, "circuits": estimate.circuits, "shots": estimate.shots}
            run["submitted"] = {k: source.usage[k] for k in ("jobs", "circuits", "shots")}
            source.close()
        runs.append(run)
        print(json.dumps(run), flush=True)

    timed("pennylane qiskit.remote", iris_model(0, device="qiskit.remote", backend=FAKE, shots=shots))
    for mode in ("job", "batch", "session"):
        source = SamplerSource(8, reps=1, backend=FAKE, shots=shots, mode=mode, seed=0)
        timed("SamplerSource", QuantumTrainModel(IrisMLP(activation=False), source=source, seed=0, **PAPER_SETTING),
              source, mode)
    source = SamplerSource(8, reps=1, backend=FAKE, shots=shots, mode="batch", seed=0)
    model = QuantumTrainModel(IrisMLP(activation=False), source=source, seed=0, **PAPER_SETTING)
    start = len(calls)
    history = spsa(model, train, epochs=steps, eval_every=steps, progress=False, **SPSA_SELECTED)
    spsa_run = {"path": "SamplerSource SPSA", "mode": "batch", "steps": steps, "shots": shots,
                "seconds_per_step": history[-1]["train_seconds"] / steps,
                "jobs_per_step": (len(calls[start:]) - 1) / steps, "circuits_per_step": sum(calls[start:-1]) / steps}
    runs.append(spsa_run)
    print(json.dumps(spsa_run), flush=True)
    baseline = runs[0]["seconds_per_step"]
    speedups = {f"{run['path']} ({run['mode']})": baseline / run["seconds_per_step"] for run in runs[1:]}
    return {"runs": runs, "speedup_over_pennylane": speedups}


# ----------------------------------------------------------------------------- mitigation


def tvd(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Total variation distance per row: ``½ Σ |p − q|``."""
    return 0.5 * (p.double() - q.double()).abs().sum(dim=-1)


def mitigation(quick: bool) -> dict:
    rows = []
    cases = [(FAKE, 8), ("fake_manila", 5)]
    n_sets = 3 if quick else 10
    for backend, n_qubits in cases:
        phis = 2 * np.pi * torch.rand(n_sets, 2, 2, n_qubits, dtype=torch.float64,
                                      generator=torch.Generator().manual_seed(n_qubits))
        exact = StatevectorEngine(n_qubits, 1).batch_probabilities(phis)
        for shots in (1024, 4096):
            raw = SamplerSource(n_qubits, reps=1, backend=backend, shots=shots, seed=1, dtype=torch.float64)
            mitigated = SamplerSource(n_qubits, reps=1, backend=backend, shots=shots, seed=1, dtype=torch.float64,
                                      mitigate=True)
            floor = ShotSampler(shots, seed=1)(exact)
            distances = {"raw": tvd(raw.batch_probabilities(phis), exact),
                         "mitigated": tvd(mitigated.batch_probabilities(phis), exact),
                         "shot_noise_floor": tvd(floor, exact)}
            row = {"backend": backend, "n_qubits": n_qubits, "shots": shots, "angle_sets": n_sets,
                   "calibration_shots": mitigated.usage["calibration_shots"],
                   **{f"tvd_{k}_mean": float(v.mean()) for k, v in distances.items()},
                   **{f"tvd_{k}_std": float(v.std()) for k, v in distances.items()},
                   "mitigated_closer_in": int((distances["mitigated"] < distances["raw"]).sum()),
                   "tvd_raw": distances["raw"].tolist(), "tvd_mitigated": distances["mitigated"].tolist()}
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if not isinstance(v, list)}), flush=True)
    return {"rows": rows}


# ----------------------------------------------------------------------------- SPSA against Adam


def train_spsa(model, train, test, steps: int, settings: dict, seed: int):
    started = time.perf_counter()
    history = spsa(model, train, test, epochs=steps, eval_every=steps, seed=seed, progress=False, **settings)
    return history[-1], time.perf_counter() - started


def spsa_tuning(quick: bool) -> dict:
    train, _ = get_task("iris").load()
    fit_set, val_set = validation_split(train)
    steps = 50 if quick else SPSA_STEPS
    runs = []
    for lr in SPSA_GRID["lr"]:
        for perturbation in SPSA_GRID["perturbation"]:
            for seed in TUNING_SEEDS:
                model = iris_model(seed, shots=SHOTS)
                record, seconds = train_spsa(model, fit_set, val_set, steps, dict(lr=lr, perturbation=perturbation),
                                             seed)
                run = {"lr": lr, "perturbation": perturbation, "seed": seed, "steps": steps,
                       "train_loss": record["train_loss"], "validation_loss": record["test_loss"],
                       "validation_accuracy": record["test_accuracy"], "seconds": seconds}
                runs.append(run)
                print(json.dumps(run), flush=True)
    summary = []
    for lr in SPSA_GRID["lr"]:
        for perturbation in SPSA_GRID["perturbation"]:
            group = [r for r in runs if r["lr"] == lr and r["perturbation"] == perturbation]
            summary.append({"lr": lr, "perturbation": perturbation,
                            "validation_accuracy_mean": statistics.mean(r["validation_accuracy"] for r in group),
                            "validation_loss_mean": statistics.mean(r["validation_loss"] for r in group)})
    best = max(summary, key=lambda s: (s["validation_accuracy_mean"], -s["validation_loss_mean"]))
    return {"runs": runs, "summary": summary,
            "selected": {"lr": best["lr"], "perturbation": best["perturbation"],
                         "criterion": "highest mean validation accuracy, then lowest mean validation loss"}}


def control_model(kind: str, seed: int) -> QuantumTrainModel:
    """A non-quantum control with the quantum model's 33 trainable numbers."""
    target = IrisMLP(activation=False)
    if kind == "random_subspace":
        generator = RandomSubspaceGenerator.from_module(target, n_trainable=33, seed=seed)
    else:
        generator = HashedNetsGenerator(131, buckets=33, seed=seed)
    return QuantumTrainModel(target, generator=generator, generate="all", scale="none")


def spsa_vs_adam(quick: bool) -> dict:
    train, test = get_task("iris").load()
    adam = dict(ADAM, epochs=5) if quick else ADAM
    steps = 20 if quick else SPSA_STEPS
    seeds = SEEDS[:1] if quick else SEEDS
    runs = []
    for seed in seeds:
        for name in ("quantum", "random_subspace", "hashednets"):
            for optimizer in ("adam", "spsa"):
                model = iris_model(seed, shots=SHOTS) if name == "quantum" else control_model(name, seed)
                assert model.counts()["trainable_params"] == 33
                started = time.perf_counter()
                if optimizer == "adam":
                    record = fit(model, train, test, eval_every=adam["epochs"], seed=seed, progress=False, **adam)[-1]
                    circuits = adam["epochs"] * CIRCUITS_PER_ADAM_STEP + 1
                else:
                    record, _ = train_spsa(model, train, test, steps, SPSA_SELECTED, seed)
                    circuits = 2 * steps + 1
                run = {"model": name, "optimizer": optimizer, "seed": seed, "shots": SHOTS if name == "quantum" else None,
                       "steps": adam["epochs"] if optimizer == "adam" else steps,
                       "trainable_params": model.counts()["trainable_params"],
                       "train_accuracy": record["train_accuracy"], "test_accuracy": record["test_accuracy"],
                       "seconds": time.perf_counter() - started}
                if name == "quantum":
                    run["exact_readout_test_accuracy"] = exact_readout(model, seed, test)
                    run["circuits"] = circuits
                    run["ibm_cost_through_sampler_source"] = sampler_cost(
                        run["steps"], "gradient" if optimizer == "adam" else "spsa")
                runs.append(run)
                print(json.dumps(run), flush=True)
    summary = []
    for name in ("quantum", "random_subspace", "hashednets"):
        for optimizer in ("adam", "spsa"):
            group = [r for r in runs if r["model"] == name and r["optimizer"] == optimizer]
            row = {"model": name, "optimizer": optimizer, "seeds": len(group), "steps": group[0]["steps"],
                   "test_accuracy_mean": statistics.mean(r["test_accuracy"] for r in group),
                   "test_accuracy_std": statistics.pstdev(r["test_accuracy"] for r in group),
                   "train_accuracy_mean": statistics.mean(r["train_accuracy"] for r in group)}
            if name == "quantum":
                row["exact_readout_test_accuracy_mean"] = statistics.mean(
                    r["exact_readout_test_accuracy"] for r in group)
                row["circuits"] = group[0]["circuits"]
                row["ibm_cost_through_sampler_source"] = group[0]["ibm_cost_through_sampler_source"]
            summary.append(row)
    return {"runs": runs, "summary": summary, "budget": "same circuit executions: Adam 100 steps x 49 circuits = "
            "SPSA 2,450 steps x 2 circuits (+1 final evaluation each)", "job_seconds_assumed": JOB_SECONDS,
            "seconds_per_shot_fake_guadalupe": seconds_per_shot(
                SamplerSource(8, reps=1, backend=FAKE, shots=SHOTS, seed=0).backend,
                SamplerSource(8, reps=1, backend=FAKE, shots=SHOTS, seed=0).transpiled)}


def fake_spsa(quick: bool) -> dict:
    train, test = get_task("iris").load()
    steps = 5 if quick else 300
    source = SamplerSource(8, reps=1, backend=FAKE, shots=1024, mode="batch", mitigate=True, seed=0)
    model = QuantumTrainModel(IrisMLP(activation=False), source=source, seed=0, **PAPER_SETTING)
    estimate = estimate_run(source, plan_epochs("spsa", epochs=steps, steps_per_epoch=1, eval_every=steps // 5 or 1))
    started = time.perf_counter()
    history = spsa(model, train, test, epochs=steps, eval_every=steps // 5 or 1, seed=0, progress=False,
                   **SPSA_SELECTED)
    seconds = time.perf_counter() - started
    source.close()
    return {"backend": FAKE, "shots": 1024, "mode": "batch", "mitigate": True, "steps": steps, "seconds": seconds,
            "settings": SPSA_SELECTED, "history": history, "test_accuracy": history[-1]["test_accuracy"],
            "estimate": estimate.as_dict(), "submitted": source.usage}


EXPERIMENTS = {"step_time": step_time, "mitigation": mitigation, "spsa_tuning": spsa_tuning, "spsa": spsa_vs_adam,
               "fake_spsa": fake_spsa}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(EXPERIMENTS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore", DeprecationWarning)
    RESULTS.mkdir(exist_ok=True)
    for name, experiment in EXPERIMENTS.items():
        if args.only is not None and name != args.only:
            continue
        started = time.perf_counter()
        result = experiment(args.quick)
        result["meta"] = run_meta("benchmarks/hardware.py", argv, started) | {
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "machine_shared": True}
        path = RESULTS / f"hardware_{name}{'_quick' if args.quick else ''}.json"
        path.write_text(json.dumps(result, indent=2))
        print(f"wrote {path}", flush=True)


if __name__ == "__main__":
    main()
