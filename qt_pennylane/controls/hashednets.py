"""HashedNets (Chen et al. 2015, arXiv:1504.04788): weights shared through a fixed hash into K buckets.

Example:
    >>> gen = HashedNetsGenerator(100, buckets=10, seed=0)
    >>> gen().shape, sum(p.numel() for p in gen.parameters())
    (torch.Size([100]), 10)
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_dtype, check_number, check_positive_int
from ._random import seeded_generator


class HashedNetsGenerator(nn.Module):
    """HashedNets: θ_i = s_i · w[h(i)] with ``buckets`` trainable values ``w`` shared through a fixed hash.

    The hash ``h`` (a bucket per weight) and the signs ``s_i = ±1`` are drawn once from ``seed`` and
    kept as buffers (int32 and int8: 5 bytes per weight), so they are part of ``state_dict``.

    Args:
        n_params: M, the length of θ.
        buckets: K, the number of trainable values.
        seed: seed of the hash, the signs and the initial values.
        init_std: the values start ``N(0, init_std**2)``.
        dtype: floating dtype of the values.

    Example:
        >>> gen = HashedNetsGenerator(1000, buckets=50, seed=0)
        >>> gen().shape, sum(p.numel() for p in gen.parameters()), len(set(gen().abs().tolist()))
        (torch.Size([1000]), 50, 50)
    """

    def __init__(self, n_params: int, *, buckets: int, seed: int | None = None, init_std: float = 0.05,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.n_params = check_positive_int("n_params", n_params)
        self.buckets = check_positive_int("buckets", buckets)
        init_std = check_number("init_std", init_std, minimum=0)
        dtype = check_dtype("dtype", dtype)
        generator = seeded_generator(seed)
        self.register_buffer("bucket", torch.randint(buckets, (n_params,), generator=generator, dtype=torch.int32))
        signs = torch.randint(2, (n_params,), generator=generator, dtype=torch.int8) * 2 - 1
        self.register_buffer("sign", signs)
        self.values = nn.Parameter(init_std * torch.randn(buckets, generator=generator, dtype=dtype))

    def forward(self) -> torch.Tensor:
        """θ = s · w[h], of shape ``(n_params,)``."""
        return self.values.index_select(0, self.bucket) * self.sign.to(self.values.dtype)

    def extra_repr(self) -> str:
        return f"n_params={self.n_params}, buckets={self.buckets}"
