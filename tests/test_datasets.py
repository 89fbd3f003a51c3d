"""Tests for qt_pennylane.tasks.datasets on the small subsets shipped in tests/data and on made-up IDX files.

The checks that need the full 70,000-image files (class counts, the normalization constants)
run in ``benchmarks/datasets.py``; its committed result is checked here.
"""
from __future__ import annotations

import gzip
import json
import shutil
import struct
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import TEST_DATA
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

NAMES = sorted(DATASETS)
SHIPPED = {"mnist": {True: 512, False: 256}, "fashion-mnist": {True: 64, False: 64}}
FULL_DATA_CHECKS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "datasets.json"


def write_idx(path: Path, array: np.ndarray, *, code: int = 0x08, gz: bool = False) -> Path:
    """Write ``array`` as an IDX file (big-endian header, then the data), gzip-compressed if asked."""
    data = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_split(root: Path, images: np.ndarray, labels: np.ndarray, *, folder: str = "MNIST") -> Path:
    """An MNIST-layout test split ``t10k-*`` under ``root``."""
    write_idx(root / folder / "raw" / "t10k-images-idx3-ubyte", images)
    write_idx(root / folder / "raw" / "t10k-labels-idx1-ubyte", labels)
    return root


@pytest.fixture(scope="module")
def subsets():
    """Every shipped split, read once per module: ``{(name, train): (images, labels)}``."""
    return {(name, train): load_mnist(name, train=train, data_root=TEST_DATA, backend="idx")
            for name in NAMES for train in (True, False)}


@pytest.fixture
def decompressed_root(data_root, tmp_path) -> Path:
    """A copy of the shipped MNIST test split with both the ``.gz`` and the decompressed files."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        packed = data_root / "MNIST" / "raw" / f"{stem}.gz"
        shutil.copyfile(packed, raw / packed.name)
        (raw / stem).write_bytes(gzip.decompress(packed.read_bytes()))
    return tmp_path


# ---------------------------------------------------------------- the shipped subsets and the full data


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("train", [True, False])
def test_shipped_subsets_are_mnist_shaped(subsets, name, train):
    images, labels = subsets[name, train]
    count = SHIPPED[name][train]
    assert images.shape == (count, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (count,) and labels.dtype == torch.int64
    assert int(labels.min()) >= 0 and int(labels.max()) <= 9
    assert images.float().std() > 50  # real digits and garments, not blank images


def test_shipped_mnist_training_subset_holds_every_digit(subsets):
    counts = torch.bincount(subsets["mnist", True][1], minlength=10)
    assert counts.tolist() == [50, 69, 52, 52, 52, 41, 46, 54, 40, 56]  # the first 512 labels of MNIST


def test_committed_full_data_checks_match_the_constants_and_the_subsets():
    """``benchmarks/datasets.py`` read the full files: the stored constants and the shipped subsets agree with them."""
    result = json.loads(FULL_DATA_CHECKS.read_text())
    for name in NAMES:
        train, test = result[name]["train"], result[name]["test"]
        assert train["images_shape"] == [60000, 28, 28] and test["images_shape"] == [10000, 28, 28]
        assert sum(train["class_counts"]) == 60000 and sum(test["class_counts"]) == 10000
        assert train["pixel_mean"] == pytest.approx(DATASETS[name].mean, abs=5e-5)
        assert train["pixel_std"] == pytest.approx(DATASETS[name].std, abs=5e-5)
        for split, record in (("train", train), ("test", test)):
            assert record["subset_examples"] == SHIPPED[name][split == "train"]
            assert record["subset_is_the_first_examples"] is True
            assert list(record["gz_equals_decompressed"].values()) == [True, True]
    assert result["mnist"]["train"]["class_counts"] == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert result["fashion-mnist"]["train"]["class_counts"] == [6000] * 10


def test_datasets_differ(subsets):
    assert not torch.equal(subsets["mnist", False][0][:64], subsets["fashion-mnist", False][0])


# ---------------------------------------------------------------- gz, decompressed, backends


@pytest.mark.parametrize("stem", ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"])
def test_gz_and_decompressed_agree(decompressed_root, stem):
    raw = decompressed_root / "MNIST" / "raw"
    plain, packed = read_idx(raw / stem), read_idx(raw / f"{stem}.gz")
    assert plain.dtype == packed.dtype == np.uint8 and plain.shape[0] == 256
    np.testing.assert_array_equal(plain, packed)


def test_decompressed_preferred_and_gz_fallback(decompressed_root, subsets):
    (decompressed_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte").unlink()
    (decompressed_root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").unlink()
    images_path, labels_path = raw_files("mnist", train=False, data_root=decompressed_root)
    assert images_path.name == "t10k-images-idx3-ubyte.gz"
    assert labels_path.name == "t10k-labels-idx1-ubyte"
    images, labels = load_mnist("mnist", train=False, data_root=decompressed_root)
    assert torch.equal(images, subsets["mnist", False][0])
    assert torch.equal(labels, subsets["mnist", False][1])


def _torchvision_or_skip():
    try:
        import torchvision.datasets  # noqa: F401
    except Exception as error:  # CPU torch here: torchvision's wheels fail to import
        pytest.skip(f"torchvision does not import: {error}")


def test_torchvision_and_direct_reader_agree(decompressed_root, subsets):
    _torchvision_or_skip()
    images, labels = load_mnist("mnist", train=False, data_root=decompressed_root, backend="torchvision")
    assert images.dtype == torch.uint8 and labels.dtype == torch.int64
    assert torch.equal(images, subsets["mnist", False][0])
    assert torch.equal(labels, subsets["mnist", False][1])


def test_auto_falls_back_without_torchvision(decompressed_root, subsets, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision.datasets", None)  # makes the import fail
    images, labels = load_mnist("mnist", train=False, data_root=decompressed_root, backend="auto")
    assert torch.equal(images, subsets["mnist", False][0])
    assert torch.equal(labels, subsets["mnist", False][1])
    with pytest.raises(ImportError, match=r"backend='torchvision' needs torchvision.*`vision` extra"):
        load_mnist("mnist", train=False, data_root=decompressed_root, backend="torchvision")


# ---------------------------------------------------------------- mnist_tensors


@pytest.mark.parametrize("name", NAMES)
def test_mnist_tensors(data_root, subsets, name):
    dataset = mnist_tensors(name, train=False, data_root=data_root, limit=50)
    images, labels = dataset.tensors
    assert len(dataset) == 50
    assert images.shape == (50, 1, 28, 28) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    raw_images, raw_labels = subsets[name, False]
    expected = (raw_images[:50].unsqueeze(1).float() / 255 - DATASETS[name].mean) / DATASETS[name].std
    torch.testing.assert_close(images, expected)
    assert torch.equal(labels, raw_labels[:50])


def test_mnist_tensors_unnormalized_and_full(data_root):
    images, labels = mnist_tensors("mnist", train=False, data_root=data_root, normalize=False).tensors
    assert images.shape == (256, 1, 28, 28) and labels.shape == (256,)
    assert images.min().item() == 0.0 and images.max().item() == 1.0


@pytest.mark.parametrize("limit", [0, -5, 2.5, True])
def test_mnist_tensors_bad_limit(data_root, limit):
    with pytest.raises(ValueError, match=rf"^limit must be a positive int or None, got {limit!r}$"):
        mnist_tensors("mnist", train=False, data_root=data_root, limit=limit)


# ---------------------------------------------------------------- errors


def test_unknown_name_and_backend(data_root):
    with pytest.raises(ValueError, match=r"^name must be one of \['fashion-mnist', 'mnist'\], got 'cifar10'$"):
        load_mnist("cifar10", train=True, data_root=data_root)
    with pytest.raises(ValueError, match=r"^backend must be one of \['auto', 'idx', 'torchvision'\], got 'tf'$"):
        load_mnist("mnist", train=True, data_root=data_root, backend="tf")


def test_wrong_magic(tmp_path):
    path = write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(5, dtype=np.uint8))
    with path.open("r+b") as handle:
        handle.write(b"\x12\x34")
    with pytest.raises(IdxFormatError, match=rf"{path}: not an IDX file: expected a magic number.*found 12 34 08 01"):
        read_idx(path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello world")
    with pytest.raises(IdxFormatError, match="not an IDX file"):
        read_idx(path)


def test_truncated_file(tmp_path):
    path = write_idx(tmp_path / "images", np.zeros((10, 28, 28), np.uint8))
    with path.open("r+b") as handle:
        handle.truncate(16 + 1000)
    with pytest.raises(IdxFormatError, match=r"truncated IDX file: the header claims shape \(10, 28, 28\) "
                                             r"\(7856 bytes\), the file holds 1016 bytes"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(IdxFormatError, match=r"expected 12 bytes of dimensions, found 2"):
        read_idx(path)


def test_truncated_gzip(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.arange(200, dtype=np.uint8) % 10, gz=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(IdxFormatError, match=rf"{path}: .*truncated"):
        read_idx(path)


def test_file_longer_than_header(tmp_path):
    path = write_idx(tmp_path / "labels", np.arange(5, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(IdxFormatError, match=r"longer than its header says: shape \(5,\) takes 13 bytes, "
                                             r"the file holds 14 bytes"):
        read_idx(path)
    packed = write_idx(tmp_path / "labels.gz", np.arange(5, dtype=np.uint8), gz=True)
    raw = gzip.decompress(packed.read_bytes())
    packed.write_bytes(gzip.compress(raw + b"\x00"))
    with pytest.raises(IdxFormatError, match=r"truncated or damaged gzip IDX file: the header claims shape \(5,\) "
                                             r"\(13 bytes\), the gzip trailer records 14 bytes"):
        read_idx(packed)


def _header_claiming(count: int) -> bytes:
    return b"\x00\x00\x08\x03" + struct.pack(">iii", count, 28, 28) + bytes(784 * 3)


@pytest.mark.parametrize("gz", [False, True])
def test_a_header_claiming_2_31_images_is_refused_before_memory_is_allocated(tmp_path, gz):
    path = tmp_path / ("images.gz" if gz else "images")
    path.write_bytes(gzip.compress(_header_claiming(2**31 - 1)) if gz else _header_claiming(2**31 - 1))
    claimed = 16 + (2**31 - 1) * 784
    tracemalloc.start()
    try:
        expected = (rf"truncated or damaged gzip IDX file: the header claims shape \(2147483647, 28, 28\) "
                    rf"\({claimed} bytes\), the gzip trailer records 2368 bytes" if gz else
                    rf"truncated IDX file: the header claims shape \(2147483647, 28, 28\) \({claimed} bytes\), "
                    rf"the file holds 2368 bytes")
        with pytest.raises(IdxFormatError, match=expected):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # the 1.7 TB the header claims were never requested


def test_a_gzip_trailer_forged_to_match_the_header_is_read_in_bounded_chunks(tmp_path):
    claimed = 16 + (2**31 - 1) * 784
    packed = bytearray(gzip.compress(_header_claiming(2**31 - 1)))
    packed[-4:] = (claimed % 2**32).to_bytes(4, "little")  # ISIZE now agrees with the header
    path = tmp_path / "images.gz"
    path.write_bytes(bytes(packed))
    tracemalloc.start()
    try:
        with pytest.raises(IdxFormatError, match=rf"{path}: corrupt or truncated gzip stream"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # one chunk at most, not the 1.7 TB claimed


def test_images_that_are_not_28_by_28_are_refused_at_load_time(tmp_path):
    root = write_split(tmp_path, np.zeros((4, 10, 10), np.uint8), np.zeros(4, np.uint8))
    images_path = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    with pytest.raises(IdxFormatError, match=rf"^{images_path}: images must have shape \(n, 28, 28\) and dtype uint8, "
                                             r"got shape \(4, 10, 10\) and dtype uint8$"):
        load_mnist("mnist", train=False, data_root=root)
    with pytest.raises(IdxFormatError, match=r"images must have shape \(n, 28, 28\) and dtype uint8, got shape "
                                             r"\(4, 28, 28\) and dtype int32"):
        write_idx(images_path, np.zeros((4, 28, 28), ">i4"), code=0x0C)
        load_mnist("mnist", train=False, data_root=root)


def test_labels_outside_0_to_9_are_refused_at_load_time(tmp_path):
    root = write_split(tmp_path, np.zeros((4, 28, 28), np.uint8), np.array([1, 2, 200, 255], np.uint8))
    labels_path = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    with pytest.raises(IdxFormatError, match=rf"^{labels_path}: labels must be in 0\.\.9, got 200 at index 2 "
                                             r"\(2 such labels\)$"):
        mnist_tensors("mnist", train=False, data_root=root)


def test_label_count_must_match_the_image_count(tmp_path):
    root = write_split(tmp_path, np.zeros((4, 28, 28), np.uint8), np.zeros(3, np.uint8))
    with pytest.raises(IdxFormatError, match=r"t10k-labels-idx1-ubyte: 3 labels for the 4 images of .*t10k-images"):
        load_mnist("mnist", train=False, data_root=root)


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


def test_missing_labels_only(decompressed_root):
    for path in (decompressed_root / "MNIST" / "raw").glob("t10k-labels*"):
        path.unlink()
    with pytest.raises(DatasetNotFoundError, match=r"looked in .*MNIST/raw for t10k-labels-idx1-ubyte \(or"):
        load_mnist("mnist", train=False, data_root=decompressed_root, backend="idx")


def test_read_idx_other_dtypes(tmp_path):
    values = np.arange(-6, 6, dtype=">i4").reshape(3, 4)
    array = read_idx(write_idx(tmp_path / "ints.gz", values, code=0x0C, gz=True))
    assert array.dtype == np.int32 and array.dtype.isnative
    np.testing.assert_array_equal(array, values)


def test_read_idx_returns_a_writable_array(tmp_path):
    array = read_idx(write_idx(tmp_path / "bytes", np.arange(4, dtype=np.uint8)))
    array[0] = 9
    assert array.tolist() == [9, 1, 2, 3]


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


def test_env_var_is_used_by_loader(data_root, subsets, monkeypatch):
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(data_root))
    images, labels = load_mnist("mnist", train=False)
    assert torch.equal(labels, subsets["mnist", False][1])
