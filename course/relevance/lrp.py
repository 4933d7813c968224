"""The LRP backward pass: one generic step per layer, driven by the rules of :mod:`course.relevance.rules`.

``lrp(model, x, rule, target)`` puts the target logit on the output
(one-hot(target) × logits, as Zennit) and walks back through the network.
At every Dense/Conv2d it runs the rule's groups of terms (Montavon's four
lines: z, s = R/z, c = Wᵀs, R = a·c); ReLU passes relevance through, MaxPool2d
takes the gradient (winner-take-all), AvgPool2d the proportional ``Norm`` rule.
BatchNorm layers are first folded into the preceding layer (canonizer).

``lrp_layers`` runs the same pass and keeps the relevance at every layer and
what the biases and stabilisers absorbed there (for the conservation report, L4, L6, L8).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from course.errors import CourseError
from course.relevance import rules as R_
from course.relevance.layers import BatchNorm, Layer, Linear
from course.relevance.network import Sequential, check_input, merge_batchnorm, output_relevance, target_indices

__all__ = ["lrp", "lrp_layers", "RelevanceTrace", "assign_rules", "stabilize"]


def stabilize(z: np.ndarray, epsilon: float) -> np.ndarray:
    """``z + ε·sign(z)`` with ``sign(0) = +1`` (Zennit's stabiliser): never zero for ε > 0."""
    return z + np.where(z < 0, -epsilon, epsilon).astype(z.dtype, copy=False)


@dataclass
class RelevanceTrace:
    """The relevance at every layer of one LRP pass.

    ``relevances[i]`` is the relevance at the input of ``layers[i]``; ``relevances[-1]``
    is the output relevance (the target logit). ``bias[i]`` and ``stabilizer[i]``
    (shape (batch,)) are what layer ``i``'s biases and stabiliser absorbed, so that
    ``Σ relevances[i+1] = Σ relevances[i] + bias[i] + stabilizer[i] + rest[i]``.
    """

    layers: list[Layer]
    rules: list[R_.Rule]
    relevances: list[np.ndarray] = field(default_factory=list)
    bias: list[np.ndarray] = field(default_factory=list)
    stabilizer: list[np.ndarray] = field(default_factory=list)

    @property
    def totals(self) -> np.ndarray:
        """Σ relevance per layer boundary and sample, shape (n_layers + 1, batch)."""
        return np.stack([r.reshape(r.shape[0], -1).sum(axis=1) for r in self.relevances])

    @property
    def rest(self) -> np.ndarray:
        """Relevance lost neither to bias nor stabiliser (e.g. Gamma's outputs with z = 0), per layer and sample."""
        t = self.totals
        return t[1:] - t[:-1] - np.stack(self.bias) - np.stack(self.stabilizer)


# ---------------------------------------------------------------------------------------------- rule assignment

def _as_rule(rule) -> R_.Rule:
    if isinstance(rule, str):
        return R_.from_name(rule)
    if isinstance(rule, type) and issubclass(rule, R_.Rule):
        raise CourseError(f"pass a rule instance, e.g. rules.{rule.__name__}(), not the class")
    if not isinstance(rule, R_.Rule):
        raise CourseError(f"expected an LRP rule (e.g. rules.Epsilon()), got {rule!r}")
    return rule


def assign_rules(model: Sequential, rule) -> list[R_.Rule]:
    """One rule per layer of ``model``: ``rule`` may be a rule, a rule name, a list (one per Dense/Conv2d) or a composite."""
    from course.relevance.composites import Composite, LayerMapComposite, from_name as composite_from_name

    if isinstance(rule, str):
        composite = composite_from_name(rule, missing_ok=True)
        rule = composite if composite is not None else R_.from_name(rule)
    if isinstance(rule, Composite):
        return rule.assign(model)
    linear = model.linear_layers
    if isinstance(rule, (list, tuple)):
        if len(rule) != len(linear):
            raise CourseError(
                f"got {len(rule)} rules for {len(linear)} Dense/Conv2d layers; give one rule per layer in forward "
                f"order: {', '.join(repr(model.layers[i]) for i in linear)}"
            )
        return LayerMapComposite(list(enumerate(_as_rule(r) for r in rule))).assign(model)
    return LayerMapComposite([(Linear, _as_rule(rule))]).assign(model)


# ---------------------------------------------------------------------------------------------- the engine step

def _modified_input(kind: str, a: np.ndarray, rule: R_.Rule, cache: dict):
    if kind not in cache:
        if kind == "a":
            cache[kind] = a
        elif kind == "a+":
            cache[kind] = np.maximum(a, 0)
        elif kind == "a-":
            cache[kind] = None if cache["nonneg"] else np.minimum(a, 0)
        elif kind == "1":
            cache[kind] = np.ones_like(a)
        else:  # "low" / "high" of ZBox
            cache["low"], cache["high"] = rule.bounds(a)
    return cache[kind]


def _rule_step(rule: R_.LinearRule, layer: Layer, a, out, relevance, audit=None):
    """R at the input of ``layer`` from R at its output, for a rule made of groups of terms."""
    params = isinstance(layer, Linear)
    cache = {"nonneg": bool(a.min() >= 0)}
    result = None
    for group in rule.groups:
        passes, z = [], 0
        for term in group.terms:
            inp = _modified_input(term.input, a, rule, cache)
            if inp is None:  # an all-zero input without bias adds nothing
                continue
            w = b = None
            if params:
                w = layer.weight if term.param is None else term.param(layer.weight)
                if term.bias and not rule.zero_bias:
                    b = layer.bias if term.param is None else term.param(layer.bias)
            # the unmodified pass (a; W, b) is the forward output we already have
            unmodified = term.input == "a" and term.param is None and (b is not None or not params)
            zt = out if unmodified else layer.linear(inp, w, b) if params else layer.forward(inp)
            passes.append((inp, w, b, term.sign))
            z = z + (zt if term.sign == 1 else term.sign * zt)
        s = relevance / stabilize(z, rule.stabilizer)
        if group.coefficient != 1:
            s = group.coefficient * s
        if group.mask is not None:
            s = s * ((out > 0) if group.mask == "z>0" else (out < 0))
        for inp, w, _, sign in passes:
            c = layer.linear_backward(s, w, a.shape) if params else layer.backward(a, s)
            contrib = inp * c if sign == 1 else sign * inp * c
            result = contrib if result is None else result + contrib
        if audit is not None:
            _audit_group(audit, passes, s, z, rule.stabilizer)
    return result


def _audit_group(audit, passes, s, z, epsilon):
    """Add what this group's bias terms and stabiliser absorbed: Σ s·(Σ sign·b) and Σ s·(stab(z) − z)."""
    axes = tuple(range(1, z.ndim))
    audit["stabilizer"] = audit.get("stabilizer", 0) + (s * (stabilize(z, epsilon) - z)).sum(axis=axes)
    shape = (1, -1) + (1,) * (z.ndim - 2)
    bias = sum(sign * b.reshape(shape) for _, _, b, sign in passes if b is not None)
    if np.ndim(bias):
        audit["bias"] = audit.get("bias", 0) + (s * bias).sum(axis=axes)


def _step(rule, layer, a, out, relevance, audit=None):
    if isinstance(rule, R_.Pass):
        return relevance
    if isinstance(rule, R_.Gradient):
        return layer.backward(a, relevance)
    return _rule_step(rule, layer, a, out, relevance, audit)


# ---------------------------------------------------------------------------------------------- public functions

def _prepare(model, x, rule, target):
    """Validate everything before any computation; return (model, rules, x, target indices)."""
    if not isinstance(model, Sequential):
        raise CourseError(f"model must be a course.relevance.Sequential, got {type(model).__name__}")
    if any(isinstance(layer, BatchNorm) for layer in model.layers):
        model = merge_batchnorm(model)
    assigned = assign_rules(model, rule)
    x = check_input(x)
    out_shape = model.check_shapes(x.shape)
    if len(out_shape) != 2:
        raise CourseError(f"the model's output must be (batch, classes) logits, got shape {out_shape}")
    t = target_indices(target, x.shape[0], out_shape[1])
    first = model.linear_layers[0] if model.linear_layers else None
    if first is not None and isinstance(assigned[first], R_.ZBox):
        _check_box(assigned[first], x, first, model.layers[first])
    return model, assigned, x, t


def _check_box(rule: R_.ZBox, a, index, layer):
    low, high = rule.bounds(a[:1])
    if np.any(a < low) or np.any(a > high):
        raise CourseError(
            f"{rule!r} on layer {index} {layer!r}: its input lies outside [low, high] (min {a.min():.4g}, "
            f"max {a.max():.4g}); give bounds that contain every input value, e.g. the pixel range"
        )


def _walk(model, x, rule, target, trace=None):
    model, assigned, x, t = _prepare(model, x, rule, target)
    acts = model.activations(x)
    for i, (layer, r) in enumerate(zip(model.layers, assigned)):
        if isinstance(r, R_.ZBox) and i != model.linear_layers[0]:
            _check_box(r, acts[i], i, layer)
    relevance = output_relevance(acts[-1], t)
    if trace is not None:
        trace.layers, trace.rules, trace.relevances = list(model.layers), assigned, [relevance]
    for i in range(len(model.layers) - 1, -1, -1):
        audit = {} if trace is not None else None
        relevance = _step(assigned[i], model.layers[i], acts[i], acts[i + 1], relevance, audit)
        if trace is not None:
            zero = np.zeros(x.shape[0], dtype=relevance.dtype)
            trace.relevances.insert(0, relevance)
            trace.bias.insert(0, np.asarray(audit.get("bias", zero)) + zero)
            trace.stabilizer.insert(0, np.asarray(audit.get("stabilizer", zero)) + zero)
    return relevance


def lrp(model: Sequential, x, rule, target) -> np.ndarray:
    """Layer-wise relevance propagation of the target logit back to the input (L7–L10, L15).

    Parameters
    ----------
    model : Sequential
        Dense/Conv2d/ReLU/MaxPool2d/AvgPool2d/Flatten/BatchNorm layers (BatchNorm is merged first).
    x : array (batch, ...)
        Input batch; its dtype and the weights' decide the dtype of the result.
    rule : Rule, str, list of Rule, or Composite
        One rule for every Dense/Conv2d layer, a list with one rule per Dense/Conv2d in forward
        order, a composite (:mod:`course.relevance.composites`) or a rule/composite name.
    target : int or array of ints
        The class explained, for all samples or per sample. Its logit is the output relevance.

    Returns
    -------
    array of x's shape: the input relevance. Numerics follow Zennit 0.5.1.

    Raises
    ------
    CourseError
        NaN/inf input, a target outside the classes, ZBox bounds the input violates, an unknown
        rule name, a list of the wrong length -- all before any computation.

    Examples
    --------
    >>> from course.relevance import Sequential, Dense, ReLU, rules
    >>> net = Sequential([Dense([[1.0, 0.0], [1.0, 1.0]]), ReLU(), Dense([[1.0], [1.0]])])
    >>> lrp(net, np.array([[1.0, 2.0]]), rules.Epsilon(1e-9), target=0).round(6)
    array([[1., 4.]])
    """
    return _walk(model, x, rule, target)


def lrp_layers(model: Sequential, x, rule, target) -> RelevanceTrace:
    """The same pass as :func:`lrp`, keeping the relevance at every layer and what bias and stabiliser absorbed.

    >>> from course.relevance import Sequential, Dense, rules
    >>> trace = lrp_layers(Sequential([Dense([[2.0], [1.0]], [1.0])]), np.array([[1.0, 1.0]]), rules.Zero(), 0)
    >>> trace.totals.round(3).ravel().tolist(), trace.bias[0].round(3).tolist()
    ([3.0, 4.0], [1.0])
    """
    trace = RelevanceTrace([], [])
    _walk(model, x, rule, target, trace)
    return trace
