"""Write ``course/data/digits.npz``: scikit-learn's copy of the 8×8 digits and the course's fixed split.

    python tools/make_digits.py            # needs scikit-learn (pip install 'xai-course[test]')

The file holds ``images`` (1797 × 64, uint8, pixel counts 0..16), ``target`` (1797, uint8) and the
row indices ``train`` / ``test`` of the stratified split that ``course.datasets.digits`` uses
(a quarter of each class in the test part, ``random_state=DIGITS_SPLIT_SEED``), as scikit-learn's
``train_test_split`` draws it. scikit-learn is needed here only; at run time the course reads the file
with NumPy. ``tests/test_datasets_models.py`` checks the file against scikit-learn when it is installed.
Source and licence: course/data/README.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "course" / "data" / "digits.npz"


def build() -> dict[str, np.ndarray]:
    """The arrays of ``digits.npz``, computed from ``sklearn.datasets.load_digits``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from course.datasets import DIGITS_SPLIT_SEED

    data = load_digits()
    images = data.data
    if not (np.array_equal(images, np.round(images)) and images.min() == 0 and images.max() == 16):
        raise SystemExit("load_digits no longer returns pixel counts 0..16; check the new scikit-learn")
    rows = np.arange(len(images))
    train, test = train_test_split(rows, test_size=0.25, stratify=data.target, random_state=DIGITS_SPLIT_SEED)
    return {
        "images": images.astype(np.uint8),
        "target": data.target.astype(np.uint8),
        "train": train.astype(np.int16),
        "test": test.astype(np.int16),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write the file (default: {OUT})")
    args = parser.parse_args(argv)
    arrays = build()
    np.savez_compressed(args.out, **arrays)
    print(
        f"wrote {args.out} ({args.out.stat().st_size} bytes): "
        + ", ".join(f"{k} {v.shape} {v.dtype}" for k, v in arrays.items())
    )


if __name__ == "__main__":
    main()
