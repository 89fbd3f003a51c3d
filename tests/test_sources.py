"""Probability sources: the engine, QNodes on named devices and device objects, the user's own circuits."""
import math

import pennylane as qml
import pytest
import torch

from qt_pennylane import QuantumTrainModel, QuantumWeightGenerator
from qt_pennylane.circuit.ansatz import efficient_su2
from qt_pennylane.circuit.sources import EngineSource, QNodeSource, make_source


def ring(angles, wires):
    """A user circuit: RY on every wire from ``angles[0]``, a CNOT ring, RX from ``angles[1]``."""
    for wire, angle in zip(wires, angles[0]):
        qml.RY(angle, wires=wire)
    for a, b in zip(wires, list(wires[1:]) + [wires[0]]):
        qml.CNOT(wires=[a, b])
    for wire, angle in zip(wires, angles[1]):
        qml.RX(angle, wires=wire)


def reference_probabilities(circuit, angles, n_wires):
    dev = qml.device("default.qubit", wires=n_wires)

    @qml.qnode(dev, interface="torch")
    def probs(x):
        circuit(x, wires=list(range(n_wires)))
        return qml.probs(wires=list(range(n_wires)))

    return probs(angles)


def test_user_circuit_on_default_qubit_gives_its_probabilities_and_gradients():
    source = make_source(3, circuit=ring, angle_shape=(2, 3), dtype=torch.float64)
    assert isinstance(source, QNodeSource) and source.phi.shape == (2, 3)
    assert source.description == "qnode on device 'default.qubit' (backprop), user circuit ring"
    expected = reference_probabilities(ring, source.phi.detach(), 3)
    torch.testing.assert_close(source(), expected)
    source().square().sum().backward()
    assert source.phi.grad.shape == (2, 3) and source.phi.grad.abs().sum() > 0


def test_pennylane_template_as_the_circuit():
    shape = qml.StronglyEntanglingLayers.shape(n_layers=2, n_wires=3)
    gen = QuantumWeightGenerator(8, circuit=qml.StronglyEntanglingLayers, angle_shape=shape, seed=0,
                                 dtype=torch.float64)
    expected = reference_probabilities(qml.StronglyEntanglingLayers, gen.phi.detach(), 3)
    torch.testing.assert_close(gen.probabilities(), expected)
    assert "user circuit StronglyEntanglingLayers" in gen.describe()["source"]


def test_device_object_is_used_as_built_with_its_own_or_overridden_shots():
    dev = qml.device("default.qubit", wires=4, seed=11)
    model = QuantumTrainModel(torch.nn.Linear(3, 4), device=dev, reps=1, seed=0)
    source = model.generator.source
    assert source.resolved.value.device is dev
    assert source.description == "qnode on device object 'default.qubit' (backprop)" and source.exact
    twin = make_source(4, reps=1, dtype=torch.float32)
    twin.load_state_dict(source.state_dict())
    torch.testing.assert_close(source(), twin(), atol=1e-6, rtol=0)
    sampled = make_source(4, reps=1, device=dev, shots=64)
    assert sampled.shots == 64 and not sampled.exact
    assert sampled.description == "qnode on device object 'default.qubit' (parameter-shift)"
    counts = sampled().detach() * 64
    assert torch.allclose(counts, counts.round()) and counts.sum().item() == 64  # frequencies of 64 samples


def test_device_object_survives_a_deep_copy_without_being_copied():
    import copy

    dev = qml.device("default.qubit", wires=2)
    gen = QuantumWeightGenerator(4, device=dev, seed=0)
    twin = copy.deepcopy(gen)
    assert twin.source.resolved.value.device is dev
    torch.testing.assert_close(twin(), gen())


def test_engine_source_equals_the_qnode_of_the_same_angles():
    engine = EngineSource(4, reps=2, dtype=torch.float64)
    qnode = make_source(4, reps=2, device="default.qubit", engine="qnode", dtype=torch.float64)
    qnode.load_state_dict(engine.state_dict())
    torch.testing.assert_close(engine(), qnode())
    phi = qnode.phi.detach()
    dev = qml.device("default.qubit", wires=4)

    @qml.qnode(dev)
    def direct(x):
        efficient_su2(x, wires=range(4))
        return qml.probs(wires=range(4))

    torch.testing.assert_close(engine(), direct(phi))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(circuit=ring), r"angle_shape must be the shape of the angles the circuit takes, e.g. \(3, 8, 3\), got None"),
        (dict(circuit=ring, angle_shape=(2, 0)), r"angle_shape must be a tuple of positive ints, got \(2, 0\)"),
        (dict(circuit="ring", angle_shape=(2, 3)), r"circuit must be a function of the angles or a PennyLane template class, got 'ring'"),
        (dict(angle_shape=(2, 3)), r"angle_shape must be None without circuit="),
        (dict(device=qml.device("default.qubit", wires=2)), r"device has 2 wires \(\[0, 1\]\); the circuit needs 3"),
        (dict(device=qml.device("default.qubit", wires=3), backend="fake_manila"), r"backend must be None with a device object"),
        (dict(device=object()), r"device must be a device name \(one of .*\) or a PennyLane device object, got <object"),
        (dict(circuit=ring, angle_shape=(2, 3), engine="engine"), r"engine='engine' needs EfficientSU2 on a named noiseless statevector simulator; a user circuit is not one"),
        (dict(device=qml.device("default.qubit", wires=3), engine="engine"), r"a device object is not one"),
    ],
)
def test_bad_source_options_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_source(3, **kwargs)


def test_a_ready_source_goes_in_as_is_and_excludes_circuit_options():
    source = EngineSource(3, reps=2)
    gen = QuantumWeightGenerator(8, source=source, seed=0)
    assert gen.source is source and gen.n_qubits == 3
    with pytest.raises(ValueError, match=r"pass a source or the source options \['reps'\], not both"):
        QuantumWeightGenerator(8, source=EngineSource(3), reps=4)
    with pytest.raises(ValueError, match=r"source must be a ProbabilitySource .* got 3"):
        QuantumWeightGenerator(8, source=3)
    with pytest.raises(ValueError, match=r"source must be one of \['fixed-random'\], got 'random'"):
        QuantumWeightGenerator(8, source="random")


def test_initial_angles_are_uniform_over_a_full_turn():
    phi = EngineSource(10, reps=20).phi.detach()
    assert 0 <= phi.min() and phi.max() < 2 * math.pi and abs(phi.mean().item() - math.pi) < 0.2
