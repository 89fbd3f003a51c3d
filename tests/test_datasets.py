"""Tests for qt_pennylane.datasets on the shared MNIST / Fashion-MNIST copy."""
from __future__ import annotations

import gzip
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from qt_pennylane.tasks import datasets
from qt_pennylane.tasks.datasets import (
    DATASETS,
    DatasetNotFoundError,
    IdxFormatError,
    load_mnist,
    mnist_tensors,
    raw_files,
    read_idx,
    resolve_data_root,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NAMES = sorted(DATASETS)


@pytest.fixture(scope="module")
def data_root() -> Path:
    """The shared read-only copy of the original IDX files (present in CI)."""
    if not (SHARED_DATA / "MNIST" / "raw").is_dir():
        pytest.fail(f"shared data not found at {SHARED_DATA}; the tests need <repo>/../shared/data")
    return SHARED_DATA


@pytest.fixture(scope="module")
def train_sets(data_root):
    """Each dataset's 60,000 training examples, read once per module."""
    return {name: load_mnist(name, train=True, data_root=data_root, backend="idx") for name in NAMES}


@pytest.fixture(scope="module")
def test_sets(data_root):
    return {name: load_mnist(name, train=False, data_root=data_root, backend="idx") for name in NAMES}


def _copy_raw(data_root: Path, tmp_path: Path, folder: str, names: list[str]) -> Path:
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    for name in names:
        shutil.copyfile(data_root / folder / "raw" / name, raw / name)
    return tmp_path


# ---------------------------------------------------------------- shapes, dtypes, labels


@pytest.mark.parametrize("name", NAMES)
def test_train_split_shapes_dtypes_and_labels(train_sets, name):
    images, labels = train_sets[name]
    assert images.shape == (60000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (60000,) and labels.dtype == torch.int64
    counts = torch.bincount(labels, minlength=10)
    assert counts.numel() == 10 and bool((counts > 0).all())
    if name == "mnist":
        assert counts[0].item() == 5923
        assert counts.tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    else:
        assert counts.tolist() == [6000] * 10


@pytest.mark.parametrize("name", NAMES)
def test_test_split_shapes_dtypes_and_labels(test_sets, name):
    images, labels = test_sets[name]
    assert images.shape == (10000, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (10000,) and labels.dtype == torch.int64
    counts = torch.bincount(labels, minlength=10)
    assert counts.numel() == 10 and int(counts.sum()) == 10000 and bool((counts > 0).all())


@pytest.mark.parametrize("name", NAMES)
def test_normalization_constants_are_training_set_statistics(train_sets, name):
    counts = torch.bincount(train_sets[name][0].flatten(), minlength=256).numpy()  # a pixel histogram: fast
    values = np.arange(256) / 255
    mean = (counts * values).sum() / counts.sum()
    std = np.sqrt((counts * (values - mean) ** 2).sum() / counts.sum())
    assert mean == pytest.approx(DATASETS[name].mean, abs=1e-4)
    assert std == pytest.approx(DATASETS[name].std, abs=1e-4)


def test_datasets_differ(test_sets):
    assert not torch.equal(test_sets["mnist"][0], test_sets["fashion-mnist"][0])


# ---------------------------------------------------------------- gz, decompressed, backends


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stem", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_gz_and_decompressed_agree(data_root, name, stem):
    raw = data_root / DATASETS[name].folder / "raw"
    plain, packed = read_idx(raw / stem), read_idx(raw / f"{stem}.gz")
    assert plain.dtype == packed.dtype == np.uint8
    np.testing.assert_array_equal(plain, packed)


def test_decompressed_preferred_and_gz_fallback(data_root, tmp_path, test_sets):
    names = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"]
    root = _copy_raw(data_root, tmp_path, "MNIST", names)
    images_path, labels_path = raw_files("mnist", train=False, data_root=root)
    assert images_path.name == "t10k-images-idx3-ubyte.gz"
    assert labels_path.name == "t10k-labels-idx1-ubyte"
    images, labels = load_mnist("mnist", train=False, data_root=root)
    assert torch.equal(images, test_sets["mnist"][0])
    assert torch.equal(labels, test_sets["mnist"][1])


def _torchvision_or_skip():
    try:
        import torchvision.datasets  # noqa: F401
    except Exception as error:  # CPU torch here: torchvision's wheels fail to import
        pytest.skip(f"torchvision does not import: {error}")


@pytest.mark.parametrize("name", NAMES)
def test_torchvision_and_direct_reader_agree(data_root, test_sets, name):
    _torchvision_or_skip()
    images, labels = load_mnist(name, train=False, data_root=data_root, backend="torchvision")
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert torch.equal(images, test_sets[name][0])
    assert torch.equal(labels, test_sets[name][1])


def test_auto_falls_back_without_torchvision(data_root, test_sets, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)  # makes the import fail
    images, labels = load_mnist("mnist", train=False, data_root=data_root, backend="auto")
    assert torch.equal(images, test_sets["mnist"][0])
    assert torch.equal(labels, test_sets["mnist"][1])
    with pytest.raises(ImportError, match=r"backend='torchvision' needs torchvision.*`vision` extra"):
        load_mnist("mnist", train=False, data_root=data_root, backend="torchvision")


# ---------------------------------------------------------------- mnist_tensors


@pytest.mark.parametrize("name", NAMES)
def test_mnist_tensors(data_root, test_sets, name):
    dataset = mnist_tensors(name, train=False, data_root=data_root, limit=100)
    images, labels = dataset.tensors
    assert len(dataset) == 100
    assert images.shape == (100, 1, 28, 28) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    raw_images, raw_labels = test_sets[name]
    expected = (raw_images[:100].unsqueeze(1).float() / 255 - DATASETS[name].mean) / DATASETS[name].std
    torch.testing.assert_close(images, expected)
    assert torch.equal(labels, raw_labels[:100])


def test_mnist_tensors_unnormalized_and_full(data_root):
    images, labels = mnist_tensors("mnist", train=False, data_root=data_root, normalize=False).tensors
    assert images.shape == (10000, 1, 28, 28) and labels.shape == (10000,)
    assert images.min().item() == 0.0 and images.max().item() == 1.0


@pytest.mark.parametrize("limit", [0, -3, 2.5, True])
def test_mnist_tensors_bad_limit(data_root, limit):
    with pytest.raises(ValueError, match=rf"limit={limit!r} must be a positive integer"):
        mnist_tensors("mnist", train=False, data_root=data_root, limit=limit)


# ---------------------------------------------------------------- errors


def test_unknown_name_and_backend(data_root):
    with pytest.raises(ValueError, match=r"name='cifar10' is not a known dataset.*'fashion-mnist', 'mnist'"):
        load_mnist("cifar10", train=True, data_root=data_root)
    with pytest.raises(ValueError, match=r"backend='tf' is not a known backend.*'auto', 'torchvision', 'idx'"):
        load_mnist("mnist", train=True, data_root=data_root, backend="tf")


def test_wrong_magic(data_root, tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    shutil.copyfile(data_root / "MNIST" / "raw" / path.name, path)
    with path.open("r+b") as handle:
        handle.write(b"\x12\x34")
    with pytest.raises(IdxFormatError, match=rf"{path}: not an IDX file: expected a magic number.*found 12 34 08 01"):
        read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(path)


def test_truncated_file(data_root, tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte"
    shutil.copyfile(data_root / "MNIST" / "raw" / path.name, path)
    with path.open("r+b") as handle:
        handle.truncate(16 + 1000)
    with pytest.raises(IdxFormatError, match=r"truncated IDX file: expected 7840000 bytes of data .* found 1000"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(IdxFormatError, match=r"expected 12 bytes of dimensions, found 2"):
        read_idx(path)


def test_truncated_gzip(data_root, tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    data = (data_root / "MNIST" / "raw" / path.name).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IdxFormatError, match=rf"{path}: .*truncated"):
        read_idx(path)


def test_file_longer_than_header(data_root, tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes((data_root / "MNIST" / "raw" / path.name).read_bytes() + b"\x00")
    with pytest.raises(IdxFormatError, match="longer than its header says"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"IDX file not found: {tmp_path / 'nope'}"):
        read_idx(tmp_path / "nope")


def test_missing_root_says_where_it_looked(tmp_path):
    root = tmp_path / "nowhere"
    expected_folder = root / "FashionMNIST" / "raw"
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("fashion-mnist", train=True, data_root=root)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(expected_folder) in message
    assert "train-images-idx3-ubyte (or train-images-idx3-ubyte.gz)" in message
    assert "train-labels-idx1-ubyte (or train-labels-idx1-ubyte.gz)" in message
    assert "--data-root" in message and "QT_PENNYLANE_DATA" in message


def test_missing_labels_only(data_root, tmp_path):
    root = _copy_raw(data_root, tmp_path, "MNIST", ["t10k-images-idx3-ubyte.gz"])
    with pytest.raises(DatasetNotFoundError, match=r"looked in .*MNIST/raw for t10k-labels-idx1-ubyte \(or"):
        load_mnist("mnist", train=False, data_root=root, backend="idx")


def test_read_idx_other_dtypes(tmp_path):
    values = np.arange(-6, 6, dtype=">i4").reshape(3, 4)
    path = tmp_path / "ints.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(b"\x00\x00\x0c\x02" + struct.pack(">ii", 3, 4) + values.tobytes())
    array = read_idx(path)
    assert array.dtype == np.int32 and array.dtype.isnative
    np.testing.assert_array_equal(array, values)


# ---------------------------------------------------------------- data root resolution


def test_resolve_data_root_order(tmp_path, monkeypatch):
    monkeypatch.setenv("QT_PENNYLANE_DATA", str(tmp_path / "from_env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_data_root(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_root() == tmp_path / "from_env"
    monkeypatch.delenv("QT_PENNYLANE_DATA")
    assert resolve_data_root() == tmp_path / "xdg" / "qt_pennylane" / "data"
    monkeypatch.setenv("XDG_CACHE_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_data_root() == tmp_path / "home" / ".cache" / "qt_pennylane" / "data"


def test_env_var_is_used_by_loader(data_root, test_sets, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(data_root))
    images, labels = load_mnist("mnist", train=False)
    assert torch.equal(labels, test_sets["mnist"][1])
