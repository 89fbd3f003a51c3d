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
import os
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import TensorDataset

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


class IdxFormatError(ValueError):
    """A file is not a valid IDX file: wrong magic number, or truncated, or too long."""


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
    buffer = bytearray(n_bytes)
    view = memoryview(buffer)
    filled = 0
    while filled < n_bytes:
        got = stream.readinto(view[filled:])
        if not got:
            break
        filled += got
    if filled < n_bytes:
        raise IdxFormatError(f"{path}: truncated IDX file: expected {n_bytes} bytes of {what}, found {filled}")
    return buffer


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the format of the MNIST files), gzip-compressed or not.

    An IDX file starts with a magic number (two zero bytes, a type code such as
    ``0x08`` for unsigned bytes, and the number of dimensions), then each dimension
    as a big-endian int32, then the data in C order. Gzip compression is detected from
    the file's first bytes, not its name.

    Args:
        path: the file.

    Returns:
        The data as a writable numpy array in native byte order (``uint8`` for MNIST).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IdxFormatError: (a ``ValueError``) the magic number is wrong, or the file is
            shorter or longer than its header says, or its gzip stream is corrupt.

    Example:
        >>> read_idx(raw_files("mnist", train=False)[1]).shape  # doctest: +SKIP
        (10000,)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    stream, handle = _open(path)
    try:
        with handle, stream:
            magic = _read_exactly(stream, 4, path, "magic number")
            if magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES or magic[3] == 0:
                raise IdxFormatError(
                    f"{path}: not an IDX file: expected a magic number 00 00 <type> <ndim> with type in "
                    f"{[hex(code) for code in _IDX_DTYPES]} and ndim >= 1, found {bytes(magic).hex(' ')}"
                )
            dtype = _IDX_DTYPES[magic[2]]
            ndim = magic[3]
            shape = tuple(int(d) for d in np.frombuffer(_read_exactly(stream, 4 * ndim, path, "dimensions"), ">i4"))
            if any(d < 0 for d in shape):
                raise IdxFormatError(f"{path}: invalid IDX header: negative dimension in shape {shape}")
            n_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
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


def _check_name(name: str) -> _DatasetInfo:
    if name not in DATASETS:
        raise ValueError(f"name={name!r} is not a known dataset; expected one of {sorted(DATASETS)}")
    return DATASETS[name]


def _check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is not a known backend; expected one of {list(BACKENDS)}")
    return backend


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


def _load_torchvision(datasets_module, info: _DatasetInfo, root: Path, train: bool):
    dataset = getattr(datasets_module, info.torchvision_class)(str(root), train=train, download=False)
    return dataset.data.to(torch.uint8), dataset.targets.to(torch.int64)


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
        ValueError: unknown ``name`` or ``backend``, or image and label counts differ.
        DatasetNotFoundError: the files are missing (the message says where it looked).
        ImportError: ``backend="torchvision"`` and torchvision does not import.

    Example:
        >>> images, labels = load_mnist("fashion-mnist", train=False, backend="idx")  # doctest: +SKIP
        >>> images.shape, labels.shape  # doctest: +SKIP
        (torch.Size([10000, 28, 28]), torch.Size([10000]))
    """
    info = _check_name(name)
    _check_backend(backend)
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
        return _load_torchvision(datasets_module, info, root, train)
    if backend == "auto" and images_path.suffix != ".gz" and labels_path.suffix != ".gz":
        try:
            datasets_module = _import_torchvision_datasets()
        except ImportError:
            pass
        else:
            return _load_torchvision(datasets_module, info, root, train)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{name}: expected images of shape (n, 28, 28) and labels of shape (n,), "
            f"found {images.shape} in {images_path} and {labels.shape} in {labels_path}"
        )
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
        ValueError: unknown ``name`` or ``backend``, or ``limit`` is not a positive integer.
        DatasetNotFoundError: the files are missing.

    Example:
        >>> data = mnist_tensors("mnist", train=False, limit=256)  # doctest: +SKIP
        >>> data.tensors[0].shape, data.tensors[1].dtype  # doctest: +SKIP
        (torch.Size([256, 1, 28, 28]), torch.int64)
    """
    info = _check_name(name)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"limit={limit!r} must be a positive integer or None")
    images, labels = load_mnist(name, train=train, data_root=data_root, backend=backend)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    pixels = images.unsqueeze(1).to(torch.float32).div_(255.0)
    if normalize:
        pixels.sub_(info.mean).div_(info.std)
    return TensorDataset(pixels, labels.clone())
