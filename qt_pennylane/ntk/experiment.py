"""The paper's experiment: exact, sparsified and diagonal NTK predictors on two MNIST digits.

Per trial (the authors' ``training.py`` and ``analysis.ipynb``): draw ``n`` balanced training
and ``test_size`` balanced test images (:mod:`~qt_pennylane.ntk.data`), compute the kernels, clip
the test kernel to ``k*/k_thresh ∈ [−1, 1]``, and for each of ``bootstraps`` sparsity patterns
(the authors' 3) predict ``sign(f − median f)`` with

* exact: ``f = K_test (K⁻¹ y)`` (dense solve, unclipped test kernel),
* sparsified: ``f = k̄_test (K̃⁻¹ y)`` (sparse solve of :func:`~qt_pennylane.ntk.sparsification.sparsify`),
* diagonal: ``f = k̄_test (diag(K)⁻¹ y)``,

with ``k̄_test`` the clipped test kernel. ``k_thresh``: for fc-erf the kernel of two unit vectors
with inner product ``1 − 10⁻⁵`` (:func:`fc_k_thresh`); for cnn-relu the largest off-diagonal entry
of an n = 16 training kernel, whose class-wise percentiles are also the CNN thresholds
(:func:`cnn_calibration`). Reported: accuracies averaged over test points, trials and patterns;
κ(K̃) averaged; the medians over test points of the costs of :mod:`~qt_pennylane.ntk.costs`.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.tile([1.0, -1.0], 12)
    >>> x = rng.normal(size=(24, 10)) + 0.5 * y[:, None]
    >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> k = fc_erf_ntk(x, depth=3)
    >>> trial = evaluate(k[:16, :16], k[16:, :16], y[:16], y[16:], k_thresh=k.max(), rng=rng, bootstraps=2)
    >>> sorted(trial["accuracy"])
    ['diagonal', 'exact', 'sparse']
"""
from __future__ import annotations

import logging

import numpy as np
import torch

from .costs import lsa_success_probability, measurement_estimate, readout_overlap, state_preparation
from .data import check_size, load_split, max_size, parse_digits, select_digits
from .kernels import cnn_relu_ntk, fc_erf_ntk
from .networks import CNN_DEPTH, fc_depth, separation
from .solvers import SOLVERS, extreme_eigenvalues, solve
from .sparsification import CNN_PERCENTILE, class_thresholds, sparsify, sparsity_pattern

logger = logging.getLogger(__name__)

KERNELS = {"fc-erf": {"variant": "fc", "digits": (8, 9)}, "cnn-relu": {"variant": "cnn", "digits": (1, 0)}}
"""Kernel name → its sparsification variant and the paper's digits for it."""

TEST_SIZE = 256
"""The authors' number of (balanced) test points per trial."""

DELTA_HAT = 1e-5
"""The authors' δ̂ for the fc-erf ``k_thresh = k(1 − δ̂)``."""

CALIBRATION_N = 16
"""Size of the CNN's calibration training set (the authors' ``k_thresh_n`` and percentile base)."""


def check_kernel(kernel: str) -> str:
    """Return ``kernel`` if it is a key of :data:`KERNELS`, else raise ``ValueError``.

    Example:
        >>> check_kernel("fc-erf")
        'fc-erf'
    """
    if kernel not in KERNELS:
        raise ValueError(f"kernel={kernel!r} is not known; expected one of {sorted(KERNELS)}")
    return kernel


def classify(outputs) -> np.ndarray:
    """``sign(f − median f)``: balanced ±1 predictions (the authors' ``classify``).

    Example:
        >>> classify(np.array([0.3, 0.1, 0.2, 0.5]))
        array([ 1., -1., -1.,  1.])
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    return np.sign(outputs - np.median(outputs))


def fc_k_thresh(depth: int, dim: int, *, delta_hat: float = DELTA_HAT) -> float:
    """``k(1 − δ̂)``: the fc-erf NTK of two unit vectors in ``dim`` dimensions with inner product ``1 − δ̂``.

    Example:
        >>> fc_k_thresh(1, 4) > fc_k_thresh(1, 4, delta_hat=0.5)
        True
    """
    if not 0.0 < delta_hat < 1.0:
        raise ValueError(f"delta_hat={delta_hat!r} must lie in (0, 1)")
    x0 = np.zeros(dim)
    x1 = np.zeros(dim)
    x0[0] = 1.0
    x1[0], x1[1] = 1.0 - delta_hat, np.sqrt(1.0 - (1.0 - delta_hat) ** 2)
    return float(abs(fc_erf_ntk(x1[None], x0[None], depth=depth)[0, 0]))


def cnn_calibration(kernel16, labels16, *, percentile: float = CNN_PERCENTILE) -> tuple[float, dict]:
    """``(k_thresh, thresholds)`` from an n = 16 cnn-relu training kernel.

    ``k_thresh`` is its largest off-diagonal |entry| (the authors'
    ``compute_k_thresh_from_training_set``); ``thresholds`` its class-wise percentiles
    (:func:`~qt_pennylane.ntk.sparsification.class_thresholds`).

    Example:
        >>> k = np.array([[2.0, 1.0, 0.1, 0.2], [1.0, 2.0, 0.3, 0.1], [0.1, 0.3, 2.0, 0.5], [0.2, 0.1, 0.5, 2.0]])
        >>> cnn_calibration(k, np.array([1, 1, -1, -1]))[0]
        1.0
    """
    k = np.asarray(kernel16, dtype=np.float64)
    off = np.abs(k[~np.eye(len(k), dtype=bool)])
    return float(off.max()), class_thresholds(k, labels16, percentile=percentile)


def evaluate(kernel_train, kernel_test, y_train, y_test, *, k_thresh: float, rng: np.random.Generator,
             variant: str = "fc", thresholds: dict | None = None, bootstraps: int = 3,
             solver: str = "splu") -> dict:
    """One trial on precomputed kernels: accuracies, κ and costs for ``bootstraps`` sparsity patterns.

    Args:
        kernel_train: ``(n, n)`` training kernel K.
        kernel_test: ``(m, n)`` test-by-train kernel.
        y_train: ``(n,)`` ±1 labels.
        y_test: ``(m,)`` ±1 labels.
        k_thresh: the clipping scale of the test kernel.
        rng: a ``numpy.random.Generator`` for the sparsity patterns.
        variant: ``"fc"`` or ``"cnn"`` (see :func:`~qt_pennylane.ntk.sparsification.sparsify`).
        thresholds: the CNN thresholds (``variant="cnn"``).
        bootstraps: sparsity patterns per trial (the authors' 3).
        solver: the sparse solve, one of ``"cg"``, ``"splu"`` (:data:`~qt_pennylane.ntk.solvers.SOLVERS`).

    Returns:
        ``{"accuracy": {"exact", "sparse", "diagonal"}, "kappa": [...], "sparsity": [...],
        "lsa_probability": [...], "preparation_cost": (m,), "readout_cost_sparse": (B·m,),
        "readout_cost_diagonal": (m,), "measurements": (B·m,)}``, accuracies averaged over the
        test points and patterns.

    Raises:
        ValueError: shapes disagree, ``k_thresh`` not positive, ``bootstraps`` not a positive
            integer or ``solver`` not a sparse solver.
    """
    k = np.asarray(kernel_train, dtype=np.float64)
    ks = np.asarray(kernel_test, dtype=np.float64)
    y, yt = np.asarray(y_train, dtype=np.float64), np.asarray(y_test, dtype=np.float64)
    n = len(y)
    if k.shape != (n, n) or ks.ndim != 2 or ks.shape != (len(yt), n):
        raise ValueError(f"kernel_train {k.shape} and kernel_test {ks.shape} must be ({n}, {n}) and "
                         f"({len(yt)}, {n}) to match y_train and y_test")
    if not k_thresh > 0:
        raise ValueError(f"k_thresh={k_thresh!r} must be positive")
    if isinstance(bootstraps, bool) or not isinstance(bootstraps, int) or bootstraps < 1:
        raise ValueError(f"bootstraps={bootstraps!r} must be a positive integer")
    if solver not in ("cg", "splu"):
        raise ValueError(f"solver={solver!r} must be a sparse solver, one of ['cg', 'splu'] (of {list(SOLVERS)})")
    clipped = np.clip(ks / k_thresh, -1.0, 1.0)
    exact = np.mean(classify(ks @ solve(k, y, method="dense")) == yt)
    alpha_diag = solve(k, y, method="diagonal")
    diagonal = np.mean(classify(clipped @ alpha_diag) == yt)
    preparation = state_preparation(clipped)
    overlap_diag = readout_overlap(clipped, y)
    sparse_acc, kappas, sparsities, p_lsa, readout, measurements = [], [], [], [], [], []
    for _ in range(bootstraps):
        matrix = sparsify(k, y, sparsity_pattern(y, rng=rng), variant=variant, thresholds=thresholds)
        alpha = solve(matrix, y, method=solver)
        sparse_acc.append(np.mean(classify(clipped @ alpha) == yt))
        low, high = extreme_eigenvalues(matrix)
        kappas.append(high / low)
        sparsities.append(int(np.diff(matrix.indptr).max()))
        p = lsa_success_probability(alpha, y, low)
        p_lsa.append(p)
        overlap = readout_overlap(clipped, alpha)
        readout.append(1.0 / overlap**2)
        measurements.append(measurement_estimate(preparation, p, overlap))
    return {
        "accuracy": {"exact": float(exact), "sparse": float(np.mean(sparse_acc)), "diagonal": float(diagonal)},
        "kappa": kappas, "sparsity": sparsities, "lsa_probability": p_lsa,
        "preparation_cost": 1.0 / preparation, "readout_cost_sparse": np.concatenate(readout),
        "readout_cost_diagonal": 1.0 / overlap_diag**2, "measurements": np.concatenate(measurements),
    }


def summarize(trials: list[dict]) -> dict:
    """Aggregate :func:`evaluate` results over trials: means of accuracies and κ, medians of costs.

    Example:
        >>> t = {"accuracy": {"exact": 1.0, "sparse": 0.5, "diagonal": 0.5}, "kappa": [2.0], "sparsity": [3],
        ...      "lsa_probability": [0.5], "preparation_cost": np.ones(2), "readout_cost_sparse": np.ones(2),
        ...      "readout_cost_diagonal": np.ones(2), "measurements": np.ones(2)}
        >>> summarize([t, t])["accuracy_sparse"]
        0.5
    """
    if not trials:
        raise ValueError("trials must hold at least one evaluate() result")
    out = {}
    for name in ("exact", "sparse", "diagonal"):
        values = [t["accuracy"][name] for t in trials]
        out[f"accuracy_{name}"] = float(np.mean(values))
        out[f"accuracy_{name}_std"] = float(np.std(values))
    kappas = np.concatenate([t["kappa"] for t in trials])
    out["kappa"] = float(np.mean(kappas))
    out["kappa_std"] = float(np.std(kappas))
    out["sparsity_max"] = int(max(max(t["sparsity"]) for t in trials))
    out["lsa_probability"] = float(np.median(np.concatenate([t["lsa_probability"] for t in trials])))
    for name in ("preparation_cost", "readout_cost_sparse", "readout_cost_diagonal", "measurements"):
        out[name] = float(np.median(np.concatenate([t[name] for t in trials])))
    return out


def trial_kernels(kernel: str, x, x_test, *, depth: int | None = None,
                  dtype: torch.dtype = torch.float64) -> tuple[np.ndarray, np.ndarray, float | None, int]:
    """``(K, K_test, k_thresh, depth)`` of one trial's training and test inputs.

    fc-erf: ``depth`` defaults to :func:`~qt_pennylane.ntk.networks.fc_depth` of the training set and
    ``k_thresh`` is :func:`fc_k_thresh`; cnn-relu: ``depth`` defaults to 96 and ``k_thresh`` is
    ``None`` (it comes from :func:`cnn_calibration`).

    Example:
        >>> x = np.eye(6)[:4]
        >>> k, ks, k_thresh, depth = trial_kernels("fc-erf", x, x[:2], depth=2)
        >>> k.shape, ks.shape, depth
        ((4, 4), (2, 4), 2)
    """
    check_kernel(kernel)
    if kernel == "fc-erf":
        depth = depth if depth is not None else fc_depth(len(x), separation(x))
        return fc_erf_ntk(x, depth=depth), fc_erf_ntk(x_test, x, depth=depth), fc_k_thresh(depth, x.shape[1]), depth
    depth = CNN_DEPTH if depth is None else depth
    return cnn_relu_ntk(x, depth=depth, dtype=dtype), cnn_relu_ntk(x_test, x, depth=depth, dtype=dtype), None, depth


def run_experiment(*, kernel: str = "fc-erf", digits=None, n: int = 512, trials: int = 1, seed: int = 0,
                   data_root=None, test_size: int = TEST_SIZE, depth: int | None = None, bootstraps: int = 3,
                   solver: str = "splu", dtype: torch.dtype = torch.float64) -> dict:
    """Run ``trials`` trials of the paper's experiment on MNIST and summarize them.

    Args:
        kernel: ``"fc-erf"`` or ``"cnn-relu"``.
        digits: the two digits (default: the paper's for the kernel, 8,9 or 1,0).
        n: training points per trial (even).
        trials: number of independent draws of the training and test sets.
        seed: seeds the one ``numpy.random.Generator`` behind every draw and pattern.
        data_root: the MNIST data root.
        test_size: balanced test points per trial (even).
        depth: network depth; default the paper's (fc-erf: from the data per trial, cnn-relu: 96).
        bootstraps: sparsity patterns per trial.
        solver: ``"splu"`` or ``"cg"``.
        dtype: the cnn-relu kernel's float type.

    Returns:
        The configuration, :func:`summarize`'s numbers and the depths used.

    Raises:
        ValueError: a bad argument (each is named in the message).
        FileNotFoundError: the MNIST files are missing.

    Example:
        >>> run_experiment(kernel="fc-erf", n=16, trials=1)["accuracy_sparse"]  # doctest: +SKIP
    """
    check_kernel(kernel)
    digits = parse_digits(KERNELS[kernel]["digits"] if digits is None else digits)
    for name, value in (("trials", trials), ("test_size", test_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r} must be a non-negative integer")
    if depth is not None and kernel == "cnn-relu" and (not isinstance(depth, int) or depth < 3 or depth % 3):
        raise ValueError(f"depth={depth!r} must be a positive multiple of 3 for kernel 'cnn-relu'")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise ValueError(f"depth={depth!r} must be a positive integer")
    if solver not in ("cg", "splu"):
        raise ValueError(f"solver={solver!r} must be one of ['cg', 'splu']")
    rng = np.random.default_rng(seed)
    train_images, train_labels = load_split(train=True, data_root=data_root)
    test_images, test_labels = load_split(train=False, data_root=data_root)
    flatten = kernel == "fc-erf"
    check_size("n", n, max_size(train_labels, digits))
    check_size("test_size", test_size, max_size(test_labels, digits))
    variant, thresholds, k_thresh = KERNELS[kernel]["variant"], None, None
    if kernel == "cnn-relu":
        depth = CNN_DEPTH if depth is None else depth
        x16, y16 = select_digits(train_images, train_labels, digits, CALIBRATION_N, rng=rng, flatten=False)
        k_thresh, thresholds = cnn_calibration(cnn_relu_ntk(x16, depth=depth, dtype=dtype), y16)
    results, depths = [], []
    for trial in range(trials):
        x, y = select_digits(train_images, train_labels, digits, n, rng=rng, flatten=flatten)
        xt, yt = select_digits(test_images, test_labels, digits, test_size, rng=rng, flatten=flatten)
        k, ks, trial_k_thresh, trial_depth = trial_kernels(kernel, x, xt, depth=depth, dtype=dtype)
        k_thresh = trial_k_thresh if kernel == "fc-erf" else k_thresh
        depths.append(trial_depth)
        results.append(evaluate(k, ks, y, yt, k_thresh=k_thresh, rng=rng, variant=variant,
                                thresholds=thresholds, bootstraps=bootstraps, solver=solver))
        logger.info("trial %d/%d: %s", trial + 1, trials, results[-1]["accuracy"])
    return {"kernel": kernel, "digits": list(digits), "n": n, "trials": trials, "seed": seed,
            "test_size": test_size, "bootstraps": bootstraps, "solver": solver, "depths": depths,
            **summarize(results)}
