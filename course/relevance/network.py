"""The network container: a forward pass that keeps activations, and backward passes over it.

Every explanation method in :mod:`course.relevance` is one walk back through
the activations of :meth:`Sequential.activations`; what differs is the step a
method takes at each layer. :meth:`Sequential.backward` is that walk, with the
step pluggable; :meth:`Sequential.gradient` is the walk with the plain
vector-Jacobian product of each layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeAlias

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, IndexArray, Shape
from course.relevance.layers import BatchNorm, Branches, Layer, Linear

__all__ = ["Sequential", "merge_batchnorm", "check_input", "target_indices", "output_relevance", "STARTS"]

# step(index, layer, layer_input, layer_output, grad_at_output) -> grad_at_input
BackwardStep: TypeAlias = Callable[[int, Layer, FloatArray, FloatArray, FloatArray], FloatArray]
# where LRP starts: a name of STARTS, an array shaped like the logits, or a function (logits, target) -> such
# an array (its result is checked, so any return value is accepted here)
Start: TypeAlias = str | FloatArray | Callable[[FloatArray, IndexArray], object]
# (i,) for layers[i]; (i, k, j) for layer j of branch k of the block at i
LayerPath: TypeAlias = tuple[int, ...]


def check_input(x: ArrayLike, name: str = "x") -> FloatArray:
    """Return ``x`` as a float array (dtype kept if floating), refusing NaN/inf and empty batches."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiub":
        raise CourseError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise CourseError(f"{name} must be a batch of shape (batch, ...) with at least one sample, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise CourseError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
    return arr


def target_indices(target: ArrayLike, batch: int, n_classes: int) -> IndexArray:
    """Validate ``target`` (an int, or one int per sample) and return one class index per sample."""
    t = np.asarray(target)
    if t.dtype.kind not in "iu" and not (t.dtype.kind == "f" and np.all(np.mod(t, 1) == 0)):
        raise CourseError(f"target must be an int or one int per sample, got {target!r}")
    t = t.astype(np.int64)
    if t.ndim == 0:
        t = np.full(batch, int(t))
    if t.shape != (batch,):
        raise CourseError(f"target must be an int or {batch} ints (one per sample), got shape {t.shape}")
    if np.any((t < 0) | (t >= n_classes)):
        bad = t[(t < 0) | (t >= n_classes)][0]
        raise CourseError(f"target {bad} is outside the {n_classes} classes 0..{n_classes - 1}")
    return t


STARTS = ("logit", "one-hot", "contrastive", "softmax")


def check_start(start: object) -> Start:
    """Validate the ``output_relevance`` argument of :func:`course.relevance.lrp` before any computation."""
    if callable(start) or isinstance(start, np.ndarray):
        return start
    if isinstance(start, str) and start.lower().replace("_", "-") in STARTS + ("onehot",):
        return start.lower().replace("_", "-").replace("onehot", "one-hot")
    raise CourseError(
        f"output_relevance must be one of {', '.join(STARTS)}, a function (logits, target) -> array shaped "
        f"like the logits, or such an array; got {start!r}"
    )


def output_relevance(logits: FloatArray, target: ArrayLike, start: Start = "logit") -> FloatArray:
    """The relevance put on the output, shaped like ``logits`` (Zennit's ``attr_output``).

    ``start`` is

    * ``"logit"`` (default): the target logit, one-hot(target) × logits (may be negative);
    * ``"one-hot"``: 1 on the target class (what the gradient methods start from);
    * ``"contrastive"``: the target logit minus the mean of the others -- ``z_t`` on the target and
      ``−z_k / (C − 1)`` on every other class, so the relevance adds up to ``z_t − mean_{k≠t} z_k``;
    * ``"softmax"``: ``p_t (δ_tk − p_k)`` with ``p = softmax(z)``, the derivative of the target's
      probability by the logits (the initial relevance of SGLRP: Iwana, Kuroki & Uchida,
      "Explaining CNNs using softmax gradient layer-wise relevance propagation", ICCVW 2019);
      it adds up to 0 over the classes;
    * a function ``f(logits, target) -> array`` (target: one index per sample), or such an array.

    >>> z = np.array([[2.0, -1.0, 0.0]])
    >>> output_relevance(z, 0), output_relevance(z, 0, "contrastive")
    (array([[2., 0., 0.]]), array([[ 2. ,  0.5, -0. ]]))
    """
    t = target_indices(target, logits.shape[0], logits.shape[1])
    start, rows = check_start(start), np.arange(logits.shape[0])
    if isinstance(start, np.ndarray) or callable(start):
        out = start if isinstance(start, np.ndarray) else start(logits, t)
        out = np.asarray(out)
        if out.shape != logits.shape or out.dtype.kind not in "fiu" or not np.all(np.isfinite(out)):
            raise CourseError(
                f"the output relevance must be finite numbers shaped like the logits {logits.shape}, "
                f"got {getattr(out, 'dtype', type(out))} of shape {out.shape}"
            )
        return out.astype(logits.dtype)
    out = np.zeros_like(logits)
    if start == "logit":
        out[rows, t] = logits[rows, t]
    elif start == "one-hot":
        out[rows, t] = 1
    elif start == "contrastive":
        out = -logits / max(logits.shape[1] - 1, 1)
        out[rows, t] = logits[rows, t]
    else:  # softmax
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        out = -p[rows, t][:, None] * p
        out[rows, t] += p[rows, t]
    return out


class Sequential:
    """A feed-forward chain of layers.

    >>> from course.relevance import Dense, ReLU
    >>> net = Sequential([Dense(np.eye(2), np.zeros(2)), ReLU()])
    >>> net(np.array([[1.0, -2.0]]))
    array([[1., 0.]])
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        layers = list(layers)
        if not layers:
            raise CourseError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            given: object = layer  # checked as any value: a caller without a type checker may pass anything
            if not isinstance(given, Layer):
                raise CourseError(f"layer {i} is not a course.relevance layer: {layer!r}")
        self.layers = layers

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n  {inner}\n])"

    @property
    def linear_layers(self) -> list[int]:
        """Indices of the parametrised layers (Dense, Conv2d) in forward order (not inside blocks)."""
        return [i for i, layer in enumerate(self.layers) if isinstance(layer, Linear)]

    def flat_layers(self, prefix: LayerPath = ()) -> list[tuple[LayerPath, Layer]]:
        """``(path, layer)`` for every layer in forward order, the layers of a block's branches after it.

        A path is ``(i,)`` for ``layers[i]`` and ``(i, k, j)`` for layer j of branch k of the block at i.

        >>> from course.relevance import Dense, ReLU, Residual
        >>> [p for p, _ in Sequential([Residual([Dense([[1.0]]), ReLU()]), Dense([[1.0]])]).flat_layers()]
        [(0,), (0, 0, 0), (0, 0, 1), (0, 1, 0), (1,)]
        """
        flat: list[tuple[LayerPath, Layer]] = []
        for i, layer in enumerate(self.layers):
            flat.append((prefix + (i,), layer))
            if isinstance(layer, Branches):
                for k, branch in enumerate(layer.branches):
                    flat.extend(branch.flat_layers(prefix + (i, k)))
        return flat

    @property
    def dtype(self) -> np.dtype[Any]:
        linear = [layer for layer in self.layers if isinstance(layer, Linear)]
        return linear[0].dtype if linear else np.dtype(np.float64)

    def check_shapes(self, input_shape: Shape) -> Shape:
        """Propagate ``input_shape`` through every layer; a mismatch names the layer and both shapes."""
        shape = tuple(input_shape)
        for i, layer in enumerate(self.layers):
            try:
                shape = layer.output_shape(shape)
            except CourseError as exc:
                raise CourseError(f"layer {i} {exc}") from None
        return shape

    def _prepare(self, x: ArrayLike) -> FloatArray:
        arr = check_input(x)
        self.check_shapes(arr.shape)
        return arr.astype(np.result_type(arr.dtype, self.dtype), copy=False)

    def forward(self, x: ArrayLike) -> FloatArray:
        """The network's output for the batch ``x``."""
        return self.activations(x)[-1]

    __call__ = forward

    def activations(self, x: ArrayLike) -> list[FloatArray]:
        """``[x, a1, ..., aL]``: the input of every layer and, last, the network's output."""
        return self.activations_unchecked(self._prepare(x))

    def activations_unchecked(self, x: FloatArray) -> list[FloatArray]:
        """:meth:`activations` of an input already validated (the branches of a block)."""
        acts = [x]
        for layer in self.layers:
            acts.append(layer.forward(acts[-1]))
        return acts

    def forward_unchecked(self, x: FloatArray) -> FloatArray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(
        self, activations: Sequence[FloatArray], grad_output: FloatArray, step: BackwardStep | None = None
    ) -> FloatArray:
        """Walk from the output back to the input, applying ``step`` at every layer (default: the gradient).

        A block's branches are walked with the same ``step`` (their indices are those inside the branch).
        """
        grad = grad_output
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if isinstance(layer, Branches):
                grad = layer.backward(activations[i], grad, step)
            elif step is None:
                grad = layer.backward(activations[i], grad)
            else:
                grad = step(i, layer, activations[i], activations[i + 1], grad)
        return grad

    def gradient(self, x: ArrayLike, target: ArrayLike) -> FloatArray:
        """d logit_target / d x for every sample (the saliency of L1).

        >>> from course.relevance import Dense
        >>> Sequential([Dense([[2.0, 0.0], [0.0, 3.0]])]).gradient(np.ones((1, 2)), 1)
        array([[0., 3.]])
        """
        acts = self.activations(x)
        t = target_indices(target, acts[-1].shape[0], acts[-1].shape[1])
        seed = np.zeros_like(acts[-1])
        seed[np.arange(len(t)), t] = 1
        return self.backward(acts, seed)


def merge_batchnorm(model: Sequential) -> Sequential:
    """Canonizer: fold every BatchNorm into the Dense/Conv2d right before it.

    ``W' = W · s`` and ``b' = b · s + t`` per output unit, where ``y = x · s + t``
    is the BatchNorm (as Zennit's ``SequentialMergeBatchNorm``). The model's
    function is unchanged; blocks are merged branch by branch. A BatchNorm with no
    Dense/Conv2d right before it (first in the network, after a pooling or an
    activation) stays as it is: LRP then passes its relevance through unchanged, as
    Zennit's composites do (``Pass``).

    >>> from course.relevance import Dense, BatchNorm
    >>> merge_batchnorm(Sequential([Dense([[1.0]]), BatchNorm([1.0], [4.0], eps=0.0)])).layers
    [Dense(1→1)]
    """
    layers: list[Layer] = []
    for layer in model.layers:
        if isinstance(layer, Branches):
            layer = layer.with_branches([merge_batchnorm(branch) for branch in layer.branches])
        prev = layers[-1] if layers else None
        if isinstance(layer, BatchNorm) and isinstance(prev, Linear):
            scale, shift = layer.scale_shift()
            if prev.weight.ndim == 2:  # Dense: outputs on axis 1
                weight = prev.weight * scale[None, :]
            else:  # Conv2d: outputs on axis 0
                weight = prev.weight * scale[:, None, None, None]
            layers[-1] = prev.with_params(weight.astype(prev.dtype), (prev.bias * scale + shift).astype(prev.dtype))
        else:
            layers.append(layer)
    return Sequential(layers)
