"""Solving ``K α = y`` for the kernel predictor ``k*ᵀ α``: sparse (scipy), dense and diagonal-only.

* ``"cg"``: conjugate gradients, ``scipy.sparse.linalg.cg`` (K̃ symmetric positive definite).
* ``"splu"``: a sparse LU factorization, ``scipy.sparse.linalg.splu``.
* ``"dense"``: ``numpy.linalg.solve`` on the dense matrix (the exact NTK).
* ``"diagonal"``: ``y / diag(K)``, the paper's diagonal-only kernel.

Example:
    >>> import numpy as np, scipy.sparse as sp
    >>> k = sp.csr_matrix(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> solve(k, np.array([1.0, -1.0]), method="cg")
    array([ 1., -1.])
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

SOLVERS = ("cg", "splu", "dense", "diagonal")
"""Known ``method`` names of :func:`solve`."""

DENSE_EIGEN_LIMIT = 2048
"""Up to this size :func:`condition_number` uses all eigenvalues (LAPACK), above it two of them (ARPACK)."""


def _square(matrix) -> int:
    shape = getattr(matrix, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise ValueError(f"matrix must be square and non-empty, got shape {shape}")
    return shape[0]


def solve(matrix, y, *, method: str = "splu", rtol: float = 1e-10) -> np.ndarray:
    """Solve ``matrix · α = y``.

    Args:
        matrix: ``(n, n)`` dense array or scipy sparse matrix.
        y: ``(n,)`` right-hand side (the ±1 labels).
        method: one of :data:`SOLVERS`.
        rtol: relative residual tolerance of ``"cg"``.

    Returns:
        α as an ``(n,)`` float64 array.

    Raises:
        ValueError: unknown ``method``, shapes disagree, ``rtol`` not positive, or a zero on the
            diagonal for ``"diagonal"``.
        RuntimeError: ``"cg"`` did not reach ``rtol`` within ``10 n`` iterations.

    Example:
        >>> import numpy as np
        >>> solve(np.diag([2.0, 4.0]), np.array([1.0, 1.0]), method="diagonal")
        array([0.5 , 0.25])
    """
    if method not in SOLVERS:
        raise ValueError(f"method={method!r} is not a known solver; expected one of {list(SOLVERS)}")
    n = _square(matrix)
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,):
        raise ValueError(f"y has shape {y.shape}, expected ({n},) to match the matrix")
    if not rtol > 0:
        raise ValueError(f"rtol={rtol!r} must be positive")
    if method == "diagonal":
        diag = matrix.diagonal() if sp.issparse(matrix) else np.diagonal(np.asarray(matrix, dtype=np.float64))
        if np.any(diag == 0):
            raise ValueError("matrix has a zero on its diagonal; the diagonal solver needs a nonzero diagonal")
        return y / diag
    if method == "dense":
        dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=np.float64)
        return np.linalg.solve(dense, y)
    a = sp.csc_matrix(matrix, dtype=np.float64)
    if method == "splu":
        return spla.splu(a).solve(y)
    alpha, info = spla.cg(a, y, rtol=rtol, atol=0.0, maxiter=10 * n)
    if info != 0:
        raise RuntimeError(f"conjugate gradients did not reach rtol={rtol} within {10 * n} iterations "
                           "(is the matrix positive definite?)")
    return alpha


def extreme_eigenvalues(matrix) -> tuple[float, float]:
    """The smallest and largest |eigenvalue| of a symmetric matrix.

    Args:
        matrix: ``(n, n)`` symmetric, dense or scipy sparse.

    Returns:
        ``(min |λ|, max |λ|)``: from all eigenvalues (``scipy.linalg.eigvalsh``) up to
        :data:`DENSE_EIGEN_LIMIT`, else from ARPACK (``eigsh``, shift-invert at 0 for the smallest).

    Raises:
        ValueError: not square.

    Example:
        >>> import numpy as np
        >>> extreme_eigenvalues(np.diag([-4.0, 0.5, 2.0]))
        (0.5, 4.0)
    """
    n = _square(matrix)
    if n <= DENSE_EIGEN_LIMIT:
        dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=np.float64)
        eig = np.abs(scipy.linalg.eigvalsh(dense))
        return float(eig.min()), float(eig.max())
    a = sp.csc_matrix(matrix, dtype=np.float64)
    largest = spla.eigsh(a, k=1, which="LM", return_eigenvectors=False)
    smallest = spla.eigsh(a, k=1, sigma=0.0, which="LM", return_eigenvectors=False)
    return float(np.abs(smallest).min()), float(np.abs(largest).max())


def condition_number(matrix) -> float:
    """κ = max |λ| / min |λ| (the authors' definition, via :func:`extreme_eigenvalues`).

    Example:
        >>> import numpy as np
        >>> condition_number(np.diag([-4.0, 0.5, 2.0]))
        8.0
    """
    low, high = extreme_eigenvalues(matrix)
    return high / low
