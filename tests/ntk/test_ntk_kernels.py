"""Closed-form NTKs against neural-tangents and against very wide networks; the empirical NTK against J Jᵀ."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from qt_pennylane.ntk.empirical import empirical_ntk
from qt_pennylane.ntk.kernels import cnn_relu_ntk, fc_erf_ntk
from qt_pennylane.ntk.networks import ERF_MU, ERF_SCALE, ErfNetwork, MyrtleCNN, fc_depth, separation

REFERENCE = json.loads((Path(__file__).with_name("neural_tangents_reference.json")).read_text())


def _unit_rows(rng, shape):
    x = rng.normal(size=shape)
    return x / np.linalg.norm(x.reshape(shape[0], -1), axis=1).reshape((-1,) + (1,) * (len(shape) - 1))


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['network']}-depth{c['depth']}-{np.shape(c['x'])}")
def test_closed_form_equals_neural_tangents(case):
    # neural-tangents 0.6.5 (jax 0.4.30, x64) on the authors' architectures; see make_neural_tangents_reference.py
    x = np.array(case["x"])
    mine = fc_erf_ntk(x, depth=case["depth"]) if case["network"] == "fc-erf" else cnn_relu_ntk(x, depth=case["depth"])
    np.testing.assert_allclose(mine, np.array(case["ntk"]), rtol=1e-8)


def test_fc_erf_closed_form_equals_wide_network_empirical_ntk():
    # mean over 4 initializations of width 2048: finite-width fluctuations O(1/sqrt(width)) average to ~1%
    x = _unit_rows(np.random.default_rng(0), (3, 8))
    ks = [empirical_ntk(ErfNetwork(depth=2, width=2048, in_features=8, generator=torch.Generator().manual_seed(s)),
                        torch.tensor(x)).numpy() for s in range(4)]
    exact = fc_erf_ntk(x, depth=2)
    assert np.abs(np.mean(ks, axis=0) - exact).max() / np.abs(exact).max() < 0.03


def test_cnn_relu_closed_form_equals_wide_network_empirical_ntk():
    # 16×16 images (four poolings to 1×1 as at 28×28), depth 3, mean over 8 initializations of width 256
    x = _unit_rows(np.random.default_rng(1), (3, 1, 16, 16))
    ks = [empirical_ntk(MyrtleCNN(depth=3, width=256, generator=torch.Generator().manual_seed(s)),
                        torch.tensor(x)).numpy() for s in range(8)]
    exact = cnn_relu_ntk(x, depth=3)
    assert np.abs(np.mean(ks, axis=0) - exact).max() / np.abs(exact).max() < 0.04


def test_empirical_ntk_equals_naive_jacobian_product():
    net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1)).double()
    x1, x2 = torch.randn(4, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)

    def jacobian(x):
        rows = []
        for xi in x:
            grads = torch.autograd.grad(net(xi[None]).sum(), list(net.parameters()))
            rows.append(torch.cat([g.reshape(-1) for g in grads]))
        return torch.stack(rows)

    naive = jacobian(x1) @ jacobian(x2).T
    torch.testing.assert_close(empirical_ntk(net, x1, x2), naive)
    torch.testing.assert_close(empirical_ntk(net, x1, x2, chunk_size=1), naive)
    torch.testing.assert_close(empirical_ntk(net, x1), jacobian(x1) @ jacobian(x1).T)


def test_empirical_ntk_multi_output_blocks():
    net = torch.nn.Linear(3, 2, bias=False).double()
    x = torch.randn(4, 3, dtype=torch.float64)
    ntk = empirical_ntk(net, x)
    assert ntk.shape == (4, 4, 2, 2)
    torch.testing.assert_close(ntk[:, :, 0, 0], x @ x.T)
    torch.testing.assert_close(ntk[:, :, 0, 1], torch.zeros(4, 4, dtype=torch.float64))


def test_cnn_kernel_float32_close_to_float64():
    x = _unit_rows(np.random.default_rng(2), (3, 28, 28))
    np.testing.assert_allclose(cnn_relu_ntk(x, depth=3, dtype=torch.float32), cnn_relu_ntk(x, depth=3), rtol=1e-5)


def test_cross_kernel_matches_symmetric_kernel_block():
    x = _unit_rows(np.random.default_rng(3), (4, 16, 16))
    np.testing.assert_allclose(cnn_relu_ntk(x[:2], x[2:], depth=3), cnn_relu_ntk(x, depth=3)[:2, 2:], rtol=1e-12)
    z = _unit_rows(np.random.default_rng(4), (5, 7))
    np.testing.assert_allclose(fc_erf_ntk(z[:2], z, depth=5, block_rows=1), fc_erf_ntk(z, depth=5)[:2], rtol=1e-12)


def test_depth_rule_and_separation():
    x = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    assert separation(x) == pytest.approx(0.2)
    assert ERF_MU == pytest.approx(1 - (2 / np.sqrt(3 * np.pi)) ** 2 / ERF_SCALE)
    assert fc_depth(512, 0.05) == round(0.1 * 8 * np.log(512 / 0.05) / ERF_MU) == 85


@pytest.mark.parametrize("call, match", [
    (lambda: fc_erf_ntk(np.ones(3), depth=1), "x1 must be an array with 2 dimensions"),
    (lambda: fc_erf_ntk(np.ones((2, 3)), np.ones((2, 4)), depth=1), "x2 has 4 features, expected 3"),
    (lambda: fc_erf_ntk(np.ones((2, 3)), depth=0), "depth=0 must be a positive integer"),
    (lambda: fc_erf_ntk(np.ones((2, 3)), depth=1, w_std=0.0), "w_std=0.0 must be positive"),
    (lambda: fc_erf_ntk(np.ones((2, 3)), depth=1, block_rows=0), "block_rows=0 must be a positive integer"),
    (lambda: cnn_relu_ntk(np.ones((2, 16, 16)), depth=4), "depth=4 must be a positive integer multiple of 3"),
    (lambda: cnn_relu_ntk(np.ones((2, 8, 8)), depth=3), "x1 has images of 8×8 pixels; expected 16 to 31"),
    (lambda: cnn_relu_ntk(np.ones((2, 2, 16, 16)), depth=3), "x1 must have one channel"),
    (lambda: cnn_relu_ntk(np.ones((2, 16, 16)), np.ones((2, 17, 17)), depth=3), "x2 has images of shape"),
    (lambda: cnn_relu_ntk(np.ones((2, 16, 16)), depth=3, batch_pairs=0), "batch_pairs=0 must be a positive"),
    (lambda: cnn_relu_ntk(np.ones((2, 16, 16)), depth=3, dtype=torch.int32), "dtype=torch.int32 must be"),
    (lambda: empirical_ntk(torch.nn.ReLU(), torch.ones(2, 3)), "model=ReLU has no trainable parameters"),
    (lambda: empirical_ntk(torch.nn.Linear(3, 1), torch.ones(0, 3)), "x1 must be a tensor with at least one"),
    (lambda: empirical_ntk(torch.nn.Linear(3, 1), torch.ones(2, 3), chunk_size=0), "chunk_size=0 must be"),
    (lambda: ErfNetwork(depth=1, width=0, in_features=2), "width=0 must be a positive integer"),
    (lambda: ErfNetwork(depth=1, width=2, in_features=2, w_std=-1.0), "w_std=-1.0 must be positive"),
    (lambda: MyrtleCNN(depth=4, width=2), "depth=4 must be a multiple of 3"),
    (lambda: separation(np.ones((1, 3))), "x must have shape \\(n, d\\) with n >= 2"),
    (lambda: fc_depth(0, 0.1), "n=0 must be a positive integer"),
    (lambda: fc_depth(16, 1.5), "delta=1.5 must lie in \\(0, 1\\]"),
    (lambda: fc_depth(16, 0.1, factor=0), "factor=0 must be positive"),
])
def test_bad_arguments_raise_value_error_naming_them(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_deep_symmetric_kernel_does_not_depend_on_blocking():
    # at correlation 1 the cross recursion is unstable (slope ≈ 1.23 per layer): the diagonal must come from
    # each input's own variances, not from a Gram matrix whose rounding depends on the block shape
    x = _unit_rows(np.random.default_rng(5), (40, 30))
    a, b = fc_erf_ntk(x, depth=110), fc_erf_ntk(x, depth=110, block_rows=1)
    np.testing.assert_allclose(a, b, rtol=1e-9)  # was 1e-5 off on the diagonal from the cross recursion
    np.testing.assert_allclose(a, a.T, rtol=0)
