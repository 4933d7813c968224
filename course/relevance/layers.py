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
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Self, SupportsInt, TypeAlias

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, Shape

if TYPE_CHECKING:
    from course.relevance.network import BackwardStep, Sequential

__all__ = [
    "Layer", "Linear", "Dense", "Conv2d", "Activation", "ReLU", "LeakyReLU", "Tanh", "Sigmoid",
    "MaxPool2d",
    "GlobalAvgPool2d", "AvgPool2d", "Flatten", "BatchNorm", "Identity", "Branches",
]


Pair: TypeAlias = tuple[int, int]
# an int, or a pair of ints (a tuple, a list, ...): torch's convention for stride, padding, kernel_size
IntOrPair: TypeAlias = int | np.integer[Any] | Iterable[SupportsInt]
# (i, j, window): a kernel offset and the slices of the padded NCHW input it reads
Offset: TypeAlias = tuple[int, int, tuple[slice, slice, slice, slice]]


def _pair(value: IntOrPair, name: str) -> Pair:
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise CourseError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return a, b


def _as_float_array(value: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise CourseError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise CourseError(f"{name} contains NaN or inf")
    return arr


def _parameters(
    layer: str, weight: ArrayLike, bias: ArrayLike | None, shape_text: str, out_axis: int
) -> tuple[FloatArray, FloatArray]:
    """Validated (weight, bias) of a Dense/Conv2d; a missing bias is zeros in the weight's dtype."""
    w = _as_float_array(weight, f"{layer} weight")
    if w.ndim != shape_text.count(",") + 1:
        raise CourseError(f"{layer} weight must have shape {shape_text}, got shape {w.shape}")
    n_out = w.shape[out_axis]
    bias = np.zeros(n_out, dtype=w.dtype) if bias is None else bias
    b = _as_float_array(bias, f"{layer} bias").astype(w.dtype, copy=False)
    if b.shape != (n_out,):
        raise CourseError(f"{layer} bias must have shape ({n_out},), got {b.shape}")
    return w, b


class Layer:
    """Base class: a differentiable map of a batch (the first axis is the batch)."""

    has_params = False

    def forward(self, x: FloatArray) -> FloatArray:
        raise NotImplementedError

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        """Vector-Jacobian product: ``grad`` (shaped like the output) times d forward / dx at ``x``."""
        raise NotImplementedError

    def output_shape(self, input_shape: Shape) -> Shape:
        """Shape of the output for an input of ``input_shape`` (batch axis included); validates it."""
        return tuple(input_shape)

    def __call__(self, x: FloatArray) -> FloatArray:
        return self.forward(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Layer):
    """An affine layer ``z = A(x; weight) + bias``: the layers LRP rules apply to."""

    has_params = True
    weight: FloatArray
    bias: FloatArray

    def forward(self, x: FloatArray) -> FloatArray:
        return self.linear(x, self.weight, self.bias)

    def backward(self, x: FloatArray, grad: FloatArray) -> FloatArray:
        return self.linear_backward(grad, self.weight, x.shape)

    def linear(
        self, x: FloatArray, weight: FloatArray, bias: FloatArray | None = None
    ) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def linear_backward(
        self, grad: FloatArray, weight: FloatArray, input_shape: Shape
    ) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def linear_many(
        self, x: FloatArray, weights: Sequence[FloatArray], biases: Sequence[FloatArray | None]
    ) -> list[FloatArray]:
        """The affine map of one input with several parameter sets (subclasses share the work)."""
        return [self.linear(x, w, b) for w, b in zip(weights, biases)]

    def linear_backward_many(
        self, grads: Sequence[FloatArray], weights: Sequence[FloatArray], input_shape: Shape
    ) -> FloatArray:
        """``Σ_t linear_backward(grads[t], weights[t], input_shape)`` (subclasses share the work)."""
        return sum_arrays(self.linear_backward(g, w, input_shape) for g, w in zip(grads, weights))

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.weight.dtype

    def with_params(self, weight: FloatArray, bias: FloatArray) -> Self:
        """A copy of this layer with other parameters (same stride, padding, ...)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.weight, clone.bias = weight, bias
        return clone


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
            w = _as_float_array(weight, "Dense weight")
            if w.ndim != 2:
                raise CourseError(f"Dense weight must have shape (out, in), got shape {w.shape}")
            weight = w.T.copy()
        self.weight, self.bias = _parameters("Dense", weight, bias, "(in, out)", out_axis=1)

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


def sum_arrays(arrays: Iterable[FloatArray]) -> FloatArray:
    """``Σ arrays`` as Python's ``sum`` adds them (from 0, so the result is a new array, never an input)."""
    total = sum(arrays)
    if not isinstance(total, np.ndarray):
        raise CourseError("nothing to add: a sum of relevance terms needs at least one term")
    return total


def _offsets(kernel: Shape, stride: Pair, out_hw: Shape, dilation: Pair = (1, 1)) -> Iterator[Offset]:
    """For every kernel offset (i, j): the slice of the (padded) input that offset reads for all outputs."""
    (sh, sw), (oh, ow), (dh, dw) = stride, out_hw, dilation
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield i, j, (slice(None), slice(None), slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
                         slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))


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
        self.weight, self.bias = _parameters("Conv2d", weight, bias, "(out_c, in_c, kh, kw)", out_axis=0)
        self.stride = _pair(stride, "Conv2d stride")
        self.padding = _pair(padding, "Conv2d padding")
        self.dilation = _pair(dilation, "Conv2d dilation")
        if min(self.stride) < 1 or min(self.padding) < 0 or min(self.dilation) < 1:
            raise CourseError(f"Conv2d needs stride ≥ 1, padding ≥ 0 and dilation ≥ 1, got {self.stride}, "
                              f"{self.padding}, {self.dilation}")
        given: object = groups  # checked as any value: a caller without a type checker may pass anything
        if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 1 \
                or self.weight.shape[0] % given:
            raise CourseError(f"Conv2d groups must be a positive int dividing out_c = {self.weight.shape[0]}, "
                              f"got {groups!r}")
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
                None, :, None, None]
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
            f", groups={self.groups}" if self.groups != 1 else "")
        return f"Conv2d({i * self.groups}→{o}, {kh}×{kw}, stride={self.stride}, padding={self.padding}{extra})"


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
        self.negative_slope = float(_as_float_array(negative_slope, "LeakyReLU negative_slope"))

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


class _Pool2d(Layer):
    pad_value = 0.0

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 0) -> None:
        name = type(self).__name__
        self.kernel = _pair(kernel_size, f"{name} kernel_size")
        self.stride = self.kernel if stride is None else _pair(stride, f"{name} stride")
        self.padding = _pair(padding, f"{name} padding")
        if min(self.kernel) < 1 or min(self.stride) < 1:
            raise CourseError(f"{name} needs kernel_size and stride ≥ 1")
        if min(self.padding) < 0 or any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise CourseError(f"{name} padding must be between 0 and half the kernel size (as torch), "
                              f"got padding {self.padding} for kernel {self.kernel}")

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
        self.mean = _as_float_array(mean, "BatchNorm mean")
        self.var = _as_float_array(var, "BatchNorm var")
        if self.mean.ndim != 1 or self.var.shape != self.mean.shape:
            raise CourseError("BatchNorm mean and var must be 1-D arrays of the same length")
        if np.any(self.var < 0):
            raise CourseError("BatchNorm var must be non-negative")
        size = self.mean.shape
        self.weight: FloatArray = np.ones(size) if weight is None else _as_float_array(weight, "BatchNorm weight")
        self.bias: FloatArray = np.zeros(size) if bias is None else _as_float_array(bias, "BatchNorm bias")
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


class Branches(Layer):
    """Base of the blocks whose branches (:class:`~course.relevance.Sequential` chains) read the same input
    and are combined (:class:`~course.relevance.residual.Residual`: a sum, ``Concat``: a concatenation).

    Subclasses say how outputs combine (``combine``) and how a vector at the output splits back onto the
    branches (``split``); the gradient is then the sum of the branches' gradients.
    """

    branches: list[Sequential]

    def combine(self, outputs: list[FloatArray]) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    def split(self, outputs: list[FloatArray], grad: FloatArray) -> list[FloatArray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: FloatArray) -> FloatArray:
        return self.combine([branch.forward_unchecked(x) for branch in self.branches])

    def backward(self, x: FloatArray, grad: FloatArray, step: BackwardStep | None = None) -> FloatArray:
        """The vector-Jacobian product; ``step`` (see :meth:`Sequential.backward`) runs inside every branch."""
        runs = [branch.activations_unchecked(x) for branch in self.branches]
        parts = self.split([acts[-1] for acts in runs], grad)
        grads = [branch.backward(acts, part, step) for branch, acts, part in zip(self.branches, runs, parts)]
        total: FloatArray = sum(grads[1:], grads[0])  # g₀ + g₁ + …, in branch order
        return total

    def output_shape(self, input_shape: Shape) -> Shape:
        shapes = []
        for k, branch in enumerate(self.branches):
            try:
                shapes.append(branch.check_shapes(input_shape))
            except CourseError as exc:
                raise CourseError(f"{type(self).__name__} branch {k}: {exc}") from None
        return self.combined_shape(shapes)

    def combined_shape(self, shapes: list[Shape]) -> Shape:  # pragma: no cover - abstract
        raise NotImplementedError

    def with_branches(self, branches: Iterable[Sequential]) -> Self:
        """A copy of this block with other branches (e.g. after merging their BatchNorms)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.branches = list(branches)
        return clone
