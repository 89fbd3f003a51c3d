"""The fast engine against PennyLane's default.qubit (the circuit's definition) and Qiskit."""
import math

import numpy as np
import pennylane as qml
import pytest
import torch

from qt_pennylane.circuit.ansatz import ENTANGLEMENTS, angle_shape, efficient_su2
from qt_pennylane.circuit.engine import StatevectorEngine, block_sizes, cnot_permutation

CASES = [(1, 1), (1, 2), (2, 1), (2, 3), (3, 2), (4, 3), (5, 0), (7, 3), (9, 2)]


def random_phi(n_qubits, reps, dtype=torch.float64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return 2 * math.pi * torch.rand(angle_shape(n_qubits, reps), generator=generator, dtype=dtype)


def qnode_for(n_qubits, entanglement):
    dev = qml.device("default.qubit", wires=n_qubits)

    @qml.qnode(dev, interface="torch", diff_method="backprop")
    def circuit(phi):
        efficient_su2(phi, wires=range(n_qubits), entanglement=entanglement)
        return qml.probs(wires=range(n_qubits))

    return circuit


def probs_and_grad(fn, phi, weights):
    phi = phi.clone().requires_grad_(True)
    probs = fn(phi)
    (grad,) = torch.autograd.grad(probs @ weights.to(probs.dtype), phi)
    return probs.detach(), grad


@pytest.mark.parametrize("entanglement", sorted(ENTANGLEMENTS))
@pytest.mark.parametrize("n_qubits, reps", CASES)
def test_matches_default_qubit_probabilities_and_gradients(entanglement, n_qubits, reps):
    phi = random_phi(n_qubits, reps, seed=100 * n_qubits + reps)
    weights = torch.randn(2**n_qubits, dtype=torch.float64)
    expected_p, expected_g = probs_and_grad(qnode_for(n_qubits, entanglement), phi, weights)
    engine = StatevectorEngine(n_qubits, reps, entanglement)
    p, g = probs_and_grad(engine.probabilities, phi, weights)
    assert p.dtype == torch.float64 and p.shape == (2**n_qubits,)
    torch.testing.assert_close(p, expected_p.to(torch.float64), atol=1e-6, rtol=0)
    torch.testing.assert_close(g, expected_g, atol=1e-5, rtol=0)


@pytest.mark.parametrize("entanglement", sorted(ENTANGLEMENTS))
@pytest.mark.parametrize("n_qubits, reps", [(3, 2), (6, 3), (9, 2)])
def test_recomputing_states_backwards_gives_the_same_gradient(entanglement, n_qubits, reps):
    phi = random_phi(n_qubits, reps, seed=7)
    weights = torch.randn(2**n_qubits, dtype=torch.float64)
    cached = probs_and_grad(StatevectorEngine(n_qubits, reps, entanglement).probabilities, phi, weights)
    low_memory = StatevectorEngine(n_qubits, reps, entanglement, max_cache_bytes=0)
    recomputed = probs_and_grad(low_memory.probabilities, phi, weights)
    torch.testing.assert_close(recomputed[0], cached[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(recomputed[1], cached[1], atol=1e-10, rtol=0)


@pytest.mark.qiskit
@pytest.mark.parametrize("entanglement", sorted(ENTANGLEMENTS))
@pytest.mark.parametrize("n_qubits, reps", [(2, 1), (4, 2), (6, 3)])
def test_matches_qiskit_statevector(entanglement, n_qubits, reps):
    import qiskit
    from qiskit.circuit.library import efficient_su2 as qiskit_efficient_su2
    from qiskit.quantum_info import Statevector

    phi = random_phi(n_qubits, reps, seed=3)
    circuit = qiskit.QuantumCircuit(n_qubits)
    circuit.h(range(n_qubits))
    ansatz = qiskit_efficient_su2(n_qubits, reps=reps, entanglement=entanglement)
    circuit.compose(ansatz.assign_parameters(phi.flatten().tolist()), inplace=True)
    expected = Statevector(circuit).probabilities(qargs=list(reversed(range(n_qubits))))
    p = StatevectorEngine(n_qubits, reps, entanglement).probabilities(phi)
    np.testing.assert_allclose(p.numpy(), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("n_qubits, reps", [(1, 3), (8, 4), (13, 2)])
def test_probabilities_are_a_distribution(dtype, n_qubits, reps):
    p = StatevectorEngine(n_qubits, reps).probabilities(random_phi(n_qubits, reps, dtype=dtype))
    assert p.dtype == dtype
    assert float(p.min()) >= 0
    assert abs(float(p.sum(dtype=torch.float64)) - 1) < (1e-5 if dtype == torch.float32 else 1e-12)


@pytest.mark.parametrize("n_qubits, reps", [(7, 5), (13, 3)])
def test_float32_is_close_to_float64(n_qubits, reps):
    engine = StatevectorEngine(n_qubits, reps, "circular")
    phi = random_phi(n_qubits, reps)
    weights = torch.randn(2**n_qubits, dtype=torch.float64)
    p64, g64 = probs_and_grad(engine.probabilities, phi, weights)
    p32, g32 = probs_and_grad(engine.probabilities, phi.float(), weights)
    assert p32.dtype == torch.float32 and g32.dtype == torch.float32
    torch.testing.assert_close(p32.double(), p64, atol=1e-6, rtol=0)
    torch.testing.assert_close(g32.double(), g64, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("max_cache_bytes", [2**30, 0])
@pytest.mark.parametrize("entanglement", ["reverse_linear", "full"])
def test_gradcheck(entanglement, max_cache_bytes):
    engine = StatevectorEngine(3, 2, entanglement, max_cache_bytes=max_cache_bytes)
    phi = random_phi(3, 2).requires_grad_(True)
    assert torch.autograd.gradcheck(engine.probabilities, (phi,))


def test_final_rz_angles_have_exactly_zero_gradient():
    engine = StatevectorEngine(4, 2)
    phi = random_phi(4, 2).requires_grad_(True)
    engine.probabilities(phi)[3].backward()
    assert torch.equal(phi.grad[-1, 1], torch.zeros(4, dtype=torch.float64))
    assert phi.grad[:-1].abs().sum() > 0 and phi.grad[-1, 0].abs().sum() > 0


def test_no_graph_without_grad():
    engine = StatevectorEngine(5, 2)
    phi = random_phi(5, 2).requires_grad_(True)
    with torch.no_grad():
        p = engine.probabilities(phi)
    assert not p.requires_grad
    assert not engine.probabilities(phi.detach()).requires_grad


def test_module_has_no_state_and_keeps_integer_buffers():
    engine = StatevectorEngine(4, 1).to(torch.float32)
    assert engine.state_dict() == {} and list(engine.parameters()) == []
    assert engine.perm.dtype == torch.int64
    assert "n_qubits=4, reps=1, entanglement='reverse_linear'" in repr(engine)
    assert engine(random_phi(4, 1)).shape == (16,)


def test_block_sizes_and_permutation():
    for n in range(1, 21):
        for dtype in (torch.float32, torch.float64):
            sizes = block_sizes(n, dtype)
            assert sum(sizes) == n and max(sizes) - min(sizes) <= 1
    assert cnot_permutation(2).tolist() == [0, 1, 3, 2]
    perm = cnot_permutation(6, "full")
    assert sorted(perm.tolist()) == list(range(64))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_qubits": 0, "reps": 1}, r"n_qubits must be a positive int, got 0"),
        ({"n_qubits": 2.0, "reps": 1}, r"n_qubits must be a positive int, got 2\.0"),
        ({"n_qubits": True, "reps": 1}, r"n_qubits must be a positive int, got True"),
        ({"n_qubits": 3, "reps": -1}, r"reps must be a non-negative int, got -1"),
        ({"n_qubits": 3, "reps": "2"}, r"reps must be a non-negative int, got '2'"),
        ({"n_qubits": 3, "reps": 1, "entanglement": "ring"}, r"entanglement must be one of .*got 'ring'"),
        ({"n_qubits": 3, "reps": 1, "max_cache_bytes": -5}, r"max_cache_bytes must be a non-negative int, got -5"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StatevectorEngine(**kwargs)


def test_bad_phi_is_named():
    engine = StatevectorEngine(3, 2)
    with pytest.raises(ValueError, match=r"phi must have shape \(reps \+ 1, 2, n_qubits\) = \(3, 2, 3\), got \(2, 2, 3\)"):
        engine.probabilities(torch.zeros(2, 2, 3))
    with pytest.raises(ValueError, match=r"phi must have dtype torch.float32 or torch.float64, got torch.int64"):
        engine.probabilities(torch.zeros(3, 2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"phi must be a torch.Tensor, got ndarray"):
        engine.probabilities(np.zeros((3, 2, 3)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("entanglement", ["reverse_linear", "circular"])
@pytest.mark.parametrize("n_qubits, reps", [(1, 2), (5, 0), (8, 3), (11, 1)])
def test_batch_probabilities_equal_one_call_per_angle_set(dtype, entanglement, n_qubits, reps):
    engine = StatevectorEngine(n_qubits, reps, entanglement)
    phis = torch.stack([random_phi(n_qubits, reps, dtype, seed) for seed in range(5)])
    batched = engine.batch_probabilities(phis)
    assert batched.shape == (5, 2**n_qubits) and batched.dtype == dtype
    one_by_one = torch.stack([engine.probabilities(phi) for phi in phis])
    assert torch.allclose(batched, one_by_one, rtol=0, atol=1e-6 if dtype == torch.float32 else 1e-14)


def test_batch_probabilities_bad_input_is_named():
    engine = StatevectorEngine(3, 2)
    with pytest.raises(ValueError, match=r"phis must have shape \(batch, reps \+ 1, 2, n_qubits\) = \(batch, \*\(3, 2, 3\)\), got \(3, 2, 3\)"):
        engine.batch_probabilities(torch.zeros(3, 2, 3))
    with pytest.raises(ValueError, match=r"got list"):
        engine.batch_probabilities([torch.zeros(3, 2, 3)])
    with pytest.raises(ValueError, match=r"phi must have dtype torch.float32 or torch.float64, got torch.int64"):
        engine.batch_probabilities(torch.zeros(4, 3, 2, 3, dtype=torch.int64))


def finite_difference_jacobian(fn, phi, eps=1e-6):
    flat = phi.reshape(-1)
    columns = []
    for k in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[k] = eps
        columns.append((fn((flat + step).reshape(phi.shape)) - fn((flat - step).reshape(phi.shape))) / (2 * eps))
    return torch.stack(columns, dim=-1).reshape(-1, *phi.shape)


@pytest.mark.parametrize("max_cache_bytes", [2**30, 0])
@pytest.mark.parametrize("entanglement", ["reverse_linear", "circular"])
def test_jacrev_equals_autograd_and_finite_differences(entanglement, max_cache_bytes):
    engine = StatevectorEngine(3, 2, entanglement, max_cache_bytes=max_cache_bytes)
    phi = random_phi(3, 2, seed=5)
    jacobian = torch.func.jacrev(engine.probabilities)(phi)
    assert jacobian.shape == (8, 3, 2, 3)
    torch.testing.assert_close(jacobian, torch.autograd.functional.jacobian(engine.probabilities, phi))
    torch.testing.assert_close(jacobian, finite_difference_jacobian(engine.probabilities, phi), atol=1e-8, rtol=0)


def test_vmap_over_angle_sets_and_over_jacobians():
    engine = StatevectorEngine(4, 2, "linear")
    phis = torch.stack([random_phi(4, 2, seed=s) for s in range(3)])
    torch.testing.assert_close(torch.func.vmap(engine.probabilities)(phis), engine.batch_probabilities(phis))
    jacobians = torch.func.vmap(torch.func.jacrev(engine.probabilities))(phis)
    torch.testing.assert_close(jacobians[2], finite_difference_jacobian(engine.probabilities, phis[2]),
                               atol=1e-8, rtol=0)
    weights = torch.randn(16, dtype=torch.float64)
    gradient = torch.func.grad(lambda x: engine.probabilities(x) @ weights)(phis[0])
    torch.testing.assert_close(gradient, jacobians[0].reshape(16, -1).T.reshape(phis[0].shape + (16,)) @ weights)


def test_gradients_through_vmap_reach_the_angles():
    engine = StatevectorEngine(3, 1)
    phis = torch.stack([random_phi(3, 1, seed=s) for s in range(2)]).requires_grad_(True)
    weights = torch.randn(8, dtype=torch.float64)
    (torch.func.vmap(engine.probabilities)(phis) @ weights).sum().backward()
    expected = torch.stack([torch.autograd.grad(engine.probabilities(p) @ weights, p)[0]
                            for p in phis.detach().clone().requires_grad_(True)])
    torch.testing.assert_close(phis.grad, expected)


def test_second_derivatives_fail_loudly_instead_of_silently_wrong():
    engine = StatevectorEngine(3, 1)
    phi = random_phi(3, 1).requires_grad_(True)
    (gradient,) = torch.autograd.grad(engine.probabilities(phi).square().sum(), phi, create_graph=True)
    assert not gradient.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        gradient.sum().backward()
