"""Iris reproduction of arXiv:2402.16465: layer sweep (Fig. 2(d)) and shot sweep (Fig. 3(b)).

Experiments (``--only NAME`` runs one):

- ``layers``: L = 1..6, 3 seeds; the paper's schedule with the paper's settings (21 periods of
  100 COBYLA iterations over φ, after the len(φ) + 1 evaluations of its first simplex, and 10
  Nelder–Mead iterations over log γ; loss = CE + error rate on the whole training set) and, beside it, Adam (exact gradients, cosine schedule) for a fixed
  number of full-batch steps, whose wall time is recorded next to the schedule's.
- ``seeds``: the paper's schedule at L = 1 and 6 on seeds 0–9, to see how far the 3-seed means
  move with the seeds; counts how often each test example is misclassified. Every exact run of
  every experiment records its misclassified held-out examples (``held_out_errors``).
- ``loss_terms``: L = 1..6, 3 seeds, the paper's schedule with its settings on the paper's loss
  (CE + error rate) and on cross-entropy alone; both terms are recorded on the training set at
  the end of every run. Each paper-loss run then continues for 5 periods on cross-entropy alone,
  to test whether the error-rate term is what holds it where it stopped.
- ``splits``: how much of the reported accuracy is the one train / test split. Ten stratified
  100 / 50 splits (split seed = run seed = 0..9; split 0 is the one every other experiment uses),
  each with the paper's schedule and Adam at L = 1 and 6, the same 4–16–3 network trained
  classically (all 131 weights, with Adam's settings) as a reference, and two non-quantum controls
  with exactly the trainable count of QT at L = 1 (a random subspace and HashedNets, every
  parameter generated, Adam's settings, not tuned for them). Reports mean ± std over the splits; it
  selects nothing.
- ``shots``: L = 1, the paper's schedule with shots = k·2^8 for k in {1, 4, 7, 10, 13} and
  exact probabilities, 3 seeds, with fresh samples every evaluation (as on hardware) and with
  fixed random numbers (a seeded simulator), see :mod:`qt_pennylane.sampling`; beside it Adam
  with fresh shots and parameter-shift gradients, with the step count and learning rate that
  ``shots_tuning`` selected. Each shots run reports its accuracy twice: with the weights of one
  S-shot measurement (as trained), and with the trained angles read out exactly (the same
  state_dict in a model without shots: a simulator, or many shots once at export on hardware).
- ``shots_tuning``: Adam's step count and learning rate at 13·2^8 shots on a small grid, seeds
  10–12; the pair with the lowest mean final training loss (as measured with shots) is selected.
- ``network``: the Iris MLP's activation, which the paper does not state: ReLU or none (as in
  the authors' released code). Stratified 5-fold cross-validation on the 100 training examples
  with the paper's schedule, L = 1 and 6, two seeds per fold (10–19); the activation with the
  higher mean validation accuracy is selected, and the ``"iris"`` task uses it. The test set plays
  no part.
- ``adam_tuning``: Adam's step count and learning rate (exact gradients) by the same
  cross-validation as ``network``, at L = 1 and 6; the layer sweep's Adam uses the selection.
- ``tuning``: the schedule's two step sizes, which the paper does not state (COBYLA's initial
  radius ``cobyla_step``, Nelder–Mead's initial step in log γ ``gamma_step``), on a grid at
  L = 1 and 6 with seeds 10–12 (not the seeds reported above). The pair with the lowest mean
  final *training* loss is selected; test accuracy is recorded but plays no part.

Writes ``benchmarks/results/iris_<experiment>.json`` (every run: config, final train / test
accuracy, parameter ratio, wall time, function evaluations, per-period history; plus the
command and machine) and a PNG plot beside it.

Usage::

    python benchmarks/iris.py                 # every experiment
    python benchmarks/iris.py --only shots    # one
    python benchmarks/iris.py --only network  # the network's activation by cross-validation (about 7 minutes)
    python benchmarks/iris.py --only adam_tuning   # Adam's steps and lr by cross-validation (about 2 minutes)
    python benchmarks/iris.py --only tuning   # the step-size grid (about 10 minutes)
    python benchmarks/iris.py --only shots_tuning   # Adam with shots (about 5 minutes)
    python benchmarks/iris.py --only loss_terms   # paper loss against cross-entropy alone (about 6 minutes)
    python benchmarks/iris.py --only splits   # ten train / test splits (about 5 minutes)
    python benchmarks/iris.py --quick         # smoke run (tiny budgets), writes *_quick.json
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits
from torch.utils.data import TensorDataset
from iris_plots import plot  # benchmarks/iris_plots.py, beside this script
from provenance import run_meta

from qt_pennylane import QuantumTrainModel
from qt_pennylane.controls import matched_control
from qt_pennylane.training.losses import error_rate, make_loss
from qt_pennylane.training.schedule import paper_schedule
from qt_pennylane.tasks import PAPER_SETTING, IrisMLP, get_task, load_iris_split
from qt_pennylane import evaluate, fit

RESULTS = Path(__file__).resolve().parent / "results"
PAPER_SETTINGS = dict(periods=21, phi_iters=100, gamma_iters=10)
ADAM_SETTINGS = dict(optimizer="adam", lr=0.1, epochs=1000, lr_schedule="cosine")
"""Adam, exact gradients: ``iris_adam_tuning.json``'s cross-validation selection (a test checks they agree)."""
SEEDS = (0, 1, 2)
MORE_SEEDS = tuple(range(10))
SPLIT_SEEDS = tuple(range(10))
TUNING_SEEDS = (10, 11, 12)
TUNING_GRID = dict(cobyla_step=(0.1, 0.25, 0.5, 1.0), gamma_step=(0.05, 0.2, 0.5))
NETWORK_ACTIVATIONS = (True, False)
"""ReLU between the Iris MLP's layers, or none (the authors' released code uses none)."""
ADAM_TUNING_GRID = dict(epochs=(100, 300, 1000), lr=(0.1, 0.03))
SHOTS_TUNING_GRID = dict(epochs=(100, 300, 1000), lr=(0.1, 0.03))
SHOTS_ADAM_SETTINGS = ADAM_SETTINGS | dict(epochs=1000, lr=0.1)
"""Adam with shots: ``iris_shots_tuning.json``'s selection (a test checks they agree)."""
LOSS_TERMS = ("paper", "cross-entropy")
CONTINUE_PERIODS = 5
"""``loss_terms``: the schedule's two objectives, and how many periods each paper-loss run continues on cross-entropy."""


def iris_data(data: tuple[TensorDataset, TensorDataset] | None):
    """``data`` if given, else the Iris task's (train, test) split."""
    return data if data is not None else get_task("iris").load()


def iris_network(activation: bool | None) -> torch.nn.Module:
    """The Iris task's network, or the 4–16–3 MLP with (``True``) or without (``False``) its ReLU."""
    return get_task("iris").build_model() if activation is None else IrisMLP(activation=activation)


def train_schedule(reps: int, seed: int, shots: int | None, settings: dict, shot_noise: str = "fresh", *,
                   activation: bool | None = None, data: tuple | None = None,
                   loss: str = "paper") -> tuple[QuantumTrainModel, dict]:
    """(model, run): the paper schedule's trained model and its run record."""
    train_set, test_set = iris_data(data)
    model = QuantumTrainModel(iris_network(activation), reps=reps, seed=seed, shots=shots, shot_noise=shot_noise,
                              **PAPER_SETTING)
    started = time.perf_counter()
    history = paper_schedule(model, train_set, test_set, progress=False, loss_fn=make_loss(loss), **settings)
    seconds = time.perf_counter() - started
    return model, summarize(model, "paper", reps, seed, shots, history, seconds, test_set) | {
        "shot_noise": shot_noise if shots is not None else None,
        "function_evaluations": sum(r["phi_evaluations"] + r["gamma_evaluations"] for r in history),
        "loss_seconds": sum(r["loss_seconds"] for r in history),
        "settings": settings, "loss": loss,
    }


def run_schedule(*args, **kwargs) -> dict:
    """The run record of :func:`train_schedule`."""
    return train_schedule(*args, **kwargs)[1]


def run_adam(reps: int, seed: int, settings: dict, shots: int | None = None, *, data: tuple | None = None) -> dict:
    train_set, test_set = iris_data(data)
    model = QuantumTrainModel(iris_network(None), reps=reps, seed=seed, shots=shots, **PAPER_SETTING)
    started = time.perf_counter()
    history = fit(model, train_set, test_set, seed=seed, eval_every=settings["epochs"], progress=False, **settings)
    seconds = time.perf_counter() - started
    return summarize(model, "adam", reps, seed, shots, history, seconds, test_set) | {
        "shot_noise": "fresh" if shots is not None else None, "gradient_steps": settings["epochs"], "settings": settings,
    }


def exact_readout(model) -> dict:
    """Train / test accuracy of ``model``'s trained angles read out exactly (its state in a model without shots)."""
    train_set, test_set = iris_data(None)
    exact = QuantumTrainModel(model.export(), reps=model.generator.source.reps, **PAPER_SETTING)
    exact.load_state_dict(model.state_dict())
    return {"exact_readout_train_accuracy": evaluate(exact, train_set)["accuracy"],
            "exact_readout_test_accuracy": evaluate(exact, test_set)["accuracy"]}


@torch.no_grad()
def misclassified(network: torch.nn.Module, dataset: TensorDataset) -> list[int]:
    """Indices of the examples of ``dataset`` whose class ``network`` (e.g. an exported model) predicts wrong."""
    inputs, labels = dataset.tensors
    return (network(inputs).argmax(dim=1) != labels).nonzero().flatten().tolist()


def summarize(model, optimizer, reps, seed, shots, history, seconds, held_out) -> dict:
    trainable = sum(p.numel() for p in model.parameters())
    readout = {} if shots is None else exact_readout(model)
    errors = {} if shots is not None else {"held_out_errors": misclassified(model.export(), held_out)}
    return readout | errors | {
        "optimizer": optimizer, "reps": reps, "seed": seed, "shots": shots,
        "activation": any(isinstance(m, torch.nn.ReLU) for m in model.target.modules()),
        "trainable_params": trainable, "target_params": model.counts()["generated_params"],
        "param_ratio": trainable / model.counts()["generated_params"],
        "train_loss": history[-1].get("loss"),
        "train_accuracy": history[-1]["train_accuracy"], "test_accuracy": history[-1]["test_accuracy"],
        "seconds": seconds, "history": history,
    }


def aggregate(runs: list[dict], keys: tuple[str, ...]) -> list[dict]:
    """Mean ± std of accuracies and time over seeds, per distinct value of ``keys``."""
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault(tuple(run[k] for k in keys), []).append(run)
    rows = []
    for key, members in groups.items():
        row = dict(zip(keys, key)) | {"seeds": len(members), "trainable_params": members[0]["trainable_params"],
                                      "param_ratio": members[0]["param_ratio"]}
        for metric in ("train_loss", "train_accuracy", "test_accuracy", "validation_accuracy", "seconds", "loss_seconds",
                       "exact_readout_train_accuracy", "exact_readout_test_accuracy", "train_cross_entropy",
                       "train_error_rate", "continued_train_cross_entropy", "continued_train_error_rate"):
            values = [m.get(metric) for m in members]
            if None in values:
                continue
            row[f"{metric}_mean"] = statistics.mean(values)
            row[f"{metric}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
        rows.append(row)
    return rows


def layers(quick: bool) -> dict:
    settings = dict(periods=1, phi_iters=20, gamma_iters=2) if quick else PAPER_SETTINGS
    adam = ADAM_SETTINGS | ({"epochs": 10} if quick else {})
    runs = []
    for reps in (1, 2) if quick else range(1, 7):
        for seed in SEEDS[:1] if quick else SEEDS:
            for run in (run_schedule(reps, seed, None, settings), run_adam(reps, seed, adam)):
                runs.append(run)
                log(run)
    return {"runs": runs, "summary": aggregate(runs, ("optimizer", "reps"))}


def shots(quick: bool) -> dict:
    settings = dict(periods=1, phi_iters=10, gamma_iters=1) if quick else PAPER_SETTINGS
    runs = []
    for shot_noise in ("fresh", "fixed"):
        for k in (1, 13) if quick else (1, 4, 7, 10, 13):
            for seed in SEEDS[:1] if quick else SEEDS:
                run = run_schedule(1, seed, k * 2**8, settings, shot_noise) | {"shots_per_basis_state": k}
                runs.append(run)
                log(run)
    for seed in SEEDS[:1] if quick else SEEDS:
        run = run_schedule(1, seed, None, settings) | {"shots_per_basis_state": None}
        runs.append(run)
        log(run)
    adam = SHOTS_ADAM_SETTINGS | ({"epochs": 5} if quick else {})
    for k in (13, None) if quick else (1, 4, 7, 10, 13, None):
        for seed in SEEDS[:1] if quick else SEEDS:
            run = run_adam(1, seed, adam, None if k is None else k * 2**8) | {"shots_per_basis_state": k}
            runs.append(run)
            log(run)
    return {"runs": runs, "summary": aggregate(runs, ("optimizer", "shot_noise", "shots"))}


def tuning(quick: bool) -> dict:
    base = dict(periods=1, phi_iters=10, gamma_iters=2) if quick else PAPER_SETTINGS
    grid = {"cobyla_step": (0.25, 1.0), "gamma_step": (0.2,)} if quick else TUNING_GRID
    runs = []
    for cobyla_step in grid["cobyla_step"]:
        for gamma_step in grid["gamma_step"]:
            settings = base | {"cobyla_step": cobyla_step, "gamma_step": gamma_step}
            for reps in (1,) if quick else (1, 6):
                for seed in TUNING_SEEDS[:1] if quick else TUNING_SEEDS:
                    run = run_schedule(reps, seed, None, settings) | {"cobyla_step": cobyla_step, "gamma_step": gamma_step}
                    runs.append(run)
                    log(run)
    overall = aggregate(runs, ("cobyla_step", "gamma_step"))
    best = min(overall, key=lambda row: row["train_loss_mean"])
    return {
        "runs": runs, "summary": aggregate(runs, ("cobyla_step", "gamma_step", "reps")), "overall": overall,
        "selected": {"cobyla_step": best["cobyla_step"], "gamma_step": best["gamma_step"],
                     "criterion": "lowest mean final training loss over L and seeds"},
    }


def shots_tuning(quick: bool) -> dict:
    grid = {"epochs": (3, 6), "lr": (0.1,)} if quick else SHOTS_TUNING_GRID
    runs = []
    for epochs in grid["epochs"]:
        for lr in grid["lr"]:
            for seed in TUNING_SEEDS[:1] if quick else TUNING_SEEDS:
                run = run_adam(1, seed, ADAM_SETTINGS | {"epochs": epochs, "lr": lr}, 13 * 2**8) | {"epochs": epochs, "lr": lr}
                runs.append(run)
                log(run)
    summary = aggregate(runs, ("epochs", "lr"))
    best = min(summary, key=lambda row: row["train_loss_mean"])
    return {"runs": runs, "summary": summary,
            "selected": {"epochs": best["epochs"], "lr": best["lr"],
                         "criterion": "lowest mean final training loss (with shots) over seeds"}}


def seeds(quick: bool) -> dict:
    """The paper schedule at L = 1 and 6 on ten seeds: how much of the 3-seed mean is the seeds' luck."""
    settings = dict(periods=1, phi_iters=10, gamma_iters=2) if quick else PAPER_SETTINGS
    runs = []
    for reps in (1,) if quick else (1, 6):
        for seed in MORE_SEEDS[:2] if quick else MORE_SEEDS:
            run = run_schedule(reps, seed, None, settings)
            runs.append(run)
            log(run)
    counts = Counter(index for run in runs for index in run["held_out_errors"])
    return {"runs": runs, "summary": aggregate(runs, ("reps",)),
            "test_error_counts": {str(index): count for index, count in counts.most_common()}}


def run_classical(seed: int, settings: dict, *, data: tuple) -> dict:
    """The Iris task's network trained directly (all its weights), with Adam's ``settings``."""
    train_set, test_set = data
    torch.manual_seed(seed)
    network = iris_network(None)
    started = time.perf_counter()
    history = fit(network, train_set, test_set, seed=seed, eval_every=settings["epochs"], progress=False, **settings)
    seconds = time.perf_counter() - started
    n_params = sum(p.numel() for p in network.parameters())
    return {"optimizer": "classical", "reps": 0, "seed": seed, "shots": None, "trainable_params": n_params,
            "target_params": n_params, "param_ratio": 1.0, "train_loss": history[-1]["loss"],
            "train_accuracy": history[-1]["train_accuracy"], "test_accuracy": history[-1]["test_accuracy"],
            "seconds": seconds, "held_out_errors": misclassified(network, test_set), "gradient_steps": settings["epochs"], "settings": settings}


def run_control(name: str, trainable: int, seed: int, settings: dict, *, data: tuple) -> dict:
    """The non-quantum control ``name`` (HashedNets, random subspace) with ``trainable`` numbers, Adam's ``settings``."""
    train_set, test_set = data
    model = matched_control(iris_network(None), name, trainable, seed=seed, generate=PAPER_SETTING["generate"],
                            scale=PAPER_SETTING["scale"])
    started = time.perf_counter()
    history = fit(model, train_set, test_set, seed=seed, eval_every=settings["epochs"], progress=False, **settings)
    seconds = time.perf_counter() - started
    return summarize(model, name, 0, seed, None, history, seconds, test_set) | {
        "gradient_steps": settings["epochs"], "settings": settings}


def splits(quick: bool) -> dict:
    """The schedule, Adam and the classical network on ten stratified train / test splits of Iris."""
    schedule = dict(periods=1, phi_iters=10, gamma_iters=2) if quick else PAPER_SETTINGS
    adam = ADAM_SETTINGS | ({"epochs": 10} if quick else {})
    runs = []
    for split in SPLIT_SEEDS[:2] if quick else SPLIT_SEEDS:
        data = load_iris_split(seed=split)
        split_runs = [run_classical(split, adam, data=data)]
        for reps in (1,) if quick else (1, 6):
            split_runs += [run_schedule(reps, split, None, schedule, data=data), run_adam(reps, split, adam, data=data)]
        trainable = split_runs[2]["trainable_params"]  # Adam's QT model at L = 1
        split_runs += [run_control(name, trainable, split, adam, data=data) for name in ("subspace", "hashednets")]
        for run in split_runs:
            run["split"] = split
            runs.append(run)
            log(run)
    return {"runs": runs, "summary": aggregate(runs, ("optimizer", "reps"))}


@torch.no_grad()
def loss_terms_of(model, dataset: TensorDataset) -> dict:
    """The two terms of the paper's loss for ``model`` on the training set ``dataset``."""
    inputs, labels = dataset.tensors
    logits = model.export()(inputs)
    return {"train_cross_entropy": float(torch.nn.functional.cross_entropy(logits, labels)),
            "train_error_rate": float(error_rate(logits, labels))}


def loss_terms(quick: bool) -> dict:
    """The schedule with the paper's loss against cross-entropy alone, and where the paper's loss stops it.

    Every run records both terms on the training set at its end. Each paper-loss run then continues
    for ``CONTINUE_PERIODS`` more periods of the same schedule on cross-entropy alone: if that lowers
    the cross-entropy while training errors appear, the paper's loss held the schedule where one more
    training example is right and the cross-entropy is higher than it need be.
    """
    settings = dict(periods=1, phi_iters=10, gamma_iters=2) if quick else PAPER_SETTINGS
    train_set, _ = iris_data(None)
    runs = []
    for reps in (1,) if quick else range(1, 7):
        for seed in SEEDS[:1] if quick else SEEDS:
            for loss in LOSS_TERMS:
                model, run = train_schedule(reps, seed, None, settings, loss=loss)
                run |= loss_terms_of(model, train_set)
                if loss == "paper":
                    continued = settings | {"periods": 1 if quick else CONTINUE_PERIODS}
                    paper_schedule(model, train_set, progress=False, loss_fn=make_loss("cross-entropy"), **continued)
                    run |= {f"continued_{k}": v for k, v in loss_terms_of(model, train_set).items()}
                    run["continued_periods"] = continued["periods"]
                runs.append(run)
                log(run)
    return {"runs": runs, "summary": aggregate(runs, ("loss", "reps"))}


def cross_validation(quick: bool):
    """(fold, seed, (fit set, validation set)): stratified 5 folds of the training set, seeds 10–19.

    Each fold trains on 80 of the 100 training examples and is scored on the other 20, twice with
    different seeds. The test set is never loaded into a fold.
    """
    from sklearn.model_selection import StratifiedKFold

    inputs, labels = get_task("iris").load()[0].tensors
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(inputs, labels))
    for repeat in range(1 if quick else 2):
        for fold, (fit_rows, held_out_rows) in enumerate(folds[:1] if quick else folds):
            data = (TensorDataset(inputs[fit_rows], labels[fit_rows]),
                    TensorDataset(inputs[held_out_rows], labels[held_out_rows]))
            yield fold, TUNING_SEEDS[0] + len(folds) * repeat + fold, data


def as_validation(run: dict, fold: int) -> dict:
    """A cross-validation run: its held-out accuracy is a validation accuracy."""
    run["validation_accuracy"] = run.pop("test_accuracy")
    log(run)
    return run | {"fold": fold}


CV_CRITERION = "highest mean 5-fold validation accuracy over L and seeds (ties: lower training loss); the test set plays no part"


def best_by_validation(rows: list[dict]) -> dict:
    return max(rows, key=lambda row: (row["validation_accuracy_mean"], -row["train_loss_mean"]))


def network(quick: bool) -> dict:
    """The Iris network's activation, chosen by cross-validation of the paper schedule at L = 1 and 6."""
    settings = dict(periods=1, phi_iters=10, gamma_iters=2) if quick else PAPER_SETTINGS
    runs = []
    for activation in NETWORK_ACTIVATIONS:
        for reps in (1,) if quick else (1, 6):
            for fold, seed, data in cross_validation(quick):
                runs.append(as_validation(run_schedule(reps, seed, None, settings, activation=activation, data=data), fold))
    overall = aggregate(runs, ("activation",))
    return {"runs": runs, "summary": aggregate(runs, ("activation", "reps")), "overall": overall,
            "selected": {"activation": best_by_validation(overall)["activation"], "criterion": CV_CRITERION}}


def adam_tuning(quick: bool) -> dict:
    """Adam's step count and learning rate (exact gradients), chosen by cross-validation at L = 1 and 6."""
    grid = {"epochs": (5, 10), "lr": (0.1,)} if quick else ADAM_TUNING_GRID
    runs = []
    for epochs in grid["epochs"]:
        for lr in grid["lr"]:
            for reps in (1,) if quick else (1, 6):
                for fold, seed, data in cross_validation(quick):
                    run = run_adam(reps, seed, ADAM_SETTINGS | {"epochs": epochs, "lr": lr}, data=data)
                    runs.append(as_validation(run | {"epochs": epochs, "lr": lr}, fold))
    overall = aggregate(runs, ("epochs", "lr"))
    best = best_by_validation(overall)
    return {"runs": runs, "summary": aggregate(runs, ("epochs", "lr", "reps")), "overall": overall,
            "selected": {"epochs": best["epochs"], "lr": best["lr"], "criterion": CV_CRITERION}}


def log(run: dict) -> None:
    keys = ("activation", "shot_noise", "cobyla_step", "gamma_step", "epochs", "lr", "loss")
    extra = "".join(f" {k}={run[k]}" for k in keys if run.get(k) is not None)
    held_out = "test" if "test_accuracy" in run else "validation"
    readout = f" (exact readout {run['exact_readout_test_accuracy']:.3f})" if "exact_readout_test_accuracy" in run else ""
    print(f"{run['optimizer']:>5} L={run['reps']} seed={run['seed']} shots={run['shots']}{extra}: "
          f"train {run['train_accuracy']:.3f} {held_out} {run.get('test_accuracy', run.get('validation_accuracy')):.3f}"
          f"{readout} in {run['seconds']:.1f} s",
          flush=True)


EXPERIMENTS = {"network": network, "tuning": tuning, "adam_tuning": adam_tuning, "layers": layers, "seeds": seeds, "shots_tuning": shots_tuning,
               "shots": shots, "loss_terms": loss_terms, "splits": splits}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(EXPERIMENTS))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads (1: steady timings beside another job)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)  # scipy's COBYLA does many small BLAS products
    args.out.mkdir(parents=True, exist_ok=True)
    for name in [args.only] if args.only else list(EXPERIMENTS):
        started = time.perf_counter()
        result = EXPERIMENTS[name](args.quick)
        result["meta"] = run_meta("benchmarks/iris.py", argv, started)
        stem = f"iris_{name}" + ("_quick" if args.quick else "")
        (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1))
        plot(name, result, args.out / f"{stem}.png")
        print(f"wrote {args.out / (stem + '.json')}", flush=True)


if __name__ == "__main__":
    main()
