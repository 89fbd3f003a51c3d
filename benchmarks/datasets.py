"""Checks of the full MNIST and Fashion-MNIST files, which the test suite does not read.

The tests run on small subsets shipped in ``tests/data`` (so that a clone passes them alone);
what needs the full files is checked here and recorded in ``benchmarks/results/datasets.json``:

- each split's shape, dtype and images per class;
- the pixel mean and standard deviation of the 60,000 training images (``images / 255``), which
  ``qt_pennylane.tasks.datasets.DATASETS`` stores rounded to 4 digits for normalization;
- that the ``.gz`` and the decompressed file of each split hold the same data (where both exist);
- that every file of ``tests/data`` equals the first examples of the full file it was cut from.

``tests/test_datasets.py`` compares the committed JSON with ``DATASETS`` and the shipped subsets.

Usage::

    python benchmarks/datasets.py --data-root /path/to/data     # about 10 seconds
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from provenance import run_meta  # benchmarks/provenance.py, beside this script
from qt_pennylane.tasks.datasets import DATASETS, load_mnist, raw_files, read_idx, resolve_data_root

HERE = Path(__file__).resolve().parent
SUBSETS = HERE.parent / "tests" / "data"


def pixel_statistics(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of ``images / 255`` over all pixels, from a histogram (exact, fast)."""
    counts = np.bincount(images.reshape(-1), minlength=256)
    values = np.arange(256) / 255
    mean = (counts * values).sum() / counts.sum()
    return float(mean), float(np.sqrt((counts * (values - mean) ** 2).sum() / counts.sum()))


def check_split(name: str, train: bool, root: Path) -> dict:
    """What one split of the full data holds, and whether its shipped subset is its beginning."""
    images, labels = (t.numpy() for t in load_mnist(name, train=train, data_root=root, backend="idx"))
    record = {"images_shape": list(images.shape), "images_dtype": str(images.dtype),
              "class_counts": np.bincount(labels, minlength=10).tolist()}
    if train:
        record["pixel_mean"], record["pixel_std"] = pixel_statistics(images)
    record["gz_equals_decompressed"] = {}
    for path in raw_files(name, train=train, data_root=root):
        plain = path.with_name(path.name.removesuffix(".gz"))
        packed = plain.with_name(plain.name + ".gz")
        if plain.is_file() and packed.is_file():
            record["gz_equals_decompressed"][plain.name] = bool(np.array_equal(read_idx(plain), read_idx(packed)))
    sub_images, sub_labels = (t.numpy() for t in load_mnist(name, train=train, data_root=SUBSETS, backend="idx"))
    count = len(sub_labels)
    record["subset_examples"] = count
    record["subset_is_the_first_examples"] = bool(np.array_equal(sub_images, images[:count])
                                                  and np.array_equal(sub_labels, labels[:count]))
    return record


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="holds MNIST/raw and FashionMNIST/raw (default: $QT_PENNYLANE_DATA)")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for datasets.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    root = resolve_data_root(args.data_root)
    result = {name: {split: check_split(name, split == "train", root) for split in ("train", "test")}
              for name in DATASETS}
    result["meta"] = run_meta("benchmarks/datasets.py", argv, started)
    out = Path(args.out) / "datasets.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return result


if __name__ == "__main__":
    main()
