"""Iris: the bundled scikit-learn copy, split as the papers' 100 / 50.

Example:
    >>> train, test = load_iris_split()
    >>> len(train), len(test)
    (100, 50)
"""
from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from .._validation import check_seed


def load_iris_split(*, seed: int = 0) -> tuple[TensorDataset, TensorDataset]:
    """Iris (scikit-learn's bundled copy): stratified 100 / 50 split, standardized on the training part.

    Args:
        seed: picks the split; 0 is the ``"iris"`` task's.

    Example:
        >>> train, test = load_iris_split(seed=1)
        >>> len(train), len(test)
        (100, 50)
    """
    check_seed("seed", seed, allow_none=False)
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    features, labels = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, train_size=100, test_size=50, stratify=labels, random_state=seed
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)

    def as_dataset(x, y):
        return TensorDataset(torch.tensor((x - mean) / std, dtype=torch.float32), torch.tensor(y, dtype=torch.long))

    return as_dataset(x_train, y_train), as_dataset(x_test, y_test)
