"""The QSVT linear solve (PennyLane) against the classical one; PennyLane stays unimported until used."""
import subprocess
import sys

import numpy as np
import pytest

from qt_pennylane.ntk.kernels import fc_erf_ntk
from qt_pennylane.ntk.qsvt import inverse_polynomial, qsvt_solve
from qt_pennylane.ntk.sparsification import cnn_diagonal_factor, sparsify, sparsity_pattern


def _kernel16(seed):
    """A sparsified n = 16 kernel with κ ≈ 3: a shallow fc-erf NTK of correlated inputs, CNN variant."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 6)) + 1.5
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.repeat([1.0, -1.0], 8)
    k = fc_erf_ntk(x, depth=2)
    return sparsify(k, y, sparsity_pattern(y, rng=rng), variant="cnn", thresholds={1.0: 0.0, -1.0: 0.0}), y


@pytest.mark.parametrize("seed", [0, 1])
def test_qsvt_overlap_with_classical_solution_at_n16(seed):
    matrix, y = _kernel16(seed)
    result = qsvt_solve(matrix, y)
    assert result["kappa"] > 1.5  # not a trivial, nearly scalar matrix
    classical = np.linalg.solve(matrix.toarray(), y)
    assert abs(result["solution"] @ classical) / np.linalg.norm(classical) >= 0.99
    assert result["overlap"] >= 0.99
    assert result["n_qubits"] == 6
    assert 0 < result["success_probability"] <= 1


def test_inverse_polynomial_is_odd_bounded_and_close_to_one_over_x():
    coeffs, s = inverse_polynomial(3.0, epsilon=1e-2)
    assert not coeffs[0::2].any()
    grid = np.linspace(-1, 1, 2001)
    assert np.abs(np.polynomial.polynomial.polyval(grid, coeffs)).max() <= 0.5 + 1e-9
    x = np.linspace(1 / 3, 1, 200)
    assert np.abs(np.polynomial.polynomial.polyval(x, coeffs) * x / s - 1).max() < 1e-2


def test_import_ntk_does_not_import_pennylane():
    code = "import sys, qt_pennylane.ntk as m; m.fc_erf_ntk; m.run_experiment; print('pennylane' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("call, match", [
    (lambda: inverse_polynomial(0.5), "kappa=0.5 must be at least 1"),
    (lambda: inverse_polynomial(2.0, epsilon=0), "epsilon=0 must lie in \\(0, 1\\)"),
    (lambda: qsvt_solve(np.eye(3), np.ones(3)), "power-of-2 size from 2 to 64"),
    (lambda: qsvt_solve(np.triu(np.ones((2, 2))), np.ones(2)), "matrix must be symmetric"),
    (lambda: qsvt_solve(np.eye(2), np.ones(4)), "y must be a nonzero vector of shape \\(2,\\)"),
    (lambda: qsvt_solve(np.zeros((2, 2)), np.ones(2)), "matrix must be invertible"),
])
def test_bad_arguments_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_cnn_factor_used_above_makes_the_test_matrix_definite():
    matrix, _ = _kernel16(0)
    assert np.linalg.eigvalsh(matrix.toarray()).min() > 0
    assert cnn_diagonal_factor(16) > 1
