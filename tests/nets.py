"""Small random networks shared by the relevance tests."""

from __future__ import annotations

import numpy as np

from course.relevance import Dense, ReLU, Sequential


def random_mlp(sizes: tuple[int, ...], bias: float, seed: int = 0) -> Sequential:
    """Dense → ReLU → … → Dense through ``sizes``: standard-normal weights (in, out) and biases of scale ``bias``,
    drawn layer by layer (weights, then biases) from ``default_rng(seed)``.

    >>> random_mlp((5, 7, 3), 0.1)
    Sequential([
      Dense(5→7),
      ReLU(),
      Dense(7→3)
    ])
    """
    rng = np.random.default_rng(seed)
    layers: list = []
    for m, n in zip(sizes[:-1], sizes[1:]):
        layers += [Dense(rng.normal(size=(m, n)), rng.normal(size=n) * bias), ReLU()]
    return Sequential(layers[:-1])
