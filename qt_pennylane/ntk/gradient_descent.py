"""The reference the NTK stands in for: the finite-width fc-erf network trained by gradient descent.

Full-batch gradient descent on ``½ Σ_i (f(x_i) − y_i)²`` over all weights of an
:class:`~qt_pennylane.ntk.networks.ErfNetwork`. The trained function is the *centered* network
``f(x; θ) − f(x; θ₀)`` (evaluated through ``torch.func.functional_call`` with the initial weights),
which starts at 0, so that in the infinite-width limit it converges to the NTK predictor
``k*ᵀ K⁻¹ y`` (without centering the limit adds the random initial function). The step size is
``lr_scale / λ_max(K)`` with K the training set's closed-form NTK, below the stability limit 2/λ_max.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(8, 5)); x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> out = train_gradient_descent(x, np.repeat([1.0, -1.0], 4), x[:3], depth=2, width=64, steps=50, seed=0)
    >>> out["test_outputs"].shape, out["train_loss"][-1] < out["train_loss"][0]
    ((3,), True)
"""
from __future__ import annotations

import numpy as np
import torch
from torch.func import functional_call

from .kernels import fc_erf_ntk
from .networks import ErfNetwork


def train_gradient_descent(x_train, y_train, x_test, *, depth: int, width: int, steps: int, seed: int,
                           lr_scale: float = 1.0) -> dict:
    """Train a width-``width`` fc-erf network by full-batch gradient descent; return its test outputs.

    Args:
        x_train: ``(n, d)`` training inputs.
        y_train: ``(n,)`` ±1 labels.
        x_test: ``(m, d)`` test inputs.
        depth: hidden layers.
        width: hidden width.
        steps: gradient steps.
        seed: seeds the initial weights (``torch.Generator``).
        lr_scale: the step size in units of ``1/λ_max(K)``, in (0, 2).

    Returns:
        ``{"test_outputs": (m,), "train_loss": [loss per step], "lr": step size}``.

    Raises:
        ValueError: shapes disagree, ``steps`` not a positive integer or ``lr_scale`` outside (0, 2).
    """
    x = torch.as_tensor(np.asarray(x_train, dtype=np.float64))
    xt = torch.as_tensor(np.asarray(x_test, dtype=np.float64))
    y = torch.as_tensor(np.asarray(y_train, dtype=np.float64))
    if x.ndim != 2 or xt.ndim != 2 or xt.shape[1] != x.shape[1] or y.shape != (x.shape[0],):
        raise ValueError(f"x_train {tuple(x.shape)}, y_train {tuple(y.shape)} and x_test {tuple(xt.shape)} "
                         "must be (n, d), (n,) and (m, d)")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps={steps!r} must be a positive integer")
    if not 0.0 < lr_scale < 2.0:
        raise ValueError(f"lr_scale={lr_scale!r} must lie in (0, 2)")
    net = ErfNetwork(depth=depth, width=width, in_features=x.shape[1],
                     generator=torch.Generator().manual_seed(seed))
    initial = {name: p.detach().clone() for name, p in net.named_parameters()}
    with torch.no_grad():
        offset_train, offset_test = functional_call(net, initial, (x,)), functional_call(net, initial, (xt,))
    lr = lr_scale / float(np.linalg.eigvalsh(fc_erf_ntk(x.numpy(), depth=depth)).max())
    losses = []
    for _ in range(steps):
        net.zero_grad()
        loss = 0.5 * ((net(x) - offset_train - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    with torch.no_grad():
        outputs = (net(xt) - offset_test).numpy()
    return {"test_outputs": outputs, "train_loss": losses, "lr": lr}
