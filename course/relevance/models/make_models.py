"""Train the bundled models and write their ``.npz`` files next to this script.

    python -m course.relevance.models.make_models            # all four
    python -m course.relevance.models.make_models digits_cnn # one of them

Every model is seeded; the script prints each model's test accuracy, which is
also stored in the file (``course.relevance.models.info(name)``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias, TypedDict

import numpy as np

from course.datasets import digits, signal_distractor, two_class_2d
from course.relevance._types import FloatArray
from course.relevance.layers import AvgPool2d, Dense, Flatten, MaxPool2d, ReLU
from course.relevance.models import HERE, NAMES, save
from course.relevance.network import Sequential
from course.relevance.train import accuracy, he_conv, he_dense, train

SEED = 0


class Settings(TypedDict, total=False):
    """The keyword arguments of :func:`course.relevance.train.train` a model is trained with."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int


Data: TypeAlias = tuple[FloatArray, Any]  # (inputs, labels)
# a model to train, its settings, the training data and the test data
Recipe: TypeAlias = tuple[Sequential, Settings, Data, Data]


def digits_mlp() -> Recipe:
    rng = np.random.default_rng(SEED)
    model = Sequential([he_dense(64, 64, rng), ReLU(), he_dense(64, 32, rng), ReLU(), he_dense(32, 10, rng)])
    settings = Settings(epochs=60, batch_size=32, lr=2e-3, weight_decay=1e-4, seed=SEED)
    return model, settings, digits("train"), digits("test")


def digits_cnn() -> Recipe:
    rng = np.random.default_rng(SEED)
    model = Sequential(
        [
            he_conv(1, 8, 3, rng, padding=1),
            ReLU(),
            MaxPool2d(2),
            he_conv(8, 16, 3, rng, padding=1),
            ReLU(),
            AvgPool2d(2),
            Flatten(),
            he_dense(16 * 2 * 2, 10, rng),
        ]
    )
    settings = Settings(epochs=40, batch_size=32, lr=3e-3, weight_decay=1e-4, seed=SEED)
    return model, settings, digits("train", "image"), digits("test", "image")


def toy2d() -> Recipe:
    rng = np.random.default_rng(SEED)
    model = Sequential([he_dense(2, 16, rng), ReLU(), he_dense(16, 16, rng), ReLU(), he_dense(16, 2, rng)])
    settings = Settings(epochs=200, batch_size=32, lr=1e-2, seed=SEED)
    return model, settings, two_class_2d(400, seed=SEED), two_class_2d(400, seed=SEED + 1)


def make(name: str, out_dir: str | Path = HERE) -> dict[str, Any]:
    """Train (or fit) model ``name``, save it to ``out_dir/name.npz`` and return its metadata."""
    start = time.perf_counter()
    if name == "signal_distractor":
        # the linear toy's model is the least-squares regression of y on x: it recovers the filter w
        toy, test = signal_distractor(2000, seed=SEED), signal_distractor(2000, seed=SEED + 1)
        design = np.column_stack([toy.x, np.ones(len(toy.x))])
        coef, *_ = np.linalg.lstsq(design, toy.y, rcond=None)
        model = Sequential([Dense(coef[:2, None], coef[2:])])
        rmse = float(np.sqrt(np.mean((model(test.x)[:, 0] - test.y) ** 2)))
        meta: dict[str, Any] = {"test_rmse": rmse, "seed": SEED, "method": "least squares"}
    else:
        model, settings, (x_tr, y_tr), (x_te, y_te) = {
            "digits_mlp": digits_mlp,
            "digits_cnn": digits_cnn,
            "toy2d": toy2d,
        }[name]()
        losses = train(model, x_tr, y_tr, **settings)
        meta = {
            "test_accuracy": accuracy(model, x_te, y_te),
            "train_accuracy": accuracy(model, x_tr, y_tr),
            "final_loss": losses[-1],
            **settings,
        }
    save(model, Path(out_dir) / f"{name}.npz", **meta)
    meta["seconds"] = round(time.perf_counter() - start, 1)
    return meta


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"models to make (default: all of {', '.join(NAMES)})")
    parser.add_argument("--out", default=str(HERE), help="directory for the .npz files (default: the package)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    for name in args.names or NAMES:
        meta = make(name, args.out)
        score = (
            f"test accuracy {meta['test_accuracy']:.2%}"
            if "test_accuracy" in meta
            else f"test RMSE {meta['test_rmse']:.2e}"
        )
        print(f"{name:18s} {score}  ({meta['seconds']} s)")


if __name__ == "__main__":
    main()
