"""The trainer registry: the Python API refuses and warns as the CLI does."""
import warnings

import pytest
import torch
from torch.utils.data import TensorDataset

from qt_pennylane import QuantumTrainModel, fit, paper_schedule
from qt_pennylane.training.registry import TRAINERS, check_trainer


@pytest.fixture
def data():
    x = torch.randn(16, 3)
    return TensorDataset(x, (x[:, 0] > 0).long())


def test_capabilities():
    assert {name for name, t in TRAINERS.items() if not t.needs_gradients} == {"paper", "spsa"}
    assert {name for name, t in TRAINERS.items() if t.deterministic_loss} == {"lbfgs"}
    assert all(t.works_with_shots for name, t in TRAINERS.items() if name != "lbfgs")


def test_lbfgs_is_refused_on_shots_through_fit(tiny_mlp, data):
    model = QuantumTrainModel(tiny_mlp, reps=1, shots=100, seed=0)
    with pytest.raises(ValueError, match=r"optimizer='lbfgs' needs a deterministic loss .* engine \(100 shots, fresh noise\)"):
        fit(model, data, optimizer="lbfgs", progress=False)


def test_lbfgs_trains_on_exact_probabilities(tiny_mlp, data):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=0)
    history = fit(model, data, optimizer="lbfgs", lr=0.5, epochs=3, progress=False)
    assert history[-1]["train_loss"] < history[0]["train_loss"] or history[-1]["train_accuracy"] == 1.0


def test_each_trainer_is_refused_by_the_other_entry_point(tiny_mlp, data):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=0)
    with pytest.raises(ValueError, match=r"optimizer='paper' is gradient-free: train with paper_schedule"):
        fit(model, data, optimizer="paper", progress=False)
    with pytest.raises(ValueError, match=r"optimizer='adam' is a gradient optimizer: train with fit"):
        check_trainer("adam", model, kind="schedule")
    with pytest.raises(ValueError, match=r"model must be a QuantumTrainModel .* got 'Sequential'"):
        paper_schedule(tiny_mlp, data, progress=False)


def test_gradients_on_hardware_warn_about_the_jobs(tiny_mlp):
    model = QuantumTrainModel(tiny_mlp, reps=1, seed=0)
    model.generator.source.hardware = True  # as a source on real IBM hardware says of itself
    with pytest.warns(UserWarning, match=r"optimizer='adam' on real hardware .* 2 \* len\(angles\) \+ 1"):
        check_trainer("adam", model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_trainer("paper", model)
        check_trainer("adam", QuantumTrainModel(tiny_mlp, reps=1, seed=0))
