"""Residual blocks and concatenations: ``y = block(x) + shortcut(x)`` and ``y = [b₁(x), b₂(x), …]``.

A ResNet block (He et al., "Deep residual learning for image recognition", CVPR 2016) adds the
output of a few layers to its input (or to a 1×1-convolved copy of it). LRP needs a rule for the
sum: like Zennit's residual canonizers, which turn ``out = block(x) + x`` into a ``Sum`` layer with
the ``Norm`` rule, the relevance ``R`` at the sum is shared in proportion to the contributions,

    R_block = y_block · R / stabilize(y_block + y_shortcut),   R_shortcut = y_shortcut · R / stabilize(…),

so that it is conserved up to the stabiliser. A concatenation needs no rule: every branch gets
the relevance of its own channels.

>>> import numpy as np
>>> from course.relevance import Dense, ReLU, Sequential, lrp, rules
>>> net = Sequential([Residual([Dense([[1.0, 0.0], [0.0, 3.0]]), ReLU()]), Dense([[1.0], [1.0]])])
>>> net(np.array([[1.0, 1.0]]))  # (1 + 1) + (3 + 1)
array([[6.]])
>>> lrp(net, np.array([[1.0, 1.0]]), rules.Zero(), 0).round(4)  # shares 1:1 and 3:1 (Norm's ε = 1e-6)
array([[2., 4.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

from course.errors import CourseError
from course.relevance._types import FloatArray, Shape
from course.relevance.layers import Branches, Identity, Layer
from course.relevance.network import Sequential

__all__ = ["Residual", "Concat"]

# a branch: a chain, one layer or a list of layers (None: the identity)
Branch: TypeAlias = Sequential | Layer | Sequence[Layer] | None


def _chain(branch: object, name: str) -> Sequential:
    if branch is None:
        return Sequential([Identity()])
    if isinstance(branch, Sequential):
        return branch
    if isinstance(branch, Layer):
        return Sequential([branch])
    if isinstance(branch, (list, tuple)):
        return Sequential(branch)
    raise CourseError(f"{name} must be a Sequential, a layer or a list of layers, got {type(branch).__name__}")


class Residual(Branches):
    """``y = block(x) + shortcut(x)``; the shortcut is the identity unless given (e.g. a strided 1×1 Conv2d).

    LRP shares the relevance at the sum in proportion to the two terms (the ``Norm`` rule, as Zennit's
    ``Sum``); composites give it ``Norm`` with their stabiliser.
    """

    def __init__(self, block: Branch, shortcut: Branch = None) -> None:
        self.branches = [_chain(block, "Residual block"), _chain(shortcut, "Residual shortcut")]

    @property
    def block(self) -> Sequential:
        return self.branches[0]

    @property
    def shortcut(self) -> Sequential:
        return self.branches[1]

    def combine(self, outputs: list[FloatArray]) -> FloatArray:
        return outputs[0] + outputs[1]

    def split(self, outputs: list[FloatArray], grad: FloatArray) -> list[FloatArray]:
        return [grad, grad]

    def combined_shape(self, shapes: list[Shape]) -> Shape:
        if shapes[0] != shapes[1]:
            raise CourseError(
                f"Residual: the block gives shape {shapes[0]} but the shortcut {shapes[1]}; "
                "give a shortcut (e.g. a 1×1 Conv2d with the block's stride) that matches"
            )
        return shapes[0]

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.block.layers)
        short = (
            ""
            if isinstance(self.shortcut.layers[0], Identity) and len(self.shortcut) == 1
            else ", shortcut=" + ", ".join(repr(layer) for layer in self.shortcut.layers)
        )
        return f"Residual([{inner}]{short})"


class Concat(Branches):
    """``y = concatenate([b(x) for b in branches], axis=1)`` (channels, or features of a flat input)."""

    def __init__(self, *branches: Branch) -> None:
        if len(branches) < 2:
            raise CourseError("Concat needs at least two branches")
        self.branches = [_chain(b, f"Concat branch {k}") for k, b in enumerate(branches)]

    def combine(self, outputs: list[FloatArray]) -> FloatArray:
        return np.concatenate(outputs, axis=1)

    def split(self, outputs: list[FloatArray], grad: FloatArray) -> list[FloatArray]:
        edges = np.cumsum([o.shape[1] for o in outputs])[:-1]
        return np.split(grad, edges, axis=1)

    def combined_shape(self, shapes: list[Shape]) -> Shape:
        rest = {(s[0],) + tuple(s[2:]) for s in shapes}
        if len(rest) != 1 or any(len(s) != len(shapes[0]) for s in shapes):
            raise CourseError(f"Concat: branch outputs {shapes} differ in more than axis 1")
        return (shapes[0][0], sum(s[1] for s in shapes)) + tuple(shapes[0][2:])

    def __repr__(self) -> str:
        return f"Concat({len(self.branches)} branches)"
