"""The distributed circuit ansatz: independent sub-circuits whose probabilities multiply (arXiv:2409.06992).

Example:
    >>> from qt_pennylane.circuit.sources import EngineSource
    >>> source = ProductSource([EngineSource(2, seed=0), EngineSource(3, seed=1)])
    >>> source.n_qubits, source().shape, source.description
    (5, torch.Size([32]), 'product of 2 sub-circuits (2 + 3 qubits): engine (exact statevector)')
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_positive_int, fail
from .sources import ProbabilitySource


def split_qubits(n_qubits: int, max_qubits: int) -> tuple[int, ...]:
    """``n_qubits`` in ``ceil(n_qubits / max_qubits)`` parts of at most ``max_qubits``, sizes as even as possible.

    Larger parts come first (they hold the most significant wires).

    Example:
        >>> split_qubits(22, 8), split_qubits(5, 8)
        ((8, 7, 7), (5,))
    """
    check_positive_int("n_qubits", n_qubits)
    check_positive_int("max_qubits", max_qubits)
    parts = -(-n_qubits // max_qubits)
    base, extra = divmod(n_qubits, parts)
    return tuple(base + 1 if i < extra else base for i in range(parts))


class ProductSource(ProbabilitySource):
    """Probabilities of several independent sub-circuits as one product distribution ``p = p¹ ⊗ p² ⊗ …``.

    Sub-source ``k`` holds the wires after those of sub-sources ``0 .. k-1`` (PennyLane order:
    sub-source 0 holds the most significant bits of the basis index), so
    ``p[i_1 i_2 … i_K] = p¹[i_1] · p²[i_2] ⋯ pᴷ[i_K]``, which is what a single circuit on all
    the wires gives when no gate couples the blocks. Each sub-source is any
    :class:`~qt_pennylane.circuit.sources.ProbabilitySource`: the engine, a QNode on its own
    device (a device object, a Runtime session, a different QPU), with or without shots. Its
    parameters stay its own; gradients reach each through the product.

    Attributes:
        shots: ``None`` when every sub-source is exact, else the tuple of the sub-sources' shots.
        exact: every sub-source is exact.
        hardware: some sub-source runs on a real quantum computer.

    Args:
        sources: the sub-sources, most significant wires first (at least one).

    Raises:
        ValueError: ``sources`` is empty or holds something that is not a ``ProbabilitySource``.

    Example:
        >>> from qt_pennylane.circuit.sources import EngineSource
        >>> a, b = EngineSource(1, seed=0), EngineSource(1, seed=1)
        >>> torch.allclose(ProductSource([a, b])(), torch.outer(a(), b()).reshape(-1))
        True
    """

    def __init__(self, sources):
        super().__init__()
        if not isinstance(sources, (list, tuple)) or not sources or \
                not all(isinstance(s, ProbabilitySource) for s in sources):
            raise fail("sources", "a non-empty list of ProbabilitySource objects", sources)
        self.sources = nn.ModuleList(sources)
        self.sizes = tuple(s.n_qubits for s in sources)
        self.n_qubits = sum(self.sizes)
        self.exact = all(s.exact for s in sources)
        self.hardware = any(s.hardware for s in sources)
        self.shots = None if self.exact else tuple(s.shots for s in sources)
        kinds = list(dict.fromkeys(s.description for s in sources))
        self.description = (f"product of {len(sources)} sub-circuits ({' + '.join(map(str, self.sizes))} qubits): "
                            + "; ".join(kinds))

    def forward(self) -> torch.Tensor:
        """The product distribution, ``(2**n_qubits,)``, differentiable in every sub-source's parameters."""
        p = self.sources[0]()
        for source in self.sources[1:]:
            p = torch.outer(p, source().to(p.dtype)).reshape(-1)
        return p
