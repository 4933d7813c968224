"""Grading spec of ``exercises/pattern_attribution``: filter vs pattern, a = cov[x, y]/σ_y², ρ(S), PatternAttribution.

Keys come from :mod:`course.datasets` (the filter of the signal+distractor toy) and
:mod:`course.relevance.pattern` (``linear_pattern``, ``signal_quality``, ``patternattribution``).

Student functions: ``filter_for(a_s, a_d)`` → w; ``pattern_of(x, w)`` → a;
``rho_linear(x, w, a)`` → ρ(S_a); ``pattern_attribution(x, w, a)`` → (n, d).
"""
from __future__ import annotations

import numpy as np

from autograder.grading.checkers import STUDENT_CODE, array_close, number_close
from autograder.grading.model import AssignmentSpec, Part, Probe, call
from course.datasets import signal_distractor
from course.relevance import Dense, Sequential
from course.relevance.pattern import Patterns, S_linear, linear_pattern, patternattribution, signal_quality

NAME = "pattern_attribution"

FILTER_CASES = (((1.0, 0.0), (1.0, 1.0)), ((2.0, 1.0, 0.0), (0.0, 1.0, 1.0)))

FILTER = Part("filter_for", 2.0, tuple(
    Probe(call("filter_for", np.array(a_s), np.array(a_d)),
          key=lambda ctx, a_s=a_s, a_d=a_d: signal_distractor(2, a_s=a_s, a_d=a_d).w,
          check=array_close(**STUDENT_CODE, mistakes=[(lambda a_s=a_s: np.array(a_s) / np.dot(a_s, a_s),
                                       "that is along the signal a_s; the filter must also cancel the distractor")]),
          label=f"filter_for in {len(a_s)}-D")
    for a_s, a_d in FILTER_CASES), "the filter w: wᵀa_s = 1, wᵀa_d = 0, w in span(a_s, a_d)")


def _toy(seed: int, n: int = 40, y_mean: float = 0.0):
    toy = signal_distractor(n, a_s=(1.0, 0.5), a_d=(1.0, 1.0), y_mean=y_mean, seed=seed)
    return np.round(toy.x, 3), toy.w


def _uncentred(x, w):
    y = x @ w
    return (x * y[:, None]).mean(axis=0) / (y * y).mean()


PATTERN = Part("pattern_of", 3.0, tuple(
    Probe(call("pattern_of", *_toy(seed, y_mean=mean)),
          key=lambda ctx, seed=seed, mean=mean: linear_pattern(*_toy(seed, y_mean=mean)),
          check=array_close(rtol=1e-6, atol=STUDENT_CODE["atol"], mistakes=[
              (lambda seed=seed, mean=mean: _uncentred(*_toy(seed, y_mean=mean)),
               "covariances are taken around the means: cov[x, y] = E[xy] − E[x]E[y]"),
              (lambda seed=seed, mean=mean: _toy(seed, y_mean=mean)[1], "that is the filter w, not the pattern")]),
          label=f"pattern_of (mean of y = {mean:g})")
    for seed, mean in ((71, 0.0), (72, 2.0))), "the linear pattern a = cov[x, y]/σ_y² (L22)")


def _rho_cases():
    x, w = _toy(81, n=60)
    a_fit = linear_pattern(x, w)
    return ((x, w, a_fit), (x, w, w / (w @ w)), (x, w, np.array([1.0, -2.0]) / (w @ np.array([1.0, -2.0]))))


RHO = Part("rho_linear", 3.0, tuple(
    Probe(call("rho_linear", *case),
          key=lambda ctx, case=case: signal_quality(S_linear(case[1], case[2]), case[1], case[0]),
          check=number_close(rtol=1e-3, atol=1e-4), label=f"rho_linear, estimator {i + 1}")
    for i, case in enumerate(_rho_cases())), "the quality ρ(S) of a linear signal estimator (L21)")


def _attribution_key(x, w, a):
    model = Sequential([Dense(w[:, None])])
    patterns = Patterns(kind="linear", positive={0: a[:, None]})
    return patternattribution(model, x, 0, patterns)


def _attr_case():
    x, w = _toy(91, n=5)
    return x, w, linear_pattern(*_toy(92, n=200))


ATTRIBUTION = Part("pattern_attribution", 2.0, (
    Probe(call("pattern_attribution", *_attr_case()),
          key=lambda ctx: _attribution_key(*_attr_case()),
          check=array_close(**STUDENT_CODE, mistakes=[(lambda: _attr_case()[1] * _attr_case()[0],
                                                       "that is gradient × input, w ⊙ x")]),
          label="pattern_attribution"),
), "PatternAttribution of a linear neuron: r = w ⊙ a · y (L25)")

SPEC = AssignmentSpec(NAME, (FILTER, PATTERN, RHO, ATTRIBUTION), notebook="pattern_attribution.ipynb", module=__name__)
