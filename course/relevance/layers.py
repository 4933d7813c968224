"""Layers of the NumPy network: forward maps and their vector-Jacobian products.

Every layer is a plain object with ``forward(x)`` and ``backward(x, grad)``,
the product of the upstream vector ``grad`` with the layer's Jacobian at ``x``.
The parametrised layers (:class:`Dense`, :class:`Conv2d`) also expose the two
primitives the LRP rules are written in, so that a rule never needs to know
which kind of layer it is applied to:

* ``linear(x, weight, bias)`` -- the affine map with *given* parameters;
* ``linear_backward(grad, weight, input_shape)`` -- its adjoint (no bias).

Conventions follow PyTorch: ``Dense`` computes ``x @ weight + bias`` with
``weight`` of shape (in, out) (``Dense.from_torch`` takes torch's (out, in));
``Conv2d`` is an NCHW cross-correlation with ``weight`` of shape
(out_c, in_c / groups, kh, kw), with torch's ``stride``, ``padding``,
``dilation`` and ``groups``; pools take torch's ``padding`` too. Convolution, pooling and their
adjoints are vectorised: im2col patch matrices and one batched BLAS GEMM per
call; the only Python loops run over the kh*kw kernel offsets (gathering and
scattering windows, pooling). ``linear_many``/``linear_backward_many`` apply one
input to several parameter sets (or sum several adjoints) with a single GEMM,
which is what multi-term LRP rules need.

Where each part lives: the protocol (``Layer``, ``Linear``, ``Branches``) and the parameter checks in
:mod:`course.relevance.base`; ``Conv2d``, the pools and the im2col machinery in
:mod:`course.relevance.spatial`; the dense and elementwise layers (``Dense``, the activations, ``Identity``,
``Flatten``, ``BatchNorm``) here. Every layer is importable from this module (and from ``course.relevance``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, Shape
from course.relevance.base import Branches, Layer, Linear, as_float_array, checked_parameters
from course.relevance.base import IntOrPair as IntOrPair  # the old import path of the type (course.relevance.train)
from course.relevance.base import sum_arrays as sum_arrays  # the old import path of the helper
from course.relevance.spatial import AvgPool2d, Conv2d, GlobalAvgPool2d, MaxPool2d

__all__ = [
    "Layer",
    "Linear",
    "Dense",
    "Conv2d",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "Tanh",
    "Sigmoid",
    "MaxPool2d",
    "GlobalAvgPool2d",
    "AvgPool2d",
    "Flatten",
    "BatchNorm",
    "Identity",
    "Branches",
]


LAYOUTS = {"in_out": "(in, out)", "out_in": "(out, in)"}


class Dense(Linear):
    """Fully connected layer ``y = x @ weight + bias``, ``weight`` of shape (in, out).

    Weights from elsewhere say their layout: torch's ``nn.Linear`` and Keras' kernel transposed store
    (out, in), so ``Dense.from_torch(linear.weight, linear.bias)`` or ``layout="out_in"``. A square
    weight fits either layout, so only the layout can tell which one is meant.

    >>> layer = Dense(np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([0.0, 1.0]))
    >>> layer(np.array([[1.0, 1.0]]))
    array([[3. , 0.5]])
    >>> torch_weight = np.array([[1.0, 2.0], [-1.0, 0.5]])  # (out, in), as torch stores it
    >>> Dense.from_torch(torch_weight, [0.0, 1.0])(np.array([[1.0, 1.0]]))
    array([[3. , 0.5]])
    """

    def __init__(self, weight: ArrayLike, bias: ArrayLike | None = None, layout: str = "in_out") -> None:
        if layout not in LAYOUTS:
            raise CourseError(f"Dense layout must be 'in_out' (this package) or 'out_in' (torch), got {layout!r}")
        if layout == "out_in":
            w = as_float_array(weight, "Dense weight")
            if w.ndim != 2:
                raise CourseError(f"Dense weight must have shape (out, in), got shape {w.shape}")
            weight = w.T.copy()
        self.weight, self.bias = checked_parameters("Dense", weight, bias, "(in, out)", out_axis=1)

    @classmethod
    def from_torch(cls, weight: ArrayLike, bias: ArrayLike | None = None) -> Dense:
        """A Dense layer from torch's ``nn.Linear`` parameters: ``weight`` of shape (out, in)."""
        return cls(weight, bias, layout="out_in")

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 2 or input_shape[1] != self.weight.shape[0]:
            raise CourseError(
                f"{self!r} expects input of shape (batch, {self.weight.shape[0]}), got {tuple(input_shape)}"
            )
        return (input_shape[0], self.weight.shape[1])

    def linear(self, x: FloatArray, weight: FloatArray, bias: FloatArray | None = None) -> FloatArray:
        z = x @ weight
        return z if bias is None else z + bias

    def linear_backward(self, grad: FloatArray, weight: FloatArray, input_shape: Shape) -> FloatArray:
        return grad @ weight.T

    def linear_many(
        self, x: FloatArray, weights: Sequence[FloatArray], biases: Sequence[FloatArray | None]
    ) -> list[FloatArray]:
        """``[linear(x, w, b) for w, b in zip(weights, biases)]`` with one GEMM."""
        if len(weights) == 1:
            return [self.linear(x, weights[0], biases[0])]
        z = np.split(x @ np.concatenate(weights, axis=1), len(weights), axis=1)
        return [zt if b is None else zt + b for zt, b in zip(z, biases)]

    def linear_backward_many(
        self, grads: Sequence[FloatArray], weights: Sequence[FloatArray], input_shape: Shape
    ) -> FloatArray:
        """``Σ_t linear_backward(grads[t], weights[t])`` with one GEMM."""
        if len(grads) == 1:
            return grads[0] @ weights[0].T
        return np.concatenate(grads, axis=1) @ np.concatenate(weights, axis=1).T

    def __repr__(self) -> str:
        return f"Dense({self.weight.shape[0]}→{self.weight.shape[1]})"


class Activation(Layer):
    """An elementwise activation; LRP passes relevance through it unchanged (Zennit's ``Pass``)."""

    def derivative(self, x: FloatArray) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        return grad * self.derivative(x)


class ReLU(Activation):
    """Rectifier ``max(0, x)``; its gradient at 0 is 0, as in PyTorch."""

    def forward(self, x: FloatArray) -> FloatArray:
        return np.maximum(x, 0)

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        return grad * (x > 0)


class LeakyReLU(Activation):
    """``x`` for x > 0, ``negative_slope · x`` otherwise (torch's default slope 0.01; gradient at 0: the slope).

    >>> LeakyReLU(0.1)(np.array([[-2.0, 3.0]]))
    array([[-0.2,  3. ]])
    """

    def __init__(self, negative_slope: float = 0.01) -> None:
        self.negative_slope = float(as_float_array(negative_slope, "LeakyReLU negative_slope"))

    def forward(self, x: FloatArray) -> FloatArray:
        return np.where(x > 0, x, x * np.asarray(self.negative_slope, x.dtype))

    def derivative(self, x: FloatArray) -> FloatArray:
        return np.where(x > 0, 1, self.negative_slope).astype(x.dtype)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Tanh(Activation):
    """``tanh(x)``, derivative ``1 − tanh²(x)``."""

    def forward(self, x: FloatArray) -> FloatArray:
        return np.tanh(x)

    def derivative(self, x: FloatArray) -> FloatArray:
        return 1 - np.tanh(x) ** 2


class Sigmoid(Activation):
    """``σ(x) = 1 / (1 + e^{−x})``, derivative ``σ(x)(1 − σ(x))``; computed without overflow."""

    def forward(self, x: FloatArray) -> FloatArray:
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def derivative(self, x: FloatArray) -> FloatArray:
        y = self.forward(x)
        return y * (1 - y)


class Identity(Layer):
    """``y = x`` (the shortcut of a residual block; ONNX's Identity and inference-mode Dropout)."""

    def forward(self, x: FloatArray) -> FloatArray:
        return x

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        return grad


class Flatten(Layer):
    """Flatten all but the batch axis in C order (as ``torch.nn.Flatten``)."""

    def forward(self, x: FloatArray) -> FloatArray:
        return x.reshape(x.shape[0], -1)

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        return grad.reshape(x.shape)

    def output_shape(self, input_shape: Shape) -> Shape:
        return (input_shape[0], int(np.prod(input_shape[1:], dtype=np.int64)))


class BatchNorm(Layer):
    """Batch normalisation in inference mode over axis 1 (features of Dense, channels of Conv2d).

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``. Before explaining, the
    canonizer :func:`course.relevance.network.merge_batchnorm` folds it into the
    preceding Dense/Conv2d, so that LRP rules see one affine layer (as Zennit's
    ``SequentialMergeBatchNorm``).
    """

    def __init__(
        self,
        mean: ArrayLike,
        var: ArrayLike,
        weight: ArrayLike | None = None,
        bias: ArrayLike | None = None,
        eps: float = 1e-5,
    ) -> None:
        self.mean = as_float_array(mean, "BatchNorm mean")
        self.var = as_float_array(var, "BatchNorm var")
        if self.mean.ndim != 1 or self.var.shape != self.mean.shape:
            raise CourseError("BatchNorm mean and var must be 1-D arrays of the same length")
        if np.any(self.var < 0):
            raise CourseError("BatchNorm var must be non-negative")
        size = self.mean.shape
        self.weight: FloatArray = np.ones(size) if weight is None else as_float_array(weight, "BatchNorm weight")
        self.bias: FloatArray = np.zeros(size) if bias is None else as_float_array(bias, "BatchNorm bias")
        if self.weight.shape != size or self.bias.shape != size:
            raise CourseError("BatchNorm weight and bias must have the length of mean")
        self.eps = float(eps)

    def scale_shift(self) -> tuple[FloatArray, FloatArray]:
        """The affine form ``y = x * scale + shift`` of this layer, per feature."""
        scale = self.weight / np.sqrt(self.var + self.eps)
        return scale, self.bias - self.mean * scale

    def _broadcast(self, v: FloatArray, ndim: int) -> FloatArray:
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2 or input_shape[1] != self.mean.shape[0]:
            raise CourseError(
                f"{self!r} expects {self.mean.shape[0]} features on axis 1, got shape {tuple(input_shape)}"
            )
        return tuple(input_shape)

    def forward(self, x: FloatArray) -> FloatArray:
        scale, shift = self.scale_shift()
        return x * self._broadcast(scale.astype(x.dtype), x.ndim) + self._broadcast(shift.astype(x.dtype), x.ndim)

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        scale, _ = self.scale_shift()
        return grad * self._broadcast(scale.astype(grad.dtype), grad.ndim)

    def __repr__(self) -> str:
        return f"BatchNorm({self.mean.shape[0]})"
