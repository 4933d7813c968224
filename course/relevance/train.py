"""A tiny, seeded trainer for the bundled models: softmax cross-entropy, mini-batch SGD or Adam.

The loss gradient flows back through :meth:`Sequential.backward`; at every
Dense/Conv2d the step also records the parameter gradients:

* Dense: ``dW = aᵀ g``, ``db = Σ_n g``;
* Conv2d: ``dW[o, c, i, j] = Σ_{n, p, q} window(a)[n, c, p, q, i, j] · g[n, o, p, q]``, ``db = Σ g``.

Adam follows Kingma & Ba (ICLR 2015) with the usual defaults
(β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, IntArray
from course.relevance.layers import Conv2d, Dense, IntOrPair, Layer, Linear
from course.relevance.network import Sequential, check_input
from course.relevance.pattern import receptive_fields

__all__ = ["softmax_cross_entropy", "loss_and_gradients", "train", "accuracy", "he_dense", "he_conv"]


def softmax_cross_entropy(logits: FloatArray, labels: IntArray) -> tuple[float, FloatArray]:
    """Mean cross-entropy of softmax(logits) and its gradient ``(softmax − onehot) / N``.

    >>> loss, grad = softmax_cross_entropy(np.zeros((1, 2)), np.array([0]))
    >>> round(loss, 6), grad
    (0.693147, array([[-0.5,  0.5]]))
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    grad = np.exp(log_p)
    grad[rows, labels] -= 1
    return float(-log_p[rows, labels].mean()), grad / len(labels)


def _param_grads(layer: Linear, a: FloatArray, g: FloatArray) -> tuple[FloatArray, FloatArray]:
    if isinstance(layer, Dense):
        return a.T @ g, g.sum(axis=0)
    if isinstance(layer, Conv2d):
        return np.einsum("nchwij,nohw->ocij", receptive_fields(layer, a), g, optimize=True), g.sum(axis=(0, 2, 3))
    raise CourseError(f"cannot train {layer!r}")


def loss_and_gradients(
    model: Sequential, x: ArrayLike, labels: IntArray
) -> tuple[float, dict[int, tuple[FloatArray, FloatArray]]]:
    """Cross-entropy of the batch and ``{layer index: (dW, db)}`` for every Dense/Conv2d layer."""
    acts = model.activations(x)
    loss, grad = softmax_cross_entropy(acts[-1], labels)
    grads: dict[int, tuple[FloatArray, FloatArray]] = {}

    def step(i: int, layer: Layer, layer_in: FloatArray, layer_out: FloatArray, g: FloatArray) -> FloatArray:
        if isinstance(layer, Linear):
            grads[i] = _param_grads(layer, layer_in, g)
        return layer.backward(layer_in, g)

    model.backward(acts, grad, step)
    return loss, grads


def accuracy(model: Sequential, x: ArrayLike, labels: ArrayLike) -> float:
    """Share of samples whose largest logit is the label."""
    return float(np.mean(model(x).argmax(axis=1) == np.asarray(labels)))


def he_dense(n_in: int, n_out: int, rng: np.random.Generator) -> Dense:
    """A Dense layer with He-normal weights (std √(2/n_in)) and zero bias."""
    return Dense(rng.normal(scale=np.sqrt(2.0 / n_in), size=(n_in, n_out)), np.zeros(n_out))


def he_conv(
    c_in: int, c_out: int, k: int, rng: np.random.Generator, stride: IntOrPair = 1, padding: IntOrPair = 0
) -> Conv2d:
    """A Conv2d layer with He-normal weights (std √(2/(c_in k²))) and zero bias."""
    std = np.sqrt(2.0 / (c_in * k * k))
    return Conv2d(rng.normal(scale=std, size=(c_out, c_in, k, k)), np.zeros(c_out), stride=stride, padding=padding)


def train(
    model: Sequential,
    x: ArrayLike,
    labels: ArrayLike,
    epochs: int = 50,
    batch_size: int = 32,
    lr: float = 1e-3,
    optimizer: str = "adam",
    weight_decay: float = 0.0,
    seed: int = 0,
    log: Callable[[int, float], object] | None = None,
) -> list[float]:
    """Train ``model`` in place on (x, labels) and return the mean loss of every epoch.

    ``optimizer`` is "adam" or "sgd" (plain, no momentum); ``weight_decay`` adds
    ``λ‖W‖²/2`` on the weights (not the biases). Shuffling uses ``seed``.
    ``log(epoch, loss)`` is called after each epoch when given.

    >>> from course.relevance import ReLU
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(64, 2)); y = (x[:, 0] > 0).astype(int)
    >>> net = Sequential([he_dense(2, 8, rng), ReLU(), he_dense(8, 2, rng)])
    >>> losses = train(net, x, y, epochs=30, lr=0.05)
    >>> losses[-1] < losses[0] / 4 and accuracy(net, x, y) > 0.95
    True
    """
    x = check_input(x)
    labels = np.asarray(labels)
    if labels.shape != (len(x),) or labels.dtype.kind not in "iu":
        raise CourseError(f"labels must be {len(x)} integers, got shape {labels.shape} dtype {labels.dtype}")
    n_classes = model.check_shapes(x.shape)[1]
    if labels.min() < 0 or labels.max() >= n_classes:
        raise CourseError(f"labels must lie in 0..{n_classes - 1}")
    if optimizer not in ("adam", "sgd"):
        raise CourseError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    # checked as any values: a caller without a type checker may pass anything
    counts: tuple[tuple[str, object], ...] = (("epochs", epochs), ("batch_size", batch_size))
    rates: tuple[tuple[str, object], ...] = (("lr", lr), ("weight_decay", weight_decay))
    for name, value in counts:
        least = 1 if name == "batch_size" else 0
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise CourseError(
                f"{name} must be a {'positive' if name == 'batch_size' else 'non-negative'} integer, got {value!r}"
            )
    for name, value in rates:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not 0 <= value < float("inf")
            or (name == "lr" and value == 0)
        ):
            raise CourseError(f"{name} must be a finite number {'> 0' if name == 'lr' else '>= 0'}, got {value!r}")
    rng = np.random.default_rng(seed)
    linear = {i: layer for i, layer in enumerate(model.layers) if isinstance(layer, Linear)}  # as linear_layers
    moments = {i: [np.zeros_like(p) for p in (layer.weight, layer.bias) * 2] for i, layer in linear.items()}
    t = 0
    history: list[float] = []
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss, grads = loss_and_gradients(model, x[idx], labels[idx])
            total += loss * len(idx)
            t += 1
            for i, layer in linear.items():
                dw, db = grads[i]
                if weight_decay:
                    dw = dw + weight_decay * layer.weight
                if optimizer == "sgd":
                    layer.weight = layer.weight - lr * dw
                    layer.bias = layer.bias - lr * db
                    continue
                m_w, m_b, v_w, v_b = moments[i]  # first and second moments of W and b
                for m, v, g in ((m_w, v_w, dw), (m_b, v_b, db)):
                    m *= 0.9
                    m += 0.1 * g
                    v *= 0.999
                    v += 0.001 * g * g
                correct1, correct2 = 1 - 0.9**t, 1 - 0.999**t
                layer.weight = layer.weight - lr * (m_w / correct1) / (np.sqrt(v_w / correct2) + 1e-8)
                layer.bias = layer.bias - lr * (m_b / correct1) / (np.sqrt(v_b / correct2) + 1e-8)
        history.append(total / len(x))
        if log is not None:
            log(epoch, history[-1])
    return history
