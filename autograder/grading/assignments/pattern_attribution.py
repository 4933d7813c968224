"""Grading spec of ``exercises/pattern_attribution``: filter vs pattern, a = cov[x, y]/σ_y², ρ(S), PatternAttribution.

Keys come from :mod:`course.datasets` (the filter of the signal+distractor toy) and
:mod:`course.relevance.pattern` (``linear_pattern``, ``signal_quality``, ``patternattribution``).

Student functions: ``filter_for(a_s, a_d)`` → w; ``pattern_of(x, w)`` → a;
``rho_linear(x, w, a)`` → ρ(S_a); ``pattern_attribution(x, w, a)`` → (n, d).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from autograder.grading.checkers import STUDENT_CODE, array_close, number_close
from autograder.grading.model import AssignmentSpec, Part, Probe, call, fixed_key
from course.datasets import signal_distractor
from course.relevance import Dense
from course.relevance._types import FloatArray
from course.relevance.network import Sequential
from course.relevance.pattern import Patterns, S_linear, linear_pattern, patternattribution, signal_quality

NAME = "pattern_attribution"

#: (a_s, a_d): the signal's and the distractor's directions
FILTER_CASES: tuple[tuple[tuple[float, ...], tuple[float, ...]], ...] = (
    ((1.0, 0.0), (1.0, 1.0)),
    ((2.0, 1.0, 0.0), (0.0, 1.0, 1.0)),
)


def _filter(a_s: tuple[float, ...], a_d: tuple[float, ...]) -> FloatArray:
    return signal_distractor(2, a_s=a_s, a_d=a_d).w


def _along_signal(a_s: tuple[float, ...]) -> FloatArray:
    s = np.array(a_s)
    along: FloatArray = s / np.dot(s, s)
    return along


FILTER = Part(
    "filter_for",
    2.0,
    tuple(
        Probe(
            call("filter_for", np.array(a_s), np.array(a_d)),
            key=fixed_key(_filter, a_s, a_d),
            check=array_close(
                **STUDENT_CODE,
                mistakes=[
                    (
                        partial(_along_signal, a_s),
                        "that is along the signal a_s; the filter must also cancel the distractor",
                    )
                ],
            ),
            label=f"filter_for in {len(a_s)}-D",
        )
        for a_s, a_d in FILTER_CASES
    ),
    "the filter w: wᵀa_s = 1, wᵀa_d = 0, w in span(a_s, a_d)",
)


def _toy(seed: int, n: int = 40, y_mean: float = 0.0) -> tuple[FloatArray, FloatArray]:
    toy = signal_distractor(n, a_s=(1.0, 0.5), a_d=(1.0, 1.0), y_mean=y_mean, seed=seed)
    return np.round(toy.x, 3), toy.w


def _pattern(seed: int, mean: float) -> FloatArray:
    return linear_pattern(*_toy(seed, y_mean=mean))


def _uncentred(seed: int, mean: float) -> FloatArray:
    """The mistake of taking E[xy]/E[y²] for the pattern (moments about 0, not about the means)."""
    x, w = _toy(seed, y_mean=mean)
    y = x @ w
    moment: FloatArray = (x * y[:, None]).mean(axis=0) / (y * y).mean()
    return moment


def _toy_filter(seed: int, mean: float) -> FloatArray:
    return _toy(seed, y_mean=mean)[1]


PATTERN = Part(
    "pattern_of",
    3.0,
    tuple(
        Probe(
            call("pattern_of", *_toy(seed, y_mean=mean)),
            key=fixed_key(_pattern, seed, mean),
            check=array_close(
                rtol=1e-6,
                atol=STUDENT_CODE["atol"],
                mistakes=[
                    (
                        partial(_uncentred, seed, mean),
                        "covariances are taken around the means: cov[x, y] = E[xy] − E[x]E[y]",
                    ),
                    (partial(_toy_filter, seed, mean), "that is the filter w, not the pattern"),
                ],
            ),
            label=f"pattern_of (mean of y = {mean:g})",
        )
        for seed, mean in ((71, 0.0), (72, 2.0))
    ),
    "the linear pattern a = cov[x, y]/σ_y² (L22)",
)


def _rho_cases() -> tuple[tuple[FloatArray, FloatArray, FloatArray], ...]:
    x, w = _toy(81, n=60)
    a_fit = linear_pattern(x, w)
    return ((x, w, a_fit), (x, w, w / (w @ w)), (x, w, np.array([1.0, -2.0]) / (w @ np.array([1.0, -2.0]))))


def _rho(x: FloatArray, w: FloatArray, a: FloatArray) -> float:
    return signal_quality(S_linear(w, a), w, x)


RHO = Part(
    "rho_linear",
    3.0,
    tuple(
        Probe(
            call("rho_linear", *case),
            key=fixed_key(_rho, *case),
            check=number_close(rtol=1e-3, atol=1e-4),
            label=f"rho_linear, estimator {i + 1}",
        )
        for i, case in enumerate(_rho_cases())
    ),
    "the quality ρ(S) of a linear signal estimator (L21)",
)


def _attr_case() -> tuple[FloatArray, FloatArray, FloatArray]:
    x, w = _toy(91, n=5)
    return x, w, linear_pattern(*_toy(92, n=200))


def _attribution_key() -> FloatArray:
    x, w, a = _attr_case()
    model = Sequential([Dense(w[:, None])])
    patterns = Patterns(kind="linear", positive={0: a[:, None]})
    return patternattribution(model, x, 0, patterns)


def _gradient_times_input() -> FloatArray:
    x, w, _ = _attr_case()
    return w * x


ATTRIBUTION = Part(
    "pattern_attribution",
    2.0,
    (
        Probe(
            call("pattern_attribution", *_attr_case()),
            key=fixed_key(_attribution_key),
            check=array_close(**STUDENT_CODE, mistakes=[(_gradient_times_input, "that is gradient × input, w ⊙ x")]),
            label="pattern_attribution",
        ),
    ),
    "PatternAttribution of a linear neuron: r = w ⊙ a · y (L25)",
)

SPEC = AssignmentSpec(NAME, (FILTER, PATTERN, RHO, ATTRIBUTION), notebook="pattern_attribution.ipynb", module=__name__)
