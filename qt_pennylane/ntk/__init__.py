"""Sparsified neural-tangent-kernel training (Zlokapa, Neven & Lloyd, arXiv:2107.09200).

The infinite-width NTK of the paper's networks (:mod:`~qt_pennylane.ntk.kernels`), the empirical
NTK of any torch model (:mod:`~qt_pennylane.ntk.empirical`), the paper's sparsification
(:mod:`~qt_pennylane.ntk.sparsification`), sparse/dense/diagonal solves (:mod:`~qt_pennylane.ntk.solvers`),
the quantum linear solve by QSVT in PennyLane (:mod:`~qt_pennylane.ntk.qsvt`, imported on first
use only) and the paper's experiment (:mod:`~qt_pennylane.ntk.experiment`).

Example:
    >>> import numpy as np
    >>> from qt_pennylane.ntk import fc_erf_ntk, sparsify, sparsity_pattern, solve
    >>> x = np.eye(4); y = np.array([1.0, 1.0, -1.0, -1.0])
    >>> k = fc_erf_ntk(x, depth=2)
    >>> alpha = solve(sparsify(k, y, sparsity_pattern(y, rng=0)), y, method="cg")
    >>> alpha.shape
    (4,)
"""
from importlib import import_module

_EXPORTS = {
    "cnn_relu_ntk": "kernels",
    "condition_number": "solvers",
    "empirical_ntk": "empirical",
    "evaluate": "experiment",
    "fc_erf_ntk": "kernels",
    "qsvt_solve": "qsvt",
    "run_experiment": "experiment",
    "solve": "solvers",
    "sparsify": "sparsification",
    "sparsity_pattern": "sparsification",
    "train_gradient_descent": "gradient_descent",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'qt_pennylane.ntk' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
