"""Write the small MNIST / Fashion-MNIST subsets under ``tests/data/`` from the original IDX files.

The tests and the MNIST notebook's quick mode read these subsets, so that a clone of the
repository passes its tests with nothing beside it. Each subset is the first images and labels
of the original files, gzip-compressed (level 9, no timestamp: the output is byte-identical on
every run), in torchvision's raw layout.

Usage (from the repository root; the data root holds ``MNIST/raw`` and ``FashionMNIST/raw``)::

    python tests/data/make_subset.py /path/to/data
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

SIZES = {"MNIST": {"train": 512, "t10k": 256}, "FashionMNIST": {"train": 64, "t10k": 64}}
"""Examples kept per dataset folder and split."""

HERE = Path(__file__).resolve().parent


def _first(path: Path, count: int) -> bytes:
    """The IDX file at ``path`` cut to its first ``count`` entries (header adjusted)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    item = 1
    for d in dims[1:]:
        item *= d
    header = raw[:4] + count.to_bytes(4, "big") + raw[8 : 4 + 4 * ndim]
    start = 4 + 4 * ndim
    return header + raw[start : start + count * item]


def main(root: str) -> None:
    for folder, splits in SIZES.items():
        out = HERE / folder / "raw"
        out.mkdir(parents=True, exist_ok=True)
        for split, count in splits.items():
            for kind in ("images-idx3", "labels-idx1"):
                name = f"{split}-{kind}-ubyte"
                source = Path(root) / folder / "raw" / name
                if not source.is_file():
                    source = source.with_name(name + ".gz")
                data = gzip.compress(_first(source, count), compresslevel=9, mtime=0)
                (out / f"{name}.gz").write_bytes(data)
                print(f"{out / name}.gz: {count} entries, {len(data)} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
