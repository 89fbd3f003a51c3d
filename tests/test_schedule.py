import time

import numpy as np
import pytest
import scipy.optimize
import torch

from qt_pennylane import CrossEntropyWithErrorRate, QuantumTrainModel
from qt_pennylane.training import schedule as optim_module
from qt_pennylane.training.schedule import assign, flatten, paper_schedule
from qt_pennylane.tasks import get_task


@pytest.fixture(scope="module")
def iris():
    return get_task("iris").load()


def iris_model(seed=0, **kwargs):
    """The papers' setting: every weight from the paper mapping (the schedule's second group is γ alone)."""
    return QuantumTrainModel(get_task("iris").build_model(), reps=1, seed=seed, generate="all", scale="none",
                             mapping="paper", **kwargs)


def test_flatten_assign_round_trip():
    params = [torch.nn.Parameter(torch.randn(2, 3)), torch.nn.Parameter(torch.randn(4, dtype=torch.float64))]
    vector = flatten(params)
    assert vector.shape == (10,) and vector.dtype == np.float64
    assign(params, vector + 1)
    assert np.allclose(flatten(params), vector + 1, atol=1e-6)


def test_schedule_alternates_cobyla_on_phi_and_nelder_mead_on_gamma(iris, monkeypatch):
    model = iris_model()
    phi, log_gamma = model.generator.phi, model.generator.mapping.log_gamma
    calls = []
    real = scipy.optimize.minimize

    def spy(fun, x0, method, options):
        before = phi.detach().clone(), log_gamma.detach().clone()
        result = real(fun, x0, method=method, options=options)
        calls.append((method, len(x0), before, (phi.detach().clone(), log_gamma.detach().clone()), result.nfev))
        return result

    monkeypatch.setattr(optim_module.scipy.optimize, "minimize", spy)
    history = paper_schedule(model, *iris, periods=2, phi_iters=15, gamma_iters=3, progress=False)
    assert [c[0] for c in calls] == ["COBYLA", "Nelder-Mead", "COBYLA", "Nelder-Mead"]
    for method, size, (phi0, g0), (phi1, g1), _ in calls:
        if method == "COBYLA":
            assert size == phi.numel() and torch.equal(g0, g1) and not torch.equal(phi0, phi1)
        else:
            assert size == 1 and torch.equal(phi0, phi1)
    for record, (cobyla, nelder) in zip(history, zip(calls[::2], calls[1::2])):
        assert record["phi_evaluations"] == cobyla[4] <= 33 + 15  # len(phi) + 1 for the first simplex
        assert record["gamma_evaluations"] == nelder[4] <= 2 + 3 * 3  # n+1 for the simplex, <= n+2 per iteration


def test_cobyla_spends_its_whole_budget_of_iterations_after_the_first_simplex(iris):
    history = paper_schedule(iris_model(), *iris, periods=1, phi_iters=5, gamma_iters=1, progress=False)
    assert history[0]["phi_evaluations"] == 33 + 5


def test_history_separates_the_time_spent_evaluating_the_loss(iris):
    class SlowLoss(CrossEntropyWithErrorRate):
        def forward(self, logits, targets):
            time.sleep(0.002)
            return super().forward(logits, targets)

    history = paper_schedule(iris_model(), *iris, periods=2, phi_iters=3, gamma_iters=1, loss_fn=SlowLoss(),
                             progress=False)
    previous = 0.0
    for record in history:
        evaluations = record["phi_evaluations"] + record["gamma_evaluations"]
        assert 0.002 * evaluations <= record["loss_seconds"] <= record["seconds"] - previous
        previous = record["seconds"]


def test_nelder_mead_starts_from_the_given_step_in_log_gamma(iris, monkeypatch):
    seen = []
    real = scipy.optimize.minimize

    def spy(fun, x0, method, options):
        if method == "Nelder-Mead":
            seen.append(options["initial_simplex"])
        return real(fun, x0, method=method, options=options)

    monkeypatch.setattr(optim_module.scipy.optimize, "minimize", spy)
    model = iris_model()
    start = model.generator.mapping.log_gamma.item()
    paper_schedule(model, *iris, periods=1, phi_iters=1, gamma_iters=1, gamma_step=0.3, progress=False)
    assert np.allclose(seen[0], [[start], [start + 0.3]])


def test_schedule_never_runs_backward(iris, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("backward was called")

    monkeypatch.setattr(torch.Tensor, "backward", forbidden)
    monkeypatch.setattr(torch.autograd, "backward", forbidden)
    history = paper_schedule(iris_model(), *iris, periods=1, phi_iters=5, gamma_iters=2, progress=False)
    assert history[0]["loss"] > 0


def test_schedule_lowers_the_loss(iris):
    model = iris_model()
    inputs, targets = iris[0].tensors
    with torch.no_grad():
        before = float(CrossEntropyWithErrorRate()(model(inputs), targets))
    history = paper_schedule(model, *iris, periods=3, phi_iters=10, gamma_iters=4, progress=False)
    assert history[-1]["loss"] < 0.9 * before
    assert [r["loss"] for r in history] == sorted(r["loss"] for r in history)[::-1]  # never worse than before


def test_resume_equals_uninterrupted_run(iris, tmp_path):
    kwargs = dict(phi_iters=5, gamma_iters=2, progress=False, config={"seed": 0})
    full = paper_schedule(iris_model(), *iris, periods=3, **kwargs)
    paper_schedule(iris_model(), *iris, periods=2, checkpoint=tmp_path / "c.pt", **kwargs)
    resumed_model = iris_model(seed=5)
    resumed = paper_schedule(resumed_model, *iris, periods=3, resume=tmp_path / "c.pt", **kwargs)
    assert [r["loss"] for r in resumed] == [r["loss"] for r in full]
    assert [r["phi_evaluations"] for r in resumed] == [r["phi_evaluations"] for r in full]


def _record_probabilities(model) -> list[torch.Tensor]:
    """Every probability vector the model's mapping receives from now on."""
    seen = []
    model.generator.mapping.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    return seen


def _frequencies_of(p: torch.Tensor, shots: int) -> bool:
    """``p`` is a vector of counts over ``shots`` samples (not exact probabilities)."""
    counts = p.double() * shots
    return bool(torch.allclose(counts, counts.round(), atol=1e-3) and counts.round().sum() == shots)


@pytest.mark.parametrize("shot_noise", ["fresh", "fixed"])
def test_schedule_with_shots_minimizes_the_sampled_loss(iris, shot_noise):
    model = iris_model(shots=2000, shot_noise=shot_noise)
    inputs, targets = iris[0].tensors
    with torch.no_grad():
        before = float(CrossEntropyWithErrorRate()(model(inputs), targets))
    phi_before = model.generator.phi.detach().clone()
    seen = _record_probabilities(model)
    (period,) = paper_schedule(model, *iris, periods=1, phi_iters=5, gamma_iters=1, progress=False)
    assert len(seen) == period["phi_evaluations"] + period["gamma_evaluations"] + 1  # every evaluation, the export
    assert all(_frequencies_of(p, 2000) for p in seen)  # each one sampled with the shots
    assert not torch.equal(model.generator.phi, phi_before)
    assert period["loss"] < before  # 1.44 -> 1.23 (fresh), 1.31 -> 1.27 (fixed) with these seeds
    with torch.no_grad():
        first, second = model.generator.probabilities(), model.generator.probabilities()
        now = float(CrossEntropyWithErrorRate()(model(inputs), targets))
    assert torch.equal(first, second) == (shot_noise == "fixed")
    if shot_noise == "fixed":  # the same random numbers: the recorded loss is the loss of the final angles
        assert now == pytest.approx(period["loss"], rel=1e-6)


def test_schedule_with_shots_sampled_by_the_device_runs_one_job_per_loss_evaluation(iris):
    import pennylane as qml

    model = iris_model(shots=2000, engine="qnode")
    seen = _record_probabilities(model)
    with qml.Tracker(model.generator.source.resolved.value.device) as tracker:
        (period,) = paper_schedule(model, *iris, periods=1, phi_iters=2, gamma_iters=1, progress=False)
    jobs = period["phi_evaluations"] + period["gamma_evaluations"] + 1  # every evaluation, then the export
    assert tracker.totals["executions"] == jobs and tracker.totals["shots"] == jobs * 2000
    assert len(seen) == jobs and all(_frequencies_of(p, 2000) for p in seen)
    assert not torch.equal(seen[0], seen[1])  # the device draws new samples for every evaluation


def test_resume_with_fresh_shots_equals_uninterrupted_run(iris, tmp_path):
    kwargs = dict(phi_iters=3, gamma_iters=1, progress=False)
    full = paper_schedule(iris_model(shots=500), *iris, periods=2, **kwargs)
    paper_schedule(iris_model(shots=500), *iris, periods=1, checkpoint=tmp_path / "c.pt", **kwargs)
    resumed = paper_schedule(iris_model(seed=3, shots=500), *iris, periods=2, resume=tmp_path / "c.pt", **kwargs)
    assert [r["loss"] for r in resumed] == [r["loss"] for r in full]


@pytest.mark.parametrize("name", ["periods", "phi_iters", "gamma_iters"])
@pytest.mark.parametrize("value", [0, -3])
def test_non_positive_budgets_are_refused(iris, name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a positive int, got {value}"):
        paper_schedule(iris_model(), *iris, progress=False, **{name: value})


@pytest.mark.parametrize("name", ["cobyla_step", "gamma_step"])
@pytest.mark.parametrize("value", [0, -0.5, float("inf"), float("nan"), "big"])
def test_non_positive_steps_are_refused(iris, name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a finite number > 0, got {value!r}"):
        paper_schedule(iris_model(), *iris, progress=False, **{name: value})


def test_resume_from_another_model_is_refused_and_nothing_is_overwritten(iris, tmp_path):
    path = tmp_path / "c.pt"
    paper_schedule(iris_model(), *iris, periods=1, phi_iters=3, gamma_iters=1, checkpoint=path,
                   config={"reps": 1}, progress=False)
    before = path.read_bytes()
    other = QuantumTrainModel(get_task("iris").build_model(), reps=2, seed=0, generate="all", scale="none",
                              mapping="paper")
    with pytest.raises(ValueError, match=r"different model or run: reps: checkpoint 1 vs now 2"):
        paper_schedule(other, *iris, periods=2, phi_iters=3, gamma_iters=1, checkpoint=path, resume=path,
                       config={"reps": 2}, progress=False)
    assert path.read_bytes() == before


def test_schedule_runs_scipy_on_one_blas_thread(iris, monkeypatch):
    from threadpoolctl import threadpool_info

    seen = []
    real = optim_module._Objective.__call__

    def spy(self, vector):
        seen.extend(info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas")
        return real(self, vector)

    monkeypatch.setattr(optim_module._Objective, "__call__", spy)
    paper_schedule(iris_model(), *iris, periods=1, phi_iters=1, gamma_iters=1, progress=False)
    assert seen and set(seen) == {1}
