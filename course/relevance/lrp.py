"""The LRP backward pass: one generic step per layer, driven by the rules of :mod:`course.relevance.rules`.

``lrp(model, x, rule, target)`` puts the target logit on the output
(one-hot(target) × logits, as Zennit) and walks back through the network.
At every Dense/Conv2d it runs the rule's groups of terms (Montavon's four
lines: z, s = R/z, c = Wᵀs, R = a·c); activations (ReLU, LeakyReLU, Tanh,
Sigmoid) pass relevance through, MaxPool2d takes the gradient (winner-take-all),
AvgPool2d the proportional ``Norm`` rule. BatchNorm layers are first folded into
the preceding Dense/Conv2d (canonizer); one with none before it passes relevance through (Zennit).

``lrp_layers`` runs the same pass and keeps the relevance at every layer and
what the biases and stabilisers absorbed there (for the conservation report, L4, L6, L8).

This module is the walk: rules assigned to layers, the forward pass (fused with the rules'
first modified passes), the backward recursion into blocks, the batch in pieces on threads;
the step at one layer -- a rule's groups of terms turned into GEMMs -- is :mod:`course.relevance.lrp_step`.
It is a little over 400 lines (a quarter of them docstrings with runnable examples) because the walk,
the fused forward pass and the block recursion share one record of what each layer saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias, overload

import numpy as np

from course.errors import CourseError
from course.relevance import rules as R_
from course.relevance._types import ArrayLike, FloatArray, IndexArray
from course.relevance.composites import layer_name
from course.relevance.layers import BatchNorm, Branches, Layer, Linear
from course.relevance.lrp_step import Audit, Fused, audit_group, normalised, pass_weights, rule_passes, stabilize, step
from course.relevance.network import (
    LayerPath,
    Sequential,
    Start,
    check_input,
    check_start,
    merge_batchnorm,
    target_indices,
)
from course.relevance.network import (
    output_relevance as _output_relevance,
)

if TYPE_CHECKING:
    from course.relevance.composites import Composite

__all__ = ["lrp", "lrp_layers", "RelevanceTrace", "assign_rules", "stabilize"]

# what `rule` may be: a rule, a rule or composite name, one rule per Dense/Conv2d, or a composite
RuleSpec: TypeAlias = "R_.Rule | str | Sequence[R_.Rule | str] | Composite"
# on_layer(i, relevance at the input of layer i, what layer i absorbed)
OnLayer: TypeAlias = Callable[[int, FloatArray, Audit], None]


@dataclass
class RelevanceTrace:
    """The relevance at every layer of one LRP pass.

    ``relevances[i]`` is the relevance at the input of ``layers[i]``; ``relevances[-1]``
    is the output relevance (by default the target logit); ``logits`` the network's output.
    ``bias[i]`` and ``stabilizer[i]`` (shape (batch,)) are what layer ``i``'s biases and stabiliser absorbed, so that
    ``Σ relevances[i+1] = Σ relevances[i] + bias[i] + stabilizer[i] + rest[i]``.
    """

    layers: list[Layer]
    rules: list[R_.Rule]
    relevances: list[FloatArray] = field(default_factory=list)
    bias: list[FloatArray] = field(default_factory=list)
    stabilizer: list[FloatArray] = field(default_factory=list)
    logits: FloatArray | None = None

    @property
    def totals(self) -> FloatArray:
        """Σ relevance per layer boundary and sample, shape (n_layers + 1, batch)."""
        totals: FloatArray = np.stack([r.reshape(r.shape[0], -1).sum(axis=1) for r in self.relevances])
        return totals

    @property
    def rest(self) -> FloatArray:
        """Relevance lost neither to bias nor stabiliser (e.g. Gamma's outputs with z = 0), per layer and sample."""
        t = self.totals
        return t[1:] - t[:-1] - np.stack(self.bias) - np.stack(self.stabilizer)


# ---------------------------------------------------------------------------------------------- rule assignment


def _as_rule(rule: object) -> R_.Rule:
    if isinstance(rule, str):
        return R_.from_name(rule)
    if isinstance(rule, type) and issubclass(rule, R_.Rule):
        raise CourseError(f"pass a rule instance, e.g. rules.{rule.__name__}(), not the class")
    if not isinstance(rule, R_.Rule):
        raise CourseError(f"expected an LRP rule (e.g. rules.Epsilon()), got {rule!r}")
    return rule


def assign_rules(model: Sequential, rule: RuleSpec) -> list[R_.Rule]:
    """One rule per layer of ``model.flat_layers()``: ``rule`` may be a rule, a rule name, a list (one per
    Dense/Conv2d in forward order, inside blocks too) or a composite."""
    from course.relevance.composites import Composite, LayerMapComposite
    from course.relevance.composites import from_name as composite_from_name

    if isinstance(rule, str):
        composite = composite_from_name(rule, missing_ok=True)
        rule = composite if composite is not None else R_.from_name(rule)
    if isinstance(rule, Composite):
        return rule.assign(model)
    linear = [layer for _, layer in model.flat_layers() if isinstance(layer, Linear)]
    if isinstance(rule, (list, tuple)):
        if len(rule) != len(linear):
            raise CourseError(
                f"got {len(rule)} rules for {len(linear)} Dense/Conv2d layers; give one rule per layer in forward "
                f"order: {', '.join(repr(layer) for layer in linear)}"
            )
        return LayerMapComposite(list(enumerate(_as_rule(r) for r in rule))).assign(model)
    return LayerMapComposite([(Linear, _as_rule(rule))]).assign(model)


@dataclass
class _Run:
    """The forward pass of one chain: activations, the passes computed with it, and the runs of block branches."""

    acts: list[FloatArray]
    fused: dict[int, Fused]
    inner: dict[int, list[_Run]]


def _forward(model: Sequential, rules_at: dict[LayerPath, R_.Rule], x: FloatArray, prefix: LayerPath = ()) -> _Run:
    """The activations ``[x, a1, ..., aL]``, per Dense/Conv2d layer the rule's passes on the layer input,
    and the same for every branch of every block.

    Passes that read the layer's own input (a, or a⁺ when a ≥ 0) are computed in the same GEMM as the
    forward pass -- one patch matrix for a convolution instead of two. ZBox bounds are checked here.
    """
    run = _Run([x], {}, {})
    for i, layer in enumerate(model.layers):
        path, a, rule = prefix + (i,), run.acts[-1], rules_at[prefix + (i,)]
        if isinstance(rule, R_.ZBox):
            _check_box(rule, a, path, layer)
        if isinstance(layer, Branches):
            runs = [_forward(branch, rules_at, a, path + (k,)) for k, branch in enumerate(layer.branches)]
            run.inner[i] = runs
            run.acts.append(layer.combine([r.acts[-1] for r in runs]))
        elif isinstance(layer, Linear) and isinstance(rule, R_.LinearRule):
            by_input = rule_passes(rule, layer, a)
            extra = [p for ps in by_input.values() for p in ps if p.input is a and p.needs_forward]
            outs = layer.linear_many(a, [layer.weight] + pass_weights(extra), [layer.bias] + [p.bias for p in extra])
            run.acts.append(outs[0])
            run.fused[i] = (by_input, {id(p): z for p, z in zip(extra, outs[1:])})
        else:
            run.acts.append(layer.forward(a))
    return run


def _split(
    rule: R_.Rule,
    layer: Branches,
    outputs: list[FloatArray],
    out: FloatArray,
    relevance: FloatArray,
    audit: Audit | None,
) -> list[FloatArray]:
    """The relevance at a block's output shared among its branches: Norm (proportional) or the gradient's split."""
    if isinstance(rule, R_.Norm):  # R_k = y_k · R / stabilize(Σ_k y_k), Zennit's Sum + Norm
        s = normalised(relevance, out, rule.stabilizer)
        if audit is not None:
            audit_group(audit, [], s, out, rule.stabilizer)
        return [y * s for y in outputs]
    return layer.split(outputs, relevance)


def _adder(into: Audit) -> OnLayer:
    """An ``on_layer`` that adds what a block's inner layers absorbed into the block's own ``into``."""

    def add(j: int, rel: FloatArray, inner: Audit) -> None:
        into.update({key: into.get(key, 0) + v for key, v in inner.items()})

    return add


def _backward(
    model: Sequential,
    rules_at: dict[LayerPath, R_.Rule],
    run: _Run,
    relevance: FloatArray,
    prefix: LayerPath = (),
    on_layer: OnLayer | None = None,
) -> FloatArray:
    """From the relevance at ``model``'s output to its input, one step per layer, recursing into blocks.

    ``on_layer(i, relevance, audit)`` sees the relevance at the input of every top-level layer and what its
    biases and stabilisers absorbed (those of a block's inner layers added to the block's).
    """
    for i in range(len(model.layers) - 1, -1, -1):
        layer, path = model.layers[i], prefix + (i,)
        audit: Audit | None = {} if on_layer is not None else None
        if isinstance(layer, Branches):
            runs = run.inner[i]
            shares = _split(rules_at[path], layer, [r.acts[-1] for r in runs], run.acts[i + 1], relevance, audit)
            collect = None if audit is None else _adder(audit)
            parts = [
                _backward(branch, rules_at, branch_run, share, path + (k,), collect)
                for k, (branch, branch_run, share) in enumerate(zip(layer.branches, runs, shares))
            ]
            relevance = sum(parts[1:], parts[0])
        else:
            relevance = step(rules_at[path], layer, run.acts[i], run.acts[i + 1], relevance, audit, run.fused.get(i))
        if on_layer is not None and audit is not None:  # (audit is a dict exactly when on_layer is given)
            on_layer(i, relevance, audit)
    return relevance


# ---------------------------------------------------------------------------------------------- public functions


def _prepare(
    model: object, x: ArrayLike, rule: RuleSpec, target: ArrayLike
) -> tuple[Sequential, dict[LayerPath, R_.Rule], FloatArray, IndexArray]:
    """Validate everything before any computation; return (model, rules by layer path, x, target indices)."""
    if not isinstance(model, Sequential):
        raise CourseError(f"model must be a course.relevance.Sequential, got {type(model).__name__}")
    if any(isinstance(layer, BatchNorm) for _, layer in model.flat_layers()):
        model = merge_batchnorm(model)  # a BatchNorm that cannot be merged passes relevance (base map)
    assigned = assign_rules(model, rule)
    arr = check_input(x)
    out_shape = model.check_shapes(arr.shape)
    if len(out_shape) != 2:
        raise CourseError(f"the model's output must be (batch, classes) logits, got shape {out_shape}")
    t = target_indices(target, arr.shape[0], out_shape[1])
    flat = model.flat_layers()
    rules_at = {path: r for (path, _), r in zip(flat, assigned)}
    first = next((p for p, layer in flat if isinstance(layer, Linear)), None)
    box = rules_at[first] if first is not None and len(first) == 1 else None
    if first is not None and isinstance(box, R_.ZBox):
        _check_box(box, arr, first, model.layers[first[0]])  # the pixel bounds, before any work
    return model, rules_at, arr, t


def _check_box(rule: R_.ZBox, a: FloatArray, path: LayerPath, layer: Layer) -> None:
    low, high = rule.bounds(a)
    if np.any(a < low) or np.any(a > high):
        raise CourseError(
            f"{rule!r} on layer {layer_name(path)} {layer!r}: its input lies outside [low, high] (min {a.min():.4g}, "
            f"max {a.max():.4g}); give bounds that contain every input value, e.g. the pixel range"
        )


def _walk(
    model: Sequential,
    rules_at: dict[LayerPath, R_.Rule],
    x: FloatArray,
    t: IndexArray,
    start: Start = "logit",
    trace: RelevanceTrace | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Forward pass, then one step per layer from the output relevance down to the input; (relevance, logits)."""
    run = _forward(model, rules_at, x.astype(np.result_type(x.dtype, model.dtype), copy=False))
    relevance = _output_relevance(run.acts[-1], t, start)
    on_layer: OnLayer | None = None
    if trace is not None:
        trace.layers, trace.relevances, trace.logits = list(model.layers), [relevance], run.acts[-1]
        trace.rules = [rules_at[(i,)] for i in range(len(model.layers))]
        zero = np.zeros(x.shape[0], dtype=relevance.dtype)
        into = trace

        def record(i: int, rel: FloatArray, audit: Audit) -> None:
            into.relevances.insert(0, rel)
            into.bias.insert(0, np.asarray(audit.get("bias", zero)) + zero)
            into.stabilizer.insert(0, np.asarray(audit.get("stabilizer", zero)) + zero)

        on_layer = record

    return _backward(model, rules_at, run, relevance, on_layer=on_layer), run.acts[-1]


# The batch is explained a few samples at a time (each sample's relevance is independent of the others):
# with activations of at most ~0.5 MB per piece the temporaries stay in cache and freed memory is reused,
# instead of fresh pages being faulted in for every large temporary.
_CHUNK_BYTES = 1 << 19


def _chunks(model: Sequential, x: FloatArray) -> list[slice]:
    shape, largest = x.shape, int(np.prod(x.shape[1:]))
    for layer in model.layers:
        shape = layer.output_shape(shape)
        largest = max(largest, int(np.prod(shape[1:])))
    step = max(1, _CHUNK_BYTES // (largest * np.result_type(x.dtype, model.dtype).itemsize))
    return [slice(i, min(i + step, len(x))) for i in range(0, len(x), step)]


def _threads(threads: object) -> int | None:
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise CourseError(f"threads must be a positive int or None (the BLAS library's own), got {threads!r}")
    return int(threads)


Explained: TypeAlias = tuple[FloatArray, FloatArray]  # (relevance, logits) of a piece of the batch


def _map_pieces(explain: Callable[[slice], Explained], pieces: list[slice], threads: int | None) -> list[Explained]:
    """``[explain(p) for p in pieces]``; with ``threads`` = k, on k worker threads with single-threaded BLAS.

    The samples of a batch are independent, so k pieces are explained at once: NumPy releases the GIL in its
    array loops and BLAS, and every piece stays small enough for the cache (threadpoolctl limits BLAS).
    """
    if threads is None:
        return [explain(p) for p in pieces]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        if threads == 1 or len(pieces) == 1:
            return [explain(p) for p in pieces]
        with ThreadPoolExecutor(min(threads, len(pieces))) as pool:
            return list(pool.map(explain, pieces))


@overload
def lrp(
    model: Sequential,
    x: ArrayLike,
    rule: RuleSpec,
    target: ArrayLike,
    output_relevance: Start = ...,
    return_logits: Literal[False] = ...,
    threads: int | None = ...,
) -> FloatArray: ...
@overload
def lrp(
    model: Sequential,
    x: ArrayLike,
    rule: RuleSpec,
    target: ArrayLike,
    output_relevance: Start,
    return_logits: Literal[True],
    threads: int | None = ...,
) -> Explained: ...
@overload
def lrp(
    model: Sequential,
    x: ArrayLike,
    rule: RuleSpec,
    target: ArrayLike,
    output_relevance: Start = ...,
    *,
    return_logits: Literal[True],
    threads: int | None = ...,
) -> Explained: ...
@overload
def lrp(
    model: Sequential,
    x: ArrayLike,
    rule: RuleSpec,
    target: ArrayLike,
    output_relevance: Start = ...,
    return_logits: bool = ...,
    threads: int | None = ...,
) -> FloatArray | Explained: ...
def lrp(
    model: Sequential,
    x: ArrayLike,
    rule: RuleSpec,
    target: ArrayLike,
    output_relevance: Start = "logit",
    return_logits: bool = False,
    threads: int | None = None,
) -> FloatArray | Explained:
    """Layer-wise relevance propagation of the target logit back to the input (L7–L10, L15).

    Parameters
    ----------
    model : Sequential
        Dense/Conv2d, activations, pools, Flatten, BatchNorm (merged first where it follows a
        Dense/Conv2d) and residual blocks.
    x : array (batch, ...)
        Input batch; its dtype and the weights' decide the dtype of the result.
    rule : Rule, str, list of Rule, or Composite
        One rule for every Dense/Conv2d layer, a list with one rule per Dense/Conv2d in forward
        order, a composite (:mod:`course.relevance.composites`) or a rule/composite name.
    target : int or array of ints
        The class explained, for all samples or per sample.
    output_relevance : str, callable or array, default "logit"
        Where the relevance starts (Zennit's ``attr_output``): "logit" (the target logit), "one-hot",
        "contrastive" (target logit minus the mean of the others), "softmax" (SGLRP), a function
        ``(logits, target) -> array`` or an array shaped like the logits; see
        :func:`course.relevance.network.output_relevance`.
    return_logits : bool
        Also return the network's output (as Captum returns it), computed in the same forward pass.
    threads : int, optional
        Cores to use: the batch is explained in pieces on ``threads`` worker threads, each with
        single-threaded BLAS (threadpoolctl). Default None: one piece after the other, BLAS as configured
        (e.g. ``OPENBLAS_NUM_THREADS``). The result is the same either way.

    Returns
    -------
    array of x's shape: the input relevance (and the logits, if ``return_logits``). Numerics follow Zennit 0.5.1.

    Raises
    ------
    CourseError
        NaN/inf input, a target outside the classes, ZBox bounds the input violates, an unknown
        rule name, a list of the wrong length, an unknown ``output_relevance`` -- all before any computation.

    Examples
    --------
    >>> from course.relevance import Sequential, Dense, ReLU, rules
    >>> net = Sequential([Dense([[1.0, 0.0], [1.0, 1.0]]), ReLU(), Dense([[1.0, -1.0], [1.0, 0.0]])])
    >>> lrp(net, np.array([[1.0, 2.0]]), rules.Zero(), target=0)
    array([[1., 4.]])
    >>> relevance, logits = lrp(net, np.array([[1.0, 2.0]]), rules.Zero(), 0, "one-hot", return_logits=True)
    >>> relevance, logits
    (array([[0.2, 0.8]]), array([[ 5., -3.]]))
    """
    start, workers = check_start(output_relevance), _threads(threads)
    net, assigned, arr, t = _prepare(model, x, rule, target)
    if isinstance(start, np.ndarray) and start.shape[0] != arr.shape[0]:
        raise CourseError(f"output_relevance has {start.shape[0]} rows for a batch of {arr.shape[0]} samples")

    def explain(part: slice) -> Explained:
        return _walk(net, assigned, arr[part], t[part], start[part] if isinstance(start, np.ndarray) else start)

    parts = _map_pieces(explain, _chunks(net, arr), workers)
    relevance, logits = (np.concatenate(p) if len(parts) > 1 else p[0] for p in zip(*parts))
    return (relevance, logits) if return_logits else relevance


def lrp_layers(
    model: Sequential, x: ArrayLike, rule: RuleSpec, target: ArrayLike, output_relevance: Start = "logit"
) -> RelevanceTrace:
    """The same pass as :func:`lrp`, keeping the relevance at every layer and what bias and stabiliser absorbed.

    >>> from course.relevance import Sequential, Dense, rules
    >>> trace = lrp_layers(Sequential([Dense([[2.0], [1.0]], [1.0])]), np.array([[1.0, 1.0]]), rules.Zero(), 0)
    >>> trace.totals.round(3).ravel().tolist(), trace.bias[0].round(3).tolist(), trace.logits.tolist()
    ([3.0, 4.0], [1.0], [[4.0]])
    """
    start = check_start(output_relevance)
    trace = RelevanceTrace([], [])
    _walk(*_prepare(model, x, rule, target), start, trace)
    return trace
