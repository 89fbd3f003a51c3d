"""Probabilities → weights: the mappings, chosen by name.

Every mapping is an ``nn.Module`` built as ``Mapping(n_qubits, n_params, **options)`` whose
``forward(probabilities)`` maps the ``2**n_qubits`` probabilities to a flat vector of
``n_params`` weights, differentiably. ``Mapping.qubits_for(n_params, **options)`` says how
many qubits it needs.

Example:
    >>> import torch
    >>> mapping = make_mapping("paper", n_qubits=3, n_params=6, seed=0)
    >>> mapping(torch.full((8,), 1 / 8)).shape
    torch.Size([6])
"""
from __future__ import annotations

import inspect

from torch import nn

from .._validation import check_choice
from ._sizes import n_qubits_for
from .batched import BatchedMapping
from .learned import LearnedMapping
from .mps import MPSMapping
from .paper import PaperMapping

MAPPINGS: dict[str, type[nn.Module]] = {"paper": PaperMapping, "learned": LearnedMapping, "batched": BatchedMapping,
                                     "mps": MPSMapping}
"""Mappings by name."""


def mapping_options(name: str) -> list[str]:
    """The keyword options the mapping called ``name`` accepts.

    Example:
        >>> mapping_options("paper")
        ['gamma', 'seed']
    """
    check_choice("mapping", name, MAPPINGS)
    parameters = inspect.signature(MAPPINGS[name].__init__).parameters.values()
    return [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]


def make_mapping(name: str, n_qubits: int, n_params: int, **options) -> nn.Module:
    """Build the mapping called ``name`` (a key of :data:`MAPPINGS`) with its keyword options.

    Raises:
        ValueError: for an unknown name or an option the mapping does not take, naming it.
    """
    known = mapping_options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(f"mapping_options {unknown} are not options of mapping={name!r}; it takes {known}")
    return MAPPINGS[name](n_qubits, n_params, **options)


def qubits_for(name: str, n_params: int, **options) -> int:
    """The qubits the mapping called ``name`` needs for ``n_params`` weights.

    Example:
        >>> qubits_for("learned", 6690)
        13
    """
    check_choice("mapping", name, MAPPINGS)
    return MAPPINGS[name].qubits_for(n_params, **options)


__all__ = ["BatchedMapping", "LearnedMapping", "MAPPINGS", "MPSMapping", "PaperMapping", "make_mapping", "mapping_options", "n_qubits_for", "qubits_for"]
