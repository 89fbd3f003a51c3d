"""Argument checks with one message format: ``"<name> must be <what>, got <value>"``.

Every public function and constructor validates its arguments with these before doing any
work, so a bad value fails at once with a ``ValueError`` that names the argument, the value
given and what was expected.

Example:
    >>> check_int("reps", 3, minimum=0)
    3
    >>> check_int("reps", -1, minimum=0)
    Traceback (most recent call last):
    ...
    ValueError: reps must be a non-negative int, got -1
    >>> check_seed("seed", 2**70)
    Traceback (most recent call last):
    ...
    ValueError: seed must be an int >= 0 and <= 9223372036854775807 or None, got 1180591620717411303424
    >>> check_choice("mapping", "pape", ["paper", "learned"])
    Traceback (most recent call last):
    ...
    ValueError: mapping must be one of ['learned', 'paper'], got 'pape'
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import torch

SEED_MAX = 2**63 - 1
"""Largest seed: torch and numpy take seeds in ``[0, 2**63 - 1]``."""


def fail(name: str, expected: str, value) -> ValueError:
    """The ``ValueError`` of this module's format (returned, for ``raise fail(...)``)."""
    return ValueError(f"{name} must be {expected}, got {value!r}")


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """``value`` if it is an ``int`` (not a ``bool``) within ``[minimum, maximum]``, or ``None`` when allowed."""
    if value is None and allow_none:
        return None
    if minimum in (0, 1) and maximum is None:
        expected = "a positive int" if minimum == 1 else "a non-negative int"
    else:
        bounds = [f">= {minimum}" if minimum is not None else "", f"<= {maximum}" if maximum is not None else ""]
        expected = "an int " + " and ".join(b for b in bounds if b) if minimum is not None or maximum is not None else "an int"
    expected += " or None" if allow_none else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(name, expected, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise fail(name, expected, value)
    return int(value)


def check_positive_int(name: str, value, *, allow_none: bool = False, maximum: int | None = None) -> int | None:
    """``check_int`` with ``minimum=1``."""
    return check_int(name, value, minimum=1, maximum=maximum, allow_none=allow_none)


def check_number(name: str, value, *, positive: bool = False, minimum: float | None = None,
                 maximum: float | None = None, allow_none: bool = False) -> float | None:
    """``value`` as a finite ``float`` (ints accepted, bools and NaN/inf refused), within the bounds given."""
    if value is None and allow_none:
        return None
    parts = ["a finite number"]
    if positive:
        parts.append("> 0")
    if minimum is not None:
        parts.append(f">= {minimum}")
    if maximum is not None:
        parts.append(f"<= {maximum}")
    expected = " ".join(parts) + (" or None" if allow_none else "")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise fail(name, expected, value)
    if (positive and value <= 0) or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise fail(name, expected, value)
    return float(value)


def check_bool(name: str, value) -> bool:
    """``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise fail(name, "True or False", value)
    return value


def check_choice(name: str, value, choices: Iterable[str]):
    """``value`` if it is one of ``choices`` (the error lists them, sorted)."""
    choices = list(choices)
    if not isinstance(value, str) or value not in choices:
        raise fail(name, f"one of {sorted(choices)}", value)
    return value


def check_seed(name: str, value, *, allow_none: bool = True) -> int | None:
    """A seed: an int in ``[0, 2**63 - 1]`` (what torch and numpy accept), or ``None`` when allowed."""
    return check_int(name, value, minimum=0, maximum=SEED_MAX, allow_none=allow_none)


def check_dtype(name: str, value) -> torch.dtype:
    """``torch.float32`` or ``torch.float64``."""
    if value not in (torch.float32, torch.float64):
        raise fail(name, "torch.float32 or torch.float64", value)
    return value


def check_widths(name: str, value) -> tuple[int, ...]:
    """A non-empty sequence of positive ints (layer widths), as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise fail(name, "a sequence of positive ints", value)
    widths = tuple(value)
    if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths):
        raise fail(name, "a sequence of positive ints", value)
    return widths
