"""Sparsified NTK training (Zlokapa, Neven & Lloyd, arXiv:2107.09200): the paper's grid and beyond.

Parts (all on MNIST from ``../shared/data`` beside the repository, or ``--data-root``):

- ``fc``: 8 vs 9, the fc-erf kernel at the paper's data-dependent depth, n in {16, ..., 512} with
  {16, 8, 4, 4, 4, 4} trials, 256 balanced test points, 3 sparsity patterns per trial: accuracy of
  the exact, sparsified and diagonal predictors, κ(K̃), the costs of ``qt_pennylane.ntk.costs``.
- ``gd``: the same network at finite width trained by gradient descent on each n's first trial.
- ``beyond``: fc-erf for n = 1024 ... 8192 and the largest balanced 8/9 set (11,702), one trial
  each, with the seconds of each stage (kernel, dense solve, sparse LU, CG, eigenvalues).
- ``cnn``: 1 vs 0, the cnn-relu kernel. Its cost per kernel entry (see ``qt_pennylane.ntk.kernels``)
  rules out the authors' depth 96 and fresh draws per trial here: the benchmark times a few depth-96
  entries, then uses depth 3, float32, and one kernel on a pool of 128 training and 128 test images
  (``FULL["cnn_pool"]``, ``FULL["cnn_test"]``); each trial draws its n training points from the pool.
- ``qsvt``: the QSVT solve (PennyLane, default.qubit) of the sparsified fc-erf and cnn-relu kernels
  for n = 8, 16, 32; overlap with the classical solution.
- ``fit``: κ against n fitted by a + b ln n and by c nᵖ.

Usage::

    python benchmarks/ntk.py --data-root ../shared/data   # the full run: 45 min wall on a shared 2-core machine
    python benchmarks/ntk.py --quick    # tiny sizes, writes ntk_quick.json and ntk_quick_*.png
    python benchmarks/ntk.py --replot   # redraw the PNGs from the committed JSON

Writes ``benchmarks/results/ntk.json`` and ``ntk_accuracy.png``, ``ntk_condition.png``,
``ntk_costs.png`` (``*_quick.*`` with ``--quick``), with the command, thread count and platform.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from provenance import run_meta  # noqa: E402  benchmarks/provenance.py, beside this script

from qt_pennylane.ntk.data import load_split, max_size, select_digits  # noqa: E402
from qt_pennylane.ntk.experiment import (  # noqa: E402
    CALIBRATION_N, classify, cnn_calibration, evaluate, summarize, trial_kernels,
)
from qt_pennylane.ntk.gradient_descent import train_gradient_descent  # noqa: E402
from qt_pennylane.ntk.kernels import cnn_relu_ntk  # noqa: E402
from qt_pennylane.ntk.solvers import condition_number, extreme_eigenvalues, solve  # noqa: E402
from qt_pennylane.ntk.sparsification import sparsify, sparsity_pattern  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"
logger = logging.getLogger("benchmarks.ntk")

FULL = {
    "grid": [16, 32, 64, 128, 256, 512], "trials": [16, 8, 4, 4, 4, 4], "test_size": 256,
    "beyond": [1024, 2048, 4096, 8192, "max"], "gd_width": 256, "gd_steps": 60,
    "cnn_grid": [16, 32, 64, 128], "cnn_trials": [16, 8, 4, 4], "cnn_pool": 128, "cnn_test": 128,
    "cnn_calibration": CALIBRATION_N,
    "cnn_depth": 3, "cnn_timing_depth": 96, "qsvt": [8, 16, 32],
}
QUICK = {
    "grid": [8, 16], "trials": [2, 1], "test_size": 16, "beyond": [32], "gd_width": 16, "gd_steps": 3,
    "cnn_grid": [8], "cnn_trials": [2], "cnn_pool": 8, "cnn_test": 8, "cnn_calibration": 8, "cnn_depth": 3,
    "cnn_timing_depth": 3, "qsvt": [8],
}


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def _offdiagonal_ratio(k) -> float:
    """max |K_ij| (i ≠ j) / min K_ii: how far from diagonal the kernel is (first trial of each n)."""
    off = np.abs(k - np.diag(np.diag(k))).max()
    return float(off / np.diag(k).min())


def fc_grid(train, test, cfg, seed):
    """The paper's fc-erf grid; returns per-n summaries and each n's first trial (for GD and QSVT)."""
    rows, firsts = [], {}
    for n, trials in zip(cfg["grid"], cfg["trials"]):
        rng = np.random.default_rng([seed, n])
        results, depths, started = [], [], time.perf_counter()
        for trial in range(trials):
            x, y = select_digits(*train, (8, 9), n, rng=rng, flatten=True)
            xt, yt = select_digits(*test, (8, 9), cfg["test_size"], rng=rng, flatten=True)
            k, ks, k_thresh, depth = trial_kernels("fc-erf", x, xt)
            results.append(evaluate(k, ks, y, yt, k_thresh=k_thresh, rng=rng, variant="fc"))
            depths.append(depth)
            if trial == 0:
                firsts[n] = (x, y, xt, yt, k, depth)
                ratio = _offdiagonal_ratio(k)
        rows.append({"n": n, "trials": trials, "depths": depths, "seconds": time.perf_counter() - started,
                     "max_offdiagonal_over_diagonal": ratio, **summarize(results)})
        logger.info("fc n=%d: %s", n, {key: rows[-1][key] for key in ("accuracy_exact", "accuracy_sparse", "kappa")})
    return rows, firsts


def gradient_descent(firsts, cfg, seed):
    rows = []
    for n, (x, y, xt, yt, k, depth) in firsts.items():
        out, seconds = _timed(train_gradient_descent, x, y, xt, depth=depth, width=cfg["gd_width"],
                              steps=cfg["gd_steps"], seed=seed, lr_scale=0.5)
        rows.append({"n": n, "depth": depth, "width": cfg["gd_width"], "steps": cfg["gd_steps"],
                     "accuracy": float(np.mean(classify(out["test_outputs"]) == yt)),
                     "train_loss_first": out["train_loss"][0], "train_loss_last": out["train_loss"][-1],
                     "lr": out["lr"], "seconds": seconds})
        logger.info("gd n=%d: %.3f", n, rows[-1]["accuracy"])
    return rows


def beyond(train, test, cfg, seed):
    """fc-erf past the paper's n, one trial each, every stage timed."""
    rows = []
    largest = max_size(train[1], (8, 9))
    for size in cfg["beyond"]:
        n = largest if size == "max" else size
        rng = np.random.default_rng([seed, n])
        x, y = select_digits(*train, (8, 9), n, rng=rng, flatten=True)
        xt, yt = select_digits(*test, (8, 9), cfg["test_size"], rng=rng, flatten=True)
        (k, ks, k_thresh, depth), t_kernel = _timed(trial_kernels, "fc-erf", x, xt)
        matrix, t_sparsify = _timed(lambda: sparsify(k, y, sparsity_pattern(y, rng=rng), variant="fc"))
        _, t_dense = _timed(solve, k, y, method="dense")
        _, t_splu = _timed(solve, matrix, y, method="splu")
        _, t_cg = _timed(solve, matrix, y, method="cg")
        _, t_eig = _timed(extreme_eigenvalues, matrix)
        result = evaluate(k, ks, y, yt, k_thresh=k_thresh, rng=rng, variant="fc", bootstraps=1)
        rows.append({"n": n, "trials": 1, "depths": [depth], "max_offdiagonal_over_diagonal": _offdiagonal_ratio(k),
                     **summarize([result]),
                     "seconds_kernel": t_kernel, "seconds_sparsify": t_sparsify, "seconds_dense_solve": t_dense,
                     "seconds_splu": t_splu, "seconds_cg": t_cg, "seconds_eigenvalues": t_eig,
                     "nnz": int(matrix.nnz)})
        logger.info("beyond n=%d: kernel %.1fs dense %.1fs", n, t_kernel, t_dense)
        del k, ks, matrix
    return rows


def cnn(train, test, cfg, seed):
    """cnn-relu on a pool: one kernel, trials drawn from it; plus the timing of depth-96 entries."""
    rng = np.random.default_rng([seed, 10])
    x16, y16 = select_digits(*train, (1, 0), cfg["cnn_calibration"], rng=rng, flatten=False)
    xp, yp = select_digits(*train, (1, 0), cfg["cnn_pool"], rng=rng, flatten=False)
    xt, yt = select_digits(*test, (1, 0), cfg["cnn_test"], rng=rng, flatten=False)
    depth, kw = cfg["cnn_depth"], {"dtype": torch.float32, "batch_pairs": 16}
    _, t96 = _timed(cnn_relu_ntk, xp[:1], xp[1:3], depth=cfg["cnn_timing_depth"], **kw)
    k16, t_cal = _timed(cnn_relu_ntk, x16, depth=depth, **kw)
    k_thresh, thresholds = cnn_calibration(k16, y16)
    kp, t_pool = _timed(cnn_relu_ntk, xp, depth=depth, **kw)
    kt, t_test = _timed(cnn_relu_ntk, xt, xp, depth=depth, **kw)
    rows, firsts = [], {}
    plus, minus = np.flatnonzero(yp > 0), np.flatnonzero(yp < 0)
    for n, trials in zip(cfg["cnn_grid"], cfg["cnn_trials"]):
        results = []
        for trial in range(trials):
            idx = np.concatenate([rng.permutation(plus)[: n // 2], rng.permutation(minus)[: n // 2]])
            results.append(evaluate(kp[np.ix_(idx, idx)], kt[:, idx], yp[idx], yt, k_thresh=k_thresh, rng=rng,
                                    variant="cnn", thresholds=thresholds))
            if trial == 0:
                firsts[n] = (kp[np.ix_(idx, idx)], yp[idx], thresholds)
        rows.append({"n": n, "trials": trials, "depths": [depth],
                     "max_offdiagonal_over_diagonal": _offdiagonal_ratio(firsts[n][0]), **summarize(results)})
        logger.info("cnn n=%d: %s", n, {key: rows[-1][key] for key in ("accuracy_exact", "accuracy_sparse", "kappa")})
    info = {"depth": depth, "dtype": "float32", "pool": cfg["cnn_pool"], "test_size": cfg["cnn_test"],
            "k_thresh": k_thresh, "thresholds": {str(key): value for key, value in thresholds.items()},
            "seconds_calibration_kernel": t_cal, "seconds_pool_kernel": t_pool, "seconds_test_kernel": t_test,
            "kernel_entries": int(cfg["cnn_pool"] * (cfg["cnn_pool"] + 1) // 2 + cfg["cnn_pool"] * cfg["cnn_test"]),
            "timing_depth": cfg["cnn_timing_depth"], "seconds_per_entry_at_timing_depth": t96 / 5}
    return rows, info, firsts


def qsvt(train, cnn_firsts, cfg, seed):
    """QSVT on sparsified kernels of n = 8, 16, 32 (fc-erf drawn here; cnn-relu from the pool)."""
    from qt_pennylane.ntk.qsvt import qsvt_solve

    rows = []
    for n in cfg["qsvt"]:
        rng = np.random.default_rng([seed, n, 1])
        x, y = select_digits(*train, (8, 9), n, rng=rng, flatten=True)
        k, _, _, _ = trial_kernels("fc-erf", x, x[:1])
        cases = [("fc-erf", sparsify(k, y, sparsity_pattern(y, rng=rng), variant="fc"), y)]
        if n in cnn_firsts:
            kc, yc, thresholds = cnn_firsts[n]
            cases.append(("cnn-relu", sparsify(kc, yc, sparsity_pattern(yc, rng=rng), variant="cnn",
                                               thresholds=thresholds), yc))
        for kernel, matrix, labels in cases:
            try:
                out, seconds = _timed(qsvt_solve, matrix, labels)
            except RuntimeError as error:  # κ too large for a monomial-basis polynomial: recorded, not run
                rows.append({"kernel": kernel, "n": n, "kappa": condition_number(matrix), "error": str(error)})
                logger.info("qsvt %s n=%d: %s", kernel, n, error)
                continue
            rows.append({"kernel": kernel, "n": n, "overlap": out["overlap"], "kappa": out["kappa"],
                         "degree": out["degree"], "success_probability": out["success_probability"],
                         "n_qubits": out["n_qubits"], "seconds": seconds})
            logger.info("qsvt %s n=%d: overlap %.6f", kernel, n, out["overlap"])
    return rows


def fit_kappa(rows):
    """κ(n) by least squares: a + b ln n, and c nᵖ (a line in log-log); residuals of each."""
    n = np.array([r["n"] for r in rows], dtype=float)
    kappa = np.array([r["kappa"] for r in rows])
    design = np.stack([np.ones_like(n), np.log(n)], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, kappa, rcond=None)
    (log_c, p), *_ = np.linalg.lstsq(design, np.log(kappa), rcond=None)
    log_rms = float(np.sqrt(np.mean((a + b * np.log(n) - kappa) ** 2)))
    pow_rms = float(np.sqrt(np.mean((np.exp(log_c) * n**p - kappa) ** 2)))
    return {"n": n.tolist(), "kappa": kappa.tolist(), "log": {"a": float(a), "b": float(b), "rms": log_rms},
            "power": {"c": float(np.exp(log_c)), "p": float(p), "rms": pow_rms}}


def plot(result, out_dir: Path, suffix: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fc = result["fc"] + result["beyond"]
    cnn_rows = result["cnn"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, rows, title in ((axes[0], fc, "fc-erf, MNIST 8 vs 9"), (axes[1], cnn_rows, "cnn-relu, MNIST 1 vs 0")):
        n = [r["n"] for r in rows]
        for key, label, marker in (("exact", "exact NTK", "o"), ("sparse", "sparsified NTK", "s"),
                                   ("diagonal", "diagonal NTK", "^")):
            ax.errorbar(n, [r[f"accuracy_{key}"] for r in rows], yerr=[r[f"accuracy_{key}_std"] for r in rows],
                        marker=marker, capsize=3, label=label, alpha=0.8)
        ax.set(xscale="log", xlabel="training points n", ylabel="test accuracy", title=title)
    gd = result["gd"]
    axes[0].plot([r["n"] for r in gd], [r["accuracy"] for r in gd], "kx--",
                 label=f"finite width {gd[0]['width'] if gd else ''}, gradient descent")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / f"ntk_accuracy{suffix}.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    n = [r["n"] for r in fc]
    axes[2].plot(n, [r["kappa"] - 1 for r in fc], "o-", label="κ(K̃) − 1")
    axes[2].plot(n, [r["max_offdiagonal_over_diagonal"] for r in fc], "s--",
                 label="max |K_ij| / min K_ii (first trial)")
    axes[2].set(xscale="log", yscale="log", xlabel="training points n", title="fc-erf: distance from diagonal")
    axes[2].legend(fontsize=8)
    for ax, rows, fit, title in ((axes[0], fc, result["fit"]["fc-erf"], "fc-erf"),
                                 (axes[1], cnn_rows, result["fit"]["cnn-relu"], "cnn-relu")):
        n = np.array([r["n"] for r in rows], dtype=float)
        ax.errorbar(n, [r["kappa"] for r in rows], yerr=[r["kappa_std"] for r in rows], fmt="o", capsize=3,
                    label="κ(K̃), mean over trials and patterns")
        grid = np.geomspace(n.min(), n.max(), 100)
        ax.plot(grid, fit["log"]["a"] + fit["log"]["b"] * np.log(grid),
                label=f"{fit['log']['a']:.4g} + {fit['log']['b']:.3g} ln n")
        ax.plot(grid, fit["power"]["c"] * grid ** fit["power"]["p"], "--",
                label=f"{fit['power']['c']:.4g} n^{fit['power']['p']:.3g}")
        ax.set(xscale="log", xlabel="training points n", ylabel="condition number κ", title=title)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / f"ntk_condition{suffix}.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, rows, title in ((axes[0], fc, "fc-erf"), (axes[1], cnn_rows, "cnn-relu")):
        n = [r["n"] for r in rows]
        for key, label in (("preparation_cost", "state preparation n/P"),
                           ("readout_cost_sparse", "readout 1/|o|², sparsified"),
                           ("readout_cost_diagonal", "readout 1/|o|², diagonal"),
                           ("measurements", "M = (n/P)(1/p_lsa)(1/|o|²)")):
            ax.plot(n, [r[key] for r in rows], marker="o", label=label)
        ax.set(xscale="log", yscale="log", xlabel="training points n", ylabel="measurements (median)", title=title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / f"ntk_costs{suffix}.png", dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes; writes ntk_quick.*")
    parser.add_argument("--data-root", type=Path, default=DATA_ROOT)
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and PNGs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--replot", action="store_true", help="redraw the PNGs from the JSON already in --out")
    args = parser.parse_args(argv)
    suffix = "_quick" if args.quick else ""
    if args.replot:
        result = json.loads((args.out / f"ntk{suffix}.json").read_text())
        plot(result, args.out, suffix)
        return result
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(1)
    started = time.perf_counter()
    cfg = QUICK if args.quick else FULL
    args.out.mkdir(parents=True, exist_ok=True)
    with threadpool_limits(1):
        train = load_split(train=True, data_root=args.data_root)
        test = load_split(train=False, data_root=args.data_root)
        result = {"config": cfg, "seed": args.seed}
        result["fc"], firsts = fc_grid(train, test, cfg, args.seed)
        result["gd"] = gradient_descent(firsts, cfg, args.seed)
        result["beyond"] = beyond(train, test, cfg, args.seed)
        result["cnn"], result["cnn_info"], cnn_firsts = cnn(train, test, cfg, args.seed)
        result["qsvt"] = qsvt(train, cnn_firsts, cfg, args.seed)
    result["fit"] = {"fc-erf": fit_kappa(result["fc"] + result["beyond"]),
                     "fc-erf-paper-grid": fit_kappa(result["fc"]), "cnn-relu": fit_kappa(result["cnn"])}
    argv_used = argv if argv is not None else sys.argv[1:]
    result["meta"] = {**run_meta("benchmarks/ntk.py", argv_used, started), "blas_threads": 1}
    (args.out / f"ntk{suffix}.json").write_text(json.dumps(result, indent=1) + "\n")
    plot(result, args.out, suffix)
    return result


if __name__ == "__main__":
    main()
