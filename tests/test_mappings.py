import math

import pytest
import torch

from qt_pennylane.mappings import LearnedMapping, PaperMapping, make_mapping, n_qubits_for


@pytest.mark.parametrize("n_qubits, n_params", [(3, 5), (3, 8), (4, 9), (8, 131)])
def test_paper_mapping_pairs_cover_every_basis_state_once(n_qubits, n_params):
    m = PaperMapping(n_qubits, n_params, seed=3)
    paired = m.first != m.second
    assert int(paired.sum()) == 2**n_qubits - n_params
    used = torch.cat([m.first, m.second[paired]])
    assert sorted(used.tolist()) == list(range(2**n_qubits))


def test_paper_mapping_term_by_term():
    n_qubits, n_params = 3, 5
    m = PaperMapping(n_qubits, n_params, gamma=0.7, seed=1)
    p = torch.rand(8, dtype=torch.float64)
    p = p / p.sum()
    theta = m.double()(p)
    for j in range(n_params):
        i, k = int(m.first[j]), int(m.second[j])
        pbar = (p[i] + p[k]) / 2 if i != k else p[i]
        sign = 1.0 if j % 2 == 0 else -1.0
        expected = 0.7 * math.tanh(0.7 * 2 ** (n_qubits - 1) * sign * float(pbar))
        assert theta[j].item() == pytest.approx(expected, abs=1e-12)
    assert torch.all(theta[0::2] >= 0) and torch.all(theta[1::2] <= 0)


def test_paper_mapping_uniform_probabilities_give_gamma_tanh_gamma_half():
    m = PaperMapping(10, 2**10, seed=0)  # no pairs
    theta = m(torch.full((2**10,), 2.0**-10, dtype=torch.float64))
    assert torch.allclose(theta.abs(), torch.full_like(theta, 0.3 * math.tanh(0.15)))


def test_paper_mapping_pairing_is_seeded_and_survives_state_dict():
    a, b, c = PaperMapping(5, 20, seed=7), PaperMapping(5, 20, seed=7), PaperMapping(5, 20, seed=8)
    assert torch.equal(a.first, b.first) and torch.equal(a.second, b.second)
    assert not (torch.equal(a.first, c.first) and torch.equal(a.second, c.second))
    c.load_state_dict(a.state_dict())
    assert torch.equal(a.first, c.first) and torch.equal(a.second, c.second)


def test_paper_mapping_gradcheck():
    m = PaperMapping(3, 6, gamma=0.5, seed=0).double()
    p = torch.softmax(torch.randn(8, dtype=torch.float64), 0).requires_grad_()
    log_gamma = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)

    def mapping(probs, g):
        return torch.func.functional_call(m, {"log_gamma": g}, (probs,))

    assert torch.autograd.gradcheck(mapping, (p, log_gamma))


def test_gamma_is_positive_and_starts_at_the_papers_value():
    m = PaperMapping(3, 5, seed=0)
    assert m.gamma.item() == pytest.approx(0.3)
    with torch.no_grad():
        m.log_gamma.fill_(-50.0)
    assert m.gamma.item() > 0


def test_learned_mapping_rows_and_shapes():
    g = LearnedMapping(3, 6, hidden=(5, 7), standardize=False).double()
    p = torch.softmax(torch.randn(8, dtype=torch.float64), 0)
    rows = g.features(p)
    assert rows.shape == (6, 4)
    assert rows[:, :3].tolist()[5] == [1.0, -1.0, 1.0]  # 5 = 0b101, most significant first
    x = (0.8 * torch.tanh(0.1 * 4 * p[:6])) ** 0.3
    assert torch.allclose(rows[:, 3], x - x.mean())
    assert g(p).shape == (6,)


def test_learned_mapping_gradients_reach_net_and_probabilities():
    g = LearnedMapping(4, 10).double()
    p = torch.softmax(torch.randn(16, dtype=torch.float64), 0).requires_grad_()
    assert torch.autograd.gradcheck(g, (p,))
    g(p).sum().backward()
    assert all(param.grad is not None and param.grad.abs().sum() > 0 for param in g.parameters())


def test_learned_mapping_identity_activation_is_affine():
    g = LearnedMapping(3, 8, activation="identity").double()
    rows = torch.randn(8, 4, dtype=torch.float64)
    out = g.net(rows).squeeze(-1)
    weight = torch.linalg.lstsq(torch.cat([rows, torch.ones(8, 1, dtype=torch.float64)], 1), out).solution
    assert torch.allclose(torch.cat([rows, torch.ones(8, 1, dtype=torch.float64)], 1) @ weight, out)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_mapping("fancy", 3, 5), r"mapping must be one of \['batched', 'learned', 'mps', 'paper'\], got 'fancy'"),
        (lambda: make_mapping("paper", 3, 5, hidden=(4,)), r"mapping_options \['hidden'\] are not options of mapping='paper'"),
        (lambda: PaperMapping(3, 9), r"n_params=9 exceeds the 8 basis states"),
        (lambda: PaperMapping(3, 5, gamma=0.0), r"gamma must be a finite number > 0, got 0.0"),
        (lambda: PaperMapping(3, 5, gamma=float("inf")), r"gamma must be a finite number > 0, got inf"),
        (lambda: PaperMapping(3, 5, seed="abc"), r"seed must be .* got 'abc'"),
        (lambda: LearnedMapping(3, 5, activation="swish"), r"activation must be one of .*got 'swish'"),
        (lambda: LearnedMapping(3, 5, hidden=(4, 0)), r"hidden must be a sequence of positive ints, got \(4, 0\)"),
        (lambda: LearnedMapping(3, 5, hidden=16), r"hidden must be a sequence of positive ints, got 16"),
        (lambda: LearnedMapping(3, 5, alpha=float("nan")), r"alpha must be a finite number > 0, got nan"),
        (lambda: n_qubits_for(0), r"n_params must be a positive int, got 0"),
    ],
)
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_n_qubits_for():
    assert [n_qubits_for(m) for m in (1, 2, 3, 4, 5, 131, 6690)] == [1, 1, 2, 2, 3, 8, 13]


def test_learned_mapping_starts_from_x_alone_and_calibrates_to_a_classical_scale():
    g = LearnedMapping(4, 12, init_std=0.05).double()
    assert torch.all(g.net[0].weight[:, :4] == 0)
    p = torch.softmax(torch.randn(16, dtype=torch.float64), 0)
    g.calibrate(p)
    theta = g(p)
    assert abs(theta.mean().item()) < 1e-9 and theta.std().item() == pytest.approx(0.05)


def test_learned_mapping_standardizes_x_unless_told_not_to():
    p = torch.softmax(torch.randn(16, dtype=torch.float64), 0)
    standardized = LearnedMapping(4, 12).double().features(p)[:, -1]
    centred = LearnedMapping(4, 12, standardize=False).double().features(p)[:, -1]
    assert standardized.std().item() == pytest.approx(1.0) and abs(centred.mean().item()) < 1e-12
    assert torch.allclose(standardized, centred / centred.std())


def test_learned_mapping_paper_init_keeps_torch_defaults():
    g = LearnedMapping(4, 12, paper_init=True)
    weights = g.net[-1].weight.clone()
    g.calibrate(torch.full((16,), 1 / 16))
    assert g.net[0].weight[:, :4].abs().sum() > 0 and torch.equal(weights, g.net[-1].weight)


def test_learned_mapping_gradient_is_finite_where_a_probability_is_exactly_zero():
    g = LearnedMapping(3, 8)
    p = torch.tensor([0.5, 0.0, 0.25, 0.0, 0.125, 0.0, 0.125, 0.0], requires_grad=True)
    g(p).square().sum().backward()
    assert torch.isfinite(p.grad).all() and p.grad[0] != 0
    assert torch.equal(p.grad[1::2], torch.zeros(4))
    torch.testing.assert_close(g.features(p)[:, -1], g.features(p.detach().clamp_min(0))[:, -1])
