"""The figures of ``benchmarks/iris.py``: one function per experiment, drawn from its JSON result.

Redraw a committed figure without rerunning the experiment::

    cd benchmarks && python -c "import json, iris_plots; from pathlib import Path; \
        iris_plots.plot('splits', json.load(open('results/iris_splits.json')), Path('results/iris_splits.png'))"
"""
from __future__ import annotations

import statistics
from pathlib import Path


def plot_over_steps(ax, rows: list[dict], metric: str, gradients: str) -> None:
    """One line per learning rate: ``metric`` (mean ± std) against Adam's step count."""
    for lr in sorted({r["lr"] for r in rows}):
        line = [r for r in rows if r["lr"] == lr]
        ax.errorbar([r["epochs"] for r in line], [r[f"{metric}_mean"] for r in line],
                    yerr=[r[f"{metric}_std"] for r in line], marker="o", capsize=3, label=f"lr={lr}")
    ax.set_xscale("log")
    ax.set_xlabel(f"Adam steps ({gradients})")


def layers(fig, result: dict) -> None:
    ax = fig.subplots()
    for optimizer, marker in (("paper", "o"), ("adam", "s")):
        rows = [r for r in result["summary"] if r["optimizer"] == optimizer]
        for split in ("train", "test"):
            ax.errorbar([r["reps"] for r in rows], [r[f"{split}_accuracy_mean"] for r in rows],
                        yerr=[r[f"{split}_accuracy_std"] for r in rows], marker=marker, capsize=3,
                        label=f"{optimizer} {split}")
    ax.set_xlabel("QNN layers L")
    ax.set_ylabel("accuracy (mean ± std over seeds)")


def loss_terms(fig, result: dict) -> None:
    """Left: final training cross-entropy per objective; right: test accuracy per objective."""
    ax, right = fig.subplots(1, 2)
    continued = max(r.get("continued_periods", 0) for r in result["runs"])
    losses = list(dict.fromkeys(r["loss"] for r in result["summary"]))
    for loss, marker, color in zip(losses, "os", ("C0", "C1")):
        rows = [r for r in result["summary"] if r["loss"] == loss]
        reps = [r["reps"] for r in rows]
        ax.errorbar(reps, [r["train_cross_entropy_mean"] for r in rows], yerr=[r["train_cross_entropy_std"] for r in rows],
                    marker=marker, color=color, capsize=3, label=f"schedule on {loss} loss")
        right.errorbar(reps, [r["test_accuracy_mean"] for r in rows], yerr=[r["test_accuracy_std"] for r in rows],
                       marker=marker, color=color, capsize=3, label=f"schedule on {loss} loss")
        if "continued_train_cross_entropy_mean" in rows[0]:
            ax.plot(reps, [r["continued_train_cross_entropy_mean"] for r in rows], marker=marker, color=color,
                    linestyle="--", fillstyle="none", label=f"paper loss, then {continued} periods on cross-entropy")
    ax.set_xlabel("QNN layers L")
    ax.set_ylabel("final training cross-entropy (mean ± std)")
    right.set_xlabel("QNN layers L")
    right.set_ylabel("test accuracy (mean ± std)")
    right.legend(fontsize="small")


def shots(fig, result: dict) -> None:
    ax = fig.subplots()
    series = (("paper", "fresh", "o", "C0"), ("paper", "fixed", "s", "C1"), ("adam", "fresh", "^", "C2"))
    for optimizer, noise, marker, color in series:
        rows = [r for r in result["summary"] if r["optimizer"] == optimizer and r["shot_noise"] == noise]
        ax.errorbar([r["shots"] // 256 for r in rows], [r["test_accuracy_mean"] for r in rows],
                    yerr=[r["test_accuracy_std"] for r in rows], marker=marker, capsize=3, color=color,
                    label=f"{optimizer}, {noise} shot noise")
        ax.plot([r["shots"] // 256 for r in rows], [r["exact_readout_test_accuracy_mean"] for r in rows],
                marker=marker, color=color, linestyle="--", fillstyle="none",
                label=f"{optimizer}, {noise}, read out exactly")
    for optimizer, style in (("paper", "--"), ("adam", ":")):
        exact = [r for r in result["summary"] if r["optimizer"] == optimizer and r["shots"] is None]
        if exact:
            ax.axhline(exact[0]["test_accuracy_mean"], color="gray", linestyle=style, label=f"{optimizer}, exact")
    ax.set_xlabel("shots / 2^8")
    ax.set_ylabel("test accuracy (mean ± std over seeds)")


def tuning(fig, result: dict) -> None:
    ax = fig.subplots()
    for reps, marker in ((1, "o"), (6, "s")):
        for gamma_step in sorted({r["gamma_step"] for r in result["summary"]}):
            rows = [r for r in result["summary"] if r["reps"] == reps and r["gamma_step"] == gamma_step]
            if rows:
                ax.plot([r["cobyla_step"] for r in rows], [r["train_loss_mean"] for r in rows], marker=marker,
                        label=f"L={reps}, gamma_step={gamma_step}")
    ax.set_xscale("log")
    ax.set_xlabel("cobyla_step (rad)")
    ax.set_ylabel("final training loss (mean over seeds)")


def seeds(fig, result: dict) -> None:
    ax = fig.subplots()
    for reps, marker in ((1, "o"), (6, "s")):
        rows = [r for r in result["runs"] if r["reps"] == reps]
        ax.plot([r["seed"] for r in rows], [r["test_accuracy"] for r in rows], marker=marker, linestyle="",
                label=f"L={reps}")
    ax.set_xlabel("seed (paper schedule)")
    ax.set_ylabel("test accuracy")


def splits(fig, result: dict) -> None:
    """Test accuracy per split, one marker per (optimizer, L); the legend gives each series' mean."""
    ax = fig.subplots()
    series = [("classical", 0, "x", "gray")] + [(o, L, m, c) for o, c in (("paper", "C0"), ("adam", "C2"))
                                                 for L, m in ((1, "o"), (6, "s"))]
    for offset, (optimizer, reps, marker, color) in zip((-0.3, -0.15, 0.0, 0.15, 0.3), series):
        rows = [r for r in result["runs"] if r["optimizer"] == optimizer and r["reps"] == reps]
        if rows:
            label = "classical, all 131 weights" if optimizer == "classical" else f"{optimizer}, L={reps}"
            label += f" (mean {statistics.mean(r['test_accuracy'] for r in rows):.1%})"
            ax.plot([r["split"] + offset for r in rows], [r["test_accuracy"] for r in rows], marker=marker,
                    linestyle="", color=color, fillstyle="full" if reps == 6 else "none", label=label)
    ax.set_xticks(sorted({r["split"] for r in result["runs"]}))
    ax.set_xlabel("train / test split (seed); 0 is the reported one")
    ax.set_ylabel("test accuracy")


def adam_tuning(fig, result: dict) -> None:
    ax = fig.subplots()
    plot_over_steps(ax, result["overall"], "validation_accuracy", "exact gradients")
    ax.set_ylabel("5-fold validation accuracy (mean ± std)")


def shots_tuning(fig, result: dict) -> None:
    ax = fig.subplots()
    plot_over_steps(ax, result["summary"], "train_loss", "13·2^8 shots")
    ax.set_ylabel("final training loss (mean ± std over seeds)")


def network(fig, result: dict) -> None:
    ax = fig.subplots()
    for offset, activation in ((-0.15, True), (0.15, False)):
        rows = [r for r in result["summary"] if r["activation"] == activation]
        ax.bar([r["reps"] + offset for r in rows], [r["validation_accuracy_mean"] for r in rows], width=0.3,
               yerr=[r["validation_accuracy_std"] for r in rows], capsize=3,
               label="ReLU" if activation else "no activation")
    ax.set_xticks(sorted({r["reps"] for r in result["summary"]}))
    ax.set_ylim(0.5, 1.02)
    ax.set_xlabel("QNN layers L (paper schedule)")
    ax.set_ylabel("5-fold validation accuracy (mean ± std)")


PLOTS = {"layers": (layers, (6, 4)), "loss_terms": (loss_terms, (11, 4)), "shots": (shots, (7, 5)),
         "tuning": (tuning, (6, 4)), "seeds": (seeds, (6, 4)), "splits": (splits, (7, 5)),
         "adam_tuning": (adam_tuning, (6, 4)), "shots_tuning": (shots_tuning, (6, 4)), "network": (network, (6, 4))}
"""Experiment name → (function drawing its result on a figure, figure size in inches)."""


def plot(name: str, result: dict, path: Path) -> None:
    """Draw experiment ``name``'s ``result`` and save it as a PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    draw, size = PLOTS[name]
    fig = plt.figure(figsize=size)
    draw(fig, result)
    fig.axes[0].set_title(f"Iris, Quantum-Train: {name}")
    for ax in fig.axes:
        if ax.get_legend() is None:
            ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
