"""Explanations from functions and signals (L1, L19): gradients and their modified backward passes.

All methods share the signature ``method(model, x, target, ...)`` and return an
array shaped like ``x``; ``target`` is an int or one int per sample, and the
explained quantity is the target logit.

* :func:`gradient` -- saliency, d logit / d x (L1);
* :func:`gradient_x_input` -- gradient ⊙ x;
* :func:`smoothgrad` -- the gradient averaged over noisy copies of x
  (Smilkov et al., "SmoothGrad: removing noise by adding noise", 2017);
* :func:`integrated_gradients` -- (x − x₀) ⊙ the mean gradient on the straight
  path from a baseline x₀ (Sundararajan et al., ICML 2017); its terms sum to
  f(x) − f(x₀) (completeness) up to the quadrature error;
* :func:`deconvnet` -- the signal family (L19): every ReLU passes back the
  positive part of the signal, ignoring the forward mask (Zeiler & Fergus, 2014);
* :func:`guided_backprop` -- ReLU passes back a signal only where both the
  forward input and the signal are positive (Springenberg et al., ICLR 2015).

Max pooling routes every backward pass through its forward winners (the
"switches" of Zeiler & Fergus), so only the ReLU step differs between methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, IndexArray
from course.relevance.layers import Layer, ReLU
from course.relevance.network import Sequential, check_input, target_indices

__all__ = [
    "gradient",
    "gradient_x_input",
    "smoothgrad",
    "integrated_gradients",
    "deconvnet",
    "guided_backprop",
]


def _check_model(model: object) -> Sequential:
    if not isinstance(model, Sequential):
        raise CourseError(f"model must be a course.relevance.Sequential, got {type(model).__name__}")
    return model


def _seeded_backward(
    model: Sequential,
    x: ArrayLike,
    target: ArrayLike,
    relu_step: Callable[[FloatArray, FloatArray], FloatArray] | None = None,
) -> FloatArray:
    """One backward pass from one-hot(target); ``relu_step(layer_in, grad)`` replaces ReLU's VJP."""
    model = _check_model(model)
    acts = model.activations(x)
    t = target_indices(target, acts[-1].shape[0], acts[-1].shape[1])
    seed = np.zeros_like(acts[-1])
    seed[np.arange(len(t)), t] = 1
    if relu_step is None:
        return model.backward(acts, seed)

    def step(i: int, layer: Layer, layer_in: FloatArray, layer_out: FloatArray, grad: FloatArray) -> FloatArray:
        if isinstance(layer, ReLU):
            return relu_step(layer_in, grad)
        return layer.backward(layer_in, grad)

    return model.backward(acts, seed, step)


def _targets(model: Sequential, x: FloatArray, target: ArrayLike) -> IndexArray:
    """One validated class index per sample, checked against the model's output size before any work."""
    out_shape = _check_model(model).check_shapes(x.shape)
    return target_indices(target, x.shape[0], out_shape[1])


def _positive_int(value: object, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise CourseError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def gradient(model: Sequential, x: ArrayLike, target: ArrayLike) -> FloatArray:
    """Saliency: the gradient of the target logit with respect to the input (L1).

    >>> from course.relevance import Dense
    >>> gradient(Sequential([Dense([[2.0], [-1.0]])]), np.ones((1, 2)), 0)
    array([[ 2., -1.]])
    """
    return _seeded_backward(model, x, target)


def gradient_x_input(model: Sequential, x: ArrayLike, target: ArrayLike) -> FloatArray:
    """Gradient ⊙ input; for a bias-free linear model the terms sum to the logit.

    >>> from course.relevance import Dense
    >>> gradient_x_input(Sequential([Dense([[2.0], [-1.0]])]), np.array([[3.0, 1.0]]), 0)
    array([[ 6., -1.]])
    """
    arr = check_input(x)
    return gradient(model, arr, target) * arr


def _chunks(total: int, per_row: int, batch_size: int) -> Iterator[tuple[int, int]]:
    """Ranges of at most ``batch_size`` rows out of ``total`` (each row holding ``per_row`` samples)."""
    rows = max(1, batch_size // max(per_row, 1))
    for start in range(0, total, rows):
        yield start, min(total, start + rows)


def smoothgrad(
    model: Sequential,
    x: ArrayLike,
    target: ArrayLike,
    n: int = 50,
    sigma: float = 0.15,
    seed: int | None = 0,
    batch_size: int = 4096,
) -> FloatArray:
    """SmoothGrad: the mean gradient over ``n`` copies of x with Gaussian noise (Smilkov et al. 2017).

    The noise standard deviation is ``sigma · (max(x) − min(x))`` per sample, the
    paper's "noise level" (10–20 % recommended). All noisy copies of a chunk of
    samples go through the network as one batch.

    >>> from course.relevance import Dense
    >>> smoothgrad(Sequential([Dense([[2.0], [-1.0]])]), np.ones((1, 2)), 0, n=4)  # linear: no change
    array([[ 2., -1.]])
    """
    xs = check_input(x)
    n = _positive_int(n, "n")
    if not np.isfinite(sigma) or sigma < 0:
        raise CourseError(f"sigma must be a finite number ≥ 0, got {sigma!r}")
    rng = np.random.default_rng(seed)
    flat = xs.reshape(len(xs), -1)
    scale = sigma * (flat.max(axis=1) - flat.min(axis=1))
    scale = scale.reshape((len(xs),) + (1,) * (xs.ndim - 1))
    out = np.zeros_like(xs)
    t_all = _targets(model, xs, target)
    for lo, hi in _chunks(len(xs), n, _positive_int(batch_size, "batch_size")):
        part = xs[lo:hi]
        noisy = part[None] + scale[None, lo:hi] * rng.standard_normal((n,) + part.shape).astype(xs.dtype)
        grads = gradient(model, noisy.reshape((-1,) + xs.shape[1:]), np.tile(t_all[lo:hi], n))
        out[lo:hi] = grads.reshape((n,) + part.shape).mean(axis=0)
    return out


def integrated_gradients(
    model: Sequential,
    x: ArrayLike,
    target: ArrayLike,
    baseline: ArrayLike | None = None,
    steps: int = 64,
    batch_size: int = 4096,
) -> FloatArray:
    """Integrated Gradients (Sundararajan et al. 2017): (x − x₀) ⊙ ∫₀¹ ∇f(x₀ + α(x − x₀)) dα.

    The integral is the midpoint rule with ``steps`` points, all of them one
    batch. Completeness: the terms sum to f(x) − f(x₀), exactly for a linear
    model and up to the quadrature error for a ReLU network. ``baseline``
    defaults to zeros and may be one array shaped like a sample or like x.

    >>> from course.relevance import Dense
    >>> integrated_gradients(Sequential([Dense([[2.0], [-1.0]])]), np.array([[3.0, 1.0]]), 0)
    array([[ 6., -1.]])
    """
    xs = check_input(x)
    steps = _positive_int(steps, "steps")
    x0 = np.zeros_like(xs) if baseline is None else np.asarray(baseline, dtype=xs.dtype)
    if x0.shape == xs.shape[1:]:  # one baseline for every sample
        x0 = x0[None]
    if x0.ndim != xs.ndim or not np.all(np.isfinite(x0)):
        raise CourseError(
            f"baseline must be finite and shaped like one sample {xs.shape[1:]} or like x {xs.shape}, "
            f"got shape {x0.shape}"
        )
    try:
        x0 = np.broadcast_to(x0, xs.shape)
    except ValueError:
        raise CourseError(f"baseline of shape {x0.shape} does not fit x of shape {xs.shape}") from None
    alphas = ((np.arange(steps) + 0.5) / steps).astype(xs.dtype)
    alphas = alphas.reshape((steps, 1) + (1,) * (xs.ndim - 1))
    t_all = _targets(model, xs, target)
    out = np.zeros_like(xs)
    for lo, hi in _chunks(len(xs), steps, _positive_int(batch_size, "batch_size")):
        delta = xs[lo:hi] - x0[lo:hi]
        path = x0[None, lo:hi] + alphas * delta[None]
        grads = gradient(model, path.reshape((-1,) + xs.shape[1:]), np.tile(t_all[lo:hi], steps))
        out[lo:hi] = delta * grads.reshape((steps,) + delta.shape).mean(axis=0)
    return out


def deconvnet(model: Sequential, x: ArrayLike, target: ArrayLike) -> FloatArray:
    """DeconvNet (Zeiler & Fergus 2014): ReLU passes back max(0, signal), whatever its forward input.

    >>> from course.relevance import Dense, ReLU
    >>> net = Sequential([Dense(np.eye(2)), ReLU(), Dense([[-1.0], [1.0]])])
    >>> deconvnet(net, np.array([[5.0, -5.0]]), 0)  # the negative signal is cut, the inactive unit is not
    array([[0., 1.]])
    """
    return _seeded_backward(model, x, target, lambda layer_in, grad: np.maximum(grad, 0))


def guided_backprop(model: Sequential, x: ArrayLike, target: ArrayLike) -> FloatArray:
    """Guided Backprop (Springenberg et al. 2015): ReLU passes a signal where input > 0 and signal > 0.

    >>> from course.relevance import Dense, ReLU
    >>> net = Sequential([Dense(np.eye(2)), ReLU(), Dense([[-1.0], [1.0]])])
    >>> guided_backprop(net, np.array([[5.0, -5.0]]), 0)
    array([[0., 0.]])
    """
    return _seeded_backward(model, x, target, lambda layer_in, grad: np.maximum(grad, 0) * (layer_in > 0))
