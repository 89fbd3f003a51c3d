"""Infinite-width NTKs of the paper's two networks, in closed form (torch, float64).

Why closed forms and not neural-tangents: the authors compute these kernels with neural-tangents
0.3.6 on JAX. Here, ``pip install neural-tangents jax`` (into a throwaway venv) resolves to
neural-tangents 0.6.5 with jax 0.10.2 and TensorFlow 2.21 (2.6 GB in all), and ``import
neural_tangents`` then fails (``cannot import name 'Jaxpr' from 'jax.core'``); it imports and runs
only with jax/jaxlib pinned back to 0.4.30 and tf2jax to 0.3.6. A dependency that works only with a
two-year-old JAX, and pulls TensorFlow, is not worth an optional extra for two kernels whose
recursions fit on a page. The pinned install served once, offline, to make the reference values
that the tests compare these closed forms against (``tests/ntk/make_neural_tangents_reference.py``);
the tests also compare them with the empirical NTK of very wide torch networks
(:mod:`qt_pennylane.ntk.networks`).

Conventions (neural-tangents' "ntk" parameterization, zero biases). For inputs with ``d``
features (channels for the CNN, here 1) the input covariance is ``Σ⁰ = x·x'/d`` and Θ⁰ = 0. A
dense or conv layer with weight standard deviation σ maps ``Σ ← σ² A(Σ)``, ``Θ ← σ² A(Θ) + Σ``,
where A is the identity for a dense layer and, for a 3×3 SAME convolution,
``A(K)[p, p'] = (1/9) Σ_δ K[p+δ, p'+δ]`` (zero outside the image). An activation maps, with
``Σ₁₁, Σ₂₂`` the two inputs' own variances at the same positions:

* erf: ``Σ ← (2/π) arcsin(2Σ / sqrt((1+2Σ₁₁)(1+2Σ₂₂)))``,
  ``Θ ← Θ · (4/π) / sqrt((1+2Σ₁₁)(1+2Σ₂₂) − 4Σ²)``;
* ReLU: with ``cos θ = Σ / sqrt(Σ₁₁Σ₂₂)``, ``Σ ← sqrt(Σ₁₁Σ₂₂) (sin θ + (π−θ) cos θ) / (2π)``,
  ``Θ ← Θ (π−θ) / (2π)``.

A 2×2 average pooling (VALID) averages ``K[a, b]`` over the 4 × 4 position pairs of two windows.

The CNN's cost: its pooling layers make the readout an average over (almost) all pixels, so
each kernel entry needs the covariance of every pair of pixel positions whose offset is up to 15
pixels (not only same-position pairs, which would suffice for a Flatten readout without pooling):
a 28⁴-entry tensor per pair of images and per layer, ``O(28⁴ · depth)`` per kernel entry. Only the
rows and columns that reach the readout are kept (23 of 28 at ``depth=3``, all 28 at 96).

Example:
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [0.6, 0.8]])
    >>> np.round(fc_erf_ntk(x, depth=1), 4)
    array([[2.3107, 1.1939],
           [1.1939, 2.3107]])
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .networks import CNN_DEPTH, ERF_W_STD, RELU_W_STD

_DTYPE = torch.float64


def _as_tensor(name: str, x, ndim: tuple[int, ...]) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float64))
    if t.ndim not in ndim or t.shape[0] < 1:
        raise ValueError(f"{name} must be an array with {' or '.join(map(str, ndim))} dimensions and at least "
                         f"one row, got shape {tuple(t.shape)}")
    return t


def _check_depth(depth, *, multiple: int = 1) -> int:
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1 or depth % multiple:
        expected = "a positive integer" + (f" multiple of {multiple}" if multiple > 1 else "")
        raise ValueError(f"depth={depth!r} must be {expected}")
    return int(depth)


def _erf_step(sigma, theta, v1, v2):
    """One erf layer on cross covariances ``sigma`` and NTK ``theta`` (broadcasting v1, v2)."""
    prod = (1.0 + 2.0 * v1) * (1.0 + 2.0 * v2)
    theta = theta * (4.0 / math.pi) / torch.sqrt(torch.clamp(prod - 4.0 * sigma**2, min=1e-300))
    sigma = (2.0 / math.pi) * torch.asin(torch.clamp(2.0 * sigma / torch.sqrt(prod), -1.0, 1.0))
    return sigma, theta


BLOCK_ENTRIES = 2**17
"""Kernel entries :func:`fc_erf_ntk` computes at once by default (1 MiB of float64: the layer loop
then runs in cache; blocks of 32 MiB make it about five times slower)."""


def fc_erf_ntk(x1, x2=None, *, depth: int, w_std: float = ERF_W_STD, block_rows: int | None = None) -> np.ndarray:
    """The NTK of the fc-erf network (``depth`` × (Dense → erf), Dense(1); zero biases) at infinite width.

    Args:
        x1: ``(n1, d)`` inputs.
        x2: ``(n2, d)`` inputs, or ``None`` for ``x1`` against itself (then only the upper triangle
            is computed, and mirrored).
        depth: number of hidden layers (:func:`~qt_pennylane.ntk.networks.fc_depth` gives the paper's).
        w_std: weight standard deviation σ (the paper's 1/sqrt(E[erf(z)²])).
        block_rows: rows of ``x1`` computed at once; by default as many as make :data:`BLOCK_ENTRIES` entries.

    Returns:
        The ``(n1, n2)`` kernel matrix, float64.

    Raises:
        ValueError: ``x1``/``x2`` not 2-D or of different widths, bad ``depth``, ``w_std`` or ``block_rows``.

    Example:
        >>> import numpy as np
        >>> fc_erf_ntk(np.eye(3), np.eye(3)[:1], depth=2).shape
        (3, 1)
    """
    a = _as_tensor("x1", x1, (2,))
    b = a if x2 is None else _as_tensor("x2", x2, (2,))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"x2 has {b.shape[1]} features, expected {a.shape[1]} like x1")
    depth = _check_depth(depth)
    if not w_std > 0:
        raise ValueError(f"w_std={w_std!r} must be positive")
    if block_rows is not None and (isinstance(block_rows, bool) or not isinstance(block_rows, int) or block_rows < 1):
        raise ValueError(f"block_rows={block_rows!r} must be a positive integer or None")
    rows_at_once = block_rows if block_rows is not None else max(1, BLOCK_ENTRIES // b.shape[0])
    s2 = w_std**2
    d = a.shape[1]
    # the inputs' own variances through the layers (the diagonal of the recursion)
    var_a, var_b = [s2 * (a * a).sum(1) / d], [s2 * (b * b).sum(1) / d]
    for _ in range(depth):
        var_a.append(s2 * (2.0 / math.pi) * torch.asin(2.0 * var_a[-1] / (1.0 + 2.0 * var_a[-1])))
        var_b.append(s2 * (2.0 / math.pi) * torch.asin(2.0 * var_b[-1] / (1.0 + 2.0 * var_b[-1])))
    out = np.empty((a.shape[0], b.shape[0]))
    for start in range(0, a.shape[0], rows_at_once):
        rows = slice(start, start + rows_at_once)
        cols = slice(start if x2 is None else 0, None)  # symmetric: the upper triangle and the diagonal block
        sigma = s2 * (a[rows] @ b[cols].T) / d
        theta = sigma.clone()
        for layer in range(depth):
            sigma, theta = _erf_step(sigma, theta, var_a[layer][rows, None], var_b[layer][None, cols])
            sigma = s2 * sigma
            theta = sigma + s2 * theta
        out[rows, cols] = theta.numpy()
    if x2 is None:
        upper = np.triu(out, 1)
        out = upper + upper.T
        out[np.diag_indices_from(out)] = _fc_erf_diagonal(var_a, s2)
    return out


def _fc_erf_diagonal(variances: list, s2: float) -> np.ndarray:
    """Θ(x, x) from each input's own variances ``variances[l]`` (correlation exactly 1).

    The cross recursion at correlation 1 is unstable in this network (the correlation map's slope
    there is ``σ² E[erf'(u)²] ≈ 1.23`` at unit variance), so rounding differences between a Gram
    diagonal and the variances would grow as 1.23^depth (10⁻⁵ relative at depth 110); this
    recursion has no such term: ``Θ ← Σ_next + σ² (4/π)/sqrt(1 + 4v) Θ``.
    """
    theta = variances[0].clone()
    for layer in range(len(variances) - 1):
        theta = variances[layer + 1] + s2 * (4.0 / math.pi) / torch.sqrt(1.0 + 4.0 * variances[layer]) * theta
    return theta.numpy()


def _box3(k: torch.Tensor) -> torch.Tensor:
    """``A(K)[p, p'] = (1/9) Σ_δ K[p+δ, p'+δ]`` for a batch ``(B, H, W, H, W)``, zero outside the image."""
    _, h, w, _, _ = k.shape
    padded = F.pad(k, (1, 1, 1, 1, 1, 1, 1, 1))
    out = torch.zeros_like(k)
    for dy in range(3):
        for dx in range(3):
            out += padded[:, dy:dy + h, dx:dx + w, dy:dy + h, dx:dx + w]
    return out / 9.0


def _pool2(k: torch.Tensor) -> torch.Tensor:
    """2×2 stride-2 VALID average pooling applied to both positions of ``(B, H, W, H, W)``."""
    bsz, h, w, _, _ = k.shape
    h2, w2 = h // 2, w // 2
    k = k[:, :2 * h2, :2 * w2, :2 * h2, :2 * w2].reshape(bsz, h2, 2, w2, 2, h2, 2, w2, 2)
    return k.mean(dim=(2, 4, 6, 8))


def _relu_step(sigma, theta, v1, v2):
    """One ReLU layer; ``v1``, ``v2``: ``(B, H, W)`` variances of the two inputs at each position."""
    norm = torch.sqrt(v1[:, :, :, None, None] * v2[:, None, None, :, :])
    safe = torch.clamp(norm, min=1e-300)
    cos = torch.clamp(sigma / safe, -1.0, 1.0)
    angle = torch.arccos(cos)
    sigma = norm * (torch.sqrt(1.0 - cos**2) + (math.pi - angle) * cos) / (2.0 * math.pi)
    theta = theta * (math.pi - angle) / (2.0 * math.pi)
    return sigma, theta


def _diag(k: torch.Tensor) -> torch.Tensor:
    """Same-position entries ``K[p, p]`` of ``(B, H, W, H, W)`` → ``(B, H, W)``."""
    bsz, h, w, _, _ = k.shape
    return k.reshape(bsz, h * w, h * w).diagonal(dim1=1, dim2=2).reshape(bsz, h, w)


def _needed_sizes(size: int, per_block: int) -> list[int]:
    """Rows (and columns) of each block's input that the 1×1 readout depends on.

    Going back from the output: a VALID 2×2 pooling needs twice its output rows, and each 3×3
    SAME conv one more row; rows beyond those (at the bottom/right) never reach the readout, so
    each block's input is cropped to its needed rows. Cropping replaces the rows beyond by zeros,
    an error that moves inward one row per conv layer and so stays in rows nobody reads.
    """
    sizes = [size]
    for _ in range(2):
        sizes.append(sizes[-1] // 2)
    need = 4  # the third block's output: two poolings down to 1×1
    needed = []
    for block in (2, 1, 0):
        need = min(sizes[block], need + per_block)
        needed.append(need)
        need *= 2
    return needed[::-1]


def _cnn_pass(x1: torch.Tensor, x2: torch.Tensor, depth: int, vars1=None, vars2=None):
    """Propagate image pairs ``(x1[b], x2[b])`` through the cnn-relu recursion.

    With ``vars1 is None`` the pairs are self-pairs (x1 is x2) and the variances are read off the
    diagonal of the tensor itself; they are returned (one entry per ReLU, then the Dense(2)
    pre-activation variance) for later cross pairs. Returns ``(ntk, variances)``.
    """
    s2 = RELU_W_STD**2
    needed = _needed_sizes(x1.shape[1], depth // 3)
    x1, x2 = x1[:, :needed[0], :needed[0]], x2[:, :needed[0], :needed[0]]
    sigma = x1[:, :, :, None, None] * x2[:, None, None, :, :]  # one input channel: x·x'/1
    theta = torch.zeros_like(sigma)
    recorded = []
    layer = 0
    for block in range(3):
        m = needed[block]
        sigma, theta = sigma[:, :m, :m, :m, :m], theta[:, :m, :m, :m, :m]
        for _ in range(depth // 3):
            sigma = s2 * _box3(sigma)
            theta = sigma + s2 * _box3(theta)
            if vars1 is None:
                v = _diag(sigma)
                recorded.append(v)
                v1 = v2 = v
            else:
                v1, v2 = vars1[layer], vars2[layer]
            sigma, theta = _relu_step(sigma, theta, v1, v2)
            layer += 1
        for _ in range(2 if block == 2 else 1):
            sigma, theta = _pool2(sigma), _pool2(theta)
    sigma, theta = sigma[:, :1, :1, :1, :1].reshape(-1), theta[:, :1, :1, :1, :1].reshape(-1)
    sigma, theta = s2 * sigma, s2 * sigma + s2 * theta  # Flatten (1×1) → Dense(2)
    if vars1 is None:
        recorded.append(sigma)
        v1 = v2 = sigma
    else:
        v1, v2 = vars1[layer], vars2[layer]
    sigma, theta = _erf_step(sigma, theta, v1, v2)
    sigma = s2 * sigma  # Dense(1)
    return sigma + s2 * theta, recorded


def cnn_relu_ntk(x1, x2=None, *, depth: int = CNN_DEPTH, batch_pairs: int = 8,
                 dtype: torch.dtype = torch.float64) -> np.ndarray:
    """The NTK of the authors' Myrtle-like ReLU CNN (see :mod:`~qt_pennylane.ntk.networks`) at infinite width.

    Cost: ``O(H² W² · depth)`` per kernel entry (see the module docstring); at 28×28 pixels and the
    authors' ``depth=96`` that is about 2·10⁹ operations per entry.

    Args:
        x1: ``(n1, H, W)`` or ``(n1, 1, H, W)`` one-channel images, 16 to 31 pixels a side.
        x2: the same for the second argument, or ``None`` for ``x1`` against itself.
        depth: total conv layers, a positive multiple of 3 (the authors' 96).
        batch_pairs: image pairs propagated at once (memory ≈ ``batch_pairs · 5 · 8 · (HW)²`` bytes).
        dtype: ``torch.float64`` (as the authors' JAX x64) or ``torch.float32`` (3 to 5 times faster).

    Returns:
        The ``(n1, n2)`` kernel matrix, float64.

    Raises:
        ValueError: images of the wrong shape or size, bad ``depth``, ``batch_pairs`` or ``dtype``.

    Example:
        >>> import numpy as np
        >>> images = np.random.default_rng(0).normal(size=(2, 16, 16))
        >>> k = cnn_relu_ntk(images, depth=3)
        >>> k.shape, bool(np.allclose(k, k.T))
        ((2, 2), True)
    """
    depth = _check_depth(depth, multiple=3)
    if isinstance(batch_pairs, bool) or not isinstance(batch_pairs, int) or batch_pairs < 1:
        raise ValueError(f"batch_pairs={batch_pairs!r} must be a positive integer")
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype={dtype!r} must be torch.float32 or torch.float64")
    a = _images(x1, "x1").to(dtype)
    b = a if x2 is None else _images(x2, "x2").to(dtype)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"x2 has images of shape {tuple(b.shape[1:])}, expected {tuple(a.shape[1:])} like x1")
    diag_a, vars_a = _self_pass(a, depth, batch_pairs)
    if x2 is None:
        diag_b, vars_b = diag_a, vars_a
    else:
        _, vars_b = _self_pass(b, depth, batch_pairs)
    out = np.empty((len(a), len(b)))
    if x2 is None:
        rows, cols = np.triu_indices(len(a), 1)
        out[np.arange(len(a)), np.arange(len(a))] = diag_a
    else:
        rows, cols = (g.ravel() for g in np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij"))
    for start in range(0, len(rows), batch_pairs):
        i, j = rows[start:start + batch_pairs], cols[start:start + batch_pairs]
        ntk, _ = _cnn_pass(a[i], b[j], depth, [v[i] for v in vars_a], [v[j] for v in vars_b])
        out[i, j] = ntk.double().numpy()
        if x2 is None:
            out[j, i] = out[i, j]
    return out


def _images(x, name: str) -> torch.Tensor:
    t = _as_tensor(name, x, (3, 4))
    if t.ndim == 4:
        if t.shape[1] != 1:
            raise ValueError(f"{name} must have one channel, got shape {tuple(t.shape)}")
        t = t[:, 0]
    if not (16 <= t.shape[1] <= 31 and 16 <= t.shape[2] <= 31):
        raise ValueError(f"{name} has images of {t.shape[1]}×{t.shape[2]} pixels; expected 16 to 31 a side")
    return t


def _self_pass(x: torch.Tensor, depth: int, batch_pairs: int):
    """Each image against itself: the kernel diagonal and the per-layer variances."""
    diag, chunks = [], []
    for start in range(0, len(x), batch_pairs):
        part = x[start:start + batch_pairs]
        ntk, recorded = _cnn_pass(part, part, depth)
        diag.append(ntk)
        chunks.append(recorded)
    variances = [torch.cat([c[k] for c in chunks]) for k in range(len(chunks[0]))]
    return torch.cat(diag).double().numpy(), variances
