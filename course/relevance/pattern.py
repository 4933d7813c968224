"""PatternNet and PatternAttribution (L16–L25; Kindermans et al., ICLR 2018).

A linear neuron ``y = wᵀx`` on data ``x = s + d`` (signal + distractor, L18)
has a *filter* ``w`` (it cancels the distractor) and a *pattern* ``a`` (the
direction along which ``y`` varies in the data). Explanations should show the
pattern, which has to be learned from data:

* linear estimator (L22): ``S_a(x) = a wᵀx`` with ``a = cov[x, y] / σ_y²``;
* two-component ReLU estimator (L23): ``S_a+-(x) = a₊ wᵀx`` if the neuron is
  on, else ``a₋ wᵀx``, with
  ``a₊ = (E₊[xy] − E₊[x]E[y]) / wᵀ(E₊[xy] − E₊[x]E[y])`` (E₊: the mean over the
  samples on which the neuron is on, E: over all samples; a₋ likewise);
* quality (L21): ``ρ(S) = 1 − max_v corr(wᵀx, vᵀ(x − S(x)))``, the share of
  ``y`` no linear read-out of the residual can recover.

:func:`fit_patterns` computes the patterns of every Dense and Conv2d layer of a
network in one streaming pass over batches (running sums; convolution windows
are samples of the same neuron), so data larger than memory works.
:func:`patternnet` back-projects the estimated signal (the gradient with the
weights replaced by the patterns, L24); :func:`patternattribution` uses
``w ⊙ a₊`` instead (L25), the DTD root point ``x₀ = x − a₊ wᵀx``.

Both passes start from the target logit (one-hot(target) × logits), so that on
a linear model PatternNet returns the estimated signal ``ŝ = a y`` itself.

One module for one paper's method (~400 lines, kept whole): its four sections (statistics, fitting,
the L21–L23 estimators, the two backward passes) each read the one before, and the one-neuron
functions (:func:`linear_pattern`, :func:`relu_patterns`) run the very running sums that
:func:`fit_patterns` runs on a network, so a reader checks the formulas of the lecture in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from course.errors import CourseError
from course.relevance._types import ArrayLike, FloatArray
from course.relevance.layers import Branches, Conv2d, Dense, Layer, Linear, ReLU
from course.relevance.network import Sequential, output_relevance

__all__ = [
    "Patterns",
    "fit_patterns",
    "linear_pattern",
    "relu_patterns",
    "S_identity",
    "S_filter",
    "S_linear",
    "S_relu",
    "signal_quality",
    "patternnet",
    "patternattribution",
]

# S(x): the signal estimated in samples x (an array shaped like x; its result is checked)
Estimator: TypeAlias = Callable[[FloatArray], ArrayLike]
Float64Array: TypeAlias = npt.NDArray[np.float64]


# ---------------------------------------------------------------- statistics ---------


def receptive_fields(layer: Conv2d, x: FloatArray) -> FloatArray:
    """(N, C, OH, OW, kh, kw) view of the input window behind every output position of a Conv2d."""
    ph, pw = layer.padding
    padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return sliding_window_view(padded, layer.kernel, axis=(2, 3))[:, :, :: layer.stride[0], :: layer.stride[1]]


def _layer_samples(layer: Linear, x_in: FloatArray, z_out: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Rows of (input, wᵀinput without bias, pre-activation) for every output neuron of the layer.

    Dense: one row per sample. Conv2d: one row per sample and output position,
    the input being the receptive-field window flattened as (in_c, kh, kw).
    """
    if isinstance(layer, Dense):
        return x_in, z_out - layer.bias, z_out
    if isinstance(layer, Conv2d):
        if layer.groups != 1 or layer.dilation != (1, 1):
            raise CourseError(f"patterns are defined for convolutions without groups or dilation, not {layer!r}")
        win = receptive_fields(layer, x_in)
        n, c, oh, ow, kh, kw = win.shape
        X = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        Z = z_out.transpose(0, 2, 3, 1).reshape(n * oh * ow, -1)
        return X, Z - layer.bias, Z
    raise CourseError(f"patterns are defined for Dense and Conv2d layers, not {layer!r}")


@dataclass
class _Moments:
    """Running sums of one layer: all samples, and the samples on which each neuron is on."""

    relu: bool
    n: int = 0
    sx: FloatArray | None = None
    sy: FloatArray | None = None
    sxy: FloatArray | None = None
    syy: FloatArray | None = None
    n_pos: FloatArray | None = None
    sx_pos: FloatArray | None = None
    sxy_pos: FloatArray | None = None

    @staticmethod
    def _seen(value: FloatArray | None) -> FloatArray:
        """A running sum, which exists once :meth:`update` has seen a batch."""
        if value is None:
            raise CourseError("no samples seen yet: patterns are estimated after at least one batch of data")
        return value

    def update(self, X: FloatArray, Y: FloatArray, Z: FloatArray) -> None:
        X, Y = X.astype(np.float64, copy=False), Y.astype(np.float64, copy=False)
        parts = {"sx": X.sum(axis=0), "sy": Y.sum(axis=0), "sxy": X.T @ Y, "syy": (Y * Y).sum(axis=0)}
        if self.relu:
            on = (Z > 0).astype(np.float64)
            parts.update(n_pos=on.sum(axis=0), sx_pos=X.T @ on, sxy_pos=X.T @ (Y * on))
        for name, value in parts.items():
            old = getattr(self, name)
            setattr(self, name, value if old is None else old + value)
        self.n += X.shape[0]

    def linear(self) -> FloatArray:
        """a = cov[x, y] / σ_y², one column per neuron (L22)."""
        mx, my = self._seen(self.sx) / self.n, self._seen(self.sy) / self.n
        cov = self._seen(self.sxy) / self.n - np.outer(mx, my)
        var = self._seen(self.syy) / self.n - my * my
        return np.divide(cov, var, out=np.zeros_like(cov), where=var > 0)

    def two_component(self, weight_cols: FloatArray) -> tuple[FloatArray, FloatArray]:
        """a₊ and a₋ (L23), normalised so that wᵀa = 1; zero for a regime with no samples."""
        mean_y = self._seen(self.sy) / self.n
        n_pos, sx_pos, sxy_pos = self._seen(self.n_pos), self._seen(self.sx_pos), self._seen(self.sxy_pos)
        sx_all, sxy_all = self._seen(self.sx), self._seen(self.sxy)
        out = []
        for count, sx, sxy in ((n_pos, sx_pos, sxy_pos), (self.n - n_pos, sx_all[:, None] - sx_pos, sxy_all - sxy_pos)):
            safe = np.maximum(count, 1)
            num = sxy / safe - sx / safe * mean_y
            den = (weight_cols * num).sum(axis=0)
            ok = (count > 0) & (np.abs(den) > 1e-12 * np.abs(num).sum(axis=0))
            out.append(np.divide(num, den, out=np.zeros_like(num), where=ok))
        return out[0], out[1]


def _weight_columns(layer: Linear) -> FloatArray:
    """The weight as (fan_in, neurons): Dense as is, Conv2d flattened per output channel."""
    return layer.weight if layer.weight.ndim == 2 else layer.weight.reshape(layer.weight.shape[0], -1).T


def _as_weight_shape(cols: FloatArray, layer: Linear) -> FloatArray:
    return cols if layer.weight.ndim == 2 else cols.T.reshape(layer.weight.shape)


# ---------------------------------------------------------------- fitting ------------


@dataclass
class Patterns:
    """Fitted patterns, one array shaped like each Dense/Conv2d weight, keyed by layer index.

    ``positive[i]`` is a (linear estimator) or a₊ (two-component estimator);
    ``negative[i]`` is a₋ for the layers fitted with the two-component estimator.
    """

    kind: str
    positive: dict[int, FloatArray]
    negative: dict[int, FloatArray] = field(default_factory=dict)
    n_samples: int = 0

    def __getitem__(self, index: int) -> FloatArray:
        return self.positive[index]


def _check_chain(model: object) -> None:
    """Patterns are fitted per layer of a plain chain (Kindermans et al. 2018): no residual blocks."""
    if not isinstance(model, Sequential):
        raise CourseError(f"model must be a course.relevance.Sequential, got {type(model).__name__}")
    blocks = [repr(layer) for layer in model.layers if isinstance(layer, Branches)]
    if blocks:
        raise CourseError(f"PatternNet/PatternAttribution take a plain chain of layers, not blocks such as {blocks[0]}")


def _followed_by_relu(model: Sequential, index: int) -> bool:
    return index + 1 < len(model.layers) and isinstance(model.layers[index + 1], ReLU)


def fit_patterns(model: Sequential, batches: Iterable[ArrayLike] | FloatArray, kind: str = "relu") -> Patterns:
    """Fit the pattern of every Dense/Conv2d layer from data, streaming over batches.

    Parameters
    ----------
    model : Sequential
    batches : iterable of arrays, or one array
        Training inputs, each of shape (batch, ...); a generator works, so the
        data never needs to be in memory at once. One array is one batch.
    kind : {"relu", "linear"}
        "linear": a = cov[x, y]/σ_y² everywhere (L22). "relu": the two-component
        estimator a₊/a₋ (L23) for layers followed by a ReLU, the linear one for
        the others (the output layer).

    Returns
    -------
    Patterns

    Examples
    --------
    >>> from course.datasets import signal_distractor
    >>> toy = signal_distractor(2000)
    >>> p = fit_patterns(Sequential([Dense(toy.w[:, None])]), toy.x, kind="linear")
    >>> np.round(p[0][:, 0], 1)  # the signal direction a_s = (1, 0), not the filter (1, -1)
    array([ 1., -0.])
    """
    _check_chain(model)
    if kind not in ("linear", "relu"):
        raise CourseError(f"kind must be 'linear' or 'relu', got {kind!r}")
    if isinstance(batches, np.ndarray):
        batches = [batches]
    linear = {i: layer for i, layer in enumerate(model.layers) if isinstance(layer, Linear)}  # as linear_layers
    indices = list(linear)
    if not indices:
        raise CourseError("the model has no Dense or Conv2d layer to fit patterns for")
    moments = {i: _Moments(relu=kind == "relu" and _followed_by_relu(model, i)) for i in indices}
    seen = 0
    for batch in batches:
        acts = model.activations(batch)
        for i in indices:
            moments[i].update(*_layer_samples(linear[i], acts[i], acts[i + 1]))
        seen += acts[0].shape[0]
    if seen < 2:
        raise CourseError(f"fitting patterns needs at least 2 samples, got {seen}")
    positive: dict[int, FloatArray] = {}
    negative: dict[int, FloatArray] = {}
    for i in indices:
        layer, m = linear[i], moments[i]
        if m.relu:
            a_pos, a_neg = m.two_component(_weight_columns(layer).astype(np.float64))
            positive[i], negative[i] = _as_weight_shape(a_pos, layer), _as_weight_shape(a_neg, layer)
        else:
            positive[i] = _as_weight_shape(m.linear(), layer)
    return Patterns(kind=kind, positive=positive, negative=negative, n_samples=seen)


def _neuron_data(x: ArrayLike, w: ArrayLike) -> tuple[Float64Array, Float64Array]:
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if x.ndim != 2 or w.ndim != 1 or x.shape[1] != w.shape[0]:
        raise CourseError(f"x must be (samples, d) and w a vector of length d, got {x.shape} and {w.shape}")
    if x.shape[0] < 2:
        raise CourseError("estimating a pattern needs at least 2 samples")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))):
        raise CourseError("x and w must be finite (they contain NaN or inf)")
    return x, w


def linear_pattern(x: ArrayLike, w: ArrayLike) -> FloatArray:
    """a = cov[x, y] / σ_y² of the neuron y = wᵀx on samples ``x`` (L22).

    >>> linear_pattern(np.array([[1.0, 1.0], [-1.0, -1.0], [2.0, 0.0]]), np.array([1.0, 0.0]))
    array([1.        , 0.42857143])
    """
    xs, ws = _neuron_data(x, w)
    m = _Moments(relu=False)
    y = xs @ ws
    m.update(xs, y[:, None], y[:, None])
    return m.linear()[:, 0]


def relu_patterns(x: ArrayLike, w: ArrayLike, b: float = 0.0) -> tuple[FloatArray, FloatArray]:
    """(a₊, a₋) of the ReLU neuron max(0, wᵀx + b) on samples ``x`` (L23).

    >>> a_pos, a_neg = relu_patterns(np.array([[1.0, 1.0], [-1.0, 1.0], [2.0, 0.0]]), np.array([1.0, 0.0]))
    >>> float(np.array([1.0, 0.0]) @ a_pos)
    1.0
    """
    xs, ws = _neuron_data(x, w)
    m = _Moments(relu=True)
    y = xs @ ws
    m.update(xs, y[:, None], (y + b)[:, None])
    a_pos, a_neg = m.two_component(ws[:, None])
    return a_pos[:, 0], a_neg[:, 0]


# ---------------------------------------------------------------- estimators ---------


def S_identity(x: ArrayLike) -> FloatArray:
    """The identity estimator: all of x is signal, no distractor (implied by gradient × input)."""
    return np.asarray(x, dtype=np.float64)


def S_filter(w: ArrayLike) -> Estimator:
    """``S_w(x) = w wᵀx / wᵀw``: the signal assumed along the filter (implied by the gradient, DeconvNet)."""
    wf = np.asarray(w, dtype=np.float64)
    return lambda x: np.outer(np.asarray(x) @ wf, wf / (wf @ wf))


def S_linear(w: ArrayLike, a: ArrayLike) -> Estimator:
    """``S_a(x) = a wᵀx`` (L22); with ``a = u / wᵀu`` any direction u gives wᵀS(x) = y (L20)."""
    wf, af = np.asarray(w, dtype=np.float64), np.asarray(a, dtype=np.float64)
    return lambda x: np.outer(np.asarray(x) @ wf, af)


def S_relu(w: ArrayLike, a_pos: ArrayLike, a_neg: ArrayLike, b: float = 0.0) -> Estimator:
    """``S_a+-(x) = a₊ wᵀx`` where ``wᵀx + b > 0``, else ``a₋ wᵀx`` (L23)."""
    wf = np.asarray(w, dtype=np.float64)
    pos, neg = np.asarray(a_pos, dtype=np.float64), np.asarray(a_neg, dtype=np.float64)

    def estimate(x: FloatArray) -> FloatArray:
        y = np.asarray(x) @ wf
        return np.where((y + b > 0)[:, None], np.outer(y, pos), np.outer(y, neg))

    return estimate


def signal_quality(estimator: Estimator, w: ArrayLike, x: ArrayLike) -> float:
    """ρ(S) = 1 − max_v corr(wᵀx, vᵀ(x − S(x))) (L21), the max over v in closed form.

    The best v is the least-squares regression of y on the residual
    d̂ = x − S(x) (both centred), and the maximal correlation is the multiple
    correlation ‖ŷ‖ / ‖y‖ of that regression. A residual that is constant (as
    for :func:`S_identity`, whose residual is 0) carries no information about
    y: its correlation counts as 0 and ρ = 1. ρ therefore only ranks
    estimators of the form ``a wᵀx`` (L20, L22) meaningfully.

    >>> from course.datasets import signal_distractor
    >>> toy = signal_distractor(5000)
    >>> rho = signal_quality(S_filter(toy.w), toy.w, toy.x)  # population value 1 − 0.5 / √1.25 ≈ 0.553
    >>> a = linear_pattern(toy.x, toy.w)  # the fitted pattern leaves no y in the residual
    >>> bool(abs(rho - 0.553) < 0.02), round(signal_quality(S_linear(toy.w, a), toy.w, toy.x), 9)
    (True, 1.0)
    """
    given: object = estimator  # checked as any value: a caller without a type checker may pass anything
    if not callable(given):
        raise CourseError(
            f"estimator must be a function x -> S(x), e.g. S_linear(w, a), got {type(estimator).__name__}"
        )
    xs, ws = _neuron_data(x, w)
    residual = np.asarray(estimator(xs), dtype=np.float64)
    if residual.shape != xs.shape:
        raise CourseError(f"the estimator must return an array shaped like x {xs.shape}, got {residual.shape}")
    residual = xs - residual
    y = xs @ ws
    yc = y - y.mean()
    dc = residual - residual.mean(axis=0)
    y_norm = np.linalg.norm(yc)
    if y_norm == 0:
        raise CourseError("wᵀx is constant on these samples: its correlation with anything is undefined")
    scale = np.abs(dc).max()
    if scale <= 1e-12 * max(1.0, np.abs(xs).max()):
        return 1.0
    coef, *_ = np.linalg.lstsq(dc / scale, yc, rcond=None)
    fitted = (dc / scale) @ coef
    return float(1.0 - min(1.0, float(np.linalg.norm(fitted) / y_norm)))


# ---------------------------------------------------------------- backward passes ----


def _pattern_backward(
    model: Sequential,
    x: ArrayLike,
    target: ArrayLike,
    patterns: Patterns,
    weights_for: Callable[[int, Linear], FloatArray],
) -> FloatArray:
    _check_chain(model)
    given: object = patterns  # checked as any value: a caller without a type checker may pass anything
    if not isinstance(given, Patterns):
        raise CourseError("patterns must be the result of fit_patterns(model, data)")
    for i, layer in enumerate(model.layers):
        if not isinstance(layer, Linear):  # the layers of model.linear_layers
            continue
        if i not in patterns.positive:
            raise CourseError(f"no pattern for layer {i} {layer!r}: fit the patterns on this model")
        if patterns.positive[i].shape != layer.weight.shape:
            raise CourseError(
                f"the pattern of layer {i} has shape {patterns.positive[i].shape}, "
                f"its weight {layer.weight.shape}: fit the patterns on this model"
            )
    acts = model.activations(x)
    seed = output_relevance(acts[-1], target)

    def step(i: int, layer: Layer, layer_in: FloatArray, layer_out: FloatArray, grad: FloatArray) -> FloatArray:
        if isinstance(layer, Linear):
            return layer.linear_backward(grad, weights_for(i, layer).astype(grad.dtype, copy=False), layer_in.shape)
        return layer.backward(layer_in, grad)  # ReLU: where the forward input was > 0; pools: the gradient

    return model.backward(acts, seed, step)


def patternnet(model: Sequential, x: ArrayLike, target: ArrayLike, patterns: Patterns) -> FloatArray:
    """PatternNet (L24): the estimated signal, back-projected with the patterns in place of the weights.

    ReLU passes the signal where its forward input was positive, max pooling
    through its winners. Starts from the target logit, so on a linear model
    ``patternnet = a · y`` and ``wᵀ patternnet = y``.

    >>> from course.datasets import signal_distractor
    >>> toy = signal_distractor(2000)
    >>> model = Sequential([Dense(toy.w[:, None])])
    >>> s = patternnet(model, toy.x[:1], 0, fit_patterns(model, toy.x, "linear"))
    >>> bool(np.isclose(s[0] @ toy.w, toy.y[0]))
    True
    """
    return _pattern_backward(model, x, target, patterns, lambda i, layer: patterns.positive[i])


def patternattribution(model: Sequential, x: ArrayLike, target: ArrayLike, patterns: Patterns) -> FloatArray:
    """PatternAttribution (L25): relevance propagated with ``w ⊙ a₊`` in place of the weights.

    This is DTD with the root point ``x₀ = x − a₊ wᵀx``; since ``wᵀa₊ = 1``
    each neuron passes on exactly its relevance (up to ReLU cuts).

    >>> from course.datasets import signal_distractor
    >>> toy = signal_distractor(2000)
    >>> model = Sequential([Dense(toy.w[:, None])])
    >>> r = patternattribution(model, toy.x[:1], 0, fit_patterns(model, toy.x, "linear"))
    >>> bool(np.isclose(r.sum(), toy.y[0]))
    True
    """
    return _pattern_backward(model, x, target, patterns, lambda i, layer: layer.weight * patterns.positive[i])
