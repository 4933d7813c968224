"""Layers on NCHW images: Conv2d and the pools, vectorised with im2col patch matrices.

Conventions follow PyTorch: ``Conv2d`` is an NCHW cross-correlation with ``weight`` of shape
(out_c, in_c / groups, kh, kw), with torch's ``stride``, ``padding``, ``dilation`` and ``groups``; pools
take torch's ``padding`` too. Convolution, pooling and their adjoints are vectorised: im2col patch
matrices and one batched BLAS GEMM per call; the only Python loops run over the kh*kw kernel offsets
(gathering and scattering windows, pooling). Everything that indexes windows of an image is in this
module; the layer protocol they implement is :mod:`course.relevance.base`.

>>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeAlias

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, Shape
from course.relevance.base import IntOrPair, Layer, Linear, Pair, as_pair, checked_parameters

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d"]


# (i, j, window): a kernel offset and the slices of the padded NCHW input it reads
Offset: TypeAlias = tuple[int, int, tuple[slice, slice, slice, slice]]


def _offsets(kernel: Shape, stride: Pair, out_hw: Shape, dilation: Pair = (1, 1)) -> Iterator[Offset]:
    """For every kernel offset (i, j): the slice of the (padded) input that offset reads for all outputs."""
    (sh, sw), (oh, ow), (dh, dw) = stride, out_hw, dilation
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield (
                i,
                j,
                (
                    slice(None),
                    slice(None),
                    slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                    slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
                ),
            )


def _im2col(x: FloatArray, kernel: Shape, stride: Pair, out_hw: Shape, dilation: Pair = (1, 1)) -> FloatArray:
    """(N, C·kh·kw, OH·OW) patch matrix of an NCHW array (rows ordered c, i, j as the weight's)."""
    n, c = x.shape[:2]
    cols = np.empty((n, c, kernel[0], kernel[1]) + tuple(out_hw), dtype=x.dtype)
    for i, j, window in _offsets(kernel, stride, out_hw, dilation):
        cols[:, :, i, j] = x[window]
    return cols.reshape(n, -1, out_hw[0] * out_hw[1])


def _scatter_cols(
    out: FloatArray, cols: FloatArray, kernel: Shape, stride: Pair, out_hw: Shape, dilation: Pair = (1, 1)
) -> None:
    """Adjoint of :func:`_im2col`: add cols (N, C, kh, kw, OH, OW) into the (padded) NCHW array ``out``."""
    for i, j, window in _offsets(kernel, stride, out_hw, dilation):
        out[window] += cols[:, :, i, j]


# Patch matrices are built for a few samples at a time: ~2 MB pieces stay in cache, and freed pieces are
# reused instead of fresh pages being faulted in for every call (page faults dominate on small VMs).
_CHUNK_BYTES = 1 << 21


def _batch_chunks(n: int, bytes_per_sample: int) -> list[slice]:
    step = max(1, _CHUNK_BYTES // max(int(bytes_per_sample), 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _stack(weights: Sequence[FloatArray], groups: int = 1) -> FloatArray:
    """The weights as one (groups, Σ out_c / groups, in_c / groups · kh · kw) array, per group."""
    parts = [w.reshape(groups, w.shape[0] // groups, -1) for w in weights]
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


def _conv_output_hw(
    h: int, w: int, kernel: Shape, stride: Pair, padding: Pair, layer: Layer, dilation: Pair = (1, 1)
) -> Pair:
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    oh = (h + 2 * padding[0] - span[0]) // stride[0] + 1
    ow = (w + 2 * padding[1] - span[1]) // stride[1] + 1
    if oh < 1 or ow < 1:
        raise CourseError(f"{layer!r}: input of height×width {h}×{w} is smaller than its {span} window")
    return oh, ow


def _pad(x: FloatArray, padding: Pair, value: float = 0.0) -> FloatArray:
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


class Conv2d(Linear):
    """2-D cross-correlation on NCHW input, as ``torch.nn.Conv2d`` (zero padding).

    ``weight`` has shape (out_c, in_c / groups, kh, kw); ``stride``, ``padding`` and ``dilation`` are
    ints or pairs; ``groups`` splits the channels into independent convolutions (torch's meaning).

    >>> conv = Conv2d(np.ones((1, 1, 2, 2)), np.zeros(1))
    >>> conv(np.arange(9.0).reshape(1, 1, 3, 3))[0, 0]
    array([[ 8., 12.],
           [20., 24.]])
    >>> Conv2d(np.ones((1, 1, 2, 2)), dilation=2)(np.arange(9.0).reshape(1, 1, 3, 3))[0, 0]  # corners
    array([[16.]])
    """

    def __init__(
        self,
        weight: ArrayLike,
        bias: ArrayLike | None = None,
        stride: IntOrPair = 1,
        padding: IntOrPair = 0,
        dilation: IntOrPair = 1,
        groups: int = 1,
    ) -> None:
        self.weight, self.bias = checked_parameters("Conv2d", weight, bias, "(out_c, in_c, kh, kw)", out_axis=0)
        self.stride = as_pair(stride, "Conv2d stride")
        self.padding = as_pair(padding, "Conv2d padding")
        self.dilation = as_pair(dilation, "Conv2d dilation")
        if min(self.stride) < 1 or min(self.padding) < 0 or min(self.dilation) < 1:
            raise CourseError(
                f"Conv2d needs stride ≥ 1, padding ≥ 0 and dilation ≥ 1, got {self.stride}, "
                f"{self.padding}, {self.dilation}"
            )
        given: object = groups  # checked as any value: a caller without a type checker may pass anything
        if (
            isinstance(given, bool)
            or not isinstance(given, (int, np.integer))
            or given < 1
            or self.weight.shape[0] % given
        ):
            raise CourseError(
                f"Conv2d groups must be a positive int dividing out_c = {self.weight.shape[0]}, got {groups!r}"
            )
        self.groups = int(given)

    @property
    def kernel(self) -> Shape:
        return self.weight.shape[2:]

    @property
    def in_channels(self) -> int:
        channels: int = self.weight.shape[1] * self.groups
        return channels

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 4 or input_shape[1] != self.in_channels:
            raise CourseError(
                f"{self!r} expects input of shape (batch, {self.in_channels}, H, W), got {tuple(input_shape)}"
            )
        oh, ow = self._out_hw(input_shape)
        return (input_shape[0], self.weight.shape[0], oh, ow)

    def _out_hw(self, input_shape: Shape) -> Pair:
        h, w = input_shape[2:]
        return _conv_output_hw(h, w, self.kernel, self.stride, self.padding, self, self.dilation)

    def linear(self, x: FloatArray, weight: FloatArray, bias: FloatArray | None = None) -> FloatArray:
        return self.linear_many(x, [weight], [bias])[0]

    def linear_backward(self, grad: FloatArray, weight: FloatArray, input_shape: Shape) -> FloatArray:
        return self.linear_backward_many([grad], [weight], input_shape)

    def linear_many(
        self, x: FloatArray, weights: Sequence[FloatArray], biases: Sequence[FloatArray | None]
    ) -> list[FloatArray]:
        """``[linear(x, w, b) for w, b in zip(weights, biases)]`` with one patch matrix and one GEMM per group."""
        (oh, ow), g, n_w = self._out_hw(x.shape), self.groups, len(weights)
        stacked = _stack(weights, g)  # (G, T·og, K)
        dtype = np.result_type(x.dtype, stacked.dtype)
        xp, stacked = _pad(x.astype(dtype, copy=False), self.padding), stacked.astype(dtype, copy=False)
        z = np.empty((x.shape[0], g, stacked.shape[1], oh * ow), dtype=dtype)
        # one group: plain (M, K) @ (n, K, L) products (NumPy's broadcast (1, M, K) @ (n, 1, K, L) is slower)
        weights_g, z_g = (stacked[0], z[:, 0]) if g == 1 else (stacked, z)
        for part in _batch_chunks(x.shape[0], stacked.shape[2] * g * oh * ow * dtype.itemsize):
            cols = _im2col(xp[part], self.kernel, self.stride, (oh, ow), self.dilation)
            np.matmul(weights_g, cols if g == 1 else cols.reshape(len(cols), g, -1, oh * ow), out=z_g[part])
        if g > 1:  # (N, G, T, og, L) -> (N, T, G, og, L): the outputs of each parameter set together
            z = z.reshape(x.shape[0], g, n_w, -1, oh * ow).transpose(0, 2, 1, 3, 4)
        z = z.reshape(x.shape[0], -1, oh, ow)
        if any(b is not None for b in biases):
            z += np.concatenate([np.zeros(w.shape[0], z.dtype) if b is None else b for w, b in zip(weights, biases)])[
                None, :, None, None
            ]
        return np.split(z, n_w, axis=1) if n_w > 1 else [z]

    def linear_backward_many(
        self, grads: Sequence[FloatArray], weights: Sequence[FloatArray], input_shape: Shape
    ) -> FloatArray:
        """``Σ_t linear_backward(grads[t], weights[t])`` with one GEMM per group and one scatter."""
        n, (oh, ow), g = grads[0].shape[0], grads[0].shape[2:], self.groups
        grad = np.concatenate(grads, axis=1) if len(grads) > 1 else grads[0]
        stacked = _stack(weights, g)
        dtype = np.result_type(grad.dtype, stacked.dtype)
        grad = grad.astype(dtype, copy=False).reshape(n, len(grads), g, -1, oh * ow)
        if g > 1:  # (N, T, G, og, L) -> (N, G, T, og, L), the order of the stacked weights
            grad = grad.transpose(0, 2, 1, 3, 4)
        grad = grad.reshape(n, g, -1, oh * ow)
        adjoint = stacked.astype(dtype, copy=False).transpose(0, 2, 1)  # (G, K, T·og)
        (ph, pw), (h, w) = self.padding, input_shape[2:]
        out = np.zeros((n, input_shape[1], h + 2 * ph, w + 2 * pw), dtype=dtype)
        for part in _batch_chunks(n, adjoint.shape[1] * g * oh * ow * dtype.itemsize):
            cols = np.matmul(adjoint, grad[part]).reshape((-1, input_shape[1]) + tuple(self.kernel) + (oh, ow))
            _scatter_cols(out[part], cols, self.kernel, self.stride, (oh, ow), self.dilation)
        return out[:, :, ph : ph + h, pw : pw + w]

    def __repr__(self) -> str:
        o, i, kh, kw = self.weight.shape
        extra = (f", dilation={self.dilation}" if self.dilation != (1, 1) else "") + (
            f", groups={self.groups}" if self.groups != 1 else ""
        )
        return f"Conv2d({i * self.groups}→{o}, {kh}×{kw}, stride={self.stride}, padding={self.padding}{extra})"


class _Pool2d(Layer):
    pad_value = 0.0

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> None:
        name = type(self).__name__
        self.kernel = as_pair(kernel_size, f"{name} kernel_size")
        self.stride = self.kernel if stride is None else as_pair(stride, f"{name} stride")
        self.padding = as_pair(padding, f"{name} padding")
        if min(self.kernel) < 1 or min(self.stride) < 1:
            raise CourseError(f"{name} needs kernel_size and stride ≥ 1")
        if min(self.padding) < 0 or any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise CourseError(
                f"{name} padding must be between 0 and half the kernel size (as torch), "
                f"got padding {self.padding} for kernel {self.kernel}"
            )

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 4:
            raise CourseError(f"{self!r} expects NCHW input, got shape {tuple(input_shape)}")
        h, w = input_shape[2:]
        oh, ow = _conv_output_hw(h, w, self.kernel, self.stride, self.padding, self)
        return (input_shape[0], input_shape[1], oh, ow)

    def _windows(self, out_hw: Shape) -> list[tuple[slice, slice, slice, slice]]:
        """The input window of every kernel offset, in row-major (argmax) order."""
        return [window for _, _, window in _offsets(self.kernel, self.stride, out_hw)]

    def _crop(self, padded: FloatArray) -> FloatArray:
        (ph, pw), (h, w) = self.padding, padded.shape[2:]
        return padded[:, :, ph : h - ph, pw : w - pw]

    def __repr__(self) -> str:
        pad = f", padding={self.padding}" if self.padding != (0, 0) else ""
        return f"{type(self).__name__}(kernel_size={self.kernel}, stride={self.stride}{pad})"


class MaxPool2d(_Pool2d):
    """Max pooling, padded with −∞ (torch); the gradient goes to the first maximum of each window (torch on CPU)."""

    def forward(self, x: FloatArray) -> FloatArray:
        xp = _pad(x, self.padding, -np.inf)
        first, *rest = self._windows(self.output_shape(x.shape)[2:])
        out = xp[first].copy()
        for window in rest:
            np.maximum(out, xp[window], out=out)
        return out

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        xp, peak = _pad(x, self.padding, -np.inf), self.forward(x)
        result = np.zeros(xp.shape, dtype=grad.dtype)
        open_ = np.ones(grad.shape, dtype=bool)  # windows whose first maximum is not found yet
        for window in self._windows(grad.shape[2:]):  # row-major = argmax order
            first = open_ & (xp[window] == peak)
            result[window] += grad * first
            open_ &= ~first
        return self._crop(result)


class AvgPool2d(_Pool2d):
    """Average pooling with zero padding; ``count_include_pad=True`` (torch's default) divides every window
    by kh·kw, ``False`` by the number of its positions inside the image.

    >>> AvgPool2d(2, padding=1)(np.ones((1, 1, 2, 2)))[0, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """

    def __init__(
        self,
        kernel_size: IntOrPair,
        stride: IntOrPair | None = None,
        padding: IntOrPair = 0,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad = bool(count_include_pad)

    def _divisor(self, input_shape: Shape, dtype: np.dtype[Any]) -> FloatArray | np.floating[Any]:
        if self.count_include_pad or self.padding == (0, 0):
            divisor: np.floating[Any] = dtype.type(self.kernel[0] * self.kernel[1])
            return divisor
        ones = np.ones((1, 1) + tuple(input_shape[2:]), dtype=dtype)
        return self._sum(_pad(ones, self.padding), self.output_shape(ones.shape)[2:])

    def _sum(self, xp: FloatArray, out_hw: Shape) -> FloatArray:
        first, *rest = self._windows(out_hw)
        out = xp[first].copy()
        for window in rest:
            np.add(out, xp[window], out=out)
        return out

    def forward(self, x: FloatArray) -> FloatArray:
        return self._sum(_pad(x, self.padding), self.output_shape(x.shape)[2:]) / self._divisor(x.shape, x.dtype)

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        share = grad / self._divisor(x.shape, grad.dtype)
        pads = self.padding
        result = np.zeros(x.shape[:2] + (x.shape[2] + 2 * pads[0], x.shape[3] + 2 * pads[1]), dtype=grad.dtype)
        for window in self._windows(grad.shape[2:]):
            result[window] += share
        return self._crop(result)

    def __repr__(self) -> str:
        text = super().__repr__()
        return text[:-1] + ", count_include_pad=False)" if not self.count_include_pad else text


class GlobalAvgPool2d(Layer):
    """The mean over height and width, as torch's ``AdaptiveAvgPool2d(1)`` (ONNX ``GlobalAveragePool``).

    Output (N, C, 1, 1). LRP shares its relevance in proportion to the inputs (the ``Norm`` rule, as an
    average pooling; Zennit's composites do the same).

    >>> GlobalAvgPool2d()(np.arange(4.0).reshape(1, 1, 2, 2))
    array([[[[1.5]]]])
    """

    def forward(self, x: FloatArray) -> FloatArray:
        mean: FloatArray = x.mean(axis=(2, 3), keepdims=True)  # keepdims: an array, never a scalar
        return mean

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        return np.broadcast_to(grad / (x.shape[2] * x.shape[3]), x.shape).copy()

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 4:
            raise CourseError(f"{self!r} expects NCHW input, got shape {tuple(input_shape)}")
        return (input_shape[0], input_shape[1], 1, 1)
