"""Residual blocks and concatenations: forward, gradient, every method, conservation at the sum, ONNX import.

Against Zennit 0.5.1 on a residual CNN (identity and strided 1×1 shortcuts, BatchNorm inside a block, a
concatenation): tests/test_lrp_zennit.py with tests/fixtures/zennit_resnet.npz.
"""

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import (
    AvgPool2d,
    BatchNorm,
    Concat,
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    ReLU,
    Residual,
    Sequential,
    composites,
    deconvnet,
    deep_taylor,
    fit_patterns,
    gradient,
    guided_backprop,
    integrated_gradients,
    lrp,
    lrp_layers,
    rules,
    smoothgrad,
)

RNG = np.random.default_rng(11)


def conv(o, i, k=3, bias=True, **kw):
    return Conv2d(RNG.normal(size=(o, i, k, k)) / np.sqrt(i * k * k), RNG.normal(size=o) * 0.1 if bias else None, **kw)


def small_resnet(bias=True):
    return Sequential(
        [
            conv(4, 1, padding=1, bias=bias),
            ReLU(),
            Residual([conv(4, 4, padding=1, bias=bias), ReLU(), conv(4, 4, padding=1, bias=bias)]),
            ReLU(),
            Residual(
                [conv(6, 4, stride=2, padding=1, bias=bias), ReLU()], shortcut=conv(6, 4, k=1, stride=2, bias=bias)
            ),
            ReLU(),
            Concat(conv(2, 6, k=1, bias=bias), AvgPool2d(3, 1, padding=1)),
            MaxPool2d(2),
            Flatten(),
            Dense(RNG.normal(size=(32, 3)), RNG.normal(size=3) * 0.1 if bias else None),
        ]
    )


def test_forward_is_the_sum_and_the_concatenation():
    block, short = Sequential([Dense([[2.0, 0.0], [0.0, 1.0]]), ReLU()]), Dense([[1.0, 1.0], [0.0, 1.0]])
    x = np.array([[1.0, -3.0]])
    np.testing.assert_array_equal(Residual(block, short)(x), block(x) + short(x))  # (2, 0) + (1, −2)
    np.testing.assert_array_equal(Residual(block)(x), block(x) + x)
    np.testing.assert_array_equal(Concat(block, None)(x), [[2.0, 0.0, 1.0, -3.0]])


def test_gradient_matches_finite_differences():
    net, x, target = small_resnet(), RNG.normal(size=(2, 1, 8, 8)), np.array([0, 2])
    grad, eps = gradient(net, x, target), 1e-6
    for idx in [(0, 0, 3, 4), (1, 0, 0, 0), (1, 0, 7, 2), (0, 0, 5, 5)]:
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        t = target[idx[0]]
        assert abs(grad[idx] - (net(up)[idx[0], t] - net(down)[idx[0], t]) / (2 * eps)) < 1e-6


def test_modified_backward_passes_reach_the_relus_inside_blocks():
    # y = ReLU(−x) + x, x = 2: the block's ReLU is off, so the gradient is 1 (the shortcut) and so is Guided
    # Backprop's. DeconvNet ignores the forward mask: the block's ReLU passes max(0, 1) = 1 back through
    # the weight −1, so the block adds −1 to the shortcut's 1. (A DeconvNet step that did not reach inside
    # the block would give the gradient, 1.)
    net = Sequential([Residual([Dense([[-1.0]]), ReLU()]), Dense([[1.0]])])
    x = np.array([[2.0]])
    np.testing.assert_array_equal(gradient(net, x, 0), [[1.0]])
    np.testing.assert_array_equal(guided_backprop(net, x, 0), [[1.0]])
    np.testing.assert_array_equal(deconvnet(net, x, 0), [[0.0]])


def test_every_method_runs_on_a_residual_network():
    net, x = small_resnet(), RNG.uniform(0, 1, size=(3, 1, 8, 8))
    logit = net(x)[np.arange(3), [0, 1, 2]]
    ig = integrated_gradients(net, x, [0, 1, 2], steps=256)
    np.testing.assert_allclose(
        ig.reshape(3, -1).sum(1), logit - net(np.zeros_like(x))[np.arange(3), [0, 1, 2]], rtol=1e-2, atol=1e-3
    )  # completeness up to the quadrature error
    assert smoothgrad(net, x, 0, n=4).shape == x.shape
    for composite in (
        composites.EpsilonGammaBox(0.0, 1.0),
        composites.EpsilonPlusFlat(),
        composites.EpsilonAlpha2Beta1(),
    ):
        assert np.all(np.isfinite(lrp(net, x, composite, [0, 1, 2])))
    assert np.all(np.isfinite(deep_taylor(net, x, 0)))
    with pytest.raises(CourseError, match="plain chain of layers, not blocks"):
        fit_patterns(net, x)


def test_exact_lrp0_conserves_through_sums_and_concatenations_without_bias():
    net, x = small_resnet(bias=False), RNG.uniform(0, 1, size=(4, 1, 8, 8))
    exact = composites.by_type({Conv2d: rules.Zero(), Dense: rules.Zero()}, stabilizer=0.0)
    trace = lrp_layers(net, x, exact, [0, 1, 2, 0])
    totals = trace.totals
    np.testing.assert_allclose(totals, np.broadcast_to(totals[-1], totals.shape), rtol=1e-10)
    np.testing.assert_allclose(trace.logits[np.arange(4), [0, 1, 2, 0]], totals[-1], rtol=1e-12)


def test_the_trace_accounts_for_biases_inside_blocks():
    net, x = small_resnet(), RNG.uniform(0, 1, size=(2, 1, 8, 8))
    trace = lrp_layers(net, x, rules.Epsilon(0.01), [1, 2])
    t = trace.totals
    # per layer: Σ R_out − Σ R_in = bias + stabiliser + rest, and for these rules the rest is 0 (no mask)
    np.testing.assert_allclose(trace.rest, 0, atol=1e-10 * np.abs(t).max())
    assert np.abs(trace.bias[2]).sum() > 0  # the residual block's inner biases show up at the block


def test_the_sum_splits_in_proportion_by_hand():
    # x = 1: block 3x = 3, shortcut x = 1, sum 4, top weight 1: R = 4 → block 3, shortcut 1;
    # the block's Dense (LRP-0) gives its 3 to x; total R_x = 4
    net = Sequential([Residual(Dense([[3.0]])), Dense([[1.0]])])
    trace = lrp_layers(net, np.array([[1.0]]), composites.by_type({Dense: rules.Zero()}, stabilizer=0.0), 0)
    np.testing.assert_allclose(trace.relevances[0], [[4.0]])
    mixed = Sequential([Residual(Dense([[3.0]]), Dense([[-1.0]])), Dense([[1.0]])])  # 3 − 1 = 2 → 3, −1
    np.testing.assert_allclose(
        lrp(mixed, np.array([[1.0]]), composites.by_type({Dense: rules.Zero()}, stabilizer=0.0), 0), [[2.0]]
    )


def test_batchnorm_inside_a_block_is_merged():
    bn = BatchNorm(RNG.normal(size=4), RNG.uniform(0.5, 2, 4), RNG.normal(size=4), RNG.normal(size=4))
    with_bn = Sequential(
        [conv(4, 1, padding=1), Residual([conv(4, 4, padding=1), bn]), Flatten(), Dense(RNG.normal(size=(64, 2)))]
    )
    x = RNG.uniform(0, 1, size=(2, 1, 4, 4))
    trace = lrp_layers(with_bn, x, rules.Epsilon(), 0)
    assert all("BatchNorm" not in repr(layer) for layer in trace.layers[1].block.layers)
    np.testing.assert_allclose(trace.logits, with_bn(x), rtol=1e-12)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: Sequential([Residual(Dense(np.ones((2, 3))))])(np.ones((1, 2))), "the block gives shape"),
        (lambda: Concat(Dense(np.ones((2, 3)))), "at least two branches"),
        (lambda: Residual("conv"), "Residual block must be a Sequential"),
        (
            lambda: lrp(
                Sequential([Residual(Dense(np.eye(2))), Dense(np.ones((2, 1)))]),
                np.ones((1, 2)),
                composites.by_type({Dense: rules.Zero(), Residual: rules.Epsilon()}),
                0,
            ),
            "takes the Norm rule",
        ),
    ],
)
def test_bad_blocks_are_refused(make, message):
    with pytest.raises(CourseError, match=message):
        make()
