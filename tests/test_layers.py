"""Layers and the network: forward maps against naive loops, backward against finite differences."""
import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import (
    AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential, merge_batchnorm,
)


def naive_conv(x, w, b, stride, padding):
    """Textbook six-loop cross-correlation, the independent reference."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    (sh, sw), (ph, pw) = stride, padding
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph:ph + h, pw:pw + wd] = x
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(n):
        for k in range(o):
            for r in range(oh):
                for s in range(ow):
                    out[i, k, r, s] = np.sum(xp[i, :, r * sh:r * sh + kh, s * sw:s * sw + kw] * w[k]) + b[k]
    return out


@pytest.mark.parametrize("stride,padding", [((1, 1), (0, 0)), ((2, 2), (1, 1)), ((2, 1), (0, 2)), ((3, 2), (1, 0))])
def test_conv2d_matches_naive_loops(stride, padding):
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    got = Conv2d(w, b, stride=stride, padding=padding)(x)
    np.testing.assert_allclose(got, naive_conv(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)


def test_pooling_by_hand():
    x = np.array([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 1.0, 1.0], [0.0, 0.0, 9.0, 8.0], [2.0, 2.0, 7.0, 6.0]]]])
    np.testing.assert_array_equal(MaxPool2d(2)(x)[0, 0], [[5.0, 2.0], [2.0, 9.0]])
    np.testing.assert_array_equal(AvgPool2d(2)(x)[0, 0], [[13 / 4, 4 / 4], [4 / 4, 30 / 4]])


def test_maxpool_gradient_goes_to_first_maximum():
    x = np.array([[[[2.0, 2.0], [1.0, 2.0]]]])
    g = MaxPool2d(2).backward(x, np.array([[[[3.0]]]]))
    np.testing.assert_array_equal(g[0, 0], [[3.0, 0.0], [0.0, 0.0]])


def test_gradient_matches_finite_differences_on_cnn():
    rng = np.random.default_rng(0)
    net = Sequential([
        Conv2d(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), stride=2, padding=1), ReLU(),
        MaxPool2d(2, 1), Conv2d(rng.normal(size=(4, 3, 2, 2)), None, padding=(1, 0)), ReLU(),
        AvgPool2d(2), Flatten(), Dense(rng.normal(size=(8, 3))),
    ])
    x = rng.normal(size=(2, 2, 9, 8))
    grad = net.gradient(x, [1, 2])
    eps, num = 1e-6, np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        t = [1, 2][idx[0]]
        num[idx] = (net(up)[idx[0], t] - net(down)[idx[0], t]) / (2 * eps)
    np.testing.assert_allclose(grad, num, atol=1e-6)


def test_batchnorm_merge_keeps_the_function():
    rng = np.random.default_rng(2)
    net = Sequential([
        Conv2d(rng.normal(size=(3, 1, 3, 3)), rng.normal(size=3)),
        BatchNorm(rng.normal(size=3), rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=3)),
        ReLU(), Flatten(), Dense(rng.normal(size=(27, 4))),
        BatchNorm(rng.normal(size=4), rng.uniform(0.5, 2, 4)),
    ])
    merged = merge_batchnorm(net)
    x = rng.normal(size=(5, 1, 5, 5))
    assert not any(isinstance(layer, BatchNorm) for layer in merged)
    np.testing.assert_allclose(merged(x), net(x), rtol=1e-12)


def test_batchnorm_without_preceding_linear_is_refused():
    with pytest.raises(CourseError, match="must directly follow"):
        merge_batchnorm(Sequential([ReLU(), BatchNorm(np.zeros(2), np.ones(2))]))


def test_shape_mismatch_names_layer_and_shapes():
    net = Sequential([Dense(np.ones((3, 2))), ReLU(), Dense(np.ones((5, 1)))])
    with pytest.raises(CourseError, match=r"layer 2 Dense\(5→1\) expects input of shape \(batch, 5\), got \(4, 2\)"):
        net(np.ones((4, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_refused(bad):
    x = np.ones((1, 2))
    x[0, 1] = bad
    with pytest.raises(CourseError, match="NaN or inf"):
        Sequential([Dense(np.ones((2, 1)))])(x)


def test_target_outside_classes_is_refused():
    with pytest.raises(CourseError, match="outside the 2 classes"):
        Sequential([Dense(np.ones((2, 2)))]).gradient(np.ones((1, 2)), 2)


def test_float32_stays_float32():
    net = Sequential([Conv2d(np.ones((2, 1, 3, 3), np.float32), padding=1), ReLU(), Flatten(),
                      Dense(np.ones((2 * 16, 3), np.float32))])
    x = np.ones((2, 1, 4, 4), np.float32)
    assert net(x).dtype == np.float32
    assert net.gradient(x, 0).dtype == np.float32
