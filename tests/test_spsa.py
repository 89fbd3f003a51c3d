"""SPSA: two loss evaluations per step, on every probability source, with or without shots."""
from __future__ import annotations

import warnings

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from qt_pennylane import QuantumTrainModel, fit, paper_schedule, spsa
from qt_pennylane.cli_options import SPSA_DEFAULTS
from qt_pennylane.training import registry
from qt_pennylane.training.registry import check_trainer


def _module():
    import importlib

    return importlib.import_module("qt_pennylane.training.spsa")


@pytest.fixture
def data():
    x = torch.randn(48, 3, generator=torch.Generator().manual_seed(0))
    return TensorDataset(x, (x[:, 0] + 0.5 * x[:, 1] > 0).long())


def _model(tiny_mlp, scale="none", **kwargs):
    return QuantumTrainModel(tiny_mlp, generate="all", scale=scale, mapping="paper", reps=1, seed=0, **kwargs)


def test_spsa_lowers_the_loss_on_exact_probabilities(tiny_mlp, data):
    model = _model(tiny_mlp, scale="init")
    start = fit(_model(tiny_mlp, scale="init"), data, epochs=1, lr=1e-9, progress=False)[0]["train_loss"]
    history = spsa(model, data, epochs=100, eval_every=50, lr=0.5, perturbation=0.1, progress=False)
    assert [r["epoch"] for r in history] == [50, 100]
    assert history[-1]["train_loss"] < 0.6 * start


def test_two_loss_evaluations_per_step(tiny_mlp, data, monkeypatch):
    calls = []
    model = _model(tiny_mlp)
    real = model.forward
    monkeypatch.setattr(model, "forward", lambda *a, **k: calls.append(1) or real(*a, **k))
    spsa(model, DataLoader(data, batch_size=16), epochs=2, progress=False)
    assert len(calls) == 2 * 3 * 2  # two per step, three batches per epoch, two epochs (evaluations export instead)


def test_every_parameter_moves_along_one_shared_perturbation(tiny_mlp, data):
    """One step by hand: θ − a (L(θ + cΔ) − L(θ − cΔ)) / (2c) Δ with the signs of the seeded generator."""
    from torch.nn import functional as F

    from qt_pennylane.training.schedule import assign, flatten

    model = _model(tiny_mlp)
    parameters = _module().trainable(model)
    theta = flatten(parameters)
    delta = (torch.randint(0, 2, (theta.size,), generator=torch.Generator().manual_seed(7)) * 2 - 1).double().numpy()
    x, y = data.tensors
    losses = []
    with torch.no_grad():
        for sign in (1, -1):
            assign(parameters, theta + sign * 0.1 * delta)
            losses.append(float(F.cross_entropy(model(x), y)))
    assign(parameters, theta)
    a = 0.05 / (1 + 0.1) ** 0.602  # stability A = 10 % of one step
    expected = theta - a * (losses[0] - losses[1]) / 0.2 * delta
    spsa(model, data, epochs=1, lr=0.05, perturbation=0.1, seed=7, progress=False)
    assert torch.allclose(torch.from_numpy(flatten(parameters)), torch.from_numpy(expected), atol=1e-6)
    assert len(parameters) == 2 and parameters[0] is model.generator.phi  # angles and log gamma


def test_spsa_trains_with_shots_on_the_engine_and_on_a_qnode(tiny_mlp, data):
    for options in (dict(shots=200), dict(device="default.qubit", engine="qnode", shots=50)):
        model = _model(tiny_mlp, **options)
        history = spsa(model, data, epochs=2, progress=False)
        assert len(history) == 2 and all(torch.isfinite(torch.tensor(r["loss"])) for r in history)


def test_resume_continues_as_an_uninterrupted_run(tiny_mlp, data, tmp_path):
    settings = dict(eval_every=3, stability=0.6, progress=False)  # A fixed: by default it follows the run's length
    straight = _model(tiny_mlp)
    spsa(straight, data, epochs=6, **settings)
    first = _model(tiny_mlp)
    spsa(first, data, epochs=3, checkpoint=tmp_path / "c.pt", **settings)
    resumed = _model(tiny_mlp)
    history = spsa(resumed, data, epochs=6, resume=tmp_path / "c.pt", checkpoint=tmp_path / "c.pt", **settings)
    assert [r["epoch"] for r in history] == [3, 6]
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_resume_from_another_trainer_is_refused(tiny_mlp, data, tmp_path):
    fit(_model(tiny_mlp), data, epochs=1, checkpoint=tmp_path / "c.pt", progress=False)
    with pytest.raises(ValueError, match=r"checkpoint .* does not hold SPSA's state"):
        spsa(_model(tiny_mlp), data, epochs=2, resume=tmp_path / "c.pt", progress=False)


def test_spsa_over_batches_without_a_length(tiny_mlp, data):
    class Stream:  # an iterable of batches with no len()
        def __iter__(self):
            yield data.tensors

    history = spsa(_model(tiny_mlp), Stream(), epochs=2, progress=False)
    assert [r["epoch"] for r in history] == [1, 2]


def test_spsa_on_a_plain_module(data):
    module = torch.nn.Linear(3, 2)
    history = spsa(module, data, epochs=3, progress=False)
    assert len(history) == 3


def test_registry_entry_and_entry_points(tiny_mlp, data):
    trainer = registry.TRAINERS["spsa"]
    assert not trainer.needs_gradients and trainer.works_with_shots and not trainer.deterministic_loss
    model = _model(tiny_mlp)
    with pytest.raises(ValueError, match=r"optimizer='spsa' is gradient-free: train with spsa \(CLI: --optimizer spsa\), not fit"):
        fit(model, data, optimizer="spsa", progress=False)
    with pytest.raises(ValueError, match=r"optimizer='spsa' is gradient-free: train with spsa .*, not paper_schedule"):
        check_trainer("spsa", model, kind="schedule")
    with pytest.raises(ValueError, match=r"optimizer='paper' is gradient-free: train with paper_schedule .*, not spsa"):
        check_trainer("paper", model, kind="spsa")
    with pytest.raises(ValueError, match=r"kind must be one of \['gradient', 'schedule', 'spsa'\], got 'sgd'"):
        check_trainer("adam", kind="sgd")
    with pytest.raises(ValueError, match=r"model must be a QuantumTrainModel"):
        paper_schedule(tiny_mlp, data, progress=False)


def test_the_defaults_are_the_benchmarks_selection():
    """The CLI's and the function's defaults are what ``benchmarks/hardware.py --only spsa_tuning`` selected."""
    import inspect
    import json
    from pathlib import Path

    defaults = {k: v.default for k, v in inspect.signature(_module().spsa).parameters.items()}
    assert {k: defaults[k] for k in SPSA_DEFAULTS} == SPSA_DEFAULTS
    results = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "hardware_spsa_tuning.json"
    selected = json.loads(results.read_text())["selected"]
    assert {k: defaults[k] for k in ("lr", "perturbation")} == {k: selected[k] for k in ("lr", "perturbation")}


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0), r"lr must be a finite number > 0, got 0"),
    (dict(perturbation=-1.0), r"perturbation must be a finite number > 0, got -1.0"),
    (dict(lr_decay=1.5), r"lr_decay must be a finite number >= 0 <= 1, got 1.5"),
    (dict(stability=-1), r"stability must be a finite number >= 0 or None, got -1"),
    (dict(epochs=0), r"epochs must be a positive int, got 0"),
    (dict(batch_size=0), r"batch_size must be a positive int or None, got 0"),
    (dict(seed=-1), r"seed must be an int >= 0 and <= 9223372036854775807, got -1"),
])
def test_bad_arguments_are_named(tiny_mlp, data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        spsa(_model(tiny_mlp), data, progress=False, **kwargs)


def test_a_loader_with_a_batch_size_is_refused(tiny_mlp, data):
    with pytest.raises(ValueError, match=r"batch_size must be None when train_data is a loader .* got 4"):
        spsa(_model(tiny_mlp), DataLoader(data, batch_size=8), batch_size=4, progress=False)


def test_a_non_finite_loss_stops_the_run(tiny_mlp, data):
    from qt_pennylane.training.loop import NonFiniteError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NonFiniteError, match=r"the training loss became nan at epoch 1, step 1"):
            spsa(_model(tiny_mlp), data, loss_fn=lambda out, y: out.sum() * float("nan"), epochs=1, progress=False)
