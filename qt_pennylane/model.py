"""``QuantumTrainModel``: a classical torch model whose weights come from a generator.

The target's parameters are removed from a private copy of it; each forward pass
generates θ, splits it over the target's ``named_parameters()`` (in order, with their
shapes and dtypes) and runs the copy through :func:`torch.func.functional_call`.
Buffers (e.g. BatchNorm statistics) stay in the copy and behave as in the target.

Example:
    >>> target = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> model = QuantumTrainModel(target, reps=1, seed=0)
    >>> model(torch.randn(5, 4)).shape, sum(p.numel() for p in model.parameters())
    (torch.Size([5, 3]), 33)
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .generator import QuantumWeightGenerator


def _strip_parameters(module: nn.Module) -> list[tuple[str, torch.Size, torch.dtype]]:
    """Empty every parameter slot of ``module`` in place; return the names, shapes and dtypes.

    Each slot is set to ``None`` (PyTorch's "absent parameter"): it leaves ``named_parameters()``
    and ``state_dict()`` but keeps its place, so :meth:`QuantumTrainModel.export` refills the
    slots in the original order.
    """
    specs = [(name, p.shape, p.dtype) for name, p in module.named_parameters()]
    for name, _, _ in specs:
        owner, _, leaf = name.rpartition(".")
        module.get_submodule(owner)._parameters[leaf] = None
    return specs


class QuantumTrainModel(nn.Module):
    """Runs ``target`` with weights produced by a (quantum) weight generator.

    Only the generator's parameters are trainable and counted; the target's own weights are
    discarded (the target passed in is not modified: the model keeps a copy, ``model.target``,
    whose parameter slots are empty outside ``forward``; use :meth:`export` for a filled one).

    Args:
        target: any ``nn.Module``; its parameter count sets the generator's ``n_params``.
        generator: a module whose ``forward()`` returns a flat vector of that length (default:
            a new :class:`QuantumWeightGenerator`).
        **generator_kwargs: options of the default :class:`QuantumWeightGenerator`.

    Raises:
        ValueError: if the target has no parameters, or ``generator.n_params`` does not match.

    Example:
        >>> model = QuantumTrainModel(nn.Linear(3, 2), reps=2, seed=0)
        >>> plain = model.export()   # an ordinary nn.Linear holding the generated weights
        >>> torch.allclose(plain(torch.ones(1, 3)), model(torch.ones(1, 3)))
        True
    """

    def __init__(self, target: nn.Module, generator: nn.Module | None = None, **generator_kwargs):
        super().__init__()
        if not isinstance(target, nn.Module):
            raise ValueError(f"target must be a torch.nn.Module, got {type(target).__name__}")
        n_params = sum(p.numel() for p in target.parameters())
        if n_params == 0:
            raise ValueError(f"target {type(target).__name__} has no parameters to generate")
        if generator is None:
            generator = QuantumWeightGenerator(n_params, **generator_kwargs)
        elif generator_kwargs:
            raise ValueError(f"pass generator options or a generator, not both; got {sorted(generator_kwargs)}")
        if getattr(generator, "n_params", n_params) != n_params:
            raise ValueError(f"generator.n_params={generator.n_params} but the target has {n_params} parameters")
        self.generator = generator
        self.target = copy.deepcopy(target)
        self._specs = _strip_parameters(self.target)

    @property
    def n_target_params(self) -> int:
        """M, the number of weights of the target model."""
        return sum(shape.numel() for _, shape, _ in self._specs)

    def split(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split a flat θ into the target's named parameters (shapes and dtypes of the target)."""
        out, start = {}, 0
        for name, shape, dtype in self._specs:
            out[name] = theta[start : start + shape.numel()].reshape(shape).to(dtype)
            start += shape.numel()
        return out

    def generated_parameters(self) -> dict[str, torch.Tensor]:
        """The target's parameters as generated now (differentiable)."""
        return self.split(self.generator())

    def forward(self, *args, **kwargs):
        """Generate θ and run the target on ``args`` / ``kwargs`` with it."""
        return torch.func.functional_call(self.target, self.generated_parameters(), args, kwargs)

    @torch.no_grad()
    def export(self) -> nn.Module:
        """A plain copy of the target with the generated weights loaded as ordinary parameters.

        Its use needs neither PennyLane nor Qiskit, only torch and the target's own class.
        """
        plain = copy.deepcopy(self.target)
        for name, value in self.generated_parameters().items():
            owner, _, leaf = name.rpartition(".")
            plain.get_submodule(owner).register_parameter(leaf, nn.Parameter(value.detach().clone()))
        return plain

    def extra_repr(self) -> str:
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        return f"target_params={self.n_target_params}, trainable_params={trainable}"
