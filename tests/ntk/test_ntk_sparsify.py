"""The sparsity pattern and the two sparsification variants."""
import math

import numpy as np
import pytest

from qt_pennylane.ntk.sparsification import class_thresholds, cnn_diagonal_factor, sparsify, sparsity_pattern


@pytest.mark.parametrize("n", [16, 128, 1024])
def test_pattern_symmetric_same_class_diagonal_about_ln_n_per_row(n):
    y = np.repeat([1.0, -1.0], n // 2)
    pattern = sparsity_pattern(y, rng=np.random.default_rng(n)).toarray()
    assert (pattern == pattern.T).all()
    assert not pattern[: n // 2, n // 2:].any() and not pattern[n // 2:, : n // 2].any()
    assert pattern.diagonal().all()
    off_diagonal_per_row = (pattern.sum() - n) / n
    # expected: ln n less the duplicate draws; measured 0.9-1.0 ln n
    assert 0.7 * math.log(n) < off_diagonal_per_row < 1.2 * math.log(n)


def test_pattern_with_interleaved_labels_and_seed_reproducibility():
    y = np.tile([1, -1, 2], 40)
    a, b = sparsity_pattern(y, rng=5), sparsity_pattern(y, rng=np.random.default_rng(5))
    assert (a != b).nnz == 0
    rows, cols = a.nonzero()
    assert (y[rows] == y[cols]).all()
    assert (sparsity_pattern(y, rng=6) != a).nnz > 0


def test_fc_variant_keeps_kernel_values_on_the_pattern():
    rng = np.random.default_rng(0)
    y = np.repeat([1.0, -1.0], 32)
    k = rng.normal(size=(64, 64))
    k = k + k.T
    pattern = sparsity_pattern(y, rng=rng)
    dense = sparsify(k, y, pattern).toarray()
    np.testing.assert_array_equal(dense, k * pattern.toarray())


def test_cnn_variant_drops_entries_at_or_below_threshold_and_adds_diagonal_term():
    y = np.repeat([1.0, -1.0], 8)
    k = np.full((16, 16), 0.5) + np.eye(16)
    k[0, 1] = k[1, 0] = 0.9
    pattern = sparsity_pattern(y, rng=0)
    pattern[0, 1] = pattern[1, 0] = True
    out = sparsify(k, y, pattern, variant="cnn", thresholds={1.0: 0.6, -1.0: 0.6}).toarray()
    f = cnn_diagonal_factor(16)
    np.testing.assert_allclose(np.diag(out), 1.5 * (1 + f))
    assert out[0, 1] == out[1, 0] == 0.9
    off = out - np.diag(np.diag(out))
    off[0, 1] = off[1, 0] = 0
    assert not off.any()  # every other entry is 0.5 ≤ 0.6


def test_class_thresholds_run_over_the_whole_masked_matrix():
    # the authors' percentile counts the zeros outside the class block too
    rng = np.random.default_rng(1)
    k = rng.uniform(1, 2, size=(16, 16))
    k = (k + k.T) / 2
    y = np.repeat([1, -1], 8)
    t = class_thresholds(k, y)
    block = k[:8, :8][~np.eye(8, dtype=bool)]
    masked = np.zeros((16, 16))
    masked[:8, :8] = k[:8, :8]
    np.fill_diagonal(masked, 0)
    assert t[1] == pytest.approx(np.percentile(masked, 90))
    assert np.mean(block <= t[1]) == pytest.approx(0.5, abs=0.1)


@pytest.mark.parametrize("call, match", [
    (lambda: sparsity_pattern(np.ones(1), rng=0), "labels must be a 1-D array of at least 2"),
    (lambda: sparsity_pattern(np.ones(4), rng=-1), "rng=-1 must be a numpy Generator"),
    (lambda: sparsity_pattern(np.ones(4), rng="a"), "rng='a' must be a numpy Generator"),
    (lambda: cnn_diagonal_factor(1), "n=1 must be an integer >= 2"),
    (lambda: class_thresholds(np.ones((3, 3)), np.ones(4)), "kernel has shape \\(3, 3\\), expected \\(4, 4\\)"),
    (lambda: class_thresholds(np.ones((2, 2)), np.ones(2), percentile=101), "percentile=101 must lie in"),
    (lambda: sparsify(np.ones((2, 2)), np.ones(2), sparsity_pattern(np.ones(2), rng=0), variant="x"),
     "variant='x' is not known"),
    (lambda: sparsify(np.ones((3, 3)), np.ones(2), sparsity_pattern(np.ones(2), rng=0)), "kernel \\(3, 3\\) and pattern"),
    (lambda: sparsify(np.ones((2, 2)), np.array([1, -1]), sparsity_pattern(np.array([1, -1]), rng=0), variant="cnn",
                      thresholds={1: 0.0}), "thresholds=\\{1: 0.0\\} must give a threshold for every label"),
])
def test_bad_arguments_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()
