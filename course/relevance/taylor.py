"""Deep Taylor Decomposition (L11–L14; Montavon et al., Pattern Recognition 65, 2017).

DTD models the relevance of a ReLU neuron as ``R_j = c_j · max(0, Σ_i a_i w_ij + b_j)``
(L13) and explains it by a first-order Taylor expansion at a *root point*
``ã`` where the neuron is off. Searching the root on the line ``ã = a − t v``
has the closed form ``t = (wᵀa + b) / (wᵀv)``, and the Taylor terms are

    R_{i←j} = c_j w_ij (a_i − ã_i) = v_ij w_ij / Σ_i v_ij w_ij · R_j        (L14)

so the search direction ``v`` *is* the propagation rule:

============  ======================================  ======================
direction     v_i                                     rule it reproduces
============  ======================================  ======================
"nearest"     w_i                                     w² (WSquare)
"origin"      a_i                                     LRP-0 without bias
"zplus"       a_i · 1[w_i > 0]                        z⁺ (= LRP-α1β0)
"zbox"        a_i − l_i if w_i > 0 else a_i − h_i     z^B (ZBox(l, h))
============  ======================================  ======================

Only "zplus" (for a ≥ 0) and "zbox" (for a in [l, h]) keep the root in the
input domain when the bias is ≤ 0, which is why DTD uses z⁺ in the hidden
layers and z^B (pixels in a box) or w² (inputs in ℝ^d) at the input.

:func:`root_point` and :func:`taylor_terms` work on one neuron (vectors ``a`` and
``w``, scalar ``b``); :func:`dtd_layer` applies the closed form to a whole
Dense layer; :func:`deep_taylor` explains a network with the LRP engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray
from course.validate import as_vector

if TYPE_CHECKING:
    from course.relevance.network import Sequential
    from course.relevance.rules import Rule

__all__ = [
    "DIRECTIONS",
    "search_direction",
    "root_point",
    "TaylorTerms",
    "taylor_terms",
    "dtd_layer",
    "deep_taylor",
    "deep_taylor_rules",
]

DIRECTIONS = ("nearest", "origin", "zplus", "zbox")


def _neuron(a: ArrayLike, w: ArrayLike, b: float) -> tuple[FloatArray, FloatArray, float]:
    a, w = as_vector(a, "a"), as_vector(w, "w")
    if a.shape != w.shape:
        raise CourseError(f"a and w must have the same length, got {a.shape[0]} and {w.shape[0]}")
    b = float(b)
    if not np.isfinite(b):
        raise CourseError("b must be finite")
    return a, w, b


def _box(bound: ArrayLike | None, like: FloatArray, name: str) -> FloatArray:
    if bound is None:
        raise CourseError(f'direction "zbox" needs the input bounds low and high ({name} is missing)')
    arr = np.asarray(bound, dtype=np.float64)
    try:
        return np.broadcast_to(arr, like.shape)
    except ValueError:
        raise CourseError(f"{name} of shape {arr.shape} does not fit an input of shape {like.shape}") from None


def search_direction(
    a: ArrayLike, w: ArrayLike, direction: str = "nearest", low: ArrayLike | None = None, high: ArrayLike | None = None
) -> FloatArray:
    """The search direction ``v`` of L14 for one neuron (or per column of a weight matrix).

    ``w`` may be a vector like ``a`` or a matrix (len(a), k) with one neuron per
    column; the result has the shape of ``w``.

    >>> search_direction([2.0, 3.0], [1.0, -1.0], "zplus")
    array([2., 0.])
    """
    a, w = np.asarray(a, dtype=np.float64), np.asarray(w, dtype=np.float64)
    col = a if w.ndim == 1 else a[:, None]
    if direction == "nearest":
        return w.copy()
    if direction == "origin":
        return np.broadcast_to(col, w.shape).copy()
    if direction == "zplus":
        return col * (w > 0)
    if direction == "zbox":
        lo, hi = _box(low, a, "low"), _box(high, a, "high")
        if np.any(lo > a) or np.any(a > hi):
            raise CourseError("zbox needs low ≤ a ≤ high for every input; the input is outside the box")
        lo, hi = (lo, hi) if w.ndim == 1 else (lo[:, None], hi[:, None])
        return np.where(w > 0, col - lo, col - hi)
    raise CourseError(f"unknown direction {direction!r}; choose one of {', '.join(DIRECTIONS)}")


def root_point(
    a: ArrayLike,
    w: ArrayLike,
    b: float = 0.0,
    direction: str = "nearest",
    low: ArrayLike | None = None,
    high: ArrayLike | None = None,
) -> FloatArray:
    """The root ``ã = a − t v`` of the neuron ``max(0, wᵀa + b)`` along the direction ``v`` (L14).

    ``t = (wᵀa + b) / (wᵀv)`` in closed form. A neuron that is already off
    (wᵀa + b ≤ 0) is its own root: ``a`` is returned.

    Raises
    ------
    CourseError
        If ``wᵀv = 0``: the line never meets the neuron's hyperplane.

    Examples
    --------
    >>> root_point([1.0, 1.0], [1.0, 2.0], b=0.0, direction="nearest")  # projection on wᵀx = 0
    array([ 0.4, -0.2])
    >>> root_point([1.0, 1.0], [1.0, 2.0], b=0.0, direction="origin")
    array([0., 0.])
    """
    av, wv, b = _neuron(a, w, b)
    v = search_direction(av, wv, direction, low, high)  # checks the direction and the box even for an idle neuron
    z = wv @ av + b
    if z <= 0:
        return av.copy()
    denom = wv @ v
    if denom == 0:
        raise CourseError(f"no root along direction {direction!r}: wᵀv = 0 (the line is parallel to the boundary)")
    return av - (z / denom) * v


@dataclass(frozen=True)
class TaylorTerms:
    """First-order Taylor expansion of ``f(a) = max(0, wᵀa + b)`` at a point ``root``.

    ``value = value_at_root + terms.sum() + residual``; at a true root
    ``value_at_root = 0``, and for a ReLU neuron whose segment from the root to
    ``a`` stays on the active side the residual is 0 (the function is linear there).
    """

    terms: FloatArray
    value: float
    value_at_root: float
    residual: float


def taylor_terms(a: ArrayLike, w: ArrayLike, b: float, root: ArrayLike) -> TaylorTerms:
    """First-order Taylor terms ``w_i (a_i − ã_i)`` of one ReLU neuron at ``root``, and the residual (L13).

    The gradient at the root is taken from the active side (it is ``w``), as DTD
    does: the root sits on the kink of the ReLU.

    >>> t = taylor_terms([1.0, 1.0], [1.0, 2.0], 0.0, [0.0, 0.0])
    >>> t.terms, t.value, t.residual
    (array([1., 2.]), 3.0, 0.0)
    """
    av, wv, b = _neuron(a, w, b)
    rv = as_vector(root, "root")
    if rv.shape != av.shape:
        raise CourseError(f"root must have the length of a ({av.shape[0]}), got {rv.shape[0]}")
    value, at_root = max(0.0, float(wv @ av + b)), max(0.0, float(wv @ rv + b))
    terms = wv * (av - rv)
    return TaylorTerms(terms=terms, value=value, value_at_root=at_root, residual=value - at_root - float(terms.sum()))


def dtd_layer(
    a: ArrayLike,
    weight: ArrayLike,
    bias: ArrayLike,
    relevance: ArrayLike,
    direction: str = "zplus",
    low: ArrayLike | None = None,
    high: ArrayLike | None = None,
) -> FloatArray:
    """Input relevance of a Dense layer by DTD: ``R_i = Σ_j v_ij w_ij / Σ_i v_ij w_ij · R_j`` (L14).

    ``a`` (d,), ``weight`` (d, k), ``bias`` (k,), ``relevance`` (k,). The
    derivation models ``R_j = c_j max(0, z_j)``: inactive neurons are expected
    to carry no relevance (true under z⁺ from the layer above). The bias only
    moves the root, so it does not appear in the result. A neuron with
    ``Σ_i v_ij w_ij = 0`` has no root along ``v``; its relevance is dropped.

    >>> dtd_layer([1.0, 2.0], [[1.0], [1.0]], [0.0], [3.0], "origin")
    array([1., 2.])
    """
    av = as_vector(a, "a")
    wm = np.asarray(weight, dtype=np.float64)
    rv = as_vector(relevance, "relevance")
    if wm.ndim != 2 or wm.shape != (av.shape[0], rv.shape[0]):
        raise CourseError(f"weight must have shape ({av.shape[0]}, {rv.shape[0]}), got {wm.shape}")
    if np.shape(bias) not in ((), rv.shape):  # the bias moves the root, it does not split relevance
        raise CourseError(f"bias must be a scalar or have shape {rv.shape}, got {np.shape(bias)}")
    vw = search_direction(av, wm, direction, low, high) * wm
    denom = vw.sum(axis=0)
    share = np.divide(rv, denom, out=np.zeros_like(rv), where=denom != 0)
    result: FloatArray = vw @ share
    return result


def deep_taylor(
    model: Sequential,
    x: ArrayLike,
    target: ArrayLike,
    input_rule: str = "zbox",
    low: ArrayLike = 0.0,
    high: ArrayLike = 1.0,
    stabilizer: float = 1e-6,
) -> FloatArray:
    """Deep Taylor explanation of a ReLU network: z^B (or w²) at the input layer, z⁺ above (L12–L14).

    Implemented with the LRP engine and one rule per Dense/Conv2d layer:
    ``ZBox(low, high)`` (pixels in a box) or ``WSquare()`` (inputs in ℝ^d) for
    the first, ``ZPlus()`` for all others -- with ``zero_bias=True``, because in
    DTD the bias only moves the root point (:func:`dtd_layer`). The output
    relevance is the target logit, as for :func:`course.relevance.lrp`.

    >>> from course.relevance import Sequential, Dense, ReLU
    >>> net = Sequential([Dense([[1.0], [1.0]]), ReLU(), Dense([[2.0]])])
    >>> deep_taylor(net, np.array([[0.25, 0.75]]), 0).round(4)  # stabiliser 1e-6 in every denominator
    array([[0.5, 1.5]])
    """
    from course.relevance.lrp import lrp

    return lrp(model, x, deep_taylor_rules(model, input_rule, low, high, stabilizer), target)


def deep_taylor_rules(
    model: Sequential, input_rule: str = "zbox", low: ArrayLike = 0.0, high: ArrayLike = 1.0, stabilizer: float = 1e-6
) -> list[Rule]:
    """The rule list of :func:`deep_taylor`: one rule per Dense/Conv2d layer, input layer first.

    >>> from course.relevance import Sequential, Dense, ReLU
    >>> deep_taylor_rules(Sequential([Dense([[1.0]]), ReLU(), Dense([[1.0]])]), "wsquare")
    [WSquare(zero_bias=True), ZPlus(zero_bias=True)]
    """
    from course.relevance import rules
    from course.relevance.layers import Linear
    from course.relevance.network import Sequential

    given: object = model  # checked as any value: a caller without a type checker may pass anything
    if not isinstance(given, Sequential):
        raise CourseError(f"model must be a course.relevance.Sequential, got {type(model).__name__}")
    first: rules.LinearRule
    if input_rule == "zbox":
        first = rules.ZBox(low, high, stabilizer=stabilizer)
    elif input_rule == "wsquare":
        first = rules.WSquare(stabilizer=stabilizer, zero_bias=True)
    else:
        raise CourseError(f"input_rule must be 'zbox' or 'wsquare', got {input_rule!r}")
    n_linear = sum(isinstance(layer, Linear) for _, layer in model.flat_layers())  # inside blocks too
    if n_linear == 0:
        raise CourseError("deep_taylor needs a model with at least one Dense or Conv2d layer")
    return [first] + [rules.ZPlus(stabilizer=stabilizer, zero_bias=True) for _ in range(n_linear - 1)]
