"""The quantum linear solve ``K̃⁻¹ y`` by QSVT, simulated in PennyLane on ``default.qubit``.

``A = K̃ / max|λ(K̃)|`` (symmetric, spectrum in ``[−1, −1/κ] ∪ [1/κ, 1]``) is block-encoded with
``qml.BlockEncode`` on one ancilla plus ``log₂ n`` system qubits. An odd polynomial ``P(x) ≈ s/x`` on
``1/κ ≤ |x| ≤ 1``, bounded by 1 on [−1, 1], is turned into QSVT angles by ``qml.poly_to_angles``
(inside ``qml.qsvt``). QSVT puts ``P(A) + i Q(A)`` in the top-left block; a second ancilla in a
Hadamard test-like sum ``(U + U†)/2`` keeps the real part ``P(A)`` (for real symmetric A the
adjoint carries ``P(A) − i Q(A)``), as in PennyLane's QSVT linear-systems demo. Post-selecting both
ancillas on 0 leaves ``P(A)|ŷ⟩ ∝ K̃⁻¹|y⟩`` on the system register with probability ``‖P(A) ŷ‖²``.

The polynomial: ``g(x) = (1 − (1 − x²)^b) / x`` equals ``1/x`` up to ``(1 − a²)^b ≤ ε`` for
``|x| ≥ a = 1/κ`` when ``b = ⌈κ² ln(1/ε)⌉`` and is bounded by ``2 sqrt(b)`` (Childs, Kothari &
Somma 2017); its Chebyshev interpolant of odd degree ``d`` is rescaled to max :data:`SCALE` on [−1, 1], with
``d`` the smallest odd degree that brings the interpolant's relative error on the domain below ε.
The monomial coefficients that ``poly_to_angles`` takes grow like 2^d and lose |P| ≤ 1 to rounding
beyond d ≈ 45, so this simulation is for κ up to about 5 (ε = 10⁻²) and small n (8 … 32 here);
:func:`inverse_polynomial` refuses larger κ rather than return a polynomial rounding has changed.

PennyLane is imported inside :func:`qsvt_solve` only, so ``import qt_pennylane.ntk`` does not import it.

Example:
    >>> import numpy as np
    >>> k = np.diag([2.0, 3.0, 3.0, 4.0]); k[0, 1] = k[1, 0] = 0.5
    >>> result = qsvt_solve(k, np.array([1.0, 1.0, -1.0, -1.0]))
    >>> result["overlap"] > 0.99, result["n_qubits"]
    (True, 4)
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from numpy.polynomial import chebyshev

MIN_DEGREE = 3
"""The smallest polynomial degree tried (``poly_to_angles`` fails on degree 1)."""

SCALE = 0.5
"""Max |P| on [−1, 1]. Closer to 1, ``poly_to_angles``' root finding fails on these polynomials
(PennyLane 0.45: an inhomogeneous array in ``_compute_qsp_angle``); 0.5 costs a factor 4 in
success probability."""

MONOMIAL_TOLERANCE = 1e-3
"""Largest change of P on [−1, 1] allowed when its Chebyshev coefficients become monomial ones."""

MAX_DEGREE = 151
"""The largest polynomial degree tried."""


def inverse_polynomial(kappa: float, *, epsilon: float = 1e-3) -> tuple[np.ndarray, float]:
    """Odd monomial coefficients of ``P(x) ≈ s/x`` on ``[1/κ, 1]`` with ``|P| ≤ 1`` on [−1, 1], and ``s``.

    Args:
        kappa: condition number κ ≥ 1 of the normalized matrix.
        epsilon: target relative error of ``x P(x) / s`` on the domain.

    Returns:
        ``(coefficients, s)``: coefficients from the lowest power up.

    Raises:
        ValueError: ``kappa < 1`` or ``epsilon`` outside (0, 1).
        RuntimeError: no odd degree up to :data:`MAX_DEGREE` reaches ``epsilon``, or the degree that
            does is too high for monomial coefficients (:data:`MONOMIAL_TOLERANCE`; κ above about 5 at ε = 10⁻²).

    Example:
        >>> coeffs, s = inverse_polynomial(2.0, epsilon=1e-2)
        >>> x = np.linspace(0.5, 1, 5)
        >>> bool(np.allclose(np.polynomial.polynomial.polyval(x, coeffs) * x / s, 1, atol=2e-2))
        True
    """
    if not kappa >= 1.0:
        raise ValueError(f"kappa={kappa!r} must be at least 1")
    if not 0.0 < epsilon < 1.0:
        raise ValueError(f"epsilon={epsilon!r} must lie in (0, 1)")
    a = 1.0 / kappa
    b = max(1, math.ceil(kappa**2 * math.log(1.0 / epsilon)))

    def g(x):
        x = np.asarray(x, dtype=np.float64)
        small = np.abs(x) < 1e-12
        safe = np.where(small, 1.0, x)
        return np.where(small, 0.0, (1.0 - (1.0 - safe**2) ** b) / safe)

    grid = np.linspace(-1.0, 1.0, 4001)
    domain = np.linspace(a, 1.0, 1001)
    for degree in range(MIN_DEGREE, MAX_DEGREE + 1, 2):
        cheb = chebyshev.Chebyshev.interpolate(g, degree).coef
        cheb[0::2] = 0.0  # exactly odd
        scale = np.abs(chebyshev.chebval(grid, cheb)).max()
        rel = np.abs(chebyshev.chebval(domain, cheb) * domain - 1.0).max()
        if rel < epsilon:
            s = SCALE / scale
            monomial = chebyshev.cheb2poly(cheb) * s
            drift = np.abs(np.polynomial.polynomial.polyval(grid, monomial) - s * chebyshev.chebval(grid, cheb)).max()
            if drift > MONOMIAL_TOLERANCE:
                raise RuntimeError(
                    f"kappa={kappa:.4g} needs degree {degree}, whose monomial coefficients (what "
                    f"qml.poly_to_angles takes) lose the polynomial to rounding: it moves by {drift:.2g} on [-1, 1]")
            return monomial, s
    raise RuntimeError(f"no odd degree up to {MAX_DEGREE} approximates 1/x to epsilon={epsilon} for kappa={kappa}")


def qsvt_solve(matrix, y, *, epsilon: float = 1e-2) -> dict:
    """Solve ``matrix · α = y`` by a simulated QSVT circuit and compare with the classical solution.

    Args:
        matrix: ``(n, n)`` real symmetric invertible matrix (dense or scipy sparse), ``n`` a power of 2
            from 2 to 64.
        y: ``(n,)`` right-hand side.
        epsilon: the polynomial's relative error target (:func:`inverse_polynomial`).

    Returns:
        ``{"solution": normalized α from the circuit, "classical": normalized numpy solution,
        "overlap": |⟨quantum|classical⟩|, "success_probability": both ancillas measured 0,
        "kappa", "degree", "n_qubits"}``.

    Raises:
        ValueError: not square, ``n`` not a power of 2 in [2, 64], not symmetric, singular, or
            ``y`` of the wrong shape or zero.
        RuntimeError: κ too large for the polynomial (:func:`inverse_polynomial`).

    Example:
        >>> import numpy as np
        >>> qsvt_solve(np.eye(2), np.array([1.0, 0.0]))["degree"]
        7
    """
    a = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix, dtype=np.float64)
    n = a.shape[0] if a.ndim == 2 else 0
    if a.ndim != 2 or a.shape != (n, n) or n < 2 or n > 64 or n & (n - 1):
        raise ValueError(f"matrix must be square with a power-of-2 size from 2 to 64, got shape {a.shape}")
    if not np.allclose(a, a.T):
        raise ValueError("matrix must be symmetric")
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,) or not np.any(y):
        raise ValueError(f"y must be a nonzero vector of shape ({n},), got shape {y.shape}")
    eig = np.abs(np.linalg.eigvalsh(a))
    if eig.min() <= 1e-12 * eig.max():
        raise ValueError("matrix must be invertible")
    kappa = float(eig.max() / eig.min())
    coeffs, _ = inverse_polynomial(kappa, epsilon=epsilon)
    import pennylane as qml

    system = list(range(2, 2 + int(math.log2(n))))
    encoding = [1, *system]
    normalized = a / eig.max()
    dev = qml.device("default.qubit", wires=2 + len(system))

    @qml.qnode(dev)
    def circuit():
        qml.StatePrep(y / np.linalg.norm(y), wires=system)
        qml.Hadamard(0)
        qml.ctrl(qml.qsvt, control=0, control_values=0)(normalized, coeffs, encoding, block_encoding="embedding")
        qml.ctrl(qml.adjoint(qml.qsvt), control=0, control_values=1)(normalized, coeffs, encoding,
                                                                      block_encoding="embedding")
        qml.Hadamard(0)
        return qml.state()

    kept = np.asarray(circuit())[:n]  # ancilla wires 0 and 1 both in |0⟩
    probability = float(np.sum(np.abs(kept) ** 2))
    quantum = np.real(kept) / np.linalg.norm(kept)
    classical = np.linalg.solve(a, y)
    classical /= np.linalg.norm(classical)
    return {"solution": quantum, "classical": classical, "overlap": float(abs(quantum @ classical)),
            "success_probability": probability, "kappa": kappa, "degree": len(coeffs) - 1,
            "n_qubits": 2 + len(system)}
