"""The distributed circuit ansatz: a product of independent sub-circuits' probabilities."""
import pytest
import torch
from torch import nn

from qt_pennylane import QuantumTrainModel, QuantumWeightGenerator
from qt_pennylane.circuit.ansatz import efficient_su2
from qt_pennylane.circuit.product import ProductSource, split_qubits
from qt_pennylane.circuit.sources import EngineSource, QNodeSource, make_source


def test_product_equals_one_circuit_made_of_unentangled_blocks():
    import pennylane as qml

    blocks = [EngineSource(2, reps=2, seed=0, dtype=torch.float64), EngineSource(3, reps=2, seed=1, dtype=torch.float64)]
    product = ProductSource(blocks)

    def two_blocks(angles, wires):  # EfficientSU2 on wires 0-1 and on wires 2-4, no gate between them
        efficient_su2(angles[:, :, :2], wires=wires[:2])
        efficient_su2(angles[:, :, 2:], wires=wires[2:])

    whole = QNodeSource(5, device=qml.device("default.qubit", wires=5), circuit=two_blocks, angle_shape=(3, 2, 5),
                        dtype=torch.float64)
    with torch.no_grad():
        whole.phi.copy_(torch.cat([blocks[0].phi, blocks[1].phi], dim=2))
    torch.testing.assert_close(product(), whole())


def test_the_first_source_holds_the_most_significant_wires():
    a, b = EngineSource(1, seed=0), EngineSource(2, seed=1)
    p, pa, pb = ProductSource([a, b])(), a(), b()
    for i in range(2):
        for j in range(4):
            torch.testing.assert_close(p[i * 4 + j], pa[i] * pb[j])
    assert float(p.detach().sum()) == pytest.approx(1.0, abs=1e-6)


def test_gradients_reach_every_sub_circuit():
    blocks = [EngineSource(2, reps=1, seed=s, dtype=torch.float64) for s in range(3)]
    source = ProductSource(blocks)
    weights = torch.randn(64, dtype=torch.float64)
    (source() * weights).sum().backward()
    assert all(block.phi.grad is not None and block.phi.grad.abs().sum() > 0 for block in blocks)

    def product(*angles):
        return torch.func.functional_call(source, {f"sources.{k}.phi": a for k, a in enumerate(angles)}, ())

    assert torch.autograd.gradcheck(product, tuple(b.phi.detach().clone().requires_grad_() for b in blocks))


def test_sub_sources_of_any_kind_each_on_its_own_device():
    import pennylane as qml

    source = ProductSource([EngineSource(2, seed=0), QNodeSource(2, device=qml.device("default.qubit", wires=2)),
                            EngineSource(1, shots=1000, seed=3)])
    assert source.n_qubits == 5 and source().shape == (32,)
    assert not source.exact and source.shots == (None, None, 1000) and not source.hardware
    assert source.description.startswith("product of 3 sub-circuits (2 + 2 + 1 qubits): engine (exact statevector); "
                                         "qnode on device object 'default.qubit'")


@pytest.mark.parametrize("n_qubits, max_qubits, sizes", [(22, 8, (8, 7, 7)), (20, 10, (10, 10)), (7, 3, (3, 2, 2)),
                                                         (4, 4, (4,)), (1, 5, (1,))])
def test_split_qubits(n_qubits, max_qubits, sizes):
    assert split_qubits(n_qubits, max_qubits) == sizes


def test_make_source_splits_into_sub_circuits_of_at_most_k_qubits():
    source = make_source(11, reps=2, shots=100, seed=5, max_circuit_qubits=4)
    assert isinstance(source, ProductSource) and source.sizes == (4, 4, 3)
    assert [s.reps for s in source.sources] == [2, 2, 2] and source.shots == (100, 100, 100)
    draws = [s.sampler.random_state()["rng"] for s in source.sources]
    assert len({str(d) for d in draws}) == 3  # each sub-circuit samples with its own seed
    assert not isinstance(make_source(4, max_circuit_qubits=4), ProductSource)


def test_the_generator_option_builds_the_distributed_ansatz_for_every_mapping():
    for mapping, options in (("paper", {}), ("learned", {}), ("batched", {"chunk_size": 10}), ("mps", {})):
        gen = QuantumWeightGenerator(3000, mapping=mapping, mapping_options=options, reps=1, max_circuit_qubits=5,
                                     seed=0)
        assert isinstance(gen.source, ProductSource) and max(gen.source.sizes) <= 5
        assert gen().shape == (3000,)
        assert len(gen.parameter_groups()["source"]) == len(gen.source.sizes)


def test_state_dict_round_trip():
    target = nn.Linear(20, 10)
    model = QuantumTrainModel(target, reps=1, max_circuit_qubits=4, seed=0)
    other = QuantumTrainModel(target, reps=1, max_circuit_qubits=4, seed=1)
    x = torch.randn(3, 20)
    assert not torch.allclose(other(x), model(x))
    other.load_state_dict(model.state_dict())
    torch.testing.assert_close(other(x), model(x))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: ProductSource([]), r"sources must be a non-empty list of ProbabilitySource objects, got \[\]"),
        (lambda: ProductSource([torch.nn.Linear(2, 2)]), r"sources must be a non-empty list of ProbabilitySource"),
        (lambda: make_source(6, max_circuit_qubits=0), r"max_circuit_qubits must be a positive int or None, got 0"),
        (lambda: make_source(6, max_circuit_qubits=2, circuit=lambda a, wires: None, angle_shape=(2,)),
         r"max_circuit_qubits must be None with a user circuit"),
        (lambda: split_qubits(5, 0), r"max_qubits must be a positive int, got 0"),
        (lambda: QuantumWeightGenerator(10, source="fixed-random", max_circuit_qubits=2),
         r"pass a source or the source options \['max_circuit_qubits'\], not both"),
    ],
)
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()
