"""Sparse, dense and diagonal solves agree; condition numbers from LAPACK and ARPACK agree."""
import numpy as np
import pytest
import scipy.sparse as sp

from qt_pennylane.ntk import solvers
from qt_pennylane.ntk.kernels import fc_erf_ntk
from qt_pennylane.ntk.solvers import condition_number, extreme_eigenvalues, solve
from qt_pennylane.ntk.sparsification import cnn_diagonal_factor, sparsify, sparsity_pattern


def _sparsified_kernel(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.repeat([1.0, -1.0], n // 2)
    k = fc_erf_ntk(x, depth=3)
    return sparsify(k, y, sparsity_pattern(y, rng=rng)), k, y


def test_cg_splu_and_dense_agree_on_the_sparsified_kernel():
    matrix, _, y = _sparsified_kernel()
    reference = np.linalg.solve(matrix.toarray(), y)
    for method in ("cg", "splu", "dense"):
        np.testing.assert_allclose(solve(matrix, y, method=method), reference, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(solve(matrix.toarray(), y, method="dense"), reference, rtol=1e-10)


def test_diagonal_solver_divides_by_the_diagonal():
    _, k, y = _sparsified_kernel()
    np.testing.assert_allclose(solve(k, y, method="diagonal"), y / np.diag(k))
    np.testing.assert_allclose(solve(sp.csr_matrix(k), y, method="diagonal"), y / np.diag(k))


def test_condition_number_dense_and_arpack_paths_agree(monkeypatch):
    matrix, _, _ = _sparsified_kernel(n=128, seed=1)
    matrix = matrix + sp.diags(np.linspace(0, 1, 128) * cnn_diagonal_factor(128))
    dense = condition_number(matrix)
    eig = np.abs(np.linalg.eigvalsh(matrix.toarray()))
    assert dense == pytest.approx(eig.max() / eig.min(), rel=1e-10)
    monkeypatch.setattr(solvers, "DENSE_EIGEN_LIMIT", 10)
    assert condition_number(matrix) == pytest.approx(dense, rel=1e-6)
    assert extreme_eigenvalues(matrix)[0] == pytest.approx(eig.min(), rel=1e-6)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_cg_that_cannot_converge_raises_runtime_error():
    singular = sp.diags(np.r_[np.ones(5), 0.0]).tocsr()  # no solution for a right-hand side with a 6th entry
    with pytest.raises(RuntimeError, match="conjugate gradients did not reach"):
        solve(singular, np.ones(6), method="cg")


@pytest.mark.parametrize("call, match", [
    (lambda: solve(np.eye(2), np.ones(2), method="qr"), "method='qr' is not a known solver"),
    (lambda: solve(np.ones((2, 3)), np.ones(2)), "matrix must be square"),
    (lambda: solve(np.eye(2), np.ones(3)), "y has shape \\(3,\\), expected \\(2,\\)"),
    (lambda: solve(np.eye(2), np.ones(2), method="cg", rtol=0), "rtol=0 must be positive"),
    (lambda: solve(np.zeros((2, 2)), np.ones(2), method="diagonal"), "matrix has a zero on its diagonal"),
    (lambda: condition_number(np.ones(3)), "matrix must be square"),
])
def test_bad_arguments_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()
