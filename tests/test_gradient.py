import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from qt_pennylane import QuantumTrainModel
from qt_pennylane import evaluate, fit


@pytest.fixture
def blobs():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 3, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return TensorDataset(x[:64], y[:64]), TensorDataset(x[64:], y[64:])


def make_model(tiny_mlp, seed=0, **kwargs):
    return QuantumTrainModel(tiny_mlp, reps=2, seed=seed, **kwargs)


def test_fit_minibatch_lowers_loss_and_records_history(tiny_mlp, blobs):
    model = make_model(tiny_mlp)
    before = evaluate(model.export(), blobs[0])["loss"]
    history = fit(model, *blobs, lr=0.1, epochs=6, batch_size=16, progress=False)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5, 6]
    assert history[-1]["loss"] < 0.7 * before
    assert history[-1]["test_accuracy"] >= 0.8 and history[-1]["train_accuracy"] >= 0.8
    assert history[-1]["train_seconds"] >= history[0]["train_seconds"] > 0
    assert history[-1]["test_loss"] == pytest.approx(evaluate(model.export(), blobs[1])["loss"])


def test_eval_every_records_only_those_epochs(tiny_mlp, blobs):
    history = fit(make_model(tiny_mlp), *blobs, epochs=5, eval_every=2, progress=False)
    assert [r["epoch"] for r in history] == [2, 4, 5]


def crash_after_saves(monkeypatch, count):
    """Make the training loop die (as if killed) right after its ``count``-th checkpoint."""
    from qt_pennylane.training import loop as train_module

    real, saves = train_module.save_atomic, []

    def save_then_maybe_crash(obj, path):
        real(obj, path)
        saves.append(path)
        if len(saves) == count:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_atomic", save_then_maybe_crash)


@pytest.mark.parametrize("shots", [None, 200])
def test_resume_after_a_crash_continues_exactly(tiny_mlp, blobs, tmp_path, monkeypatch, shots):
    kwargs = dict(lr=0.05, epochs=4, batch_size=16, seed=3, progress=False, config={"run": "a"})
    straight = make_model(tiny_mlp, shots=shots)
    full = fit(straight, *blobs, **kwargs)
    with monkeypatch.context() as patch:
        crash_after_saves(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            fit(make_model(tiny_mlp, shots=shots), *blobs, checkpoint=tmp_path / "c.pt", **kwargs)
    resumed = make_model(tiny_mlp, seed=42, shots=shots)  # any starting state: the checkpoint replaces it
    history = fit(resumed, *blobs, resume=tmp_path / "c.pt", checkpoint=tmp_path / "c.pt", **kwargs)
    assert [r["loss"] for r in history] == [r["loss"] for r in full]
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_resume_refuses_another_run_and_keeps_the_file(tiny_mlp, blobs, tmp_path):
    path = tmp_path / "ckpt.pt"
    fit(make_model(tiny_mlp), *blobs, epochs=1, checkpoint=path, config={"reps": 2}, progress=False)
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"different model or run: reps: checkpoint 2 vs now 3"):
        fit(make_model(tiny_mlp), *blobs, epochs=2, checkpoint=path, resume=path, config={"reps": 3}, progress=False)
    assert path.read_bytes() == before
    with pytest.raises(FileNotFoundError, match=r"checkpoint .*missing.pt' does not exist"):
        fit(make_model(tiny_mlp), *blobs, epochs=2, resume=tmp_path / "missing.pt", progress=False)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epochs=0), r"epochs must be a positive int, got 0"),
        (dict(batch_size=-4), r"batch_size must be a positive int or None, got -4"),
        (dict(optimizer="lion"), r"optimizer must be one of \['adagrad', 'adam', .*\], got 'lion'"),
        (dict(optimizer="paper"), r"optimizer='paper' is gradient-free: train with paper_schedule"),
        (dict(lr=-1.0), r"lr must be a finite number > 0, got -1.0"),
        (dict(lr=float("inf")), r"lr must be a finite number > 0, got inf"),
        (dict(mapping_lr=0), r"mapping_lr must be a finite number > 0 or None, got 0"),
        (dict(lr_schedule="step"), r"lr_schedule must be one of \['constant', 'cosine'\], got 'step'"),
        (dict(seed="abc"), r"seed must be an int >= 0 and <= 9223372036854775807, got 'abc'"),
        (dict(seed=2**70), r"seed must be an int >= 0 and <= 9223372036854775807, got 1180591620717411303424"),
        (dict(loss_fn="cross_entropy"), r"loss_fn must be a loss name, one of \['cross-entropy', 'paper'\], or a callable, got 'cross_entropy'"),
        (dict(loss_fn=3), r"loss_fn must be None, a loss name .* got 3"),
    ],
)
def test_bad_arguments(tiny_mlp, blobs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(make_model(tiny_mlp), *blobs, progress=False, **kwargs)


def test_fit_trains_a_plain_module_too(blobs):
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    history = fit(plain, *blobs, lr=0.05, epochs=10, batch_size=16, progress=False)
    assert history[-1]["train_accuracy"] > 0.8


def test_param_groups_name_each_role_with_its_rate(tiny_mlp):
    from qt_pennylane import param_groups

    model = QuantumTrainModel(tiny_mlp, reps=1, mapping="learned", seed=0)
    groups = param_groups(model, 0.03, mapping_lr=1e-4, classical_lr=0.01)
    assert [(g["name"], g["lr"]) for g in groups] == [("source", 0.03), ("mapping", 1e-4), ("scale", 0.03),
                                                       ("classical", 0.01)]
    assert groups[0]["params"] == [model.generator.phi]
    assert len(groups[1]["params"]) == len(list(model.generator.mapping.parameters()))
    assert groups[3]["params"] == [model.target[0].bias, model.target[2].bias]
    seen = [p for g in groups for p in g["params"]]
    assert len(seen) == len(set(map(id, seen))) == len(list(model.parameters()))  # each parameter exactly once
    optimizer = torch.optim.Adam(groups)
    assert [g["name"] for g in optimizer.param_groups] == ["source", "mapping", "scale", "classical"]
    assert [(g["name"], g["lr"]) for g in param_groups(tiny_mlp, 0.1)] == [("classical", 0.1)]
    with pytest.raises(ValueError, match=r"mapping_lr must be a finite number > 0 or None, got 0"):
        param_groups(model, 0.03, mapping_lr=0)


def test_train_eval_limit_measures_training_accuracy_on_a_prefix(tiny_mlp, blobs):
    model = make_model(tiny_mlp)
    history = fit(model, *blobs, epochs=1, train_eval_limit=10, progress=False)
    prefix = TensorDataset(*(t[:10] for t in blobs[0].tensors))
    assert history[0]["train_accuracy"] == evaluate(model.export(), prefix)["accuracy"]


def test_fit_takes_a_dataloader_and_a_custom_loss(tiny_mlp, blobs):
    from torch.utils.data import DataLoader

    calls = []

    def weighted_cross_entropy(outputs, targets):
        calls.append(len(targets))
        return nn.functional.cross_entropy(outputs, targets, weight=torch.tensor([1.0, 3.0]))

    model = make_model(tiny_mlp)
    loader = DataLoader(blobs[0], batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
    history = fit(model, loader, DataLoader(blobs[1], batch_size=32), loss_fn=weighted_cross_entropy, lr=0.1,
                  epochs=3, progress=False)
    assert calls[:4] == [16, 16, 16, 16]  # four training steps of 16 per epoch, then evaluation batches
    test = evaluate(model.export(), blobs[1], weighted_cross_entropy)
    assert history[-1]["test_loss"] == pytest.approx(test["loss"]) and history[-1]["test_accuracy"] == test["accuracy"]
    assert history[-1]["loss"] < history[0]["loss"]


def test_fit_tells_the_sampler_the_epoch(tiny_mlp, blobs):
    from torch.utils.data import DataLoader

    class Sampler(torch.utils.data.Sampler):
        def __init__(self):
            self.epochs = []

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

        def __iter__(self):
            return iter(range(64))

        def __len__(self):
            return 64

    sampler = Sampler()
    fit(make_model(tiny_mlp), DataLoader(blobs[0], batch_size=16, sampler=sampler), epochs=3, progress=False)
    assert sampler.epochs == [0, 1, 2]


def test_loader_errors_are_named(tiny_mlp, blobs):
    from torch.utils.data import DataLoader

    loader = DataLoader(blobs[0], batch_size=16)
    with pytest.raises(ValueError, match=r"batch_size must be None when train_data is a loader"):
        fit(make_model(tiny_mlp), loader, batch_size=8, progress=False)
    stream = (batch for batch in loader)  # no len(): the cosine schedule cannot know the steps
    with pytest.raises(ValueError, match=r"lr_schedule='cosine' needs the number of batches per epoch"):
        fit(make_model(tiny_mlp), stream, progress=False)
    with pytest.raises(ValueError, match=r"train_data must be a non-empty dataset"):
        fit(make_model(tiny_mlp), TensorDataset(torch.zeros(0, 3), torch.zeros(0).long()), progress=False)
    with pytest.raises(ValueError, match=r"train_data must be a Dataset of \(input, target\) pairs or an iterable"):
        fit(make_model(tiny_mlp), 5, progress=False)
    with pytest.raises(ValueError, match=r"a batch must be a pair \(inputs, targets\); got list of length 3"):
        fit(make_model(tiny_mlp), [[torch.zeros(2, 3)] * 3], lr_schedule="constant", progress=False)


def test_a_diverging_run_stops_naming_the_step(tiny_mlp, blobs):
    from qt_pennylane.training import NonFiniteError

    def exploding(outputs, targets):
        return nn.functional.cross_entropy(outputs, targets) * float("inf")

    with pytest.raises(NonFiniteError, match=r"the training loss became inf at epoch 1, step 1"):
        fit(make_model(tiny_mlp), *blobs, loss_fn=exploding, progress=False)


def test_a_resume_under_another_thread_count_warns(tiny_mlp, blobs, tmp_path, monkeypatch):
    fit(make_model(tiny_mlp), *blobs, epochs=1, checkpoint=tmp_path / "c.pt", progress=False)
    threads = torch.get_num_threads()
    monkeypatch.setattr(torch, "get_num_threads", lambda: threads + 1)
    with pytest.warns(UserWarning, match=rf"written with {threads} torch threads, this run has {threads + 1}"):
        fit(make_model(tiny_mlp), *blobs, epochs=2, resume=tmp_path / "c.pt", progress=False)
