"""The layer protocol: what every layer of the NumPy network implements, and what the LRP rules are written in.

A :class:`Layer` has ``forward(x)``, ``backward(x, grad)`` (the vector-Jacobian product) and
``output_shape``. A :class:`Linear` layer adds the affine map with *given* parameters, ``linear`` and its
adjoint ``linear_backward`` (and their forms for several parameter sets at once, one GEMM), so that a rule
never needs to know which kind of layer it is applied to. :class:`Branches` is the base of the blocks
whose branches read the same input. The layers themselves are in :mod:`course.relevance.layers` (Dense,
activations, BatchNorm, Flatten) and :mod:`course.relevance.spatial` (Conv2d and the pools); the checks of
their parameters are here, so that every layer refuses bad input with the same words.

>>> as_pair(3, "stride"), as_pair([1, 2], "padding")
((3, 3), (1, 2))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Self, SupportsInt, TypeAlias

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, Shape

if TYPE_CHECKING:
    from course.relevance.network import BackwardStep, Sequential

__all__ = [
    "Layer",
    "Linear",
    "Branches",
    "Pair",
    "IntOrPair",
    "as_pair",
    "as_float_array",
    "checked_parameters",
    "sum_arrays",
]


Pair: TypeAlias = tuple[int, int]
# an int, or a pair of ints (a tuple, a list, ...): torch's convention for stride, padding, kernel_size
IntOrPair: TypeAlias = int | np.integer[Any] | Iterable[SupportsInt]


def as_pair(value: IntOrPair, name: str) -> Pair:
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError):
        raise CourseError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    return a, b


def as_float_array(value: ArrayLike, name: str) -> FloatArray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise CourseError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise CourseError(f"{name} contains NaN or inf")
    return arr


def checked_parameters(
    layer: str, weight: ArrayLike, bias: ArrayLike | None, shape_text: str, out_axis: int
) -> tuple[FloatArray, FloatArray]:
    """Validated (weight, bias) of a Dense/Conv2d; a missing bias is zeros in the weight's dtype."""
    w = as_float_array(weight, f"{layer} weight")
    if w.ndim != shape_text.count(",") + 1:
        raise CourseError(f"{layer} weight must have shape {shape_text}, got shape {w.shape}")
    n_out = w.shape[out_axis]
    bias = np.zeros(n_out, dtype=w.dtype) if bias is None else bias
    b = as_float_array(bias, f"{layer} bias").astype(w.dtype, copy=False)
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


def sum_arrays(arrays: Iterable[FloatArray]) -> FloatArray:
    """``Σ arrays`` as Python's ``sum`` adds them (from 0, so the result is a new array, never an input)."""
    total = sum(arrays)
    if not isinstance(total, np.ndarray):
        raise CourseError("nothing to add: a sum of relevance terms needs at least one term")
    return total


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
