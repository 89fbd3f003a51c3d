import numpy as np
import pennylane as qml
import pytest
import torch
from qiskit.circuit.library import efficient_su2 as qiskit_efficient_su2
from qiskit.quantum_info import Statevector
from qiskit import QuantumCircuit

from qt_pennylane.circuit.ansatz import ENTANGLEMENTS, angle_shape, efficient_su2, entangling_pairs


def pennylane_probs(phi: np.ndarray, n_qubits: int, entanglement: str) -> np.ndarray:
    dev = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(dev)
    def circuit(angles):
        efficient_su2(angles, wires=range(n_qubits), entanglement=entanglement)
        return qml.probs(wires=range(n_qubits))

    return np.asarray(circuit(phi))


def qiskit_probs(phi: np.ndarray, n_qubits: int, reps: int, entanglement: str) -> np.ndarray:
    ansatz = qiskit_efficient_su2(n_qubits, reps=reps, entanglement=entanglement)
    circuit = QuantumCircuit(n_qubits)
    circuit.h(range(n_qubits))
    circuit.compose(ansatz.assign_parameters(phi.reshape(-1)), inplace=True)
    # Qiskit is little-endian; reversing qargs gives PennyLane's order (wire 0 most significant).
    return Statevector(circuit).probabilities(qargs=list(reversed(range(n_qubits))))


@pytest.mark.parametrize("entanglement", sorted(ENTANGLEMENTS))
@pytest.mark.parametrize("n_qubits, reps", [(1, 1), (2, 2), (3, 1), (4, 3), (5, 2)])
def test_probabilities_match_qiskit_efficient_su2(entanglement, n_qubits, reps):
    phi = np.random.default_rng(n_qubits * 10 + reps).uniform(0, 2 * np.pi, angle_shape(n_qubits, reps))
    expected = qiskit_probs(phi, n_qubits, reps, entanglement)
    np.testing.assert_allclose(pennylane_probs(phi, n_qubits, entanglement), expected, atol=1e-6)


@pytest.mark.parametrize("n_qubits, reps", [(1, 0), (3, 1), (8, 1), (13, 26)])
def test_angle_count_is_2N_reps_plus_1(n_qubits, reps):
    assert int(np.prod(angle_shape(n_qubits, reps))) == 2 * n_qubits * (reps + 1)
    assert qiskit_efficient_su2(max(n_qubits, 2), reps=reps).num_parameters == 2 * max(n_qubits, 2) * (reps + 1)


def test_entangling_pairs_follow_qiskit_order():
    assert entangling_pairs(4, "reverse_linear") == [(2, 3), (1, 2), (0, 1)]
    assert entangling_pairs(4, "linear") == [(0, 1), (1, 2), (2, 3)]
    assert entangling_pairs(4, "circular") == [(3, 0), (0, 1), (1, 2), (2, 3)]
    assert entangling_pairs(3, "full") == [(0, 1), (0, 2), (1, 2)]
    assert entangling_pairs(1, "full") == []


def test_unknown_entanglement_is_named():
    with pytest.raises(ValueError, match=r"entanglement must be one of \[.*'reverse_linear'\], got 'ring'"):
        entangling_pairs(3, "ring")


def test_phi_is_differentiable_through_the_qnode():
    dev = qml.device("default.qubit", wires=2)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(angles):
        efficient_su2(angles, wires=[0, 1])
        return qml.probs(wires=[0, 1])

    phi = torch.rand(angle_shape(2, 1), dtype=torch.float64, requires_grad=True)
    circuit(phi)[0].backward()
    assert phi.grad is not None and phi.grad[0].abs().sum() > 0
    assert phi.grad[-1, 1].abs().max() < 1e-12  # the final RZ layer cannot change probabilities
