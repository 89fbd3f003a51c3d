"""What the quantum algorithm's cost rests on, computed classically for each test point.

The authors' ``analysis.ipynb`` measures, per test point ``x*``:

* **state preparation** of ``|k*⟩ = Σ_i k_i |i⟩ / sqrt(P)``, with ``k_i`` the kernel row clipped to
  [−1, 1] by ``k_thresh`` and divided by its largest |entry| over the test set, ``P = Σ_i k_i²``:
  post-selection succeeds with probability ``P / n``, so ``n / P`` measurements
  (:func:`state_preparation`);
* **readout** of the sign of ``o = ⟨k*|K̃⁻¹|y⟩`` (normalized vectors): ``1 / |o|²`` measurements
  (the authors count ``1/|o|² − 1``) (:func:`readout_overlap`).

Between them sits the linear-system solve. With ``A = K̃ / ‖K̃‖`` and a QSVT polynomial
``≈ 1/(κ x)`` on ``[1/κ, 1]`` (:mod:`qt_pennylane.ntk.qsvt`), its ancilla post-selection succeeds
with probability ``p_lsa = ‖A⁻¹ ŷ‖² / κ² = λ_min(K̃)² ‖K̃⁻¹ ŷ‖²`` (ŷ = y / ‖y‖), between 1/κ² and 1
(:func:`lsa_success_probability`). Without amplitude amplification, one sign estimate then takes

    M = (n / P) · (1 / p_lsa) · (1 / |o|²)

runs (:func:`measurement_estimate`), our composition of the three; the paper bounds each factor
by O(log n) for MNIST (its Figs. 3–4; state preparation and readout as above, κ = O(log n)).

Example:
    >>> import numpy as np
    >>> state_preparation(np.array([[1.0, 0.0], [0.5, 0.5]]))
    array([0.5 , 0.25])
"""
from __future__ import annotations

import numpy as np


def state_preparation(kernel_test_normalized) -> np.ndarray:
    """Post-selection success probability ``P / n`` of preparing ``|k*⟩`` for each test row.

    Args:
        kernel_test_normalized: ``(m, n)`` test-by-train kernel, clipped to [−1, 1].

    Returns:
        ``(m,)`` probabilities; the measurement cost is their inverse.

    Raises:
        ValueError: not 2-D, or all zero.

    Example:
        >>> import numpy as np
        >>> state_preparation(np.full((1, 4), 0.2))
        array([1.])
    """
    k = np.asarray(kernel_test_normalized, dtype=np.float64)
    if k.ndim != 2 or not np.any(k):
        raise ValueError(f"kernel_test_normalized must be a nonzero 2-D array, got shape {k.shape}")
    k = k / np.abs(k).max()
    return (k**2).sum(axis=1) / k.shape[1]


def readout_overlap(kernel_test_normalized, solution) -> np.ndarray:
    """``o = ⟨k*|α̂⟩`` for each test row, both vectors normalized (α = K̃⁻¹ y or y itself).

    Args:
        kernel_test_normalized: ``(m, n)`` test-by-train kernel.
        solution: ``(n,)`` vector α.

    Returns:
        ``(m,)`` overlaps; readout costs ``1 / o²`` measurements.

    Raises:
        ValueError: shapes disagree or a vector is zero.

    Example:
        >>> import numpy as np
        >>> readout_overlap(np.array([[3.0, 4.0]]), np.array([1.0, 0.0]))
        array([0.6])
    """
    k = np.asarray(kernel_test_normalized, dtype=np.float64)
    a = np.asarray(solution, dtype=np.float64)
    if k.ndim != 2 or a.shape != (k.shape[1],):
        raise ValueError(f"solution has shape {a.shape}, expected ({k.shape[-1]},) to match the kernel's columns")
    norms = np.linalg.norm(k, axis=1)
    if np.any(norms == 0) or not np.any(a):
        raise ValueError("kernel_test_normalized rows and solution must be nonzero")
    return (k @ a) / norms / np.linalg.norm(a)


def lsa_success_probability(solution, y, lambda_min: float) -> float:
    """``p_lsa = λ_min² ‖K̃⁻¹ ŷ‖²`` for ``solution = K̃⁻¹ y``: QSVT's post-selection probability.

    Args:
        solution: ``K̃⁻¹ y``.
        y: the right-hand side.
        lambda_min: the smallest |eigenvalue| of K̃.

    Returns:
        The probability, in [1/κ², 1].

    Raises:
        ValueError: ``lambda_min`` not positive or ``y`` zero.

    Example:
        >>> import numpy as np
        >>> lsa_success_probability(np.array([0.5, -0.5]), np.array([1.0, -1.0]), 2.0)
        1.0
    """
    y = np.asarray(y, dtype=np.float64)
    if not lambda_min > 0:
        raise ValueError(f"lambda_min={lambda_min!r} must be positive")
    if not np.any(y):
        raise ValueError("y must be nonzero")
    return float(lambda_min**2 * np.sum(np.asarray(solution, dtype=np.float64) ** 2) / np.sum(y**2))


def measurement_estimate(preparation, lsa_probability: float, overlap) -> np.ndarray:
    """``M = (n/P) · (1/p_lsa) · (1/|o|²)`` per test point (module docstring).

    Example:
        >>> import numpy as np
        >>> measurement_estimate(np.array([0.5]), 0.25, np.array([0.5]))
        array([32.])
    """
    return 1.0 / (np.asarray(preparation) * lsa_probability * np.asarray(overlap) ** 2)
