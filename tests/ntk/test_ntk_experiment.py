"""Data selection, costs, the per-trial evaluation and the experiment on a generated MNIST file set."""
import numpy as np
import pytest
import torch

from qt_pennylane.ntk.costs import lsa_success_probability, measurement_estimate, readout_overlap, state_preparation
from qt_pennylane.ntk.data import check_size, parse_digits, select_digits
from qt_pennylane.ntk.experiment import (
    classify, cnn_calibration, evaluate, fc_k_thresh, run_experiment, summarize, trial_kernels,
)
from qt_pennylane.ntk.gradient_descent import train_gradient_descent
from qt_pennylane.ntk.kernels import fc_erf_ntk


def test_select_digits_balances_standardizes_and_normalizes():
    rng = np.random.default_rng(0)
    labels = np.arange(100) % 10
    images = rng.integers(0, 256, size=(100, 28, 28)).astype(np.uint8)
    x, y = select_digits(images, labels, (8, 9), 16, rng=rng, flatten=True)
    assert x.shape == (16, 784) and y.tolist() == [1.0] * 8 + [-1.0] * 8
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0)
    # standardizing and scaling keep each image's correlation with its raw pixels: row 0 (+1) is a 9
    raw = images.astype(float).reshape(100, -1)
    corr = [np.corrcoef(raw[i], x[0])[0, 1] for i in range(100)]
    assert labels[int(np.argmax(corr))] == 9 and max(corr) == pytest.approx(1.0)
    xc, _ = select_digits(images, labels, (8, 9), 4, rng=rng, flatten=False)
    assert xc.shape == (4, 1, 28, 28)


def test_costs_follow_their_formulas():
    k = np.array([[1.0, 0.5], [0.25, 0.0]])
    np.testing.assert_allclose(state_preparation(k), [1.25 / 2, 0.0625 / 2])
    np.testing.assert_allclose(readout_overlap(k, np.array([1.0, 1.0])), [1.5 / np.sqrt(1.25) / np.sqrt(2), 1 / np.sqrt(2)])
    assert lsa_success_probability(np.array([1.0, 0.0]), np.array([2.0, 0.0]), 2.0) == pytest.approx(1.0)
    np.testing.assert_allclose(measurement_estimate(np.array([0.5]), 0.5, np.array([0.5])), [16.0])


def _two_blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 12))
    y = np.repeat([1.0, -1.0], n // 2)
    x[:, 0] += 1.5 * y
    return x / np.linalg.norm(x, axis=1, keepdims=True), y


def test_evaluate_on_separable_data():
    x, y = _two_blobs(48)
    xt, yt = _two_blobs(32, seed=1)
    k, ks, k_thresh, depth = trial_kernels("fc-erf", x, xt, depth=4)
    out = evaluate(k, ks, y, yt, k_thresh=k_thresh, rng=np.random.default_rng(0), bootstraps=2, solver="cg")
    assert min(out["accuracy"].values()) >= 0.8
    assert len(out["kappa"]) == 2 and min(out["kappa"]) >= 1
    assert out["preparation_cost"].shape == (32,) and out["measurements"].shape == (64,)
    summary = summarize([out, out])
    assert summary["accuracy_sparse"] == out["accuracy"]["sparse"] and summary["sparsity_max"] >= 2


def test_thresholds_and_classify():
    assert fc_k_thresh(3, 5) == pytest.approx(fc_erf_ntk(np.eye(5)[:1], depth=3)[0, 0], rel=1e-3)
    k = np.array([[3.0, 1.0, 0.0, 0.5], [1.0, 3.0, 0.1, 0.0], [0.0, 0.1, 3.0, 2.0], [0.5, 0.0, 2.0, 3.0]])
    k_thresh, thresholds = cnn_calibration(k, np.array([1, 1, -1, -1]))
    assert k_thresh == 2.0 and set(thresholds) == {1, -1}
    assert classify(np.array([1.0, 2.0, 3.0, 4.0])).tolist() == [-1.0, -1.0, 1.0, 1.0]


def test_gradient_descent_reference_trains_and_follows_the_ntk_when_wide_and_shallow():
    x, y = _two_blobs(8)
    xt, _ = _two_blobs(6, seed=2)
    out = train_gradient_descent(x, y, xt, depth=1, width=2048, steps=200, seed=0)
    assert out["train_loss"][-1] < 1e-3 * out["train_loss"][0]
    ntk = fc_erf_ntk(xt, x, depth=1) @ np.linalg.solve(fc_erf_ntk(x, depth=1), y)
    np.testing.assert_allclose(out["test_outputs"], ntk, atol=0.15)


def test_run_experiment_on_generated_mnist(mnist_root):
    fc = run_experiment(kernel="fc-erf", n=16, trials=2, test_size=16, data_root=mnist_root)
    assert fc["digits"] == [8, 9] and len(fc["depths"]) == 2 and fc["accuracy_exact"] > 0.9
    cnn = run_experiment(kernel="cnn-relu", n=8, trials=1, test_size=8, depth=3, data_root=mnist_root,
                         dtype=torch.float32)
    assert cnn["digits"] == [1, 0] and cnn["depths"] == [3] and 0 <= cnn["accuracy_sparse"] <= 1


@pytest.mark.parametrize("call, match", [
    (lambda: parse_digits("8,8"), "digits='8,8' must be two distinct digits"),
    (lambda: parse_digits([1, 10]), "digits=\\[1, 10\\] must be two distinct"),
    (lambda: check_size("n", 7, 100), "n=7 must be a positive even integer of at most 100"),
    (lambda: check_size("test_size", 300, 100), "test_size=300 must be a positive even integer"),
    (lambda: select_digits(np.zeros((4, 28, 28)), np.array([0, 1, 0, 1]), (0, 1), 2, rng=0, flatten=True),
     "rng=0 must be a numpy.random.Generator"),
    (lambda: evaluate(np.eye(2), np.ones((1, 3)), np.ones(2), np.ones(1), k_thresh=1, rng=np.random.default_rng()),
     "kernel_train \\(2, 2\\) and kernel_test \\(1, 3\\)"),
    (lambda: evaluate(np.eye(2), np.ones((1, 2)), np.ones(2), np.ones(1), k_thresh=0, rng=np.random.default_rng()),
     "k_thresh=0 must be positive"),
    (lambda: evaluate(np.eye(2), np.ones((1, 2)), np.ones(2), np.ones(1), k_thresh=1, rng=np.random.default_rng(),
                      bootstraps=0), "bootstraps=0 must be a positive integer"),
    (lambda: evaluate(np.eye(2), np.ones((1, 2)), np.ones(2), np.ones(1), k_thresh=1, rng=np.random.default_rng(),
                      solver="dense"), "solver='dense' must be a sparse solver"),
    (lambda: fc_k_thresh(2, 4, delta_hat=1.0), "delta_hat=1.0 must lie in \\(0, 1\\)"),
    (lambda: summarize([]), "trials must hold at least one"),
    (lambda: trial_kernels("rbf", np.eye(2), np.eye(2)), "kernel='rbf' is not known"),
    (lambda: run_experiment(kernel="rbf"), "kernel='rbf' is not known"),
    (lambda: run_experiment(trials=0), "trials=0 must be a positive integer"),
    (lambda: run_experiment(seed=-2), "seed=-2 must be a non-negative integer"),
    (lambda: run_experiment(kernel="cnn-relu", depth=4), "depth=4 must be a positive multiple of 3"),
    (lambda: run_experiment(depth=0), "depth=0 must be a positive integer"),
    (lambda: run_experiment(solver="lu"), "solver='lu' must be one of"),
    (lambda: state_preparation(np.zeros((2, 2))), "kernel_test_normalized must be a nonzero 2-D array"),
    (lambda: readout_overlap(np.ones((2, 2)), np.ones(3)), "solution has shape \\(3,\\), expected \\(2,\\)"),
    (lambda: lsa_success_probability(np.ones(2), np.ones(2), 0.0), "lambda_min=0.0 must be positive"),
    (lambda: train_gradient_descent(np.ones((2, 3)), np.ones(2), np.ones((1, 3)), depth=1, width=2, steps=0, seed=0),
     "steps=0 must be a positive integer"),
    (lambda: train_gradient_descent(np.ones((2, 3)), np.ones(3), np.ones((1, 3)), depth=1, width=2, steps=1, seed=0),
     "must be \\(n, d\\), \\(n,\\) and \\(m, d\\)"),
    (lambda: train_gradient_descent(np.ones((2, 3)), np.ones(2), np.ones((1, 3)), depth=1, width=2, steps=1, seed=0,
                                    lr_scale=2.0), "lr_scale=2.0 must lie in \\(0, 2\\)"),
])
def test_bad_arguments_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()
