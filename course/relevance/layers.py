"""Layers of the NumPy network: forward maps and their vector-Jacobian products.

Every layer is a plain object with ``forward(x)`` and ``backward(x, grad)``,
the product of the upstream vector ``grad`` with the layer's Jacobian at ``x``.
The parametrised layers (:class:`Dense`, :class:`Conv2d`) also expose the two
primitives the LRP rules are written in, so that a rule never needs to know
which kind of layer it is applied to:

* ``linear(x, weight, bias)`` -- the affine map with *given* parameters;
* ``linear_backward(grad, weight, input_shape)`` -- its adjoint (no bias).

Conventions follow PyTorch: ``Dense`` computes ``x @ weight + bias`` with
``weight`` of shape (in, out); ``Conv2d`` is an NCHW cross-correlation with
``weight`` of shape (out_c, in_c, kh, kw). Convolution, pooling and their
adjoints are vectorised: im2col patch matrices and one batched BLAS GEMM per
call; the only Python loops run over the kh*kw kernel offsets (gathering and
scattering windows, pooling). ``linear_many``/``linear_backward_many`` apply one
input to several parameter sets (or sum several adjoints) with a single GEMM,
which is what multi-term LRP rules need.
"""
from __future__ import annotations

import numpy as np

from course.errors import CourseError

__all__ = [
    "Layer", "Linear", "Dense", "Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Flatten", "BatchNorm",
]


def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise CourseError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return a, b


def _as_float_array(value, name: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise CourseError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise CourseError(f"{name} contains NaN or inf")
    return arr


def _parameters(layer: str, weight, bias, shape_text: str, out_axis: int):
    """Validated (weight, bias) of a Dense/Conv2d; a missing bias is zeros in the weight's dtype."""
    weight = _as_float_array(weight, f"{layer} weight")
    if weight.ndim != shape_text.count(",") + 1:
        raise CourseError(f"{layer} weight must have shape {shape_text}, got shape {weight.shape}")
    n_out = weight.shape[out_axis]
    bias = np.zeros(n_out, dtype=weight.dtype) if bias is None else bias
    bias = _as_float_array(bias, f"{layer} bias").astype(weight.dtype, copy=False)
    if bias.shape != (n_out,):
        raise CourseError(f"{layer} bias must have shape ({n_out},), got {bias.shape}")
    return weight, bias


class Layer:
    """Base class: a differentiable map of a batch (the first axis is the batch)."""

    has_params = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, x: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Vector-Jacobian product: ``grad`` (shaped like the output) times d forward / dx at ``x``."""
        raise NotImplementedError

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of the output for an input of ``input_shape`` (batch axis included); validates it."""
        return tuple(input_shape)

    def __call__(self, x):
        return self.forward(x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Layer):
    """An affine layer ``z = A(x; weight) + bias``: the layers LRP rules apply to."""

    has_params = True
    weight: np.ndarray
    bias: np.ndarray

    def forward(self, x):
        return self.linear(x, self.weight, self.bias)

    def backward(self, x, grad):
        return self.linear_backward(grad, self.weight, x.shape)

    def linear(self, x, weight, bias=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def linear_backward(self, grad, weight, input_shape):  # pragma: no cover - abstract
        raise NotImplementedError

    def linear_many(self, x, weights, biases):
        """The affine map of one input with several parameter sets (subclasses share the work)."""
        return [self.linear(x, w, b) for w, b in zip(weights, biases)]

    def linear_backward_many(self, grads, weights, input_shape):
        """``Σ_t linear_backward(grads[t], weights[t], input_shape)`` (subclasses share the work)."""
        return sum(self.linear_backward(g, w, input_shape) for g, w in zip(grads, weights))

    @property
    def dtype(self):
        return self.weight.dtype

    def with_params(self, weight, bias):
        """A copy of this layer with other parameters (same stride, padding, ...)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.weight, clone.bias = weight, bias
        return clone


class Dense(Linear):
    """Fully connected layer ``y = x @ weight + bias``, ``weight`` of shape (in, out).

    >>> layer = Dense(np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([0.0, 1.0]))
    >>> layer(np.array([[1.0, 1.0]]))
    array([[3. , 0.5]])
    """

    def __init__(self, weight, bias=None):
        self.weight, self.bias = _parameters("Dense", weight, bias, "(in, out)", out_axis=1)

    def output_shape(self, input_shape):
        if len(input_shape) != 2 or input_shape[1] != self.weight.shape[0]:
            raise CourseError(
                f"{self!r} expects input of shape (batch, {self.weight.shape[0]}), got {tuple(input_shape)}"
            )
        return (input_shape[0], self.weight.shape[1])

    def linear(self, x, weight, bias=None):
        z = x @ weight
        return z if bias is None else z + bias

    def linear_backward(self, grad, weight, input_shape):
        return grad @ weight.T

    def linear_many(self, x, weights, biases):
        """``[linear(x, w, b) for w, b in zip(weights, biases)]`` with one GEMM."""
        if len(weights) == 1:
            return [self.linear(x, weights[0], biases[0])]
        z = np.split(x @ np.concatenate(weights, axis=1), len(weights), axis=1)
        return [zt if b is None else zt + b for zt, b in zip(z, biases)]

    def linear_backward_many(self, grads, weights, input_shape):
        """``Σ_t linear_backward(grads[t], weights[t])`` with one GEMM."""
        if len(grads) == 1:
            return grads[0] @ weights[0].T
        return np.concatenate(grads, axis=1) @ np.concatenate(weights, axis=1).T

    def __repr__(self):
        return f"Dense({self.weight.shape[0]}→{self.weight.shape[1]})"


def _offsets(kernel, stride, out_hw):
    """For every kernel offset (i, j): the slice of the (padded) input that offset reads for all outputs."""
    (sh, sw), (oh, ow) = stride, out_hw
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            yield i, j, (slice(None), slice(None), slice(i, i + sh * oh, sh), slice(j, j + sw * ow, sw))


def _im2col(x, kernel, stride, out_hw):
    """(N, C·kh·kw, OH·OW) patch matrix of an NCHW array (rows ordered c, i, j as the weight's)."""
    n, c = x.shape[:2]
    cols = np.empty((n, c, kernel[0], kernel[1]) + tuple(out_hw), dtype=x.dtype)
    for i, j, window in _offsets(kernel, stride, out_hw):
        cols[:, :, i, j] = x[window]
    return cols.reshape(n, -1, out_hw[0] * out_hw[1])


def _scatter_cols(out, cols, kernel, stride, out_hw):
    """Adjoint of :func:`_im2col`: add cols (N, C, kh, kw, OH, OW) into the (padded) NCHW array ``out``."""
    for i, j, window in _offsets(kernel, stride, out_hw):
        out[window] += cols[:, :, i, j]


# Patch matrices are built for a few samples at a time: ~2 MB pieces stay in cache, and freed pieces are
# reused instead of fresh pages being faulted in for every call (page faults dominate on small VMs).
_CHUNK_BYTES = 1 << 21


def _batch_chunks(n: int, bytes_per_sample: int):
    step = max(1, _CHUNK_BYTES // max(int(bytes_per_sample), 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def _stack(weights):
    """The weights as one (Σ out_c, in_c·kh·kw) matrix."""
    if len(weights) == 1:
        return weights[0].reshape(weights[0].shape[0], -1)
    return np.concatenate([w.reshape(w.shape[0], -1) for w in weights])


def _conv_output_hw(h, w, kernel, stride, padding, layer):
    oh = (h + 2 * padding[0] - kernel[0]) // stride[0] + 1
    ow = (w + 2 * padding[1] - kernel[1]) // stride[1] + 1
    if oh < 1 or ow < 1:
        raise CourseError(f"{layer!r}: input of height×width {h}×{w} is smaller than its {kernel} window")
    return oh, ow


class Conv2d(Linear):
    """2-D cross-correlation on NCHW input, as ``torch.nn.Conv2d`` (zero padding, no dilation/groups).

    ``weight`` has shape (out_c, in_c, kh, kw); ``stride`` and ``padding`` are ints or pairs.

    >>> conv = Conv2d(np.ones((1, 1, 2, 2)), np.zeros(1))
    >>> conv(np.arange(9.0).reshape(1, 1, 3, 3))[0, 0]
    array([[ 8., 12.],
           [20., 24.]])
    """

    def __init__(self, weight, bias=None, stride=1, padding=0):
        self.weight, self.bias = _parameters("Conv2d", weight, bias, "(out_c, in_c, kh, kw)", out_axis=0)
        self.stride = _pair(stride, "Conv2d stride")
        self.padding = _pair(padding, "Conv2d padding")
        if min(self.stride) < 1 or min(self.padding) < 0:
            raise CourseError(f"Conv2d needs stride ≥ 1 and padding ≥ 0, got {self.stride}, {self.padding}")

    @property
    def kernel(self):
        return self.weight.shape[2:]

    def output_shape(self, input_shape):
        if len(input_shape) != 4 or input_shape[1] != self.weight.shape[1]:
            raise CourseError(
                f"{self!r} expects input of shape (batch, {self.weight.shape[1]}, H, W), got {tuple(input_shape)}"
            )
        oh, ow = _conv_output_hw(*input_shape[2:], self.kernel, self.stride, self.padding, self)
        return (input_shape[0], self.weight.shape[0], oh, ow)

    def _pad(self, x):
        ph, pw = self.padding
        if ph == 0 and pw == 0:
            return x
        return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))

    def _out_hw(self, input_shape):
        return _conv_output_hw(*input_shape[2:], self.kernel, self.stride, self.padding, self)

    def linear(self, x, weight, bias=None):
        return self.linear_many(x, [weight], [bias])[0]

    def linear_backward(self, grad, weight, input_shape):
        return self.linear_backward_many([grad], [weight], input_shape)

    def linear_many(self, x, weights, biases):
        """``[linear(x, w, b) for w, b in zip(weights, biases)]`` with one patch matrix and one GEMM."""
        oh, ow = self._out_hw(x.shape)
        stacked = _stack(weights)
        dtype = np.result_type(x.dtype, stacked.dtype)
        xp, stacked = self._pad(x.astype(dtype, copy=False)), stacked.astype(dtype, copy=False)
        z = np.empty((x.shape[0], stacked.shape[0], oh * ow), dtype=dtype)
        for part in _batch_chunks(x.shape[0], stacked.shape[1] * oh * ow * dtype.itemsize):
            np.matmul(stacked, _im2col(xp[part], self.kernel, self.stride, (oh, ow)), out=z[part])
        z = z.reshape(x.shape[0], -1, oh, ow)
        if any(b is not None for b in biases):
            z += np.concatenate([np.zeros(w.shape[0], z.dtype) if b is None else b for w, b in zip(weights, biases)])[
                None, :, None, None]
        return np.split(z, len(weights), axis=1) if len(weights) > 1 else [z]

    def linear_backward_many(self, grads, weights, input_shape):
        """``Σ_t linear_backward(grads[t], weights[t])`` with one GEMM and one scatter."""
        n, (oh, ow) = grads[0].shape[0], grads[0].shape[2:]
        g = np.concatenate(grads, axis=1) if len(grads) > 1 else grads[0]
        stacked = _stack(weights)
        dtype = np.result_type(g.dtype, stacked.dtype)
        g = g.astype(dtype, copy=False).reshape(n, -1, oh * ow)
        adjoint = stacked.astype(dtype, copy=False).T
        (ph, pw), (h, w) = self.padding, input_shape[2:]
        out = np.zeros((n, input_shape[1], h + 2 * ph, w + 2 * pw), dtype=dtype)
        for part in _batch_chunks(n, adjoint.shape[0] * oh * ow * dtype.itemsize):
            cols = np.matmul(adjoint, g[part]).reshape((-1, input_shape[1]) + tuple(self.kernel) + (oh, ow))
            _scatter_cols(out[part], cols, self.kernel, self.stride, (oh, ow))
        return out[:, :, ph : ph + h, pw : pw + w]

    def __repr__(self):
        o, i, kh, kw = self.weight.shape
        return f"Conv2d({i}→{o}, {kh}×{kw}, stride={self.stride}, padding={self.padding})"


class ReLU(Layer):
    """Rectifier ``max(0, x)``; its gradient at 0 is 0, as in PyTorch."""

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, x, grad):
        return grad * (x > 0)


class _Pool2d(Layer):
    def __init__(self, kernel_size, stride=None):
        self.kernel = _pair(kernel_size, f"{type(self).__name__} kernel_size")
        self.stride = self.kernel if stride is None else _pair(stride, f"{type(self).__name__} stride")
        if min(self.kernel) < 1 or min(self.stride) < 1:
            raise CourseError(f"{type(self).__name__} needs kernel_size and stride ≥ 1")

    def output_shape(self, input_shape):
        if len(input_shape) != 4:
            raise CourseError(f"{self!r} expects NCHW input, got shape {tuple(input_shape)}")
        oh, ow = _conv_output_hw(*input_shape[2:], self.kernel, self.stride, (0, 0), self)
        return (input_shape[0], input_shape[1], oh, ow)

    def __repr__(self):
        return f"{type(self).__name__}(kernel_size={self.kernel}, stride={self.stride})"


class MaxPool2d(_Pool2d):
    """Max pooling; the gradient goes to the first maximum of each window (as PyTorch on CPU)."""

    def forward(self, x):
        out = None
        for _, _, window in _offsets(self.kernel, self.stride, self.output_shape(x.shape)[2:]):
            out = x[window].copy() if out is None else np.maximum(out, x[window], out=out)
        return out

    def backward(self, x, grad):
        out_hw = grad.shape[2:]
        peak = self.forward(x)
        result = np.zeros_like(x, dtype=grad.dtype)
        open_ = np.ones(grad.shape, dtype=bool)  # windows whose first maximum is not found yet
        for _, _, window in _offsets(self.kernel, self.stride, out_hw):  # row-major = argmax order
            first = open_ & (x[window] == peak)
            result[window] += grad * first
            open_ &= ~first
        return result


class AvgPool2d(_Pool2d):
    """Average pooling (no padding): each output is the mean of its window."""

    def forward(self, x):
        out = None
        for _, _, window in _offsets(self.kernel, self.stride, self.output_shape(x.shape)[2:]):
            out = x[window].copy() if out is None else np.add(out, x[window], out=out)
        return out / (self.kernel[0] * self.kernel[1])

    def backward(self, x, grad):
        share = grad / (self.kernel[0] * self.kernel[1])
        result = np.zeros_like(x, dtype=grad.dtype)
        for _, _, window in _offsets(self.kernel, self.stride, grad.shape[2:]):
            result[window] += share
        return result


class Flatten(Layer):
    """Flatten all but the batch axis in C order (as ``torch.nn.Flatten``)."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)

    def backward(self, x, grad):
        return grad.reshape(x.shape)

    def output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:], dtype=np.int64)))


class BatchNorm(Layer):
    """Batch normalisation in inference mode over axis 1 (features of Dense, channels of Conv2d).

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``. Before explaining, the
    canonizer :func:`course.relevance.network.merge_batchnorm` folds it into the
    preceding Dense/Conv2d, so that LRP rules see one affine layer (as Zennit's
    ``SequentialMergeBatchNorm``).
    """

    def __init__(self, mean, var, weight=None, bias=None, eps=1e-5):
        self.mean = _as_float_array(mean, "BatchNorm mean")
        self.var = _as_float_array(var, "BatchNorm var")
        if self.mean.ndim != 1 or self.var.shape != self.mean.shape:
            raise CourseError("BatchNorm mean and var must be 1-D arrays of the same length")
        if np.any(self.var < 0):
            raise CourseError("BatchNorm var must be non-negative")
        size = self.mean.shape
        self.weight = np.ones(size) if weight is None else _as_float_array(weight, "BatchNorm weight")
        self.bias = np.zeros(size) if bias is None else _as_float_array(bias, "BatchNorm bias")
        if self.weight.shape != size or self.bias.shape != size:
            raise CourseError("BatchNorm weight and bias must have the length of mean")
        self.eps = float(eps)

    def scale_shift(self):
        """The affine form ``y = x * scale + shift`` of this layer, per feature."""
        scale = self.weight / np.sqrt(self.var + self.eps)
        return scale, self.bias - self.mean * scale

    def _broadcast(self, v, ndim):
        return v.reshape((1, -1) + (1,) * (ndim - 2))

    def output_shape(self, input_shape):
        if len(input_shape) < 2 or input_shape[1] != self.mean.shape[0]:
            raise CourseError(f"{self!r} expects {self.mean.shape[0]} features on axis 1, got shape {tuple(input_shape)}")
        return tuple(input_shape)

    def forward(self, x):
        scale, shift = self.scale_shift()
        return x * self._broadcast(scale.astype(x.dtype), x.ndim) + self._broadcast(shift.astype(x.dtype), x.ndim)

    def backward(self, x, grad):
        scale, _ = self.scale_shift()
        return grad * self._broadcast(scale.astype(grad.dtype), grad.ndim)

    def __repr__(self):
        return f"BatchNorm({self.mean.shape[0]})"
