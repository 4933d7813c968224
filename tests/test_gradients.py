"""Gradient-family methods against finite differences, closed forms and hand-written backward passes."""

import math

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential
from course.relevance.gradients import (
    deconvnet,
    gradient,
    gradient_x_input,
    guided_backprop,
    integrated_gradients,
    smoothgrad,
)
from tests.nets import random_mlp


def mlp(seed=0):
    return random_mlp((5, 7, 6, 3), bias=0.1, seed=seed)


def cnn(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Conv2d(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3) * 0.1, padding=1),
            ReLU(),
            MaxPool2d(2),
            Conv2d(rng.normal(size=(4, 3, 2, 2)), rng.normal(size=4) * 0.1),
            ReLU(),
            AvgPool2d(2, stride=1),
            Flatten(),
            Dense(rng.normal(size=(4 * 2 * 2, 3)), rng.normal(size=3) * 0.1),
        ]
    )


def finite_difference(model, x, target, h=1e-6):
    """Central differences of the target logit, one coordinate at a time."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        n = idx[0]
        grad[idx] = (model(up)[n, target[n]] - model(down)[n, target[n]]) / (2 * h)
    return grad


@pytest.mark.parametrize("make,shape", [(mlp, (3, 5)), (cnn, (2, 2, 8, 8))])
def test_gradient_matches_finite_differences(make, shape):
    model = make()
    x = np.random.default_rng(3).normal(size=shape)
    target = np.array([0, 2, 1][: shape[0]])
    np.testing.assert_allclose(gradient(model, x, target), finite_difference(model, x, target), atol=1e-6)


def test_gradient_x_input_is_the_product():
    model, x = mlp(), np.random.default_rng(4).normal(size=(2, 5))
    np.testing.assert_allclose(gradient_x_input(model, x, 1), gradient(model, x, 1) * x, rtol=0, atol=0)


def test_gradient_x_input_of_a_bias_free_linear_model_sums_to_the_logit():
    w = np.array([[2.0, 1.0], [-3.0, 0.5], [0.5, 4.0]])
    x = np.array([[1.0, 2.0, 3.0]])
    r = gradient_x_input(Sequential([Dense(w)]), x, 1)
    np.testing.assert_allclose(r, [[1.0 * 1.0, 2.0 * 0.5, 3.0 * 4.0]])
    assert r.sum() == pytest.approx(1.0 + 1.0 + 12.0)


def single_neuron():
    """f(x) = v · relu(uᵀx + b): every method has a closed form on it."""
    u, b, v = np.array([1.0, -2.0, 0.5]), 0.3, 1.5
    return Sequential([Dense(u[:, None], [b]), ReLU(), Dense([[v]])]), u, b, v


def test_smoothgrad_converges_to_the_gaussian_expectation():
    # E_ξ[∇f(x + ξ)] = v u Φ((uᵀx + b) / (s ‖u‖)) for ξ ~ N(0, s² I).
    model, u, b, v = single_neuron()
    x = np.array([[0.2, 0.1, -0.4]])
    sigma = 0.5
    s = sigma * (x.max() - x.min())
    z = (u @ x[0] + b) / (s * np.linalg.norm(u))
    expected = v * u * 0.5 * (1 + math.erf(z / math.sqrt(2)))
    got = smoothgrad(model, x, 0, n=40000, sigma=sigma, seed=1)
    np.testing.assert_allclose(got[0], expected, atol=0.02)


def test_smoothgrad_without_noise_is_the_gradient_and_is_seeded():
    model, x = mlp(), np.random.default_rng(5).normal(size=(3, 5))
    np.testing.assert_allclose(smoothgrad(model, x, 2, n=3, sigma=0.0), gradient(model, x, 2))
    a = smoothgrad(model, x, [0, 1, 2], n=8, sigma=0.2, seed=7)
    np.testing.assert_array_equal(a, smoothgrad(model, x, [0, 1, 2], n=8, sigma=0.2, seed=7))
    assert not np.allclose(a, smoothgrad(model, x, [0, 1, 2], n=8, sigma=0.2, seed=8))


def test_smoothgrad_chunking_does_not_change_the_result():
    model, x = mlp(), np.random.default_rng(6).normal(size=(4, 5))
    one = smoothgrad(model, x, [0, 1, 2, 0], n=5, seed=3, batch_size=10_000)
    # a fresh generator per call: chunked draws come in the same order, sample block by sample block
    rng = np.random.default_rng(3)
    scale = 0.15 * (x.max(axis=1) - x.min(axis=1))[:, None]
    noise = rng.standard_normal((5,) + x.shape)
    manual = np.mean([gradient(model, x + scale * noise[k], [0, 1, 2, 0]) for k in range(5)], axis=0)
    np.testing.assert_allclose(one, manual, rtol=1e-12)


@pytest.mark.parametrize("make,shape", [(mlp, (4, 5)), (cnn, (2, 2, 8, 8))])
def test_integrated_gradients_completeness(make, shape):
    model = make()
    rng = np.random.default_rng(8)
    x, x0 = rng.normal(size=shape), rng.normal(size=shape) * 0.1
    target = np.arange(shape[0]) % 3
    rows = np.arange(shape[0])
    gap = model(x)[rows, target] - model(x0)[rows, target]
    ig = integrated_gradients(model, x, target, baseline=x0, steps=2000)
    np.testing.assert_allclose(ig.reshape(shape[0], -1).sum(axis=1), gap, atol=2e-3 * np.abs(gap).max())


def test_integrated_gradients_single_neuron_closed_form():
    # Along the path the neuron is active on a fraction L of [0, 1]; IG_i = v u_i Δ_i L.
    model, u, b, v = single_neuron()
    x, x0 = np.array([[1.0, -1.0, 2.0]]), np.array([[0.0, 1.0, 0.0]])
    delta = x[0] - x0[0]
    start, slope = u @ x0[0] + b, u @ delta  # pre-activation is start + α slope
    alpha_star = -start / slope  # the kink
    active = (1 - alpha_star) if slope > 0 else alpha_star
    assert 0 < alpha_star < 1
    expected = v * u * delta * active
    got = integrated_gradients(model, x, 0, baseline=x0[0], steps=1000)
    np.testing.assert_allclose(got[0], expected, atol=2e-3)


def test_integrated_gradients_on_a_linear_model_is_exact():
    w = np.array([[1.0, 2.0], [3.0, -1.0]])
    x = np.array([[2.0, 5.0]])
    got = integrated_gradients(Sequential([Dense(w, [7.0, 7.0])]), x, 1, steps=3)
    np.testing.assert_allclose(got, [[2.0 * 2.0, 5.0 * -1.0]], rtol=1e-14)


def manual_passes(w1, b1, w2, b2, w3, x, t):
    """Dense-ReLU-Dense-ReLU-Dense: the three signal passes written out with their ReLU steps."""
    z1 = x @ w1 + b1
    z2 = np.maximum(z1, 0) @ w2 + b2
    top = w3[:, t]
    grad = ((top * (z2 > 0)) @ w2.T * (z1 > 0)) @ w1.T
    deconv = np.maximum(np.maximum(top, 0) @ w2.T, 0) @ w1.T
    guided = np.maximum(np.maximum(top, 0) * (z2 > 0) @ w2.T, 0) * (z1 > 0) @ w1.T
    return grad, deconv, guided


def test_deconvnet_and_guided_backprop_against_hand_written_passes():
    rng = np.random.default_rng(9)
    w1, b1, w2, b2, w3 = (rng.normal(size=s) for s in [(4, 6), 6, (6, 5), 5, (5, 2)])
    model = Sequential([Dense(w1, b1), ReLU(), Dense(w2, b2), ReLU(), Dense(w3)])
    x = rng.normal(size=(3, 4))
    for row in range(3):
        grad, deconv, guided = manual_passes(w1, b1, w2, b2, w3, x[row], 1)
        np.testing.assert_allclose(gradient(model, x, 1)[row], grad, rtol=1e-12)
        np.testing.assert_allclose(deconvnet(model, x, 1)[row], deconv, rtol=1e-12)
        np.testing.assert_allclose(guided_backprop(model, x, 1)[row], guided, rtol=1e-12)


def test_signal_methods_use_the_maxpool_switches():
    # one channel, the max of the 2×2 window is at (0, 1); a positive top weight
    model = Sequential([MaxPool2d(2), ReLU(), Flatten(), Dense([[2.0]])])
    x = np.array([[[[1.0, 3.0], [0.0, -1.0]]]])
    expected = np.array([[[[0.0, 2.0], [0.0, 0.0]]]])
    for method in (gradient, deconvnet, guided_backprop):
        np.testing.assert_array_equal(method(model, x, 0), expected)


def test_without_relu_all_signal_methods_are_the_gradient():
    model = Sequential([Dense(np.array([[1.0, -2.0], [0.5, 3.0]])), Dense(np.array([[-1.0], [2.0]]))])
    x = np.array([[0.3, -0.7]])
    for method in (deconvnet, guided_backprop):
        np.testing.assert_array_equal(method(model, x, 0), gradient(model, x, 0))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda m, x: gradient(m, x, 5), "outside the 3 classes"),
        (lambda m, x: smoothgrad(m, x, 0, n=0), "n must be a positive integer"),
        (lambda m, x: smoothgrad(m, x, 0, sigma=-1.0), "sigma"),
        (lambda m, x: smoothgrad(m, x, 0, batch_size=0), "batch_size must be a positive integer"),
        (lambda m, x: integrated_gradients(m, x, 0, batch_size=-1), "batch_size must be a positive integer"),
        (lambda m, x: integrated_gradients(m, x, 0, steps=0), "steps"),
        (lambda m, x: integrated_gradients(m, x, 0, baseline=np.zeros(4)), "baseline"),
        (lambda m, x: integrated_gradients(m, x, [0, 1, 2]), "one per sample"),
        (lambda m, x: guided_backprop(m, np.full((1, 5), np.nan), 0), "NaN"),
        (lambda m, x: deconvnet(m, np.ones((1, 4)), 0), "layer 0"),
        (lambda m, x: gradient("not a model", x, 0), "Sequential"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(call, match):
    with pytest.raises(CourseError, match=match):
        call(mlp(), np.ones((2, 5)))


@pytest.mark.parametrize(
    "method", [gradient, gradient_x_input, smoothgrad, integrated_gradients, deconvnet, guided_backprop]
)
def test_float32_end_to_end_agrees_with_float64(method):
    model64 = cnn()
    model32 = Sequential(
        [
            layer.with_params(layer.weight.astype(np.float32), layer.bias.astype(np.float32))
            if hasattr(layer, "weight")
            else layer
            for layer in model64.layers
        ]
    )
    x = np.random.default_rng(10).normal(size=(2, 2, 8, 8))
    got = method(model32, x.astype(np.float32), 1)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, method(model64, x, 1), rtol=1e-3, atol=1e-4 * np.abs(got).max())
