"""One LRP step: the relevance at a layer's input from the relevance at its output, under one rule.

A rule of :mod:`course.relevance.rules` is data: groups of terms, each term naming the input it reads
(a, a⁺, a⁻, ones, ZBox's bounds), a change of the parameters and a sign. :func:`step` turns that data into
Montavon's four lines per group -- z = Σ sign·layer(input; params), s = R / stabilize(z), c = layerᵀ(s),
R = Σ sign·input ⊙ c -- with the passes that read the same input sharing one GEMM (:func:`rule_passes`),
and records what the biases and the stabiliser absorbed (:func:`audit_group`). :mod:`course.relevance.lrp`
walks the network and calls this once per layer; this module knows nothing of networks or batches.

>>> from course.relevance import Dense, rules
>>> layer = Dense([[2.0], [1.0]], [1.0])
>>> a = np.array([[1.0, 1.0]])
>>> step(rules.Zero(), layer, a, layer(a), np.array([[4.0]]))
array([[2., 1.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np

from course.errors import CourseError
from course.relevance import rules as R_
from course.relevance._types import FloatArray
from course.relevance.base import Layer, Linear, sum_arrays

__all__ = ["stabilize", "normalised", "rule_passes", "pass_weights", "step", "audit_group", "Audit", "Fused"]

# what a layer's biases and stabiliser absorbed, per sample: {"bias": …, "stabilizer": …}
Audit: TypeAlias = dict[str, FloatArray]


def stabilize(z: FloatArray, epsilon: float) -> FloatArray:
    """``z + ε·sign(z)`` with ``sign(0) = +1`` (Zennit's stabiliser): never zero for ε > 0."""
    if epsilon == 0:
        return z.copy()
    stable: FloatArray = np.sign(z)
    stable[stable == 0] = 1
    stable *= epsilon
    stable += z
    return stable


def normalised(relevance: FloatArray, z: FloatArray, epsilon: float) -> FloatArray:
    """``R / stabilize(z)`` in a single new buffer; with ε = 0, exactly R / z and 0 where z = 0."""
    stable = stabilize(z, epsilon)
    if epsilon == 0:
        zero = stable == 0
        stable[zero] = 1  # divide by one, then drop: an output with z = 0 passes no relevance
        out = relevance / stable
        out[np.broadcast_to(zero, out.shape)] = 0
        return out
    if stable.shape != relevance.shape:  # z of a single sample (ones or bounds as input)
        return relevance / stable
    return np.divide(relevance, stable, out=stable)


@runtime_checkable
class Bounded(Protocol):
    """A rule with input bounds (ZBox): its terms may read the inputs "low" and "high"."""

    def bounds(self, like: FloatArray) -> tuple[FloatArray, FloatArray]: ...


def modified_input(
    kind: str, a: FloatArray, rule: R_.LinearRule, cache: dict[str, FloatArray | None], nonneg: bool
) -> FloatArray | None:
    """The input a term reads: a, a⁺, a⁻ (None if all zero), ones or ZBox's bounds (the last three as one sample)."""
    if kind not in cache:
        if kind == "a":
            cache[kind] = a
        elif kind == "a+":
            cache[kind] = a if nonneg else np.maximum(a, 0)
        elif kind == "a-":
            cache[kind] = None if nonneg else np.minimum(a, 0)
        elif kind == "1":
            cache[kind] = np.ones((1,) + a.shape[1:], dtype=a.dtype)
        elif kind in ("low", "high") and isinstance(rule, Bounded):  # ZBox
            cache["low"], cache["high"] = rule.bounds(a)
        else:
            raise CourseError(
                f"{rule!r}: a term reads the input {kind!r}; terms read 'a', 'a+', 'a-', '1', or "
                "'low'/'high' of a rule with bounds (ZBox)"
            )
    return cache[kind]


@dataclass
class Pass:
    """One modified forward pass of a rule: group index, input kind and array, parameters, sign."""

    group: int
    key: str
    input: FloatArray
    weight: FloatArray | None
    bias: FloatArray | None
    sign: float
    is_forward: bool  # (a; W, b) unmodified: the forward output is already known
    needs_forward: bool  # its output enters a denominator that is not known otherwise


# the passes of a rule on one layer, by the input they read
Passes: TypeAlias = dict[str, list[Pass]]
# the passes computed with the forward pass, and their outputs by id(pass)
Fused: TypeAlias = tuple[Passes, dict[int, FloatArray]]


def pass_weights(passes: Sequence[Pass]) -> list[FloatArray]:
    """The weights of passes on a Dense/Conv2d layer (:func:`rule_passes` gives every such pass its weight)."""
    weights = [p.weight for p in passes if p.weight is not None]
    if len(weights) != len(passes):
        raise CourseError("a pass on a Dense/Conv2d layer has no weight")
    return weights


def rule_passes(rule: R_.LinearRule, layer: Layer, a: FloatArray) -> Passes:
    params = layer if isinstance(layer, Linear) else None
    cache: dict[str, FloatArray | None] = {}
    nonneg, passes = bool(a.min() >= 0), []
    for g, group in enumerate(rule.groups):
        for term in group.terms:
            inp = modified_input(term.input, a, rule, cache, nonneg)
            if inp is None:  # an all-zero input (these terms carry no bias) adds nothing
                continue
            w = b = None
            if params is not None:
                w = params.weight if term.param is None else term.param(params.weight)
                if term.bias and not rule.zero_bias:
                    b = params.bias if term.param is None else term.param(params.bias)
            unmodified = term.input == "a" and term.param is None and (b is not None or params is None)
            needed = not unmodified and (group.complement is None or rule.zero_bias)
            passes.append(Pass(g, term.input, inp, w, b, term.sign, unmodified, needed))
    by_input: dict[str, list[Pass]] = {}
    for p in passes:
        by_input.setdefault(p.key, []).append(p)
    return by_input


def group_z(z: list[FloatArray | None], g: int, rule: R_.LinearRule) -> FloatArray:
    """The denominator of group ``g``; a group none of whose terms reads a nonzero input has none."""
    zg = z[g]
    if zg is None:
        raise CourseError(
            f"{rule!r}: group {g} has no term with a nonzero input, so no denominator "
            "(give every group a term reading 'a', 'a+', '1' or a bound)"
        )
    return zg


def step(
    rule: R_.Rule,
    layer: Layer,
    a: FloatArray,
    out: FloatArray,
    relevance: FloatArray,
    audit: Audit | None = None,
    fused: Fused | None = None,
) -> FloatArray:
    """R at the input of ``layer`` from R at its output: Pass and Gradient as they say, else a rule made of
    groups of terms.

    Per group: z = Σ sign·layer(input; params), s = coefficient·mask·R / stabilize(z); then
    R_a = Σ sign·input ⊙ layerᵀ(s; params). Passes that read the same input share one GEMM; ``fused``
    holds the passes and outputs already computed together with the forward pass (:func:`_forward`).
    """
    if isinstance(rule, R_.Pass):
        return relevance
    if isinstance(rule, R_.Gradient):
        return layer.backward(a, relevance)
    if not isinstance(rule, R_.LinearRule):
        raise CourseError(f"{rule!r} is neither Pass, Gradient nor a rule of groups of terms (rules.LinearRule)")
    params = layer if isinstance(layer, Linear) else None
    by_input, known = fused if fused is not None else (rule_passes(rule, layer, a), {})
    z: list[FloatArray | None] = [None] * len(rule.groups)
    for ps in by_input.values():
        todo = [p for p in ps if p.needs_forward and id(p) not in known]
        if params is not None and todo:
            fresh = iter(params.linear_many(ps[0].input, pass_weights(todo), [p.bias for p in todo]))
        else:
            fresh = iter([layer.forward(ps[0].input) for _ in todo])
        for p in ps:
            if not (p.is_forward or p.needs_forward):
                continue
            zt = out if p.is_forward else known[id(p)] if id(p) in known else next(fresh)
            zt = zt if p.sign in (1, -1) else p.sign * zt
            prev = z[p.group]
            z[p.group] = (zt if p.sign == 1 else -zt) if prev is None else (prev + zt if p.sign == 1 else prev - zt)
    for g, group in enumerate(rule.groups):
        if group.complement is not None and not rule.zero_bias:  # (zero_bias: z is not the output)
            other, coefficient = group.complement
            z[g] = coefficient * out - group_z(z, other, rule)
    zs = [group_z(z, g, rule) for g in range(len(z))]
    # s = coefficient·mask·R / stabilize(z), built in one buffer per group (large temporaries cost page faults)
    s = []
    for group, zg in zip(rule.groups, zs):
        sg = normalised(relevance, zg, rule.stabilizer)
        if group.coefficient != 1:
            sg *= group.coefficient
        if group.mask is not None:
            sg *= (out > 0) if group.mask == "z>0" else (out < 0)
        s.append(sg)
    result: FloatArray | None = None
    for key, ps in by_input.items():
        grads = [s[p.group] if p.sign == 1 else p.sign * s[p.group] for p in ps]
        if params is not None:
            c = params.linear_backward_many(grads, pass_weights(ps), a.shape)
        else:
            c = sum_arrays(layer.backward(a, g) for g in grads)
        if key != "1":  # c is a fresh array of a's shape: multiply by the input in place
            c = np.multiply(ps[0].input, c, out=c)
        result = c if result is None else np.add(result, c, out=result)
    if result is None:
        raise CourseError(f"{rule!r} has no term with a nonzero input on layer {layer!r}")
    if audit is not None:
        for g, (zg, sg) in enumerate(zip(zs, s)):
            biases = [(p.sign, p.bias) for ps in by_input.values() for p in ps if p.group == g and p.bias is not None]
            audit_group(audit, biases, sg, zg, rule.stabilizer)
    return result


def audit_group(
    audit: Audit, biases: Sequence[tuple[float, FloatArray]], s: FloatArray, z: FloatArray, epsilon: float
) -> None:
    """Add what this group's bias terms and stabiliser absorbed: Σ s·(Σ sign·b) and Σ s·(stab(z) − z)."""
    axes = tuple(range(1, z.ndim))
    audit["stabilizer"] = audit.get("stabilizer", 0) + (s * (stabilize(z, epsilon) - z)).sum(axis=axes)
    shape = (1, -1) + (1,) * (z.ndim - 2)
    if biases:
        bias = sum(sign * b.reshape(shape) for sign, b in biases)
        audit["bias"] = audit.get("bias", 0) + (s * bias).sum(axis=axes)
