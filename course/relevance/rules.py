"""LRP rules as data: which inputs, parameters and signs enter each denominator.

A rule for a Dense/Conv2d layer with input ``a``, parameters ``W, b`` and
upper relevance ``R`` is a list of *groups*; each group is a list of *terms*
``(input modifier, parameter modifier, sign)`` and a coefficient::

    z   = Σ_terms sign · layer(input(a); param(W), param(b))   # the group's denominator
    s   = coefficient · mask · R / stabilize(z)                 # stabilize: z + ε·sign(z), sign(0) = +1
                                                                # (ε = 0: exact, and s = 0 where z = 0)
    R_a = Σ_groups Σ_terms sign · input(a) ⊙ layerᵀ(s; param(W))

-- Montavon's four lines (z, s, c = Wᵀs, R = a·c) with modifiers, as in
Zennit's ``BasicHook`` (Anders et al., 2021). The engine that runs them is
:mod:`course.relevance.lrp`; which rule goes to which layer is
:mod:`course.relevance.composites`. Formulas: L7, L8, L15 of the course
(Montavon et al., "Layer-wise relevance propagation: an overview", 2019).

>>> Epsilon(0.25)
Epsilon(epsilon=0.25)
>>> AlphaBeta(alpha=2, beta=1).groups[1].coefficient
-1.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import TypeAlias

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray

__all__ = [
    "Rule",
    "LinearRule",
    "Term",
    "Group",
    "Zero",
    "Epsilon",
    "Gamma",
    "AlphaBeta",
    "ZPlus",
    "Flat",
    "WSquare",
    "ZBox",
    "Pass",
    "Gradient",
    "Norm",
    "from_name",
    "NAMES",
]


# a parameter modifier: weight (or bias) -> the modified weight of one term
Modifier: TypeAlias = Callable[[FloatArray], FloatArray]


def _positive(p: FloatArray) -> FloatArray:
    return np.maximum(p, 0)


def _negative(p: FloatArray) -> FloatArray:
    return np.minimum(p, 0)


def _square(p: FloatArray) -> FloatArray:
    return p * p


def _ones(p: FloatArray) -> FloatArray:
    return np.ones_like(p)


def _plus_gamma(sign_part: Modifier, gamma: float) -> Modifier:
    """``p + γ·p⁺`` or ``p + γ·p⁻`` (Zennit's ``GammaMod``)."""
    return lambda p: p + gamma * sign_part(p)


@dataclass(frozen=True)
class Term:
    """One modified forward pass: ``input`` ∈ {"a", "a+", "a-", "1", "low", "high"} and ``param`` (None: unmodified).

    ``bias=False`` drops the bias of this term (Zennit's ``zero_params=['bias']`` on that pass).
    """

    input: str = "a"
    param: Modifier | None = None
    bias: bool = True
    sign: float = 1.0


@dataclass(frozen=True)
class Group:
    """Terms sharing one denominator; ``mask`` ("z>0", "z<0", None) selects outputs by the unmodified z.

    ``complement = (g, c)`` says that this group's denominator equals ``c·z − (group g's denominator)``,
    z the unmodified output, wherever the mask selects: the engine then skips its forward passes
    (not with ``zero_bias``, where the denominators leave out the bias that z contains).
    """

    terms: tuple[Term, ...]
    coefficient: float = 1.0
    mask: str | None = None
    complement: tuple[int, float] | None = None


def _as_float(value: Real) -> float:
    """``float(value)``; a number too large for a float (an int of 400 digits) is infinite."""
    try:
        return float(value)
    except OverflowError:
        return float("inf")


def _number(value: object, name: str, minimum: float = 0.0, strict: bool = False) -> float:
    # any Real (int, float, NumPy scalars, Fraction) is converted first: np.isfinite refuses a Fraction
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(_as_float(value)):
        raise CourseError(f"{name} must be a finite real number, got {value!r}")
    value = float(value)
    if value < minimum or (strict and value == minimum):
        relation = ">" if strict else "≥"
        raise CourseError(f"{name} must be {relation} {minimum:g}, got {value:g}")
    return value


class Rule:
    """Base class of everything that can be put on a layer."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args})"

    def _params(self) -> dict[str, object]:
        return {}


class Pass(Rule):
    """Relevance passes through unchanged (Zennit's ``Pass``; used for ReLU)."""


class Gradient(Rule):
    """The plain vector-Jacobian product (winner-take-all for MaxPool2d, a reshape for Flatten)."""


class LinearRule(Rule):
    """A rule made of groups of terms, applied by the generic engine step (module docstring)."""

    groups: tuple[Group, ...] = ()
    default_stabilizer = 1e-6

    def __init__(self, stabilizer: float | None = None, zero_bias: bool = False) -> None:
        stabilizer = self.default_stabilizer if stabilizer is None else stabilizer
        # 0 is exact division; an output whose denominator is 0 then passes no relevance
        self.stabilizer = _number(stabilizer, f"{type(self).__name__} stabilizer")
        given: object = zero_bias  # checked as any value: a caller without a type checker may pass anything
        if not isinstance(given, (bool, np.bool_)):
            raise CourseError(f"zero_bias must be True or False, got {zero_bias!r}")
        self.zero_bias = bool(given)

    def _params(self) -> dict[str, object]:
        params = {"stabilizer": self.stabilizer} if self.stabilizer != self.default_stabilizer else {}
        return {**params, **({"zero_bias": True} if self.zero_bias else {})}


class Norm(LinearRule):
    """``R_a = a ⊙ layerᵀ(R / stabilize(layer(a)))`` for a parameter-free linear layer (AvgPool2d)."""

    groups = (Group((Term("a", None, bias=False),)),)

    def __init__(self, stabilizer: float = 1e-6) -> None:
        super().__init__(stabilizer)


class Zero(LinearRule):
    """Exact LRP-0 (L7, L8): ``R_j = Σ_k a_j w_jk / z_k · R_k`` with ``z_k = Σ_j a_j w_jk + b_k``.

    No stabilizer: the division is exact, so this equals Zennit's ``Epsilon(epsilon=0)``. Where
    ``z_k = 0`` the quotient is undefined (Zennit returns NaN or ±inf there, and the NaN spreads to
    every input wired to that output); here such an output passes no relevance -- its ``R_k`` is
    dropped and shows up in :attr:`course.relevance.lrp.RelevanceTrace.rest`. ``stabilizer=ε > 0``
    gives ``Epsilon(ε)``.

    >>> from course.relevance import Sequential, Dense, lrp
    >>> net = Sequential([Dense([[1.0, 1.0], [2.0, -1.0]], [0.0, 0.0])])
    >>> lrp(net, np.array([[1.0, 1.0]]), Zero(), target=1)  # z_1 = 0: nothing to share
    array([[0., 0.]])
    >>> lrp(net, np.array([[1.0, 1.0]]), Zero(), target=0)
    array([[1., 2.]])
    """

    groups = (Group((Term("a"),)),)
    default_stabilizer = 0.0


class Epsilon(Zero):
    """LRP-ε (L8): ``R_j = Σ_k a_j w_jk / (z_k + ε·sign(z_k)) · R_k`` with ``z_k = Σ_j a_j w_jk + b_k``.

    ``epsilon`` is the stabilizer (as in Zennit); ``Epsilon(0)`` is exact LRP-0, as :class:`Zero`.

    >>> Epsilon(epsilon=0.1, zero_bias=True)
    Epsilon(epsilon=0.1, zero_bias=True)
    """

    default_stabilizer = 1e-6

    def __init__(self, epsilon: float = 1e-6, zero_bias: bool = False) -> None:
        super().__init__(_number(epsilon, "Epsilon epsilon"), zero_bias)

    @property
    def epsilon(self) -> float:
        return self.stabilizer

    def _params(self) -> dict[str, object]:
        return {"epsilon": self.epsilon, **({"zero_bias": True} if self.zero_bias else {})}


class Gamma(LinearRule):
    """LRP-γ, Zennit's generalised form (Montavon et al. 2019; Andéol et al. 2021).

    Where the unmodified output ``z > 0`` the denominator is
    ``a⁺(W + γW⁺) + a⁻(W + γW⁻) + b + γb⁺``; where ``z < 0`` it is
    ``a⁺(W + γW⁻) + a⁻(W + γW⁺) + b + γb⁻``; outputs with ``z = 0`` pass nothing.
    For ``a ≥ 0`` and ``z > 0`` this is L8's ``a_j (w_jk + γ w_jk⁺)``.

    The two denominators add up to ``(2 + γ)·z``, so the second is computed as ``(2 + γ)·z − z⁺``; where
    it is used (z < 0) both parts are ≤ 0 up to a factor 3, so nothing cancels.
    """

    def __init__(self, gamma: float = 0.25, stabilizer: float = 1e-6, zero_bias: bool = False) -> None:
        super().__init__(stabilizer, zero_bias)
        self.gamma = _number(gamma, "Gamma gamma")
        up, down = _plus_gamma(_positive, self.gamma), _plus_gamma(_negative, self.gamma)
        self.groups = (
            Group((Term("a+", up), Term("a-", down, bias=False)), mask="z>0"),
            Group((Term("a+", down), Term("a-", up, bias=False)), mask="z<0", complement=(0, 2.0 + self.gamma)),
        )

    def _params(self) -> dict[str, object]:
        return {"gamma": self.gamma, **super()._params()}


class AlphaBeta(LinearRule):
    """LRP-αβ (L8, L15): ``α·(positive share) − β·(negative share)``.

    Denominators ``a⁺W⁺ + a⁻W⁻ + b⁺`` and ``a⁺W⁻ + a⁻W⁺ + b⁻``, no sign mask (Zennit 0.5.1).
    As Zennit 0.5.1, it requires ``α, β ≥ 0`` and ``α − β = 1`` (conservation).
    """

    def __init__(
        self, alpha: float = 2.0, beta: float = 1.0, stabilizer: float = 1e-6, zero_bias: bool = False
    ) -> None:
        super().__init__(stabilizer, zero_bias)
        self.alpha, self.beta = _number(alpha, "AlphaBeta alpha"), _number(beta, "AlphaBeta beta")
        if abs(self.alpha - self.beta - 1.0) > 1e-9:
            raise CourseError(
                f"AlphaBeta needs alpha - beta = 1 (as Zennit 0.5.1), got alpha={alpha}, beta={beta}; "
                "e.g. AlphaBeta(2, 1) or AlphaBeta(1, 0)"
            )
        self.groups = (
            Group((Term("a+", _positive), Term("a-", _negative, bias=False)), self.alpha),
            Group((Term("a+", _negative), Term("a-", _positive, bias=False)), -self.beta),
        )
        if self.beta == 0:  # the β group contributes exactly nothing
            self.groups = self.groups[:1]

    def _params(self) -> dict[str, object]:
        return {"alpha": self.alpha, "beta": self.beta, **super()._params()}


class ZPlus(LinearRule):
    """z⁺ (L12, L14): ``a⁺W⁺ + a⁻W⁻ + b⁺`` shares, i.e. ``AlphaBeta(1, 0)``."""

    groups = (
        Group(
            (Term("a+", _positive), Term("a-", _negative, bias=False)),
        ),
    )


class WSquare(LinearRule):
    """w² (L14, L15): ``R_i = Σ_j w_ij² / (Σ_i w_ij² + b_j²) · R_j``; the bias is squared too (Zennit)."""

    groups = (Group((Term("1", _square),)),)


class Flat(LinearRule):
    """Flat (L15): every input in the receptive field gets an equal share; no bias.

    Of a padded convolution only the inputs inside the image count (Zennit). ``zero_bias`` is accepted
    for symmetry with the other rules; Flat never uses the bias.
    """

    groups = (Group((Term("1", _ones, bias=False),)),)

    def __init__(self, stabilizer: float = 1e-6, zero_bias: bool = False) -> None:
        super().__init__(stabilizer, zero_bias)

    def _params(self) -> dict[str, object]:
        return {"stabilizer": self.stabilizer} if self.stabilizer != 1e-6 else {}


class ZBox(LinearRule):
    """z^B (L15) for inputs bounded by ``low ≤ a ≤ high``:

    ``(a_i w_ij − l_i w_ij⁺ − h_i w_ij⁻) / Σ_i (a_i w_ij − l_i w_ij⁺ − h_i w_ij⁻)``; the bias cancels
    (``b − b⁺ − b⁻ = 0``). ``low``/``high`` are numbers or arrays broadcastable to the layer's input
    without its batch axis (e.g. shape (C, 1, 1) for per-channel bounds).

    >>> ZBox(0, 1)
    ZBox(low=0.0, high=1.0)
    """

    groups = (Group((Term("a", None), Term("low", _positive, sign=-1.0), Term("high", _negative, sign=-1.0))),)

    def __init__(self, low: ArrayLike, high: ArrayLike, stabilizer: float = 1e-6, zero_bias: bool = False) -> None:
        super().__init__(stabilizer, zero_bias)
        self.low, self.high = self._bound(low, "low"), self._bound(high, "high")
        try:
            below = np.any(self.low > self.high)
        except ValueError:
            raise CourseError(f"ZBox low {self.low.shape} and high {self.high.shape} do not broadcast") from None
        if below:
            raise CourseError("ZBox needs low ≤ high everywhere")

    @staticmethod
    def _bound(value: ArrayLike, name: str) -> FloatArray:
        arr = np.asarray(value, dtype=np.float64) if not isinstance(value, np.ndarray) else value
        if arr.dtype.kind not in "fiu" or not np.all(np.isfinite(arr)):
            raise CourseError(f"ZBox {name} must be finite numbers, got {value!r}")
        return arr.astype(np.float64) if arr.dtype.kind != "f" else arr

    def bounds(self, like: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``low`` and ``high`` as arrays of one sample's shape (or per sample), in ``like``'s dtype."""
        try:
            shape = np.broadcast_shapes(self.low.shape, self.high.shape, (1,) + like.shape[1:])
            if len(shape) != like.ndim or shape[0] not in (1, like.shape[0]):
                raise ValueError
        except ValueError:
            raise CourseError(
                f"ZBox bounds of shape {self.low.shape}/{self.high.shape} do not broadcast to the layer input "
                f"{like.shape[1:]} (give a number, or an array shaped like one sample)"
            ) from None
        low, high = (np.broadcast_to(b, shape).astype(like.dtype) for b in (self.low, self.high))
        return low, high

    def _params(self) -> dict[str, object]:
        def show(b: FloatArray) -> float | str:
            return float(b) if b.ndim == 0 else f"array{b.shape}"

        return {"low": show(self.low), "high": show(self.high), **super()._params()}


NAMES: dict[str, Callable[[], Rule]] = {
    "zero": Zero,
    "0": Zero,
    "epsilon": Epsilon,
    "gamma": Gamma,
    "alphabeta": AlphaBeta,
    "alpha2beta1": lambda: AlphaBeta(2, 1),
    "alpha1beta0": lambda: AlphaBeta(1, 0),
    "zplus": ZPlus,
    "flat": Flat,
    "wsquare": WSquare,
    "w2": WSquare,
}


def from_name(name: str) -> Rule:
    """A rule with default parameters from its name ("epsilon", "gamma", "zplus", "LRP-0", "alpha2beta1", ...).

    >>> from_name("LRP-epsilon")
    Epsilon(epsilon=1e-06)
    """
    key = name.lower().replace("lrp", "").replace("-", "").replace("_", "").replace(" ", "")
    key = key.replace("ε", "epsilon").replace("γ", "gamma").replace("²", "2").replace("+", "plus")
    if key in ("zbox", "zb"):
        raise CourseError("the ZBox rule needs the input bounds: use rules.ZBox(low, high)")
    if key not in NAMES:
        raise CourseError(
            f"unknown rule name {name!r}; known rule names: {', '.join(sorted(NAMES))} (composite names: "
            "epsilon_plus_flat, epsilon_plus, epsilon_alpha2_beta1, epsilon_alpha2_beta1_flat)"
        )
    return NAMES[key]()
