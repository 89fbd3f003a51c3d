"""Seeded random draws shared by the controls.

Example:
    >>> a, b = seeded_generator(3), seeded_generator(3)
    >>> torch.equal(torch.rand(2, generator=a), torch.rand(2, generator=b))
    True
"""
from __future__ import annotations

import torch

from .._validation import check_seed


def seeded_generator(seed) -> torch.Generator:
    """A ``torch.Generator`` seeded by ``seed``, or (``seed=None``) by torch's global generator."""
    check_seed("seed", seed)
    generator = torch.Generator()
    generator.manual_seed(seed if seed is not None else int(torch.randint(2**62, ()).item()))
    return generator
