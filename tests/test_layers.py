"""Layers and the network: forward maps against naive loops, backward against finite differences."""

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import (
    AvgPool2d,
    BatchNorm,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool2d,
    LeakyReLU,
    MaxPool2d,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    lrp,
    lrp_layers,
    merge_batchnorm,
    rules,
)


def naive_conv(x, w, b, stride, padding, dilation=(1, 1), groups=1):
    """Textbook loop cross-correlation (torch's definition of dilation and groups), the independent reference."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(n):
        for k in range(o):
            g = k // (o // groups)  # output channel k reads input channels g·cg … (g+1)·cg − 1
            for r in range(oh):
                for s in range(ow):
                    window = xp[
                        i,
                        g * cg : (g + 1) * cg,
                        r * sh : r * sh + dh * (kh - 1) + 1 : dh,
                        s * sw : s * sw + dw * (kw - 1) + 1 : dw,
                    ]
                    out[i, k, r, s] = np.sum(window * w[k]) + b[k]
    return out


def naive_pool(x, kernel, stride, padding, kind, count_include_pad=True):
    """Loops over windows; max pads with −∞, avg with 0 and divides by kh·kw or the count inside the image."""
    n, c, h, wd = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (wd + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for r in range(oh):
        for s in range(ow):
            rows = [y for y in range(r * sh - ph, r * sh - ph + kh) if 0 <= y < h]
            cols = [z for z in range(s * sw - pw, s * sw - pw + kw) if 0 <= z < wd]
            window = x[:, :, rows][:, :, :, cols]
            if kind == "max":
                out[:, :, r, s] = window.max(axis=(2, 3))
            else:
                out[:, :, r, s] = window.sum(axis=(2, 3)) / (kh * kw if count_include_pad else len(rows) * len(cols))
    return out


def numeric_gradient(net, x, target, eps=1e-6):
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        t = target[idx[0]]
        num[idx] = (net(up)[idx[0], t] - net(down)[idx[0], t]) / (2 * eps)
    return num


@pytest.mark.parametrize("stride,padding", [((1, 1), (0, 0)), ((2, 2), (1, 1)), ((2, 1), (0, 2)), ((3, 2), (1, 0))])
def test_conv2d_matches_naive_loops(stride, padding):
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    got = Conv2d(w, b, stride=stride, padding=padding)(x)
    np.testing.assert_allclose(got, naive_conv(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "stride,padding,dilation,groups",
    [
        ((1, 1), (2, 2), (2, 2), 1),
        ((2, 1), (1, 0), (1, 3), 1),
        ((1, 1), (1, 1), (1, 1), 2),
        ((2, 2), (0, 1), (2, 1), 4),
        ((1, 2), (1, 1), (1, 1), 4),
    ],
)
def test_conv2d_dilation_and_groups_match_naive_loops(stride, padding, dilation, groups):
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 4, 9, 8)), rng.normal(size=(8, 4 // groups, 3, 2)), rng.normal(size=8)
    conv = Conv2d(w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    expected = naive_conv(x, w, b, stride, padding, dilation, groups)
    np.testing.assert_allclose(conv(x), expected, rtol=1e-12, atol=1e-12)
    # two parameter sets in one call (what multi-term rules use) give each set's own output
    w2 = rng.normal(size=w.shape)
    both = conv.linear_many(x, [w, w2], [b, None])
    np.testing.assert_allclose(both[1], naive_conv(x, w2, np.zeros(8), stride, padding, dilation, groups), atol=1e-12)
    # the adjoint: <conv(x; w) − b, g> = <x, convᵀ(g; w)>, and Σ_t convᵀ(g_t; w_t) in one call
    g, g2 = rng.normal(size=expected.shape), rng.normal(size=expected.shape)
    np.testing.assert_allclose(
        np.sum((expected - b[None, :, None, None]) * g), np.sum(x * conv.linear_backward(g, w, x.shape)), rtol=1e-10
    )
    np.testing.assert_allclose(
        conv.linear_backward_many([g, g2], [w, w2], x.shape),
        conv.linear_backward(g, w, x.shape) + conv.linear_backward(g2, w2, x.shape),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "kernel,stride,padding,include",
    [
        ((3, 3), (2, 2), (1, 1), True),
        ((3, 3), (2, 2), (1, 1), False),
        ((2, 3), (1, 2), (1, 1), True),
        ((3, 2), (3, 1), (1, 0), False),
        ((2, 2), (2, 2), (0, 0), True),
    ],
)
def test_padded_pools_match_naive_loops(kernel, stride, padding, include):
    x = np.random.default_rng(6).normal(size=(2, 3, 7, 6)) - 1.0  # negative: −∞ padding must never win
    np.testing.assert_allclose(MaxPool2d(kernel, stride, padding)(x), naive_pool(x, kernel, stride, padding, "max"))
    np.testing.assert_allclose(
        AvgPool2d(kernel, stride, padding, count_include_pad=include)(x),
        naive_pool(x, kernel, stride, padding, "avg", include),
        rtol=1e-12,
    )


def test_pool_padding_over_half_the_kernel_is_refused():
    with pytest.raises(CourseError, match="half the kernel"):
        MaxPool2d(2, padding=2)


def test_global_average_pool_is_the_mean_and_its_gradient_a_share():
    x = np.random.default_rng(9).normal(size=(2, 3, 4, 5))
    pool = GlobalAvgPool2d()
    np.testing.assert_allclose(pool(x)[:, :, 0, 0], [[x[n, c].sum() / 20 for c in range(3)] for n in range(2)])
    grad = np.arange(6.0).reshape(2, 3, 1, 1)
    np.testing.assert_allclose(pool.backward(x, grad), np.broadcast_to(grad / 20, x.shape))


def test_activations_by_formula():
    x = np.array([[-30.0, -1.0, 0.0, 0.5, 40.0]])
    np.testing.assert_array_equal(LeakyReLU(0.1)(x), [[-3.0, -0.1, 0.0, 0.5, 40.0]])
    np.testing.assert_allclose(Tanh()(x), [[np.tanh(v) for v in x[0]]])
    np.testing.assert_allclose(Sigmoid()(x), [[1 / (1 + np.exp(-v)) for v in x[0]]], rtol=1e-15)


def test_gradient_through_torch_options_matches_finite_differences():
    rng = np.random.default_rng(7)
    net = Sequential(
        [
            Conv2d(rng.normal(size=(4, 1, 3, 3)), rng.normal(size=4), padding=2, dilation=2),
            LeakyReLU(0.1),
            MaxPool2d(3, 2, padding=1),
            BatchNorm(rng.normal(size=4), rng.uniform(0.5, 2, 4), rng.normal(size=4)),
            Conv2d(rng.normal(size=(4, 2, 2, 2)), rng.normal(size=4), groups=2),
            Tanh(),
            AvgPool2d(2, 1, padding=1, count_include_pad=False),
            Sigmoid(),
            Flatten(),
            Dense(rng.normal(size=(64, 3))),
        ]
    )
    x = rng.normal(size=(2, 1, 7, 7))
    target = np.array([0, 2])
    np.testing.assert_allclose(net.gradient(x, target), numeric_gradient(net, x, target), atol=1e-7)


def test_lrp_runs_wherever_the_gradient_does_and_batchnorm_without_linear_passes_relevance():
    # BatchNorm first and after a pooling cannot be merged: relevance passes through them (Zennit's Pass)
    rng = np.random.default_rng(8)
    bn = BatchNorm(rng.normal(size=2), rng.uniform(0.5, 2, 2), rng.normal(size=2), rng.normal(size=2))
    net = Sequential(
        [
            bn,
            Conv2d(rng.normal(size=(2, 2, 3, 3)), padding=1),
            ReLU(),
            MaxPool2d(2),
            BatchNorm(np.zeros(2), np.ones(2), [2.0, -1.0], [0.5, 0.5]),
            Flatten(),
            Dense(rng.normal(size=(8, 3))),
        ]
    )
    x = rng.normal(size=(3, 2, 4, 4))
    trace = lrp_layers(net, x, rules.Epsilon(0.0), [0, 1, 2])
    assert [type(layer).__name__ for layer in trace.layers][0] == "BatchNorm"
    np.testing.assert_array_equal(trace.relevances[0], trace.relevances[1])  # Pass through the first BatchNorm
    np.testing.assert_array_equal(trace.relevances[4], trace.relevances[5])  # and the one after the pooling
    np.testing.assert_allclose(lrp(net, x, rules.Zero(), [0, 1, 2]), trace.relevances[0])


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
    net = Sequential(
        [
            Conv2d(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), stride=2, padding=1),
            ReLU(),
            MaxPool2d(2, 1),
            Conv2d(rng.normal(size=(4, 3, 2, 2)), None, padding=(1, 0)),
            ReLU(),
            AvgPool2d(2),
            Flatten(),
            Dense(rng.normal(size=(8, 3))),
        ]
    )
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
    net = Sequential(
        [
            Conv2d(rng.normal(size=(3, 1, 3, 3)), rng.normal(size=3)),
            BatchNorm(rng.normal(size=3), rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=3)),
            ReLU(),
            Flatten(),
            Dense(rng.normal(size=(27, 4))),
            BatchNorm(rng.normal(size=4), rng.uniform(0.5, 2, 4)),
        ]
    )
    merged = merge_batchnorm(net)
    x = rng.normal(size=(5, 1, 5, 5))
    assert not any(isinstance(layer, BatchNorm) for layer in merged)
    np.testing.assert_allclose(merged(x), net(x), rtol=1e-12)


def test_batchnorm_without_preceding_linear_stays():
    net = Sequential([ReLU(), BatchNorm(np.zeros(2), np.ones(2)), Dense(np.ones((2, 1))), BatchNorm([0.0], [4.0])])
    merged = merge_batchnorm(net)
    assert [type(layer).__name__ for layer in merged] == ["ReLU", "BatchNorm", "Dense"]
    x = np.array([[1.0, -2.0]])
    np.testing.assert_allclose(merged(x), net(x))


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
    net = Sequential(
        [
            Conv2d(np.ones((2, 1, 3, 3), np.float32), padding=1),
            ReLU(),
            Flatten(),
            Dense(np.ones((2 * 16, 3), np.float32)),
        ]
    )
    x = np.ones((2, 1, 4, 4), np.float32)
    assert net(x).dtype == np.float32
    assert net.gradient(x, 0).dtype == np.float32
