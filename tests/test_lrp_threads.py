"""``lrp(..., threads=k)`` explains the batch in pieces on k threads: the same relevance as one after the other."""

import importlib

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import AvgPool2d, Conv2d, Dense, Flatten, ReLU, Residual, Sequential, composites, lrp

engine = importlib.import_module("course.relevance.lrp")  # the module (the package exports the function lrp)


def residual_cnn(rng, dtype):
    def conv(o, i):
        return Conv2d(rng.normal(size=(o, i, 3, 3)).astype(dtype), rng.normal(size=o).astype(dtype), padding=1)

    return Sequential(
        [
            conv(8, 2),
            ReLU(),
            Residual([conv(8, 8), ReLU(), conv(8, 8)]),
            ReLU(),
            AvgPool2d(2),
            Flatten(),
            Dense(rng.normal(size=(8 * 6 * 6, 4)).astype(dtype)),
        ]
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_give_the_same_relevance(dtype, monkeypatch):
    monkeypatch.setattr(engine, "_CHUNK_BYTES", 2 * 8 * 12 * 12 * np.dtype(dtype).itemsize)  # 2 samples a piece
    rng = np.random.default_rng(0)
    net, x = residual_cnn(rng, dtype), rng.uniform(0, 1, size=(23, 2, 12, 12)).astype(dtype)
    pieces = engine._chunks(net, x)
    assert len(pieces) > 4  # several pieces, so the threads really share the work
    composite = composites.EpsilonGammaBox(0.0, 1.0)
    serial, logits = lrp(net, x, composite, 1, return_logits=True)
    for threads in (1, 2, 3):
        got, got_logits = lrp(net, x, composite, 1, return_logits=True, threads=threads)
        np.testing.assert_array_equal(got, serial)
        np.testing.assert_array_equal(got_logits, logits)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_threads_are_refused(threads):
    with pytest.raises(CourseError, match="threads must be a positive int"):
        lrp(Sequential([Dense(np.ones((2, 1)))]), np.ones((1, 2)), "epsilon", 0, threads=threads)
