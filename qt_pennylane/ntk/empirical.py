"""The empirical NTK of any torch model, ``Θ(x, x') = Σ_θ ∂f(x)/∂θ · ∂f(x')/∂θ``, through ``torch.func``.

Per-example Jacobians come from ``vmap(jacrev(...))`` over ``functional_call`` (parameters and
buffers passed in, nothing written into the model), computed for chunks of inputs small enough
to fit in memory, and contracted chunk by chunk.

Example:
    >>> import torch
    >>> model = torch.nn.Linear(3, 1, bias=False)
    >>> x = torch.eye(3)
    >>> bool(torch.allclose(empirical_ntk(model, x), x @ x.T))
    True
"""
from __future__ import annotations

import torch
from torch.func import functional_call, jacrev, vmap

DEFAULT_CHUNK_BYTES = 256 * 2**20
"""Memory one chunk of per-example Jacobians may take when ``chunk_size`` is not given."""


def _jacobian(model: torch.nn.Module, params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
    """``(c, k, P)``: the Jacobian of each of the ``c`` examples' ``k`` outputs with respect to all parameters."""

    def single(p, xi):
        return functional_call(model, (p, buffers), (xi.unsqueeze(0),)).reshape(-1)

    jac = vmap(jacrev(single), in_dims=(None, 0))(params, x)
    return torch.cat([j.reshape(j.shape[0], j.shape[1], -1) for j in jac.values()], dim=2)


def empirical_ntk(model: torch.nn.Module, x1: torch.Tensor, x2: torch.Tensor | None = None, *,
                  chunk_size: int | None = None) -> torch.Tensor:
    """The empirical NTK of ``model`` between two batches, over all its trainable parameters.

    Args:
        model: a torch module whose output for a batch of ``c`` examples has ``c`` rows.
        x1: ``(n1, ...)`` inputs.
        x2: ``(n2, ...)`` inputs, or ``None`` for ``x1`` against itself.
        chunk_size: examples whose Jacobians are held at once; by default as many as fit in
            :data:`DEFAULT_CHUNK_BYTES`.

    Returns:
        ``(n1, n2)`` for a model with one output per example, else ``(n1, n2, k, k)``.

    Raises:
        ValueError: the model has no trainable parameters, an input is empty, or ``chunk_size``
            is not a positive integer.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
        >>> empirical_ntk(net, torch.ones(5, 2), torch.zeros(2, 2)).shape
        torch.Size([5, 2, 3, 3])
    """
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}
    if not params:
        raise ValueError(f"model={type(model).__name__} has no trainable parameters; expected at least one")
    for name, x in (("x1", x1), ("x2", x2)):
        if x is not None and (not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[0] < 1):
            raise ValueError(f"{name} must be a tensor with at least one example, got {type(x).__name__} "
                             f"of shape {tuple(getattr(x, 'shape', ()))}")
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size={chunk_size!r} must be a positive integer or None")
    buffers = dict(model.named_buffers())
    symmetric = x2 is None
    x2 = x1 if symmetric else x2
    if chunk_size is None:
        n_params = sum(p.numel() for p in params.values())
        outputs = functional_call(model, (params, buffers), (x1[:1],)).numel()
        chunk_size = max(1, DEFAULT_CHUNK_BYTES // (8 * n_params * outputs))
    chunks2 = [_jacobian(model, params, buffers, x2[s:s + chunk_size]) for s in range(0, len(x2), chunk_size)]
    rows = []
    for start in range(0, len(x1), chunk_size):
        j1 = chunks2[start // chunk_size] if symmetric else _jacobian(model, params, buffers, x1[start:start + chunk_size])
        rows.append(torch.cat([torch.einsum("akp,blp->abkl", j1, j2) for j2 in chunks2], dim=1))
    ntk = torch.cat(rows, dim=0)
    return ntk[:, :, 0, 0] if ntk.shape[-1] == 1 else ntk
