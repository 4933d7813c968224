"""Composites: which LRP rule goes to which layer (policy only, no maths).

A composite is an ordered list of ``(matcher, rule)`` pairs; for each layer the
first matching pair wins (as Zennit's ``LayerMapComposite``). A matcher is a
layer type (``Conv2d``), an index among the Dense/Conv2d layers in forward order,
those inside residual blocks included (``0``, ``-1``, ``slice(1, -1)``), or ``first(types)``.
Layers no pair matches get the base map, as Zennit's: activations (ReLU, LeakyReLU,
Tanh, Sigmoid) and a BatchNorm that could not be merged pass relevance through;
AvgPool2d, GlobalAvgPool2d and the sum of a residual block take the Norm rule
(proportional shares); MaxPool2d, Flatten and Concat the gradient. A Dense/Conv2d
that no pair matches is an error, so no layer silently falls back to the gradient.

The named composites assign rules on CNNs as Zennit 0.5.1's do (L9, L10):

================== ====================== ================== ==============
composite          first Dense/Conv2d     other Conv2d       Dense
================== ====================== ================== ==============
EpsilonGammaBox    ZBox(low, high)        Gamma(γ)           Epsilon(ε)
EpsilonPlusFlat    Flat                   ZPlus              Epsilon(ε)
EpsilonAlpha2Beta1 (no special rule)      AlphaBeta(2, 1)    Epsilon(ε)
================== ====================== ================== ==============

On an MLP (no convolution) Zennit's ``EpsilonGammaBox`` has no box rule at
all: its first layer gets Epsilon. A lecturer expects the box rule at the
pixel input whatever the layer kind (L15: z^B "first layer, pixels in [l, h]"),
so here ``EpsilonGammaBox(..., box_dense=True)`` (the default) puts ZBox on
the first Dense/Conv2d layer; ``box_dense=False`` reproduces Zennit exactly
(ZBox only on the first Conv2d). On CNNs that start with a convolution the two agree.

>>> from course.relevance import rules
>>> lecture = by_index([(0, rules.Gamma()), (-1, rules.Zero())], default=rules.Epsilon(0.25))
>>> lecture
LayerMapComposite([(0, Gamma(gamma=0.25)), (-1, Zero()), (Linear, Epsilon(epsilon=0.25))])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeAlias, cast

from course.errors import CourseError
from course.relevance import rules as R_
from course.relevance._types import ArrayLike
from course.relevance.layers import (
    Activation,
    AvgPool2d,
    BatchNorm,
    Conv2d,
    Dense,
    GlobalAvgPool2d,
    Identity,
    Layer,
    Linear,
)
from course.relevance.network import LayerPath, Sequential
from course.relevance.residual import Residual

__all__ = [
    "Composite",
    "LayerMapComposite",
    "by_index",
    "by_type",
    "first",
    "EpsilonGammaBox",
    "EpsilonPlusFlat",
    "EpsilonAlpha2Beta1",
    "EpsilonPlus",
    "EpsilonAlpha2Beta1Flat",
    "from_name",
    "layer_name",
]


@dataclass(frozen=True)
class first:  # noqa: N801 - reads as a function in a layer map: (first(Conv2d), rule)
    """Matcher for the first layer (in forward order) of the given type(s)."""

    types: LayerTypes = Linear

    def __repr__(self) -> str:
        return f"first({_type_names(self.types)})"


# a layer type, or several (isinstance's second argument)
LayerTypes: TypeAlias = type[Layer] | tuple[type[Layer], ...]
# what a (matcher, rule) pair matches: a layer type, an index or slice of the Dense/Conv2d layers, first(types)
Matcher: TypeAlias = LayerTypes | int | slice | first
# a rule or a rule's name
RuleLike: TypeAlias = R_.Rule | str


def _type_names(types: LayerTypes) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " | ".join(t.__name__ for t in types)


def _check_matcher(matcher: object) -> Matcher:
    if isinstance(matcher, (int, slice, first)) and not isinstance(matcher, bool):
        return matcher
    types = matcher if isinstance(matcher, tuple) else (matcher,)
    if types and all(isinstance(t, type) and issubclass(t, Layer) for t in types):
        return cast(LayerTypes, matcher)  # checked just above: a layer type or a tuple of layer types
    raise CourseError(
        f"a composite matcher must be a layer type (e.g. Conv2d), an index or slice of the Dense/Conv2d "
        f"layers, or first(type); got {matcher!r}"
    )


def _check_rule(rule: object) -> R_.Rule:
    if isinstance(rule, str):
        return R_.from_name(rule)
    if not isinstance(rule, R_.Rule):
        raise CourseError(f"a composite maps layers to rule instances (e.g. rules.Epsilon()), got {rule!r}")
    return rule


class Composite:
    """Base class: ``assign(model)`` returns one rule per layer of ``model``."""

    def assign(self, model: Sequential) -> list[R_.Rule]:  # pragma: no cover - abstract
        raise NotImplementedError


class LayerMapComposite(Composite):
    """Ordered ``(matcher, rule)`` pairs, first match wins; ``stabilizer`` is that of AvgPool2d's Norm rule.

    >>> from course.relevance import Sequential, Dense, ReLU, rules
    >>> net = Sequential([Dense([[1.0]]), ReLU(), Dense([[1.0]])])
    >>> by_type({Dense: rules.ZPlus()}).assign(net)
    [ZPlus(), Pass(), ZPlus()]
    """

    def __init__(self, layer_map: Iterable[tuple[Matcher, RuleLike]], stabilizer: float = 1e-6) -> None:
        try:
            pairs = list(layer_map)
            self.layer_map = [(_check_matcher(m), _check_rule(r)) for m, r in pairs]
        except (TypeError, ValueError) as exc:
            if isinstance(exc, CourseError):
                raise
            raise CourseError("a layer map is a list of (matcher, rule) pairs") from None
        norm = R_.Norm(stabilizer)
        self.base_map: list[tuple[type[Layer], R_.Rule]] = [
            (Activation, R_.Pass()),
            (Identity, R_.Pass()),
            (BatchNorm, R_.Pass()),
            (AvgPool2d, norm),
            (GlobalAvgPool2d, norm),
            (Residual, norm),
            (Layer, R_.Gradient()),
        ]

    def __repr__(self) -> str:
        def show(m: Matcher) -> str:
            return _type_names(m) if not isinstance(m, (int, slice, first)) else repr(m)

        inner = ", ".join(f"({show(m)}, {r!r})" for m, r in self.layer_map)
        return f"{type(self).__name__}([{inner}])"

    def _matches(
        self,
        matcher: Matcher,
        path: LayerPath,
        layer: Layer,
        flat: list[tuple[LayerPath, Layer]],
        linear: list[LayerPath],
    ) -> bool:
        if isinstance(matcher, first):
            return path == next((p for p, ly in flat if isinstance(ly, matcher.types)), None)
        if isinstance(matcher, (int, slice)):
            if path not in linear:
                return False
            position = linear.index(path)
            if isinstance(matcher, slice):
                return position in range(len(linear))[matcher]
            return position == (matcher if matcher >= 0 else len(linear) + matcher)
        return isinstance(layer, matcher)

    def assign(self, model: Sequential) -> list[R_.Rule]:
        """One rule per layer of ``model.flat_layers()`` (the layers inside blocks too, in forward order);
        CourseError if the map matches no Dense/Conv2d layer or leaves one without a rule."""
        flat = model.flat_layers()
        linear = [p for p, ly in flat if isinstance(ly, Linear)]
        assigned: list[R_.Rule] = []
        unmatched: list[str] = []
        for path, layer in flat:
            rule = next((r for m, r in self.layer_map if self._matches(m, path, layer, flat, linear)), None)
            if rule is None and isinstance(layer, Linear):
                unmatched.append(f"layer {layer_name(path)} {layer!r}")
            if rule is None:
                rule = next(r for m, r in self.base_map if isinstance(layer, m))
            if isinstance(layer, Linear) and isinstance(rule, R_.Norm):
                raise CourseError(f"the Norm rule is for parameter-free layers, not layer {layer_name(path)} {layer!r}")
            if isinstance(layer, Residual) and not isinstance(rule, (R_.Norm, R_.Gradient)):
                raise CourseError(
                    f"layer {layer_name(path)} {layer!r}: the sum of a residual block takes the Norm "
                    f"rule (proportional shares) or Gradient, not {rule!r}"
                )
            assigned.append(rule)
        if len(unmatched) == len(linear):
            raise CourseError(f"{self!r} matches no Dense/Conv2d layer of the model")
        if unmatched:
            raise CourseError(f"{self!r} gives no rule to {', '.join(unmatched)}; add a pair for it")
        return assigned


def layer_name(path: LayerPath) -> str:
    """``3`` for the top-level layer 3, ``3.0.1`` for layer 1 of branch 0 of the block at 3."""
    return ".".join(str(i) for i in path)


def by_index(
    index_map: dict[int, RuleLike] | Iterable[tuple[int | slice, RuleLike]],
    default: R_.Rule | None = None,
    stabilizer: float = 1e-6,
) -> LayerMapComposite:
    """Rules by position among the Dense/Conv2d layers (0 = bottom, -1 = top); ``default`` for the rest.

    ``index_map`` is a dict ``{index: rule}`` or a list of ``(index or slice, rule)`` pairs. The
    lecture's composite (L10) -- LRP-0 on top, ε in the middle, γ at the bottom::

        by_index([(0, rules.Gamma(0.25)), (-1, rules.Zero())], default=rules.Epsilon(0.25))
    """
    pairs: list[tuple[Matcher, RuleLike]] = list(index_map.items()) if isinstance(index_map, dict) else list(index_map)
    for key, _ in pairs:
        if isinstance(key, bool) or not isinstance(key, (int, slice)):
            raise CourseError(f"by_index keys are ints or slices of the Dense/Conv2d layers, got {key!r}")
    return LayerMapComposite(pairs + ([(Linear, default)] if default is not None else []), stabilizer)


def by_type(
    type_map: dict[LayerTypes, RuleLike] | Iterable[tuple[LayerTypes | first, RuleLike]], stabilizer: float = 1e-6
) -> LayerMapComposite:
    """Rules by layer type, e.g. ``by_type({Conv2d: rules.Gamma(), Dense: rules.Epsilon()})`` (first match wins)."""
    pairs: list[tuple[Matcher, RuleLike]] = list(type_map.items()) if isinstance(type_map, dict) else list(type_map)
    for key, _ in pairs:
        if isinstance(key, (int, slice)):
            raise CourseError(f"by_type keys are layer types such as Conv2d or Dense, got {key!r}; see by_index")
    return LayerMapComposite(pairs, stabilizer)


class EpsilonGammaBox(LayerMapComposite):
    """ZBox on the first layer, Gamma on the other convolutions, Epsilon on dense layers (Zennit's composite).

    ``box_dense=True`` (default) gives ZBox to the first Dense/Conv2d layer, so an MLP gets the box rule at its
    input too; ``box_dense=False`` gives it only to the first Conv2d, exactly as Zennit 0.5.1.
    """

    def __init__(
        self,
        low: ArrayLike,
        high: ArrayLike,
        epsilon: float = 1e-6,
        gamma: float = 0.25,
        stabilizer: float = 1e-6,
        zero_bias: bool = False,
        box_dense: bool = True,
    ) -> None:
        box = R_.ZBox(low, high, stabilizer=stabilizer, zero_bias=zero_bias)
        super().__init__(
            [
                (first(Linear) if box_dense else first(Conv2d), box),
                (Conv2d, R_.Gamma(gamma, stabilizer=stabilizer, zero_bias=zero_bias)),
                (Dense, R_.Epsilon(epsilon, zero_bias=zero_bias)),
            ],
            stabilizer,
        )


def _conv_dense(
    conv_rule: R_.Rule, epsilon: float, stabilizer: float, zero_bias: bool, flat_first: bool
) -> list[tuple[Matcher, RuleLike]]:
    """The shared policy: [Flat on the first layer,] ``conv_rule`` on convolutions, Epsilon on dense layers."""
    pairs: list[tuple[Matcher, RuleLike]] = [(first(Linear), R_.Flat(stabilizer))] if flat_first else []
    return pairs + [(Conv2d, conv_rule), (Dense, R_.Epsilon(epsilon, zero_bias=zero_bias))]


class EpsilonPlusFlat(LayerMapComposite):
    """Flat on the first Dense/Conv2d layer, ZPlus on the other convolutions, Epsilon on dense layers."""

    def __init__(self, epsilon: float = 1e-6, stabilizer: float = 1e-6, zero_bias: bool = False) -> None:
        plus = R_.ZPlus(stabilizer=stabilizer, zero_bias=zero_bias)
        super().__init__(_conv_dense(plus, epsilon, stabilizer, zero_bias, flat_first=True), stabilizer)


class EpsilonPlus(LayerMapComposite):
    """ZPlus on every convolution, Epsilon on dense layers."""

    def __init__(self, epsilon: float = 1e-6, stabilizer: float = 1e-6, zero_bias: bool = False) -> None:
        plus = R_.ZPlus(stabilizer=stabilizer, zero_bias=zero_bias)
        super().__init__(_conv_dense(plus, epsilon, stabilizer, zero_bias, flat_first=False), stabilizer)


class EpsilonAlpha2Beta1(LayerMapComposite):
    """AlphaBeta(2, 1) on every convolution, Epsilon on dense layers."""

    def __init__(self, epsilon: float = 1e-6, stabilizer: float = 1e-6, zero_bias: bool = False) -> None:
        ab = R_.AlphaBeta(2, 1, stabilizer=stabilizer, zero_bias=zero_bias)
        super().__init__(_conv_dense(ab, epsilon, stabilizer, zero_bias, flat_first=False), stabilizer)


class EpsilonAlpha2Beta1Flat(LayerMapComposite):
    """Flat on the first Dense/Conv2d layer, AlphaBeta(2, 1) on the other convolutions, Epsilon on dense layers."""

    def __init__(self, epsilon: float = 1e-6, stabilizer: float = 1e-6, zero_bias: bool = False) -> None:
        ab = R_.AlphaBeta(2, 1, stabilizer=stabilizer, zero_bias=zero_bias)
        super().__init__(_conv_dense(ab, epsilon, stabilizer, zero_bias, flat_first=True), stabilizer)


_NAMED: dict[str, Callable[[], Composite]] = {
    "epsilonplusflat": EpsilonPlusFlat,
    "epsilonplus": EpsilonPlus,
    "epsilonalpha2beta1": EpsilonAlpha2Beta1,
    "epsilonalpha2beta1flat": EpsilonAlpha2Beta1Flat,
}


def from_name(name: str, missing_ok: bool = False) -> Composite | None:
    """A named composite with default parameters ("epsilon_plus_flat", "epsilon_alpha2_beta1", ...).

    >>> from_name("epsilon_plus_flat")
    EpsilonPlusFlat([(first(Linear), Flat()), (Conv2d, ZPlus()), (Dense, Epsilon(epsilon=1e-06))])
    """
    key = name.lower().replace("_", "").replace("-", "").replace(" ", "")
    if key == "epsilongammabox":
        raise CourseError("the EpsilonGammaBox composite needs the input bounds: composites.EpsilonGammaBox(low, high)")
    if key in _NAMED:
        return _NAMED[key]()
    if missing_ok:
        return None
    raise CourseError(f"unknown composite name {name!r}; known: {', '.join(sorted(_NAMED))}")
