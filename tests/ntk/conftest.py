"""Fixtures of the ntk tests: a small MNIST-format file set made in a temporary folder."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` (uint8) as a gzip-compressed IDX file."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def make_mnist(root: Path, *, train: int = 400, test: int = 200, seed: int = 0) -> Path:
    """MNIST-layout files with blurred random 28×28 images, each digit a different mean pattern."""
    rng = np.random.default_rng(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    prototypes = rng.uniform(0, 255, size=(10, 28, 28))
    for split, count in (("train", train), ("t10k", test)):
        labels = np.arange(count) % 10
        images = np.clip(0.6 * prototypes[labels] + rng.uniform(0, 100, size=(count, 28, 28)), 0, 255)
        write_idx(raw / f"{split}-images-idx3-ubyte.gz", images.astype(np.uint8))
        write_idx(raw / f"{split}-labels-idx1-ubyte.gz", labels.astype(np.uint8))
    return root


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory) -> Path:
    """A data root with 400 training and 200 test images (40 and 20 per digit)."""
    return make_mnist(tmp_path_factory.mktemp("mnist"))
