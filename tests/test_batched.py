"""Batched parameter generation: chunk rows → MLP → shared head, with a fixed, saved chunk assignment."""
import pytest
import torch
from torch import nn

from qt_pennylane import QuantumTrainModel, QuantumWeightGenerator
from qt_pennylane.mappings import BatchedMapping, make_mapping, qubits_for
from qt_pennylane.mappings.batched import probability_feature


def probabilities(n_qubits: int, seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(2**n_qubits, generator=generator, dtype=torch.float64), 0).to(dtype)


@pytest.mark.parametrize("n_params, chunk_size, expected", [(100, 10, 4), (1024, 1024, 1), (1025, 1024, 1),
                                                            (1_861_632, 1024, 11), (204_100, 2048, 7)])
def test_qubits_follow_from_the_number_of_chunks(n_params, chunk_size, expected):
    assert BatchedMapping.qubits_for(n_params, chunk_size=chunk_size) == expected
    assert qubits_for("batched", n_params, chunk_size=chunk_size) == expected


def test_the_generator_picks_n_from_m_and_chunk_size_or_takes_it():
    gen = QuantumWeightGenerator(100, mapping="batched", mapping_options={"chunk_size": 10, "hidden": (4,)}, seed=0)
    assert gen.n_qubits == 4 and gen().shape == (100,) and gen.mapping.n_chunks == 10
    wider = QuantumWeightGenerator(100, n_qubits=6, mapping="batched",
                                   mapping_options={"chunk_size": 10, "hidden": (4,)}, seed=0)
    assert wider.n_qubits == 6 and wider.mapping.states.max() < 64


def test_chunks_are_rows_of_the_head_over_the_mlp_of_each_chunks_basis_state():
    m = BatchedMapping(4, 37, chunk_size=5, hidden=(6, 3), standardize=False, seed=1).double()
    p = probabilities(4, dtype=torch.float64)
    rows = m.features(p)
    assert rows.shape == (8, 5)
    for c in range(8):
        state = int(m.states[c])
        assert rows[c, :4].tolist() == [1.0 if state >> (3 - k) & 1 else -1.0 for k in range(4)]
    x = (0.8 * torch.tanh(0.1 * 8 * p[m.states])) ** 0.3
    torch.testing.assert_close(rows[:, 4], x - x.mean())
    chunks = m.head(m.net(rows)).reshape(-1)
    torch.testing.assert_close(m(p), chunks[:37])
    assert torch.linalg.matrix_rank(chunks.reshape(8, 5)) <= 3 + 1


def test_the_chunk_assignment_is_seeded_fixed_across_calls_and_saved():
    a, b, c = (BatchedMapping(5, 60, chunk_size=4, hidden=(3,), seed=s) for s in (7, 7, 8))
    assert torch.equal(a.states, b.states) and not torch.equal(a.states, c.states)
    assert len(set(a.states.tolist())) == a.n_chunks == 15
    p = probabilities(5)
    first = a(p)
    assert torch.equal(a(p), first) and torch.equal(a.states, b.states)  # not redrawn per call
    assert "states" in a.state_dict()
    c.load_state_dict(a.state_dict())
    assert torch.equal(c.states, a.states) and torch.equal(c(p), first)
    torch.testing.assert_close(c.features(p), a.features(p))  # the bits follow the loaded assignment


def test_the_assignment_survives_a_saved_quantum_train_model(tmp_path):
    target = nn.Sequential(nn.Linear(8, 12), nn.ReLU(), nn.Linear(12, 3))
    options = {"chunk_size": 8, "hidden": (4,)}
    model = QuantumTrainModel(target, mapping="batched", mapping_options=options, reps=1, seed=3)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    other = QuantumTrainModel(target, mapping="batched", mapping_options=options, reps=1, seed=4)
    assert not torch.equal(other.generator.mapping.states, model.generator.mapping.states)
    other.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    assert torch.equal(other.generator.mapping.states, model.generator.mapping.states)
    x = torch.randn(5, 8)
    torch.testing.assert_close(other(x), model(x))


def test_each_chunk_reads_the_probability_of_its_own_basis_state():
    m = BatchedMapping(3, 12, chunk_size=2, hidden=(4,), standardize=False, seed=0).double()
    p = probabilities(3, dtype=torch.float64)
    moved = p.clone()
    unused = sorted(set(range(8)) - set(m.states.tolist()))
    moved[unused[0]], moved[unused[1]] = p[unused[1]], p[unused[0]]
    torch.testing.assert_close(m(moved), m(p))  # unused states do not matter
    moved = p.clone()
    moved[m.states[0]] += 0.05
    changed = (m(moved) - m(p)).reshape(6, 2).abs().sum(1) > 0
    assert changed[0]  # chunk 0 reads p[states[0]] ...


def test_calibrate_starts_the_weights_at_mean_zero_and_the_stated_spread():
    m = BatchedMapping(6, 500, chunk_size=10, hidden=(8, 8), init_std=0.07, seed=0)
    p = probabilities(6)
    m.calibrate(p)
    theta = m(p).detach()
    assert abs(float(theta.mean())) < 1e-6 and float(theta.std()) == pytest.approx(0.07, rel=1e-4)
    gen = QuantumWeightGenerator(500, mapping="batched", mapping_options={"chunk_size": 10, "init_std": 0.02}, seed=0)
    assert float(gen().detach().std()) == pytest.approx(0.02, rel=1e-3)


def test_gradients_reach_the_probabilities_the_mlp_the_head_and_the_embeddings():
    m = BatchedMapping(3, 14, chunk_size=2, hidden=(3,), embedding=2, seed=0).double()
    p = probabilities(3, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(m, (p,))
    m(p).pow(2).sum().backward()
    assert all(param.grad is not None and param.grad.abs().sum() > 0 for param in m.parameters())


def test_trainable_count_of_mlp_head_and_embeddings():
    m = BatchedMapping(11, 1_861_632, chunk_size=1024, hidden=(32, 24), embedding=4, seed=0)
    mlp = (11 + 1 + 4) * 32 + 32 + 32 * 24 + 24
    assert sum(p.numel() for p in m.parameters()) == mlp + 25 * 1024 + m.n_chunks * 4
    assert m.n_chunks == 1818 and m.embeddings.shape == (1818, 4)


def test_large_default_model_has_at_most_two_percent_trainable():
    from qt_pennylane.tasks import get_task

    task = get_task("mnist-mlp")
    options = {k: task.defaults[k] for k in ("mapping", "mapping_options", "reps", "generate", "scale")}
    model = QuantumTrainModel(task.build_model(), seed=0, **options)
    counts = model.counts()
    assert counts["generated_params"] == 1_861_632 and counts["classical_params"] == 2058
    assert counts["trainable_params"] <= 0.02 * 1_863_690
    assert model.generator.n_qubits == 11


def test_probability_feature_is_centred_and_standardized():
    x = probability_feature(probabilities(4), 4, gamma=0.1, beta=0.8, alpha=0.3, standardize=True)
    assert abs(float(x.mean())) < 1e-6 and float(x.std()) == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(chunk_size=0), r"chunk_size must be a positive int, got 0"),
        (dict(chunk_size=2), r"n_params=40 in chunks of chunk_size=2 makes 20 chunks, more than the 16 basis states "
                             r"of n_qubits=4"),
        (dict(hidden=()), r"hidden must be a sequence of positive ints, got \(\)"),
        (dict(embedding=-1), r"embedding must be a non-negative int, got -1"),
        (dict(activation="sigmoid"), r"activation must be one of \['gelu', 'identity', 'relu', 'silu', 'tanh'\], "
                                     r"got 'sigmoid'"),
        (dict(init_std=0.0), r"init_std must be a finite number > 0, got 0.0"),
        (dict(seed=-3), r"seed must be an int >= 0 and <= \d+ or None, got -3"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_mapping("batched", 4, 40, **kwargs)


def test_unknown_option_is_refused_by_the_registry():
    with pytest.raises(ValueError, match=r"mapping_options \['bond'\] are not options of mapping='batched'"):
        make_mapping("batched", 4, 40, bond=3)
