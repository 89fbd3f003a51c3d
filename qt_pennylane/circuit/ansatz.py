"""The EfficientSU2 circuit of Qiskit, written with PennyLane operations.

The circuit (``METHOD.md`` §2) is a Hadamard on every qubit followed by Qiskit's
``efficient_su2(n_qubits, reps, entanglement)``::

    H on every qubit
    repeat reps times:  RY(φ[r, 0, q]) and RZ(φ[r, 1, q]) on every qubit q, then a CNOT layer
    final:              RY(φ[reps, 0, q]) and RZ(φ[reps, 1, q]) on every qubit q

The angles form one array of shape ``(reps + 1, 2, n_qubits)`` in Qiskit's parameter
order. PennyLane wire ``q`` is Qiskit qubit ``q``; PennyLane orders probabilities with
wire 0 as the *most* significant bit, Qiskit with qubit 0 as the least significant.

Example:
    >>> entangling_pairs(3, "reverse_linear")
    [(1, 2), (0, 1)]
    >>> angle_shape(n_qubits=8, reps=1)
    (2, 2, 8)
"""
from __future__ import annotations

from .._validation import check_choice


def _reverse_linear(n_qubits: int) -> list[tuple[int, int]]:
    return [(q, q + 1) for q in reversed(range(n_qubits - 1))]


def _linear(n_qubits: int) -> list[tuple[int, int]]:
    return [(q, q + 1) for q in range(n_qubits - 1)]


def _circular(n_qubits: int) -> list[tuple[int, int]]:
    if n_qubits <= 2:
        return _linear(n_qubits)
    return [(n_qubits - 1, 0)] + _linear(n_qubits)


def _full(n_qubits: int) -> list[tuple[int, int]]:
    return [(control, target) for target in range(n_qubits) for control in range(target)]


ENTANGLEMENTS = {
    "reverse_linear": _reverse_linear,
    "linear": _linear,
    "circular": _circular,
    "full": _full,
}
"""Entanglement patterns by name, each ``n_qubits -> [(control, target), ...]`` in Qiskit's gate order."""


def check_entanglement(entanglement: str) -> str:
    """Return ``entanglement`` if it names a known pattern, else raise ``ValueError``."""
    return check_choice("entanglement", entanglement, ENTANGLEMENTS)


def entangling_pairs(n_qubits: int, entanglement: str = "reverse_linear") -> list[tuple[int, int]]:
    """The ``(control, target)`` pairs of one CNOT layer, in the order Qiskit applies them."""
    return ENTANGLEMENTS[check_entanglement(entanglement)](n_qubits)


def angle_shape(n_qubits: int, reps: int) -> tuple[int, int, int]:
    """Shape of the angle array: ``(reps + 1, 2, n_qubits)``; it holds ``2·N·(reps + 1)`` angles."""
    return (reps + 1, 2, n_qubits)


def efficient_su2(phi, wires, entanglement: str = "reverse_linear") -> None:
    """Queue the Hadamard layer and EfficientSU2 on ``wires`` (inside a QNode).

    Args:
        phi: angles of shape ``(reps + 1, 2, len(wires))`` (any array type PennyLane accepts).
        wires: the wires, in Qiskit's qubit order.
        entanglement: a key of :data:`ENTANGLEMENTS`.

    PennyLane is imported here, not with the module: the engine uses this module without it.

    Example:
        >>> import numpy as np
        >>> import pennylane as qml
        >>> dev = qml.device("default.qubit", wires=2)
        >>> @qml.qnode(dev)
        ... def circuit(phi):
        ...     efficient_su2(phi, wires=[0, 1])
        ...     return qml.probs(wires=[0, 1])
        >>> circuit(np.zeros((2, 2, 2))).shape
        (4,)
    """
    import pennylane as qml

    wires = list(wires)
    pairs = entangling_pairs(len(wires), entanglement)
    n_layers = phi.shape[0]
    for wire in wires:
        qml.Hadamard(wires=wire)
    for layer in range(n_layers):
        for q, wire in enumerate(wires):
            qml.RY(phi[layer, 0, q], wires=wire)
        for q, wire in enumerate(wires):
            qml.RZ(phi[layer, 1, q], wires=wire)
        if layer < n_layers - 1:
            for control, target in pairs:
                qml.CNOT(wires=[wires[control], wires[target]])
