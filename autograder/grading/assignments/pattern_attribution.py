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
#: "Use NumPy only": not the course's engine, its toy data (they hold the filter), the grader or an XAI library
FORBIDDEN = ("course.relevance", "course.datasets", "autograder", "zennit", "torch", "captum", "innvestigate")

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


DRAWN = " drawn at grading"


def _filter_probe(a_s: tuple[float, ...], a_d: tuple[float, ...], drawn: str = "") -> Probe:
    return Probe(
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
        label=f"filter_for in {len(a_s)}-D{drawn}",
    )


def _fresh_filters(seed: int) -> tuple[Probe, ...]:
    """Two (a_s, a_d) pairs drawn from ``seed``, in 2-D and 3-D, far from parallel (|cos| ≤ 0.9)."""
    rng = np.random.default_rng(seed)
    probes = []
    for dim in (2, 3):
        while True:
            a_s, a_d = (np.round(rng.uniform(-2.0, 2.0, dim), 1) for _ in range(2))
            norms = np.linalg.norm(a_s) * np.linalg.norm(a_d)
            if norms >= 0.5 and abs(a_s @ a_d) <= 0.9 * norms:
                break
        probes.append(_filter_probe(tuple(map(float, a_s)), tuple(map(float, a_d)), DRAWN))
    return tuple(probes)


FILTER = Part(
    "filter_for",
    2.0,
    tuple(_filter_probe(a_s, a_d) for a_s, a_d in FILTER_CASES),
    "the filter w: wᵀa_s = 1, wᵀa_d = 0, w in span(a_s, a_d)",
    fresh=_fresh_filters,
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


def _pattern_probe(seed: int, mean: float, drawn: str = "") -> Probe:
    return Probe(
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
        label=f"pattern_of (mean of y = {mean:g}){drawn}",
    )


def _seeds(seed: int, n: int) -> list[int]:
    return [int(s) for s in np.random.default_rng(seed).integers(2**62, size=n)]


PATTERN = Part(
    "pattern_of",
    3.0,
    tuple(_pattern_probe(seed, mean) for seed, mean in ((71, 0.0), (72, 2.0))),
    "the linear pattern a = cov[x, y]/σ_y² (L22)",
    fresh=lambda seed: tuple(_pattern_probe(s, m, DRAWN) for s, m in zip(_seeds(seed, 2), (0.0, 1.5))),
)


def _rho_cases(
    seed: int = 81, other: FloatArray | None = None
) -> tuple[tuple[FloatArray, FloatArray, FloatArray], ...]:
    """ρ of three estimators on one toy: the fitted pattern, the filter's direction and ``other``'s direction."""
    x, w = _toy(seed, n=60)
    a_fit = linear_pattern(x, w)
    d = np.array([1.0, -2.0]) if other is None else other
    return ((x, w, a_fit), (x, w, w / (w @ w)), (x, w, d / (w @ d)))


def _rho(x: FloatArray, w: FloatArray, a: FloatArray) -> float:
    return signal_quality(S_linear(w, a), w, x)


def _rho_probes(cases: tuple[tuple[FloatArray, FloatArray, FloatArray], ...], drawn: str = "") -> tuple[Probe, ...]:
    return tuple(
        Probe(
            call("rho_linear", *case),
            key=fixed_key(_rho, *case),
            check=number_close(rtol=1e-3, atol=1e-4),
            label=f"rho_linear, estimator {i + 1}{drawn}",
        )
        for i, case in enumerate(cases)
    )


def _fresh_rho(seed: int) -> tuple[Probe, ...]:
    """The three estimators on a toy drawn from ``seed``; the third direction far from orthogonal to w."""
    rng = np.random.default_rng(seed)
    toy_seed = int(rng.integers(2**62))
    w = _toy(toy_seed, n=60)[1]
    while True:
        d = np.round(rng.uniform(-2.0, 2.0, 2), 1)
        if abs(w @ d) >= 0.3 * np.linalg.norm(w) * np.linalg.norm(d) > 0:
            return _rho_probes(_rho_cases(toy_seed, d), DRAWN)


RHO = Part(
    "rho_linear",
    3.0,
    _rho_probes(_rho_cases()),
    "the quality ρ(S) of a linear signal estimator (L21)",
    fresh=_fresh_rho,
)


def _attr_case(seed: int = 91, pattern_seed: int = 92) -> tuple[FloatArray, FloatArray, FloatArray]:
    x, w = _toy(seed, n=5)
    return x, w, linear_pattern(*_toy(pattern_seed, n=200))


def _attribution_key(seed: int = 91, pattern_seed: int = 92) -> FloatArray:
    x, w, a = _attr_case(seed, pattern_seed)
    model = Sequential([Dense(w[:, None])])
    patterns = Patterns(kind="linear", positive={0: a[:, None]})
    return patternattribution(model, x, 0, patterns)


def _gradient_times_input(seed: int = 91, pattern_seed: int = 92) -> FloatArray:
    x, w, _ = _attr_case(seed, pattern_seed)
    return w * x


def _attribution_probe(seed: int = 91, pattern_seed: int = 92, drawn: str = "") -> Probe:
    return Probe(
        call("pattern_attribution", *_attr_case(seed, pattern_seed)),
        key=fixed_key(_attribution_key, seed, pattern_seed),
        check=array_close(
            **STUDENT_CODE,
            mistakes=[(partial(_gradient_times_input, seed, pattern_seed), "that is gradient × input, w ⊙ x")],
        ),
        label=f"pattern_attribution{drawn}",
    )


ATTRIBUTION = Part(
    "pattern_attribution",
    2.0,
    (_attribution_probe(),),
    "PatternAttribution of a linear neuron: r = w ⊙ a · y (L25)",
    fresh=lambda seed: (_attribution_probe(_seeds(seed, 2)[0], _seeds(seed, 2)[1], DRAWN),),
)

SPEC = AssignmentSpec(
    NAME,
    (FILTER, PATTERN, RHO, ATTRIBUTION),
    notebook="pattern_attribution.ipynb",
    module=__name__,
    forbidden=FORBIDDEN,
)
