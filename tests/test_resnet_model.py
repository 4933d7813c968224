"""The shipped residual CNN (course/relevance/models/digits_resnet.onnx, written by PyTorch's exporter)."""

import numpy as np
import pytest

pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from course.datasets import digits  # noqa: E402 - after the importorskip above
from course.relevance import Residual, composites, lrp, lrp_layers, rules  # noqa: E402 -- after the importorskip above
from course.relevance.models import HERE, info, load  # noqa: E402 -- after the importorskip above

PATH = HERE / "digits_resnet.onnx"


def test_file_is_small_and_self_contained():
    assert PATH.stat().st_size <= 300 * 1024
    assert not (HERE / "digits_resnet.onnx.data").exists()


def test_it_has_residual_blocks_and_its_stated_accuracy():
    net = load("digits_resnet")
    assert sum(isinstance(layer, Residual) for layer in net) == 2
    x, y = digits("test", "image")
    acc = float((net(x).argmax(1) == y).mean())
    assert acc == pytest.approx(info("digits_resnet")["test_accuracy"], abs=1e-4) and acc > 0.97


def test_forward_equals_onnxruntime():
    x = digits("test", "image")[0][:64].astype(np.float32)
    session = ort.InferenceSession(str(PATH), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {session.get_inputs()[0].name: x})
    np.testing.assert_allclose(load("digits_resnet", np.float32)(x), expected, rtol=1e-6, atol=1e-5)


def test_composites_on_it_keep_the_relevance_near_the_logit():
    net, (x, y) = load("digits_resnet"), digits("test", "image")
    x, y = x[:8], y[:8]
    exact = composites.by_type({layer: rules.Zero() for layer in (type(net[0]), type(net[-1]))}, stabilizer=0.0)
    trace = lrp_layers(net, x, exact, y)
    # exact LRP-0 everywhere: what is lost is only what the biases absorbed (rest = 0)
    np.testing.assert_allclose(trace.rest, 0, atol=1e-9 * np.abs(trace.totals).max())
    for composite in (composites.EpsilonGammaBox(0.0, 1.0), composites.EpsilonPlusFlat()):
        assert np.all(np.isfinite(lrp(net, x, composite, y)))
