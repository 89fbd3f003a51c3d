"""The zoo's networks wrapped with the package defaults learn when trained with ``fit`` on a DataLoader.

The data is made here: 28×28 images of four classes (a bright horizontal bar in the top or the
bottom half, a vertical bar in the left or the right half, at random positions, with noise).
"""
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from qt_pennylane import QuantumTrainModel, evaluate, fit, update_bn
from qt_pennylane.tasks.models import ResNet, RowLSTM


def bars(n: int, seed: int) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(4, (n,), generator=g)
    images = 0.3 * torch.randn(n, 1, 28, 28, generator=g)
    positions = torch.randint(2, 12, (n,), generator=g)
    for i, (label, position) in enumerate(zip(labels.tolist(), positions.tolist())):
        offset = position if label % 2 == 0 else 14 + position
        if label < 2:
            images[i, 0, offset : offset + 2, :] += 2.0
        else:
            images[i, 0, :, offset : offset + 2] += 2.0
    return TensorDataset(images, labels)


@pytest.fixture(scope="module")
def data():
    return bars(384, seed=0), bars(256, seed=1)


def train_defaults(net, data, epochs):
    """The package defaults (learned mapping, generated weights, per-tensor scale, its learning rates)."""
    torch.manual_seed(0)
    model = QuantumTrainModel(net, reps=4, seed=0)
    loader = DataLoader(data[0], batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    history = fit(model, loader, DataLoader(data[1], batch_size=256), epochs=epochs, lr=0.03, progress=False)
    return model, history


def test_batchnorm_resnet_learns_with_the_defaults(data):
    # The papers' setting (every parameter from the paper mapping, unscaled) stays at 0.29-0.40 here.
    torch.manual_seed(0)
    model, history = train_defaults(ResNet(widths=(4, 8, 8)), data, epochs=4)
    assert model.counts()["classical_params"] < 0.1 * model.counts()["generated_params"]
    assert history[-1]["test_accuracy"] > 0.45 and history[-1]["test_accuracy"] > history[0]["test_accuracy"]


def test_lstm_learns_with_the_defaults(data):
    torch.manual_seed(0)
    model, history = train_defaults(RowLSTM(hidden=16), data, epochs=6)
    assert history[-1]["test_accuracy"] > 0.8  # chance: 0.25


def test_update_bn_recomputes_the_statistics_of_the_final_weights(data):
    torch.manual_seed(0)
    model = QuantumTrainModel(ResNet(widths=(4, 8, 8)), reps=1, seed=0)
    inputs = data[0].tensors[0][:64]
    stem = model.target.stem[1]
    assert stem.running_mean.abs().sum() == 0  # never trained: the initial statistics
    update_bn(model, [(inputs, None)])
    plain = model.export()
    with torch.no_grad():
        features = plain.stem[0](inputs)
    torch.testing.assert_close(stem.running_mean, features.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(stem.running_var, features.var(dim=(0, 2, 3)))
    assert stem.num_batches_tracked.item() == 1
    before = evaluate(model.export(), data[1])["loss"]
    assert before == evaluate(model.export(), data[1])["loss"]  # evaluation uses the recomputed statistics
