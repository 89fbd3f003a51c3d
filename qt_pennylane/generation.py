"""Which of the target's parameters the circuit generates, and which stay classical.

``QuantumTrainModel(target, generate=...)`` takes a policy:

* ``"weights"`` (the default): every parameter with two or more dimensions (weight matrices,
  convolution kernels, embedding tables, recurrent weights). Biases and the scale and shift of
  normalization layers (BatchNorm, LayerNorm, ...) stay ordinary trainable parameters. They are a
  small share of a network's parameters, and a network trains poorly when they come out of the
  circuit: a BatchNorm scale that should start at 1, or an LSTM gate bias, gets a value the
  mapping cannot place.
* ``"all"``: every parameter, as in the Quantum-Train papers (the reproduction benchmarks use it).
* name patterns and/or module types, alone or in a list: ``"layer1.*"``, ``["*.weight", nn.LSTM]``.
  A pattern is matched against the parameter's name with :func:`fnmatch.fnmatchcase`; a type
  selects the parameters its instances own directly.
* a function ``(name, parameter) -> bool``.

Tied (shared) parameters appear once: they are generated once and tied again on export.

Example:
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    >>> slots, classical = select_parameters(net, "weights")
    >>> [s.names for s in slots], classical
    ([('0.weight',), ('2.weight',)], ['0.bias', '1.weight', '1.bias', '2.bias'])
    >>> [s.names for s in select_parameters(net, ["2.*"])[0]]
    [('2.weight',), ('2.bias',)]
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import torch
from torch import nn

from ._validation import fail

PRESETS = {
    "all": lambda name, parameter: True,
    "weights": lambda name, parameter: parameter.dim() >= 2,
}
"""Named policies: ``"all"`` parameters, or the ``"weights"`` with two or more dimensions."""


@dataclass(frozen=True)
class Slot:
    """One generated tensor: every name it has in the target (tied parameters have several), shape, dtype."""

    names: tuple[str, ...]
    shape: torch.Size
    dtype: torch.dtype

    @property
    def numel(self) -> int:
        """The number of values in the tensor."""
        return self.shape.numel()


def _owner(module: nn.Module, name: str) -> nn.Module:
    return module.get_submodule(name.rpartition(".")[0])


def _matcher(target: nn.Module, generate):
    """A predicate ``(name, parameter) -> bool`` and the items of ``generate`` to check for matches."""
    if isinstance(generate, str) and generate in PRESETS:
        return PRESETS[generate], []
    if callable(generate) and not isinstance(generate, type):
        return generate, []
    items = [generate] if isinstance(generate, (str, type)) else generate
    try:
        items = list(items)
    except TypeError:
        raise fail("generate", f"one of {sorted(PRESETS)}, name patterns, module types or a function", generate) from None
    for item in items:
        if not (isinstance(item, str) or (isinstance(item, type) and issubclass(item, nn.Module))):
            raise fail("generate", "name patterns (str) and nn.Module types", item)
    if not items:
        raise fail("generate", "a non-empty policy", generate)

    def matches(item, name, parameter):
        if isinstance(item, str):
            return fnmatch.fnmatchcase(name, item)
        return isinstance(_owner(target, name), item)

    return (lambda name, parameter: any(matches(i, name, parameter) for i in items)), [
        (item, lambda name, parameter, item=item: matches(item, name, parameter)) for item in items]


def select_parameters(target: nn.Module, generate="weights") -> tuple[list[Slot], list[str]]:
    """The generated tensors (in ``named_parameters()`` order) and the names of the classical ones.

    Args:
        target: the model.
        generate: a policy (see the module docstring).

    Returns:
        ``(slots, classical)``: a :class:`Slot` per generated tensor, and the names of the
        parameters that stay classical (each tied parameter by its first name).

    Raises:
        ValueError: for a bad policy, a pattern or type that matches no parameter, or a policy
            that selects nothing.
    """
    if not isinstance(target, nn.Module):
        raise fail("target", "a torch.nn.Module", target)
    selected, checks = _matcher(target, generate)
    by_id: dict[int, list[str]] = {}
    parameters: dict[int, nn.Parameter] = {}
    for name, parameter in target.named_parameters(remove_duplicate=False):
        by_id.setdefault(id(parameter), []).append(name)
        parameters[id(parameter)] = parameter
    if not by_id:
        raise ValueError(f"target {type(target).__name__} has no parameters to generate")
    for item, check in checks:
        if not any(check(n, parameters[k]) for k, names in by_id.items() for n in names):
            raise ValueError(f"generate item {item!r} matches no parameter of the target; its parameters are "
                             f"{[names[0] for names in by_id.values()][:12]}")
    slots, classical = [], []
    for key, names in by_id.items():
        parameter = parameters[key]
        if any(selected(n, parameter) for n in names):
            slots.append(Slot(tuple(names), parameter.shape, parameter.dtype))
        else:
            classical.append(names[0])
    if not slots:
        raise ValueError(f"generate={generate!r} selects no parameter of the target")
    return slots, classical
