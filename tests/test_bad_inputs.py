"""Every bad input of issue 15, through the Python API: a ``ValueError`` naming the argument and the value, raised
before any work; non-finite numbers during training stop the run naming the step.

The same causes through the command line are in ``test_cli_errors.py``; IDX files in ``test_datasets.py``;
malicious checkpoints in ``test_checkpoint.py``.
"""
from __future__ import annotations

import math
import time

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from qt_pennylane import QuantumTrainModel, QuantumWeightGenerator
from qt_pennylane.circuit.engine import StatevectorEngine, check_circuit_size
from qt_pennylane.tasks import get_task
from qt_pennylane.training import NonFiniteError
from qt_pennylane.training.gradient import fit
from qt_pennylane.training.schedule import paper_schedule

SEED_RANGE = r"an int >= 0 and <= 9223372036854775807"
BAD_SEEDS = ["abc", 1.5, 2**70, -1, True]


@pytest.fixture
def data():
    generator = torch.Generator().manual_seed(0)
    return TensorDataset(torch.randn(24, 3, generator=generator), torch.randint(0, 2, (24,), generator=generator))


def small_model(**kwargs):
    """A 3 → 2 layer on the paper mapping (its schedule's second group is small: quick runs)."""
    torch.manual_seed(0)  # the target's own initialization
    return QuantumTrainModel(nn.Linear(3, 2), reps=1, seed=0, **{"mapping": "paper", **kwargs})


def quick_fit(model, data, **kwargs):
    return fit(model, data, **{"epochs": 1, "progress": False, **kwargs})


def quick_schedule(model, data, **kwargs):
    return paper_schedule(model, data, **{"periods": 1, "phi_iters": 2, "gamma_iters": 1, "progress": False, **kwargs})


# ---------------------------------------------------------------- seeds


@pytest.mark.parametrize("seed", BAD_SEEDS)
@pytest.mark.parametrize("shots", [None, 100])
def test_a_bad_seed_is_named_by_the_generator_with_or_without_shots(seed, shots):
    with pytest.raises(ValueError, match=rf"^seed must be {SEED_RANGE} or None, got {seed!r}$"):
        QuantumWeightGenerator(8, seed=seed, shots=shots)
    with pytest.raises(ValueError, match=rf"^seed must be {SEED_RANGE} or None, got {seed!r}$"):
        QuantumTrainModel(nn.Linear(3, 2), seed=seed, shots=shots)


@pytest.mark.parametrize("seed", BAD_SEEDS + [None])
def test_a_bad_seed_is_named_by_fit_before_training(data, seed, monkeypatch):
    model = small_model()
    monkeypatch.setattr(model, "forward", lambda *a: pytest.fail("fit trained before checking its seed"))
    with pytest.raises(ValueError, match=rf"^seed must be {SEED_RANGE}, got {seed!r}$"):
        quick_fit(model, data, seed=seed)


def test_the_largest_seed_is_accepted():
    assert QuantumWeightGenerator(8, seed=2**63 - 1, shots=100)().shape == (8,)


# ---------------------------------------------------------------- non-finite numbers


@pytest.mark.parametrize("gamma", [math.inf, -math.inf, math.nan, 0.0])
def test_a_non_finite_gamma_is_refused(gamma):
    with pytest.raises(ValueError, match=rf"^gamma must be a finite number > 0, got {gamma!r}$"):
        QuantumWeightGenerator(8, mapping_options={"gamma": gamma})


@pytest.mark.parametrize("name", ["lr", "mapping_lr", "scale_lr", "classical_lr"])
@pytest.mark.parametrize("value", [math.inf, math.nan, -5.0])
def test_a_non_finite_or_negative_learning_rate_is_refused(data, name, value):
    expected = "a finite number > 0" + ("" if name == "lr" else " or None")
    with pytest.raises(ValueError, match=rf"^{name} must be {expected}, got {value!r}$"):
        quick_fit(small_model(mapping="learned"), data, **{name: value})


@pytest.mark.parametrize("name", ["cobyla_step", "gamma_step"])
def test_a_non_finite_schedule_step_is_refused(data, name):
    with pytest.raises(ValueError, match=rf"^{name} must be a finite number > 0, got inf$"):
        quick_schedule(small_model(), data, **{name: math.inf})


def _nan_phi_state(model):
    state = model.state_dict()
    state["generator.source.phi"] = state["generator.source.phi"].clone()
    state["generator.source.phi"][0, 0, 0] = math.nan
    return state


def test_nan_angles_in_a_state_dict_are_refused_and_nothing_is_loaded():
    donor = QuantumWeightGenerator(8, seed=0)
    state = donor.state_dict()
    state["source.phi"][1, 0, 2] = math.nan
    generator = QuantumWeightGenerator(8, seed=1)
    before = generator.phi.detach().clone()
    with pytest.raises(ValueError, match=r"^state_dict\['source.phi'\] must hold finite values, got 1 NaN or "
                                         r"infinite of 12$"):
        generator.load_state_dict(state)
    assert torch.equal(generator.phi, before)
    model = small_model()
    with pytest.raises(ValueError, match=r"^state_dict\['generator.source.phi'\] must hold finite values"):
        model.load_state_dict(_nan_phi_state(model))


def test_an_infinite_gamma_in_a_state_dict_is_refused():
    model = small_model()
    state = model.state_dict()
    state["generator.mapping.log_gamma"] = torch.tensor(math.inf, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"^state_dict\['generator.mapping.log_gamma'\] must hold finite values, "
                                         r"got 1 NaN or infinite of 1$"):
        model.load_state_dict(state)


@pytest.mark.parametrize("trainer", ["fit", "schedule"])
def test_nan_angles_in_a_checkpoint_are_refused_on_resume(data, tmp_path, trainer):
    path = tmp_path / "c.pt"
    train = quick_fit if trainer == "fit" else quick_schedule
    train(small_model(), data, checkpoint=path)
    state = torch.load(path, weights_only=True)
    state["model"] = _nan_phi_state(small_model())
    torch.save(state, path)
    with pytest.raises(ValueError, match=rf"^checkpoint {str(path)!r} holds non-finite values in "
                                         r"'generator.source.phi'; it cannot be resumed$"):
        train(small_model(), data, resume=path, **({"epochs": 2} if trainer == "fit" else {"periods": 2}))


def test_a_loss_that_becomes_nan_mid_run_stops_fit_naming_the_step(data):
    steps = []

    def poisoned(outputs, targets):
        loss = F.cross_entropy(outputs, targets)
        if not torch.is_grad_enabled():  # an evaluation, not a training step
            return loss
        steps.append(1)
        return loss * math.nan if len(steps) == 5 else loss

    with pytest.raises(NonFiniteError, match=r"^the training loss became nan at epoch 2, step 5; lower the learning "
                                             r"rate or check the data$"):
        fit(small_model(), data, epochs=3, batch_size=6, loss_fn=poisoned, lr_schedule="constant", progress=False)


def test_nan_angles_stop_the_schedule_naming_the_period(data):
    model = small_model()
    with torch.no_grad():
        model.generator.phi[0, 0, 0] = math.nan
    with pytest.raises(NonFiniteError, match=r"^the training loss became nan at period 1;"):
        quick_schedule(model, data)


# ---------------------------------------------------------------- unknown names


def test_a_backend_without_a_device_that_uses_it_is_refused():
    with pytest.raises(ValueError, match=r"^backend must be None unless a device that uses it is named "
                                         r"\('qiskit.remote', 'qiskit.aer'\), got 'nonsense'$"):
        QuantumWeightGenerator(8, backend="nonsense")
    with pytest.raises(ValueError, match=r"^backend='nonsense' is only used by devices 'qiskit.remote' and "
                                         r"'qiskit.ibmq', not device='default.qubit'$"):
        QuantumWeightGenerator(8, device="default.qubit", backend="nonsense")  # the engine would stand in


def test_an_unknown_backend_of_qiskit_remote_is_not_taken_for_hardware():
    with pytest.raises(ValueError, match=r"^backend must be a fake IBM backend \('fake_manila', ...\), "
                                         r"'aer_simulator' or a real IBM backend name \('ibm_<name>'\), "
                                         r"got 'nonsense'$"):
        QuantumWeightGenerator(8, device="qiskit.remote", backend="nonsense")


@pytest.mark.parametrize("kwargs, match", [
    (dict(device="nonsense"), r"^device='nonsense' is not a known device; expected one of \['default.qubit'"),
    (dict(mapping="nonsense"), r"^mapping must be one of \['batched', 'learned', 'mps', 'paper'\], got 'nonsense'$"),
    (dict(engine="nonsense"), r"^engine must be one of \['auto', 'engine', 'qnode'\], got 'nonsense'$"),
    (dict(entanglement="nonsense"), r"^entanglement must be one of \['circular', 'full', 'linear', "
                                    r"'reverse_linear'\], got 'nonsense'$"),
])
def test_unknown_names_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QuantumWeightGenerator(8, **kwargs)


# ---------------------------------------------------------------- options the trainer does not use


def test_fit_refuses_the_gradient_free_schedule_and_the_schedule_a_gradient_optimizer(data):
    with pytest.raises(ValueError, match=r"^optimizer='paper' is gradient-free: train with paper_schedule"):
        quick_fit(small_model(), data, optimizer="paper")
    with pytest.raises(ValueError, match=r"^optimizer='lbfgs' takes one learning rate for all parameters; drop "
                                         r"\['mapping_lr'\]$"):
        quick_fit(small_model(), data, optimizer="lbfgs", mapping_lr=0.1)
    with pytest.raises(ValueError, match=r"^batch_size must be None when train_data is a loader"):
        quick_fit(small_model(), DataLoader(data, batch_size=4), batch_size=8)


@pytest.mark.parametrize("name", ["periods", "phi_iters", "gamma_iters"])
def test_negative_schedule_budgets_are_refused(data, name):
    with pytest.raises(ValueError, match=rf"^{name} must be a positive int, got -1$"):
        quick_schedule(small_model(), data, **{name: -1})


# ---------------------------------------------------------------- sizes


def test_a_circuit_too_large_for_memory_is_refused_before_anything_is_allocated():
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"^reps must be an int <= 6391319 on 3 qubits \(the engine's memory limit "
                                         r"is 8 GiB; reps=1000000000 needs about 1133.5 GiB\), got 1000000000$"):
        QuantumWeightGenerator(8, reps=1_000_000_000)
    with pytest.raises(ValueError, match=r"^reps must be an int <= 863530 on 8 qubits"):
        QuantumWeightGenerator(131, reps=1_000_000_000, engine="qnode")  # the same limit before PennyLane runs
    with pytest.raises(ValueError, match=r"^n_qubits must be an int <= 26 \(the engine's memory limit is 8 GiB; "
                                         r"a state of 2\*\*40 amplitudes needs about 65536.0 GiB\), got 40$"):
        QuantumWeightGenerator(2**40)
    with pytest.raises(ValueError, match=r"^n_qubits must be an int <= 26 .*got 27$"):
        StatevectorEngine(27, 0)
    assert time.perf_counter() - started < 5  # refused, not attempted: allocating the first would take minutes


def test_the_largest_circuit_that_fits_is_accepted():
    assert StatevectorEngine(8, 863530).reps == 863530
    check_circuit_size(26, 0)  # (building that engine allocates its 2**26-entry CNOT permutation)


@pytest.mark.parametrize("shots", [2**40 + 1, 10**20, 0, -3, 1.5])
def test_shots_out_of_range_are_refused(shots):
    with pytest.raises(ValueError, match=rf"^shots must be None \(exact\) or a positive int <= 2\*\*40, got {shots!r}$"):
        QuantumWeightGenerator(8, shots=shots)


# ---------------------------------------------------------------- empty data, limits


def _empty():
    return TensorDataset(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))


@pytest.mark.parametrize("train", [quick_fit, quick_schedule], ids=["fit", "paper_schedule"])
def test_an_empty_training_set_is_refused_before_training(train):
    with pytest.raises(ValueError, match=r"^train_data must be a non-empty dataset, got <torch.utils.data"):
        train(small_model(), _empty())


def test_an_empty_loader_is_refused_by_the_schedule_and_by_fit():
    with pytest.raises(ValueError, match=r"^train_data must be data with at least one example, got \[\]$"):
        quick_schedule(small_model(), [])
    with pytest.raises(ValueError, match=r"^train_data must be data with at least one batch per epoch, got \[\]$"):
        quick_fit(small_model(), [], lr_schedule="constant")


@pytest.mark.parametrize("limit", [0, -5, 1.5])
def test_a_task_refuses_a_limit_that_is_not_a_positive_int(limit):
    with pytest.raises(ValueError, match=rf"^limit must be a positive int or None, got {limit!r}$"):
        get_task("iris").load(limit=limit)


# ---------------------------------------------------------------- checkpoints that are not a run's


def _run_checkpoint(path, data, reps=1):
    quick_fit(QuantumTrainModel(nn.Linear(3, 2), reps=reps, seed=0), data, checkpoint=path)
    return torch.load(path, weights_only=True)


@pytest.mark.parametrize("content, match", [
    ([1, 2, 3], r"is not a qt_pennylane checkpoint: it holds a list, not a dict$"),
    ("drop model", r"is not a qt_pennylane checkpoint: it lacks \['model'\]$"),
])
def test_a_checkpoint_that_is_not_a_run_is_refused_on_resume(data, tmp_path, content, match):
    path = tmp_path / "c.pt"
    state = _run_checkpoint(path, data)
    if content == "drop model":
        del state["model"]
        content = state
    torch.save(content, path)
    with pytest.raises(ValueError, match=rf"^checkpoint {str(path)!r} " + match):
        quick_fit(small_model(), data, epochs=2, resume=path)


def test_angles_of_another_shape_are_refused_on_resume(data, tmp_path):
    path = tmp_path / "c.pt"
    _run_checkpoint(path, data, reps=2)
    with pytest.raises(ValueError, match=rf"^checkpoint {str(path)!r} belongs to a different model: .*size mismatch "
                                         r"for generator.source.phi: copying a param with shape "
                                         r"torch.Size\(\[3, 2, 3\]\) from checkpoint, the shape in current model is "
                                         r"torch.Size\(\[2, 2, 3\]\)"):
        quick_fit(small_model(), data, epochs=2, resume=path)


# ---------------------------------------------------------------- options, models and losses of the wrong kind


def test_mapping_options_of_the_wrong_type_are_named():
    with pytest.raises(ValueError, match=r"^hidden must be a sequence of positive ints, got 16$"):
        QuantumWeightGenerator(8, mapping="learned", mapping_options={"hidden": 16})
    with pytest.raises(ValueError, match=r"^mapping_options must be a dict of the mapping's keyword options, "
                                         r"got \['hidden'\]$"):
        QuantumWeightGenerator(8, mapping="learned", mapping_options=["hidden"])


def test_the_schedule_refuses_a_plain_module(data):
    with pytest.raises(ValueError, match=r"^model must be a QuantumTrainModel \(the schedule alternates over its "
                                         r"circuit angles and the rest\), got 'Linear'$"):
        quick_schedule(nn.Linear(3, 2), data)


def test_a_loss_name_is_taken_by_fit_and_by_the_schedule(data):
    by_name = quick_fit(small_model(), data, loss_fn="cross-entropy", epochs=2)
    by_default = quick_fit(small_model(), data, epochs=2)
    assert [r["loss"] for r in by_name] == [r["loss"] for r in by_default]  # fit's default is cross-entropy
    model = small_model()
    (period,) = quick_schedule(model, data, loss_fn="cross-entropy")
    inputs, targets = data.tensors
    with torch.no_grad():
        assert period["loss"] == pytest.approx(float(F.cross_entropy(model.export()(inputs), targets)), rel=1e-6)
    with pytest.raises(ValueError, match=r"^loss_fn must be a loss name, one of \['cross-entropy', 'paper'\], or a "
                                         r"callable, got 'hinge'$"):
        quick_schedule(small_model(), data, loss_fn="hinge")


# ---------------------------------------------------------------- thread count


def test_the_thread_count_is_recorded_and_a_schedule_resumed_under_another_warns(data, tmp_path, monkeypatch):
    path = tmp_path / "c.pt"
    quick_schedule(small_model(), data, checkpoint=path)
    threads = torch.get_num_threads()
    assert torch.load(path, weights_only=True)["threads"] == threads
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads + 1)
    with pytest.warns(UserWarning, match=rf"written with {threads} torch threads, this run has {threads + 1}: "
                                         r"results differ from an uninterrupted run in the last bits"):
        quick_schedule(small_model(), data, resume=path, periods=2)
