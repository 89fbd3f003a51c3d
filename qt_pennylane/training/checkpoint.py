"""Checkpoints: written atomically, read without running code from the file.

A checkpoint is a dict of tensors and plain Python values (numbers, strings, lists, dicts,
tuples), saved with ``torch.save`` and loaded with ``torch.load(..., weights_only=True)``: a file
that carries anything else (a pickled object with code) is refused before any of it runs.
A crash mid-write never leaves a broken or half-written checkpoint: the file is written beside
the target, synced, then renamed over it; :func:`remove_stale_temporaries` deletes what killed
writes left behind.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ckpt.pt"
    >>> save_atomic({"epoch": 3}, path)
    >>> load_checkpoint(path, required=("epoch",))["epoch"]
    3
"""
from __future__ import annotations

import math
import os
import pickle
import re
import tempfile
from pathlib import Path

import torch

FORMAT = 2
"""Checkpoint format version, stored under ``"format"``; files of another version are refused."""


def save_atomic(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to a temporary file beside ``path``, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that interrupted :func:`save_atomic` calls for ``path`` left; return them.

    Call it only where no other process writes ``path`` (a run holds its output folder's lock).
    """
    path = Path(path)
    if not path.parent.is_dir():
        return []
    stale = sorted(path.parent.glob(f".{path.name}.*.tmp"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


def load_checkpoint(path: str | os.PathLike, *, required: tuple[str, ...] = ("format", "model"),
                    version: int = FORMAT) -> dict:
    """Load a checkpoint safely (``weights_only=True``) and check its structure.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is unreadable, holds anything but tensors and plain values (its code is
            not run), is not a dict with the ``required`` entries, or is of another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        if found:
            raise ValueError(f"checkpoint {str(path)!r} holds more than tensors and plain values ({found.group(1)}) "
                             "and was refused unread: nothing in it ran") from None
        raise ValueError(f"checkpoint {str(path)!r} cannot be read: it is damaged or not a checkpoint") from None
    except Exception as error:  # torch raises several types for a damaged file
        detail = " ".join(str(error).split())[:200]
        raise ValueError(f"checkpoint {str(path)!r} cannot be read: {type(error).__name__}: {detail}") from None
    if not isinstance(state, dict):
        raise ValueError(f"checkpoint {str(path)!r} is not a qt_pennylane checkpoint: it holds a "
                         f"{type(state).__name__}, not a dict")
    missing = [key for key in required if key not in state]
    if missing:
        raise ValueError(f"checkpoint {str(path)!r} is not a qt_pennylane checkpoint: it lacks {missing}")
    if "format" in required and state["format"] != version:
        raise ValueError(f"checkpoint {str(path)!r} has format {state['format']!r}; this version reads format {version}")
    return state


def check_finite_state(state_dict: dict, path) -> None:
    """Refuse a model state with NaN or infinite values (a run that diverged, or a damaged file)."""
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not torch.isfinite(value).all():
            raise ValueError(f"checkpoint {str(path)!r} holds non-finite values in {key!r}; it cannot be resumed")


def load_model_state(model: torch.nn.Module, state_dict, path) -> None:
    """``model.load_state_dict(state_dict)`` with errors that name the checkpoint and what differs."""
    if not isinstance(state_dict, dict):
        raise ValueError(f"checkpoint {str(path)!r} is not a qt_pennylane checkpoint: its model state is a "
                         f"{type(state_dict).__name__}")
    check_finite_state(state_dict, path)
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as error:
        detail = " ".join(str(error).split())
        raise ValueError(f"checkpoint {str(path)!r} belongs to a different model: {detail}") from None


def check_same_config(saved: dict, current: dict, path) -> None:
    """Raise ``ValueError`` naming every setting where a checkpoint's config differs from the current run."""
    if not isinstance(saved, dict):
        raise ValueError(f"checkpoint {str(path)!r} is not a qt_pennylane checkpoint: its config is a "
                         f"{type(saved).__name__}")
    keys = sorted(set(saved) | set(current))
    diffs = [f"{k}: checkpoint {saved.get(k)!r} vs now {current.get(k)!r}" for k in keys
             if not _same(saved.get(k), current.get(k))]
    if diffs:
        raise ValueError(f"checkpoint {str(path)!r} belongs to a different model or run: " + "; ".join(diffs))


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b
