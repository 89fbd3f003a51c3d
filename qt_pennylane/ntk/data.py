"""Two MNIST digits as the paper's binary task (the authors' ``process_data``).

From one split, the images of the two digits are shuffled (a numpy Generator), the first
``n/2`` of each digit kept, standardized with the mean and standard deviation of those ``n``
images' pixels (one scalar each), and each image scaled to unit Euclidean norm. Labels are ±1:
the first digit −1, the second +1 (``digits=(8, 9)`` gives 8 → −1, 9 → +1, as the authors'
``2·onehot[:, 0] − 1``); the +1 class comes first, as in the authors' arrays.

This module is the only place that imports the MNIST reader.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    >>> x, y = select_digits(images, np.arange(40) % 10, (8, 9), 6, rng=rng, flatten=True)
    >>> x.shape, y.tolist(), bool(np.allclose(np.linalg.norm(x, axis=1), 1))
    ((6, 784), [1.0, 1.0, 1.0, -1.0, -1.0, -1.0], True)
"""
from __future__ import annotations

import numpy as np

from ..tasks.datasets import load_mnist


def parse_digits(digits) -> tuple[int, int]:
    """Two distinct digits 0–9, as a tuple (also from the string ``"8,9"``).

    Raises:
        ValueError: not two distinct integers in 0–9.

    Example:
        >>> parse_digits("8,9")
        (8, 9)
    """
    try:
        parts = [int(d) for d in digits.split(",")] if isinstance(digits, str) else [int(d) for d in digits]
    except (TypeError, ValueError):
        parts = []
    if len(parts) != 2 or parts[0] == parts[1] or not all(0 <= d <= 9 for d in parts):
        raise ValueError(f"digits={digits!r} must be two distinct digits 0-9, e.g. (8, 9) or '8,9'")
    return parts[0], parts[1]


def max_size(labels, digits) -> int:
    """The largest balanced set of the two digits in a split: twice the rarer digit's count.

    Example:
        >>> max_size(np.array([8, 9, 9, 3]), (8, 9))
        2
    """
    first, second = parse_digits(digits)
    labels = np.asarray(labels)
    return 2 * min(int((labels == first).sum()), int((labels == second).sum()))


def select_digits(images, labels, digits, n: int, *, rng: np.random.Generator,
                  flatten: bool) -> tuple[np.ndarray, np.ndarray]:
    """Draw a balanced, normalized two-digit set of ``n`` images (see the module docstring).

    Args:
        images: ``(N, H, W)`` images (uint8 or float).
        labels: ``(N,)`` digit labels.
        digits: the two digits, mapped to −1 and +1.
        n: total size, even.
        rng: a ``numpy.random.Generator``.
        flatten: ``(n, H·W)`` rows (fc network) if true, else ``(n, 1, H, W)`` (CNN).

    Returns:
        ``(x, y)``: float64 inputs and ±1 labels, the +1 class first.

    Raises:
        ValueError: bad ``digits``, ``n`` not a positive even integer or larger than twice the
            rarer digit's count, or ``rng`` not a Generator.

    Example:
        >>> import numpy as np
        >>> images = np.zeros((4, 16, 16)); images[:, 0, 0] = [1, 2, 3, 4]
        >>> x, y = select_digits(images, np.array([0, 1, 0, 1]), (0, 1), 2, rng=np.random.default_rng(0), flatten=False)
        >>> x.shape
        (2, 1, 16, 16)
    """
    first, second = parse_digits(digits)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng={rng!r} must be a numpy.random.Generator")
    images = np.asarray(images)
    labels = np.asarray(labels)
    check_size("n", n, max_size(labels, (first, second)))
    order = rng.permutation(np.flatnonzero((labels == first) | (labels == second)))
    picked = np.concatenate([order[labels[order] == second][: n // 2], order[labels[order] == first][: n // 2]])
    x = images[picked].astype(np.float64)
    x = (x - x.mean()) / x.std()
    x /= np.sqrt((x**2).sum(axis=(1, 2)))[:, None, None]
    y = np.where(labels[picked] == second, 1.0, -1.0)
    return (x.reshape(n, -1) if flatten else x[:, None]), y


def check_size(name: str, value, largest: int) -> int:
    """Check that ``value`` is a positive even integer of at most ``largest``; the message names ``name``.

    Example:
        >>> check_size("n", 16, 100)
        16
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2 or value % 2 or value > largest:
        raise ValueError(f"{name}={value!r} must be a positive even integer of at most {largest} "
                         "(twice the count of the rarer digit in this split)")
    return int(value)


def load_split(*, train: bool, data_root=None) -> tuple[np.ndarray, np.ndarray]:
    """One MNIST split as numpy arrays ``(images uint8 (N, 28, 28), labels (N,))``.

    Args:
        train: the 60,000-image training split if true, else the 10,000-image test split.
        data_root: the data root (see :func:`qt_pennylane.tasks.datasets.resolve_data_root`).

    Raises:
        FileNotFoundError: the files are not under the data root.

    Example:
        >>> images, labels = load_split(train=False)  # doctest: +SKIP
    """
    images, labels = load_mnist("mnist", train=train, data_root=data_root, backend="idx")
    return images.numpy(), labels.numpy()
