"""Evaluating explanations: where relevance is lost (conservation) and whether it points at what matters (flipping).

* :func:`conservation_report` -- per layer, the relevance that enters and leaves and how much the biases and
  stabilisers absorbed (L4, L6, L8: conservation is exact only without bias and with ε → 0).
* :func:`pixel_flipping` -- region perturbation (Samek et al., "Evaluating the visualization of what a deep
  neural network has learned", IEEE TNNLS 28(11), 2017): remove the most relevant patches first and watch the
  target score fall; :func:`aopc` is the area over that perturbation curve. Works for any relevance map
  (LRP, gradients, PatternAttribution, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray, IndexArray, Shape
from course.relevance.lrp import RelevanceTrace, RuleSpec, lrp_layers
from course.relevance.network import Sequential, check_input, target_indices

__all__ = ["ConservationReport", "conservation_report", "FlippingCurve", "pixel_flipping", "aopc"]

_COLUMNS = ("layer", "rule", "Σ R out", "Σ R in", "bias", "stabiliser", "rest")
# (index, layer, rule, Σ R out, Σ R in, bias, stabiliser, rest) of one layer
Row: TypeAlias = tuple[int, str, str, float, float, float, float, float]


@dataclass
class ConservationReport:
    """Per-layer relevance budget of one LRP pass, summed over the batch; rows run from the output down.

    ``rows`` are tuples ``(index, layer, rule, out, in, bias, stabiliser, rest)`` with
    ``out = in + bias + stabiliser + rest``; ``rest`` is what neither absorbed (e.g. γ's outputs with z = 0,
    rounding). ``trace`` keeps the per-sample relevances (:class:`course.relevance.lrp.RelevanceTrace`).
    """

    rows: list[Row]
    output: float
    input: float
    samples: int
    trace: RelevanceTrace | None = None

    def _cells(self) -> Iterator[list[str]]:
        for index, layer, rule, *numbers in self.rows:
            tiny = 1e-12 * max(1.0, abs(numbers[0]))  # rounding noise is shown as 0
            yield [f"{index} {layer}", rule] + [f"{v if abs(v) > tiny else 0.0:.6g}" for v in numbers]

    def _summary(self) -> str:
        share = self.input / self.output if self.output != 0 else float("nan")
        batch = f" (summed over {self.samples} samples)" if self.samples > 1 else ""
        return f"f(x) = {self.output:.6g}{batch}; Σ input relevance = {self.input:.6g} ({share:.2%} of f(x))"

    def to_markdown(self) -> str:
        """The table as GitHub-flavoured Markdown."""
        lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
        lines += ["| " + " | ".join(cells) + " |" for cells in self._cells()]
        return "\n".join(lines) + "\n\n" + self._summary() + "\n"

    def __str__(self) -> str:
        table = [list(_COLUMNS)] + list(self._cells())
        widths = [max(len(row[c]) for row in table) for c in range(len(_COLUMNS))]
        lines = [
            "  ".join(cell.ljust(w) if c < 2 else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths)))
            for row in table
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines) + "\n" + self._summary()


def conservation_report(model: Sequential, x: ArrayLike, rule: RuleSpec, target: ArrayLike) -> ConservationReport:
    """Where the relevance goes, layer by layer (L4, L6, L8).

    Runs :func:`course.relevance.lrp.lrp_layers` once; for every layer it reports Σ R at its output and
    input and what the layer's biases (Σ_k s_k b_k) and stabiliser (Σ_k s_k ε sign z_k) absorbed,
    where s = R / stabilize(z) are the rule's normalised relevances.

    >>> from course.relevance import Sequential, Dense, rules
    >>> report = conservation_report(Sequential([Dense([[2.0], [1.0]], [1.0])]), [[1.0, 1.0]], rules.Epsilon(1.0), 0)
    >>> [round(v, 6) + 0.0 for v in report.rows[0][3:]]
    [4.0, 2.4, 0.8, 0.8, 0.0]
    """
    trace = lrp_layers(model, x, rule, target)
    totals = trace.totals.sum(axis=1)
    rest = trace.rest.sum(axis=1)
    rows: list[Row] = []
    for i in range(len(trace.layers) - 1, -1, -1):
        rows.append(
            (
                i,
                repr(trace.layers[i]),
                repr(trace.rules[i]),
                float(totals[i + 1]),
                float(totals[i]),
                float(trace.bias[i].sum()),
                float(trace.stabilizer[i].sum()),
                float(rest[i]),
            )
        )
    return ConservationReport(rows, float(totals[-1]), float(totals[0]), trace.relevances[0].shape[0], trace)


@dataclass
class FlippingCurve:
    """A perturbation curve: ``values[n, k]`` is sample n's target score after ``removed[k]`` patches were replaced."""

    removed: IndexArray
    fraction: FloatArray
    values: FloatArray
    order: str

    def aopc(self) -> float:
        """Area over the perturbation curve, :func:`aopc`."""
        return aopc(self)


def aopc(curve: FlippingCurve | ArrayLike) -> float:
    """AOPC = 1/(L+1) · Σ_{k=0..L} ⟨f(x⁽⁰⁾) − f(x⁽ᵏ⁾)⟩ over samples (Samek et al. 2017, eq. 12).

    ``curve`` is a :class:`FlippingCurve` or an array (samples, L+1) / (L+1,) of scores, step 0 first.

    >>> aopc(np.array([2.5, -0.5, -1.5, 0.5]))
    2.25
    """
    values = np.atleast_2d(np.asarray(curve.values if isinstance(curve, FlippingCurve) else curve, dtype=float))
    if values.shape[1] < 1 or not np.all(np.isfinite(values)):
        raise CourseError("aopc needs a finite curve with at least one step")
    return float((values[:, :1] - values).mean())


_ORDERS = {
    "most_relevant_first": "morf",
    "morf": "morf",
    "least_relevant_first": "lerf",
    "lerf": "lerf",
    "random": "random",
}


def _patch_ids(shape: Shape, patch: int) -> tuple[IndexArray, int]:
    """Patch index of every position of one sample: features for (batch, d), k×k tiles (all channels) for NCHW."""
    if len(shape) == 2:
        if patch != 1:
            raise CourseError(f"patch={patch} needs image input (batch, C, H, W); got shape {shape}")
        return np.arange(shape[1]), shape[1]
    if len(shape) != 4:
        raise CourseError(f"pixel_flipping expects (batch, features) or (batch, C, H, W), got shape {shape}")
    h, w = shape[2:]
    cols = -(-w // patch)
    rows, columns = np.meshgrid(np.arange(h) // patch, np.arange(w) // patch, indexing="ij")
    ids = np.broadcast_to(rows * cols + columns, shape[1:])
    return ids, int(-(-h // patch) * cols)


def _baseline(baseline: ArrayLike, x: FloatArray, rng: np.random.Generator) -> FloatArray:
    if isinstance(baseline, str):
        axes = tuple(range(2, x.ndim)) if x.ndim == 4 else (1,)
        if baseline == "mean":  # per sample (and channel) mean
            return np.broadcast_to(x.mean(axis=axes, keepdims=True), x.shape)
        if baseline == "uniform":  # Samek et al.: uniform noise over the sample's value range
            flat = x.reshape(len(x), -1)
            low, high = flat.min(axis=1), flat.max(axis=1)
            noise = rng.uniform(size=x.shape)
            shape = (-1,) + (1,) * (x.ndim - 1)
            noisy: FloatArray = low.reshape(shape) + noise * (high - low).reshape(shape)
            return noisy
        raise CourseError(f"baseline must be a number, an array, 'mean' or 'uniform'; got {baseline!r}")
    arr = np.asarray(baseline, dtype=x.dtype)
    if not np.all(np.isfinite(arr)):
        raise CourseError("baseline contains NaN or inf")
    try:
        return np.broadcast_to(arr, x.shape)
    except ValueError:
        raise CourseError(f"baseline of shape {arr.shape} does not broadcast to x's shape {x.shape}") from None


def pixel_flipping(
    model: Sequential,
    x: ArrayLike,
    relevance: ArrayLike,
    target: ArrayLike,
    steps: int | None = None,
    patch: int = 1,
    per_step: int = 1,
    baseline: ArrayLike = 0.0,
    order: str = "most_relevant_first",
    output: str = "logit",
    seed: int = 0,
) -> FlippingCurve:
    """Region perturbation: replace the patches in order of relevance and record the target score.

    Parameters
    ----------
    model, x, target
        The network, the input batch and the class whose score is tracked.
    relevance : array of x's shape
        Any explanation (LRP, gradient, ...). A patch's score is its relevance summed over channels and area.
    steps : int, optional
        Number of perturbation steps L (default: until every patch is replaced).
    patch : int
        Side of the square, non-overlapping patches of an image (1 = single pixels); 1 for flat input.
    per_step : int
        Patches replaced per step.
    baseline : float, array, 'mean' or 'uniform'
        The value a replaced patch takes (per-sample mean, or uniform noise over the sample's range, seeded).
    order : 'most_relevant_first' (MoRF), 'least_relevant_first' (LeRF) or 'random'
    output : 'logit' or 'probability' (softmax of the target)

    Returns
    -------
    FlippingCurve with ``values`` of shape (batch, L + 1); step 0 is the unperturbed input.

    Examples
    --------
    >>> from course.relevance import Sequential, Dense
    >>> net = Sequential([Dense([[1.0], [-2.0], [3.0]], [0.5])])
    >>> x = np.ones((1, 3))
    >>> curve = pixel_flipping(net, x, relevance=x * np.array([1.0, -2.0, 3.0]), target=0)
    >>> curve.values.tolist(), curve.aopc()
    ([[2.5, -0.5, -1.5, 0.5]], 2.25)
    """
    if not isinstance(model, Sequential):
        raise CourseError(f"model must be a course.relevance.Sequential, got {type(model).__name__}")
    x = check_input(x)
    relevance = check_input(relevance, "relevance")
    if relevance.shape != x.shape:
        raise CourseError(f"relevance must have x's shape {x.shape}, got {relevance.shape}")
    if order not in _ORDERS:
        raise CourseError(f"order must be one of {', '.join(sorted(_ORDERS))}; got {order!r}")
    if output not in ("logit", "probability"):
        raise CourseError(f"output must be 'logit' or 'probability', got {output!r}")
    counts: tuple[tuple[str, object], ...] = (("patch", patch), ("per_step", per_step))  # checked as any value
    for name, value in counts:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise CourseError(f"{name} must be a positive int, got {value!r}")
    out_shape = model.check_shapes(x.shape)
    t = target_indices(target, x.shape[0], out_shape[1])
    ids, n_patches = _patch_ids(x.shape, int(patch))
    total_steps = -(-n_patches // per_step)
    given: object = total_steps if steps is None else steps  # checked as any value
    if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or not 1 <= given <= total_steps:
        raise CourseError(f"steps must be an int in 1..{total_steps} ({n_patches} patches, {per_step} per step)")
    steps = int(given)
    rng = np.random.default_rng(seed)
    fill = _baseline(baseline, x, rng)

    # rank[n, p]: when patch p of sample n is replaced (0 = first)
    flat_ids = np.broadcast_to(ids, x.shape[1:]).ravel()
    offsets = (np.arange(len(x))[:, None] * n_patches + flat_ids[None]).ravel()
    scores = np.bincount(offsets, weights=relevance.ravel(), minlength=len(x) * n_patches).reshape(len(x), -1)
    kind = _ORDERS[order]
    if kind == "random":
        ranking = np.stack([rng.permutation(n_patches) for _ in range(len(x))])
    else:
        ranking = np.argsort(-scores if kind == "morf" else scores, axis=1, kind="stable")
    rank = np.empty_like(ranking)
    np.put_along_axis(rank, ranking, np.arange(n_patches)[None].repeat(len(x), 0), axis=1)
    rank_at = rank[:, flat_ids].reshape(x.shape)  # rank of the patch of every input position

    removed = np.minimum(np.arange(steps + 1) * per_step, n_patches)
    values = np.empty((len(x), steps + 1))
    chunk = max(1, 512 // len(x))
    rows = np.arange(len(x))
    for start in range(0, steps + 1, chunk):
        ks = removed[start : start + chunk]
        batch = np.where(rank_at[None] < ks.reshape((-1,) + (1,) * x.ndim), fill[None], x[None])
        logits = model(batch.reshape((-1,) + x.shape[1:])).reshape(len(ks), len(x), -1)
        if output == "probability":
            shifted = np.exp(logits - logits.max(axis=2, keepdims=True))
            logits = shifted / shifted.sum(axis=2, keepdims=True)
        values[:, start : start + len(ks)] = logits[:, rows, t].T
    return FlippingCurve(removed, removed / n_patches, values, kind)
