"""MNIST and Fashion-MNIST from their original IDX files, in torchvision's raw layout.

The files live under a data root in the layout torchvision uses::

    <root>/MNIST/raw/train-images-idx3-ubyte[.gz]
    <root>/MNIST/raw/train-labels-idx1-ubyte[.gz]
    <root>/MNIST/raw/t10k-images-idx3-ubyte[.gz]
    <root>/MNIST/raw/t10k-labels-idx1-ubyte[.gz]
    <root>/FashionMNIST/raw/...   (the same four names)

Each file may be decompressed or gzip-compressed; the decompressed one wins when both
exist. The root is the ``data_root`` argument, else the ``QT_PENNYLANE_DATA``
environment variable, else a per-user cache folder (:func:`resolve_data_root`).
Nothing is downloaded.

Example:
    >>> images, labels = load_mnist("mnist", train=False)  # doctest: +SKIP
    >>> images.shape, images.dtype, labels.dtype  # doctest: +SKIP
    (torch.Size([10000, 28, 28]), torch.uint8, torch.int64)
"""
from __future__ import annotations

import gzip
import importlib
import math
import os
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import TensorDataset

from .._validation import check_choice, check_positive_int

__all__ = [
    "DATASETS",
    "DATA_ENV_VAR",
    "BACKENDS",
    "IdxFormatError",
    "DatasetNotFoundError",
    "resolve_data_root",
    "read_idx",
    "raw_files",
    "load_mnist",
    "mnist_tensors",
    "check_mnist_arrays",
]

DATA_ENV_VAR = "QT_PENNYLANE_DATA"
"""Environment variable naming the data root when no ``data_root`` is passed."""


class _DatasetInfo(NamedTuple):
    folder: str
    torchvision_class: str
    mean: float
    std: float


DATASETS: dict[str, _DatasetInfo] = {
    "mnist": _DatasetInfo("MNIST", "MNIST", 0.1307, 0.3081),
    "fashion-mnist": _DatasetInfo("FashionMNIST", "FashionMNIST", 0.2860, 0.3530),
}
"""Known datasets by name: their folder under the root, torchvision class, and the
pixel mean and standard deviation (of ``images / 255`` over the 60,000 training images,
rounded to 4 digits; MNIST's are the customary 0.1307 and 0.3081)."""

BACKENDS = ("auto", "torchvision", "idx")
"""Ways to read the files: torchvision if it imports (``auto``), torchvision only, or the direct reader."""

_SPLITS = {True: "train", False: "t10k"}

# IDX type codes (third byte of the magic number) and the big-endian numpy dtype each means.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


_CHUNK = 1 << 24
"""Bytes read at a time from an IDX file."""

IMAGE_SHAPE = (28, 28)
"""The shape of one MNIST / Fashion-MNIST image."""

N_CLASSES = 10
"""Labels run from 0 to ``N_CLASSES - 1``."""


class IdxFormatError(ValueError):
    """A file is not a valid IDX file (wrong magic number, truncated, too long), or not MNIST-shaped data."""


class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are not where the data root says they should be."""


def resolve_data_root(data_root: str | os.PathLike | None = None) -> Path:
    """Return the folder that holds ``MNIST/`` and ``FashionMNIST/``.

    The first of these that is given wins: ``data_root``; the environment variable
    ``QT_PENNYLANE_DATA`` (if set and not empty); ``$XDG_CACHE_HOME/qt_pennylane/data``
    (if ``XDG_CACHE_HOME`` is set and not empty); ``~/.cache/qt_pennylane/data``.
    The folder is not created and need not exist.

    Args:
        data_root: an explicit root, or ``None``.

    Returns:
        The root as a :class:`pathlib.Path`, with ``~`` expanded.

    Example:
        >>> resolve_data_root("/data")
        PosixPath('/data')
    """
    if data_root is not None:
        return Path(data_root).expanduser()
    from_env = os.environ.get(DATA_ENV_VAR)
    if from_env:
        return Path(from_env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    base = Path(cache).expanduser() if cache else Path.home() / ".cache"
    return base / "qt_pennylane" / "data"


def _open(path: Path):
    """Open ``path`` for binary reading, transparently un-gzipping it if it starts with gzip's magic."""
    handle = open(path, "rb")
    if handle.read(2) == b"\x1f\x8b":
        handle.seek(0)
        return gzip.GzipFile(fileobj=handle, mode="rb"), handle
    handle.seek(0)
    return handle, handle


def _read_exactly(stream, n_bytes: int, path: Path, what: str) -> bytearray:
    """``n_bytes`` from ``stream``, read in chunks: memory grows with what the file holds, not with what it claims."""
    data = bytearray()
    while len(data) < n_bytes:
        chunk = stream.read(min(n_bytes - len(data), _CHUNK))
        if not chunk:
            break
        data += chunk
    if len(data) < n_bytes:
        raise IdxFormatError(f"{path}: truncated IDX file: expected {n_bytes} bytes of {what}, found {len(data)}")
    return data


def _stored_size(path: Path, compressed: bool) -> int:
    """The file's size once decompressed: its size on disk, or gzip's ``ISIZE`` trailer (the size mod 2**32)."""
    if not compressed:
        return path.stat().st_size
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() < 18:  # a gzip header and trailer alone take 18 bytes
            raise IdxFormatError(f"{path}: corrupt or truncated gzip stream (only {handle.tell()} bytes)")
        handle.seek(-4, os.SEEK_END)
        return int.from_bytes(handle.read(4), "little")


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the format of the MNIST files), gzip-compressed or not.

    An IDX file starts with a magic number (two zero bytes, a type code such as
    ``0x08`` for unsigned bytes, and the number of dimensions), then each dimension
    as a big-endian int32, then the data in C order. Gzip compression is detected from
    the file's first bytes, not its name.

    The size the header claims is checked against the file before any of the data is
    read: the file's size on disk, or for a gzip file the decompressed size its trailer
    records (modulo 2**32). A header that claims more than the file holds is refused
    without allocating memory for it; a gzip file is then read in chunks, so memory grows
    with what it really holds.

    Args:
        path: the file.

    Returns:
        The data as a writable numpy array in native byte order (``uint8`` for MNIST).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IdxFormatError: (a ``ValueError``) the magic number is wrong, or the file is
            shorter or longer than its header says (checked before the data is read), or its
            gzip stream is corrupt.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte"
        >>> _ = path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 0, 9]))
        >>> read_idx(path)
        array([7, 0, 9], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    stream, handle = _open(path)
    try:
        with handle, stream:
            dtype, shape, n_bytes = _read_header(stream, path, compressed=stream is not handle)
            data = _read_exactly(stream, n_bytes, path, f"data for shape {shape}")
            extra = len(stream.read(1))
            if extra:
                raise IdxFormatError(
                    f"{path}: IDX file longer than its header says: "
                    f"expected {n_bytes} bytes of data for shape {shape}, found more"
                )
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip stream ({error})") from error
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    if dtype.byteorder == ">":
        array = array.astype(dtype.newbyteorder("="))
    return array


def _read_header(stream, path: Path, *, compressed: bool) -> tuple[np.dtype, tuple[int, ...], int]:
    """The data's dtype, shape and size in bytes from an IDX header, checked against the file's size.

    A header whose shape needs more (or fewer) bytes than the file holds is refused here,
    before any of the data is read.
    """
    magic = _read_exactly(stream, 4, path, "magic number")
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES or magic[3] == 0:
        raise IdxFormatError(
            f"{path}: not an IDX file: expected a magic number 00 00 <type> <ndim> with type in "
            f"{[hex(code) for code in _IDX_DTYPES]} and ndim >= 1, found {bytes(magic).hex(' ')}"
        )
    dtype, ndim = _IDX_DTYPES[magic[2]], magic[3]
    shape = tuple(int(d) for d in np.frombuffer(_read_exactly(stream, 4 * ndim, path, "dimensions"), ">i4"))
    if any(d < 0 for d in shape):
        raise IdxFormatError(f"{path}: invalid IDX header: negative dimension in shape {shape}")
    n_bytes = math.prod(shape) * dtype.itemsize
    claimed, stored = 4 + 4 * ndim + n_bytes, _stored_size(path, compressed)
    if compressed and claimed % 2**32 != stored:
        raise IdxFormatError(f"{path}: truncated or damaged gzip IDX file: the header claims shape {shape} "
                             f"({claimed} bytes), the gzip trailer records {stored} bytes (mod 2**32)")
    if not compressed and claimed > stored:
        raise IdxFormatError(f"{path}: truncated IDX file: the header claims shape {shape} ({claimed} bytes), "
                             f"the file holds {stored} bytes")
    if not compressed and claimed < stored:
        raise IdxFormatError(f"{path}: IDX file longer than its header says: shape {shape} takes {claimed} bytes, "
                             f"the file holds {stored} bytes")
    return dtype, shape, n_bytes


def _check_name(name: str) -> _DatasetInfo:
    return DATASETS[check_choice("name", name, DATASETS)]


def check_mnist_arrays(images: np.ndarray, labels: np.ndarray, images_path: Path, labels_path: Path) -> None:
    """Refuse files that are valid IDX but not MNIST-shaped: images ``(n, 28, 28)`` of bytes, ``n`` labels in 0–9.

    Raises:
        IdxFormatError: naming the file and what it holds instead.

    Example:
        >>> check_mnist_arrays(np.zeros((2, 10, 10), np.uint8), np.zeros(2, np.uint8), Path("img"), Path("lab"))
        Traceback (most recent call last):
        ...
        qt_pennylane.tasks.datasets.IdxFormatError: img: images must have shape (n, 28, 28) and dtype uint8, got shape (2, 10, 10) and dtype uint8
    """
    if images.ndim != 3 or tuple(images.shape[1:]) != IMAGE_SHAPE or images.dtype != np.uint8:
        raise IdxFormatError(f"{images_path}: images must have shape (n, 28, 28) and dtype uint8, got shape "
                             f"{tuple(images.shape)} and dtype {images.dtype}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise IdxFormatError(f"{labels_path}: labels must have shape (n,) and dtype uint8, got shape "
                             f"{tuple(labels.shape)} and dtype {labels.dtype}")
    if labels.shape[0] != images.shape[0]:
        raise IdxFormatError(f"{labels_path}: {labels.shape[0]} labels for the {images.shape[0]} images of "
                             f"{images_path}")
    bad = np.flatnonzero(labels >= N_CLASSES)
    if bad.size:
        raise IdxFormatError(f"{labels_path}: labels must be in 0..{N_CLASSES - 1}, got {int(labels[bad[0]])} "
                             f"at index {int(bad[0])} ({bad.size} such labels)")


def _file_stems(train: bool) -> tuple[str, str]:
    split = _SPLITS[bool(train)]
    return f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"


def raw_files(name: str = "mnist", *, train: bool, data_root: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Locate the image and label files of one split, preferring decompressed files over ``.gz``.

    Args:
        name: a key of :data:`DATASETS` (``"mnist"`` or ``"fashion-mnist"``).
        train: the 60,000-image training split if true, else the 10,000-image test split.
        data_root: the data root; see :func:`resolve_data_root`.

    Returns:
        ``(images_path, labels_path)``.

    Raises:
        ValueError: unknown ``name``.
        DatasetNotFoundError: (a ``FileNotFoundError``) a file is missing in both forms;
            the message gives the folder searched and the files expected.

    Example:
        >>> raw_files("mnist", train=True, data_root="/data")  # doctest: +SKIP
        (PosixPath('/data/MNIST/raw/train-images-idx3-ubyte'), PosixPath('/data/MNIST/raw/train-labels-idx1-ubyte'))
    """
    info = _check_name(name)
    root = resolve_data_root(data_root)
    raw = root / info.folder / "raw"
    found, missing = [], []
    for stem in _file_stems(train):
        candidates = [raw / stem, raw / f"{stem}.gz"]
        hit = next((path for path in candidates if path.is_file()), None)
        found.append(hit)
        if hit is None:
            missing.append(f"{stem} (or {stem}.gz)")
    if missing:
        raise DatasetNotFoundError(
            f"{name} {_SPLITS[bool(train)]} data not found: looked in {raw} for {', '.join(missing)}. "
            f"Put the original IDX files in <data root>/{info.folder}/raw/ and point --data-root or the "
            f"{DATA_ENV_VAR} environment variable at the data root (now {root})."
        )
    return found[0], found[1]


def _import_torchvision_datasets():
    """Return ``torchvision.datasets``, or raise ImportError saying how to get it."""
    try:
        return importlib.import_module("torchvision.datasets")
    except Exception as error:  # a torchvision built for another torch fails with OSError/RuntimeError too
        raise ImportError(
            f"backend='torchvision' needs torchvision, which failed to import ({type(error).__name__}: {error}); "
            "install the `vision` extra (pip install 'qt_pennylane[vision]') with a torchvision matching your torch, "
            "or use backend='idx'"
        ) from error


def _load_torchvision(datasets_module, info: _DatasetInfo, root: Path, train: bool, images_path: Path,
                      labels_path: Path):
    for path in (images_path, labels_path):  # the header against the file's size, before torchvision reads it
        with open(path, "rb") as handle:
            _read_header(handle, path, compressed=False)
    dataset = getattr(datasets_module, info.torchvision_class)(str(root), train=train, download=False)
    images, labels = dataset.data.numpy(), dataset.targets.numpy().astype(np.uint8)
    check_mnist_arrays(images, labels, images_path, labels_path)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def load_mnist(
    name: str = "mnist",
    *,
    train: bool,
    data_root: str | os.PathLike | None = None,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load one split of MNIST or Fashion-MNIST as raw tensors.

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"``.
        train: the training split (60,000 images) if true, else the test split (10,000).
        data_root: the data root; see :func:`resolve_data_root`.
        backend: ``"auto"`` uses ``torchvision.datasets`` when torchvision imports and the
            decompressed files are present (torchvision reads only those), else the direct
            reader; ``"torchvision"`` requires torchvision; ``"idx"`` uses :func:`read_idx`.
            Both give identical tensors.

    Returns:
        ``(images, labels)``: ``uint8`` images of shape ``(n, 28, 28)`` and ``int64``
        labels of shape ``(n,)`` with values 0 to 9.

    Raises:
        ValueError: unknown ``name`` or ``backend``.
        IdxFormatError: (a ``ValueError``) a damaged file, images that are not 28×28 bytes, a
            label count that differs from the image count, or a label outside 0–9.
        DatasetNotFoundError: the files are missing (the message says where it looked).
        ImportError: ``backend="torchvision"`` and torchvision does not import.

    Example:
        >>> images, labels = load_mnist("fashion-mnist", train=False, backend="idx")  # doctest: +SKIP
        >>> images.shape, labels.shape  # doctest: +SKIP
        (torch.Size([10000, 28, 28]), torch.Size([10000]))
    """
    info = _check_name(name)
    check_choice("backend", backend, BACKENDS)
    images_path, labels_path = raw_files(name, train=train, data_root=data_root)
    root = resolve_data_root(data_root)
    train = bool(train)
    if backend == "torchvision":
        datasets_module = _import_torchvision_datasets()
        compressed = [str(path) for path in (images_path, labels_path) if path.suffix == ".gz"]
        if compressed:
            raise DatasetNotFoundError(
                f"backend='torchvision' reads only decompressed files, found only {', '.join(compressed)}; "
                "decompress them (gunzip -k) or use backend='idx'"
            )
        return _load_torchvision(datasets_module, info, root, train, images_path, labels_path)
    if backend == "auto" and images_path.suffix != ".gz" and labels_path.suffix != ".gz":
        try:
            datasets_module = _import_torchvision_datasets()
        except ImportError:
            pass
        else:
            return _load_torchvision(datasets_module, info, root, train, images_path, labels_path)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    check_mnist_arrays(images, labels, images_path, labels_path)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def mnist_tensors(
    name: str = "mnist",
    *,
    train: bool,
    data_root: str | os.PathLike | None = None,
    limit: int | None = None,
    normalize: bool = True,
    backend: str = "auto",
) -> TensorDataset:
    """Load one split as a ``TensorDataset`` of float images ``(n, 1, 28, 28)`` and int64 labels.

    Pixels become ``images / 255``; with ``normalize`` they are then standardized with the
    dataset's fixed *training-set* statistics from :data:`DATASETS`
    (``(x - mean) / std``; MNIST 0.1307 / 0.3081, Fashion-MNIST 0.2860 / 0.3530), the same
    constants for the training and the test split. Everything stays in memory
    (60,000 float32 images take 188 MB).

    Args:
        name: ``"mnist"`` or ``"fashion-mnist"``.
        train: the training split if true, else the test split.
        data_root: the data root; see :func:`resolve_data_root`.
        limit: keep only the first ``limit`` examples (for quick runs); ``None`` keeps all.
        normalize: standardize as above; if false, pixels stay in ``[0, 1]``.
        backend: see :func:`load_mnist`.

    Returns:
        ``TensorDataset(images, labels)``.

    Raises:
        ValueError: unknown ``name`` or ``backend``, ``limit`` not a positive int, or a file
            that is not MNIST-shaped (see :func:`load_mnist`).
        DatasetNotFoundError: the files are missing.

    Example:
        >>> data = mnist_tensors("mnist", train=False, limit=256)  # doctest: +SKIP
        >>> data.tensors[0].shape, data.tensors[1].dtype  # doctest: +SKIP
        (torch.Size([256, 1, 28, 28]), torch.int64)
    """
    info = _check_name(name)
    check_positive_int("limit", limit, allow_none=True)
    images, labels = load_mnist(name, train=train, data_root=data_root, backend=backend)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    pixels = images.unsqueeze(1).to(torch.float32).div_(255.0)
    if normalize:
        pixels.sub_(info.mean).div_(info.std)
    return TensorDataset(pixels, labels.clone())
