"""The paper's sparsification of the NTK matrix (the authors' ``analysis.ipynb``), seeded.

Pattern (:func:`sparsity_pattern`): each row ``i`` draws ``c_i ~ Binomial(n, min(2 ln n / n, 1))``
column indices uniformly with replacement; the pattern keeps the draws on or below the diagonal
and mirrors them (``tril(P) + tril(P, -1)ᵀ``), zeroes every entry between the two classes and
sets the diagonal. A row then has about ``ln n`` off-diagonal entries.

Kernel (:func:`sparsify`):

* ``"fc"``: ``K̃ = K ⊙ P``.
* ``"cnn"``: also drop the same-class entries with ``K_ij ≤ t_c`` (the class's threshold from
  :func:`class_thresholds`, computed on a small n = 16 kernel), keep the diagonal, then add
  ``f · diag(K)`` with ``f = 0.76 (ln n)^0.9`` (:func:`cnn_diagonal_factor`).

Example:
    >>> import numpy as np
    >>> y = np.array([1, 1, 1, -1, -1, -1])
    >>> pattern = sparsity_pattern(y, rng=0)
    >>> (pattern != pattern.T).nnz == 0, bool(pattern.diagonal().all())
    (True, True)
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

VARIANTS = ("fc", "cnn")
"""``"fc"``: pattern only (the fully connected network); ``"cnn"``: pattern, thresholds and diagonal term."""

CNN_PERCENTILE = 90.0
"""The authors' percentile for the CNN thresholds."""


def _labels(labels) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or y.size < 2:
        raise ValueError(f"labels must be a 1-D array of at least 2 labels, got shape {y.shape}")
    return y


def _generator(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng={rng!r} must be a numpy Generator or a non-negative integer seed")


def sparsity_pattern(labels, *, rng) -> sp.csr_matrix:
    """The random symmetric same-class pattern with the diagonal kept (see the module docstring).

    Args:
        labels: ``(n,)`` class labels; entries between different labels are dropped.
        rng: a ``numpy.random.Generator`` or an integer seed.

    Returns:
        An ``(n, n)`` boolean CSR matrix.

    Raises:
        ValueError: ``labels`` not 1-D with at least two entries, or a bad ``rng``.

    Example:
        >>> import numpy as np
        >>> round(float(sparsity_pattern(np.repeat([1, -1], 256), rng=1).sum(axis=1).mean()), 2)  # 1 + about ln 512
        7.0
    """
    y = _labels(labels)
    gen = _generator(rng)
    n = y.size
    p_one = min(2.0 * math.log(n) / n, 1.0)
    counts = gen.binomial(n, p_one, size=n)
    rows = np.repeat(np.arange(n), counts)
    cols = gen.integers(0, n, size=rows.size)
    lower = cols <= rows
    rows, cols = rows[lower], cols[lower]
    keep = y[rows] == y[cols]
    rows, cols = rows[keep], cols[keep]
    diag = np.arange(n)
    all_rows = np.concatenate([rows, cols, diag])
    all_cols = np.concatenate([cols, rows, diag])
    pattern = sp.csr_matrix((np.ones(all_rows.size, dtype=bool), (all_rows, all_cols)), shape=(n, n))
    pattern.sum_duplicates()
    pattern.data[:] = True
    return pattern


def cnn_diagonal_factor(n: int) -> float:
    """``f = 0.76 (ln n)^0.9``, the multiple of ``diag(K)`` the CNN variant adds.

    Example:
        >>> round(cnn_diagonal_factor(512), 3)
        3.948
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n={n!r} must be an integer >= 2")
    return 0.76 * math.log(n) ** 0.9


def class_thresholds(kernel, labels, *, percentile: float = CNN_PERCENTILE) -> dict:
    """Per-class thresholds ``t_c``: the ``percentile`` of ``|K ⊙ M_c|`` over all n² entries.

    ``M_c`` marks the off-diagonal entries between two points of class ``c``. As in the authors'
    ``compute_class_percentiles``, the percentile runs over the whole masked matrix, zeros
    included; with two balanced classes of an n = 16 kernel the 90th percentile of all 256
    entries is about the 55th percentile of the class's 56 off-diagonal entries.

    Args:
        kernel: ``(n, n)`` kernel matrix.
        labels: ``(n,)`` labels.
        percentile: in [0, 100].

    Returns:
        ``{label: threshold}``.

    Raises:
        ValueError: shapes disagree or ``percentile`` outside [0, 100].

    Example:
        >>> import numpy as np
        >>> k = np.arange(16.0).reshape(4, 4); k = k + k.T
        >>> class_thresholds(k, np.array([1, 1, -1, -1]), percentile=100)
        {-1: 25.0, 1: 5.0}
    """
    y = _labels(labels)
    k = np.asarray(kernel, dtype=np.float64)
    if k.shape != (y.size, y.size):
        raise ValueError(f"kernel has shape {k.shape}, expected ({y.size}, {y.size}) to match labels")
    if not 0.0 <= percentile <= 100.0:
        raise ValueError(f"percentile={percentile!r} must lie in [0, 100]")
    out = {}
    for label in np.unique(y):
        mask = np.outer(y == label, y == label)
        np.fill_diagonal(mask, False)
        out[label.item()] = float(np.percentile(np.abs(k * mask), percentile))
    return out


def sparsify(kernel, labels, pattern, *, variant: str = "fc", thresholds: dict | None = None) -> sp.csr_matrix:
    """The sparsified kernel K̃ (see the module docstring).

    Args:
        kernel: ``(n, n)`` dense kernel matrix.
        labels: ``(n,)`` labels (the thresholds' keys).
        pattern: the ``(n, n)`` pattern from :func:`sparsity_pattern`.
        variant: ``"fc"`` or ``"cnn"``.
        thresholds: ``{label: t}`` from :func:`class_thresholds`; required for ``"cnn"``.

    Returns:
        K̃ as an ``(n, n)`` float64 CSR matrix.

    Raises:
        ValueError: unknown ``variant``, shapes disagree, or ``"cnn"`` without thresholds for every label.

    Example:
        >>> import numpy as np
        >>> y = np.array([1, 1, -1, -1]); k = np.full((4, 4), 0.5) + np.eye(4)
        >>> sparsify(k, y, sparsity_pattern(y, rng=0)).toarray().diagonal()
        array([1.5, 1.5, 1.5, 1.5])
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant={variant!r} is not known; expected one of {list(VARIANTS)}")
    y = _labels(labels)
    k = np.asarray(kernel, dtype=np.float64)
    n = y.size
    if k.shape != (n, n) or pattern.shape != (n, n):
        raise ValueError(f"kernel {k.shape} and pattern {pattern.shape} must both be ({n}, {n}) to match labels")
    coo = sp.coo_matrix(pattern)
    rows, cols = coo.row, coo.col
    values = k[rows, cols]
    if variant == "cnn":
        if thresholds is None or set(np.unique(y).tolist()) - set(thresholds):
            raise ValueError(f"thresholds={thresholds!r} must give a threshold for every label in "
                             f"{np.unique(y).tolist()} (variant='cnn')")
        t = np.array([thresholds[label] for label in y[rows].tolist()])
        keep = (values > t) | (rows == cols)
        rows, cols, values = rows[keep], cols[keep], values[keep]
        values = values + np.where(rows == cols, cnn_diagonal_factor(n) * values, 0.0)
    return sp.csr_matrix((values, (rows, cols)), shape=(n, n))
