"""``QuantumTrainModel``: a torch model whose chosen parameters come from a weight generator.

The wrapper keeps a private copy of the target. The parameters the generation policy selects
(:mod:`qt_pennylane.generation`) are removed from the copy; each forward pass generates θ,
scales it per tensor (:mod:`qt_pennylane.scaling`), splits it over those parameters (tied ones
share one tensor) and runs the copy through :func:`torch.func.functional_call`. The other
parameters stay ordinary trainable parameters of the copy, and buffers (BatchNorm statistics)
behave as in the target.

Example:
    >>> target = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> model = QuantumTrainModel(target, generate="all", scale="none", mapping="paper", reps=1, seed=0)
    >>> model(torch.randn(5, 4)).shape, model.counts()
    (torch.Size([5, 3]), {'generated_params': 131, 'classical_params': 0, 'trainable_params': 33})
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ._validation import check_choice, fail
from .generation import Slot, select_parameters
from .generator import QuantumWeightGenerator
from .scaling import SCALES, TensorScale


def _placeholder(shape: torch.Size, dtype: torch.dtype, device=None) -> torch.Tensor:
    """A NaN tensor of ``shape`` that takes no memory: where a generated parameter was.

    It keeps ``print(model.target)`` right (``bias=True``) and makes a direct call of the copy,
    outside :func:`torch.func.functional_call`, give NaN rather than silently wrong numbers.
    """
    return torch.full((), float("nan"), dtype=dtype, device=device).expand(shape)


def _refresh_recurrent(module: nn.Module) -> None:
    """Recurrent layers cache references to their weights: point them at the current tensors."""
    for sub in module.modules():
        if hasattr(sub, "_init_flat_weights"):
            sub._init_flat_weights()


def _strip(module: nn.Module, slots: list[Slot]) -> dict[str, list[str]]:
    """Replace every slot of ``module`` by a non-persistent placeholder buffer of the same name.

    Returns each touched submodule's original parameter order, so :meth:`QuantumTrainModel.export`
    can restore it.
    """
    orders = {}
    for slot in slots:
        for name in slot.names:
            owner_name, _, leaf = name.rpartition(".")
            owner = module.get_submodule(owner_name)
            orders.setdefault(owner_name, list(owner._parameters))
            del owner._parameters[leaf]
            owner.register_buffer(leaf, _placeholder(slot.shape, slot.dtype), persistent=False)
    _refresh_recurrent(module)
    return orders


class QuantumTrainModel(nn.Module):
    """Runs ``target`` with its selected parameters produced by a (quantum) weight generator.

    Args:
        target: any ``nn.Module`` (not modified: the model keeps a copy, ``model.target``, whose
            generated parameter slots hold NaN placeholders; :meth:`export` gives a filled one).
        generator: a module whose ``forward()`` returns a flat vector of ``generator.n_params``
            values, the number of generated weights (default: a new :class:`QuantumWeightGenerator`).
        generate: which parameters the generator makes (see :mod:`qt_pennylane.generation`):
            ``"weights"`` (default: tensors of two or more dimensions; biases and normalization
            parameters stay classical), ``"all"`` (the papers), name patterns, module types or a function.
        scale: ``"init"`` (default: each generated tensor scaled to the spread of the target's
            own init, with a trainable gain per tensor; see :mod:`qt_pennylane.scaling`) or
            ``"none"`` (the mapping's output untouched, as in the papers).
        **generator_kwargs: options of the default :class:`QuantumWeightGenerator`.

    Raises:
        ValueError: for a bad argument, or a generator whose ``n_params`` does not match.

    Example:
        >>> model = QuantumTrainModel(nn.Linear(3, 2), reps=2, seed=0)
        >>> model.target   # the architecture; its weight is generated, its bias classical
        Linear(in_features=3, out_features=2, bias=True)
        >>> plain = model.export()   # an ordinary nn.Linear holding the generated weights
        >>> torch.allclose(plain(torch.ones(1, 3)), model(torch.ones(1, 3)))
        True
    """

    def __init__(self, target: nn.Module, generator: nn.Module | None = None, *, generate="weights",
                 scale: str = "init", **generator_kwargs):
        super().__init__()
        if not isinstance(target, nn.Module):
            raise fail("target", "a torch.nn.Module", target)
        check_choice("scale", scale, SCALES)
        slots, classical = select_parameters(target, generate)
        n_generated = sum(slot.numel for slot in slots)
        if generator is None:
            generator = QuantumWeightGenerator(n_generated, **generator_kwargs)
        elif generator_kwargs:
            raise ValueError(f"pass generator options or a generator, not both; got {sorted(generator_kwargs)}")
        if not isinstance(generator, nn.Module) or getattr(generator, "n_params", None) != n_generated:
            raise ValueError(f"generator.n_params={getattr(generator, 'n_params', None)!r} but the target has "
                             f"{n_generated} generated parameters (generate={generate!r})")
        self.generator = generator
        self.generate_policy = generate if isinstance(generate, str) else "custom"
        self.slots, self.classical_names = slots, classical
        references = [target.get_parameter(slot.names[0]) for slot in slots]
        self.target = copy.deepcopy(target)
        self._parameter_orders = _strip(self.target, slots)
        self._dtypes = [slot.dtype for slot in slots]  # follows .to() / .double() (see _apply)
        self.scale = None
        if scale == "init":
            with torch.no_grad():
                self.scale = TensorScale(references, generator())

    def split(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split a flat θ into the generated parameters by name (scaled; tied names share a tensor)."""
        if self.scale is not None:
            multiplier, offset = self.scale.coefficients()
        out, start = {}, 0
        for t, slot in enumerate(self.slots):
            value = theta[start : start + slot.numel]
            if self.scale is not None:
                value = value * multiplier[t].to(value.dtype) + offset[t].to(value.dtype)
            value = value.reshape(slot.shape).to(self._dtypes[t])
            for name in slot.names:
                out[name] = value
            start += slot.numel
        return out

    def generated_parameters(self) -> dict[str, torch.Tensor]:
        """The generated parameters as they are now, by name (differentiable)."""
        return self.split(self.generator())

    def forward(self, *args, **kwargs):
        """Generate θ and run the target on ``args`` / ``kwargs`` with it."""
        return torch.func.functional_call(self.target, self.generated_parameters(), args, kwargs)

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """The trainable parameters by role: ``source``, ``mapping``, ``scale`` and ``classical``.

        A generator without ``parameter_groups()`` (e.g. a control) puts all of its parameters in ``source``.
        """
        if hasattr(self.generator, "parameter_groups"):
            groups = dict(self.generator.parameter_groups())
        else:
            groups = {"source": [p for p in self.generator.parameters() if p.requires_grad]}
        groups["scale"] = [self.scale.gain] if self.scale is not None and self.scale.gain.requires_grad else []
        groups["classical"] = [p for p in self.target.parameters() if p.requires_grad]
        return groups

    def counts(self) -> dict[str, int]:
        """``generated_params`` (target values made by the generator), ``classical_params`` (target
        values trained directly) and ``trainable_params`` (every trainable number of the wrapper)."""
        return {
            "generated_params": sum(slot.numel for slot in self.slots),
            "classical_params": sum(p.numel() for p in self.target.parameters()),
            "trainable_params": sum(p.numel() for p in self.parameters() if p.requires_grad),
        }

    @torch.no_grad()
    def export(self) -> nn.Module:
        """A plain copy of the target with the generated weights as ordinary parameters (ties restored).

        Using it needs neither PennyLane nor Qiskit, only torch and the target's own class.
        """
        plain = copy.deepcopy(self.target)
        values = self.generated_parameters()
        for slot in self.slots:
            parameter = nn.Parameter(values[slot.names[0]].detach().clone())
            for name in slot.names:
                owner_name, _, leaf = name.rpartition(".")
                owner = plain.get_submodule(owner_name)
                del owner._buffers[leaf]
                owner.register_parameter(leaf, parameter)
        for owner_name, order in self._parameter_orders.items():
            owner = plain.get_submodule(owner_name)
            owner._parameters = {leaf: owner._parameters[leaf] for leaf in order}
        _refresh_recurrent(plain)
        return plain

    def _apply(self, fn, recurse=True):
        """``.to()``, ``.double()``, ...: afterwards the placeholders take no memory again."""
        super()._apply(fn, recurse)
        for t, slot in enumerate(self.slots):
            for name in slot.names:
                owner_name, _, leaf = name.rpartition(".")
                owner = self.target.get_submodule(owner_name)
                old = owner._buffers[leaf]
                owner._buffers[leaf] = _placeholder(slot.shape, old.dtype, old.device)
                self._dtypes[t] = old.dtype
        return self

    def extra_repr(self) -> str:
        counts = self.counts()
        return (f"generate={self.generate_policy!r}, scale={'init' if self.scale is not None else 'none'}, "
                + ", ".join(f"{k}={v}" for k, v in counts.items()))
