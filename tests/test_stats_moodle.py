"""Moodle's whole-test statistics checked against scipy and hand calculations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from autograder.stats import quiz_statistics


@pytest.fixture
def percents():
    return np.random.default_rng(3).beta(5, 2, size=57) * 100


def test_moments_match_scipy(percents):
    s = quiz_statistics(percents)
    assert s["n"] == 57
    assert s["mean"] == pytest.approx(np.mean(percents))
    assert s["median"] == pytest.approx(np.median(percents))
    assert s["sd"] == pytest.approx(np.std(percents, ddof=1))
    # Moodle's k3/k2^1.5 and k4/k2^2 are the bias-corrected (sample) skewness and excess kurtosis
    assert s["skewness"] == pytest.approx(scipy.stats.skew(percents, bias=False))
    assert s["kurtosis"] == pytest.approx(scipy.stats.kurtosis(percents, fisher=True, bias=False))


def test_cronbach_alpha_error_ratio_and_standard_error_by_hand():
    # three 1-point items, four students: totals 3, 2, 1, 0
    items = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=float)
    # item variances (n-1): 1/4, 1/3, 1/4 → sum 5/6; total variance: (2.25+.25+.25+2.25)/3 = 5/3
    # alpha = 3/2 · (1 − (5/6)/(5/3)) = 0.75 → CIC 75 %; ER = 100·√0.25 = 50 %
    percent = items.sum(axis=1) / 3 * 100
    s = quiz_statistics(percent, items)
    assert s["cic"] == pytest.approx(75.0)
    assert s["error_ratio"] == pytest.approx(50.0)
    sd = 100 / 3 * np.sqrt(5 / 3)  # SD of 100, 66.7, 33.3, 0
    assert s["sd"] == pytest.approx(sd)
    assert s["standard_error"] == pytest.approx(0.5 * sd)


def test_cronbach_alpha_matches_the_covariance_form():
    # alpha = P·c̄ / (v̄ + (P−1)·c̄) with c̄ the mean inter-item covariance, v̄ the mean item variance
    rng = np.random.default_rng(5)
    ability = rng.normal(size=80)
    items = np.clip(np.round(ability[:, None] + rng.normal(size=(80, 6)) + 1), 0, 2)
    cov = np.cov(items, rowvar=False)
    p = items.shape[1]
    c_bar = (cov.sum() - np.trace(cov)) / (p * (p - 1))
    v_bar = np.trace(cov) / p
    alpha = p * c_bar / (v_bar + (p - 1) * c_bar)
    s = quiz_statistics(items.sum(axis=1) / 12 * 100, items)
    assert s["cic"] == pytest.approx(100 * alpha)


def test_undefined_statistics_are_nan_not_errors():
    s = quiz_statistics([70.0, 70.0, 70.0])
    assert s["sd"] == 0 and np.isnan(s["skewness"]) and np.isnan(s["cic"])
    assert quiz_statistics([])["n"] == 0
