"""Two-part MDL code lengths: hand-computed bits, scipy's Gaussian density, numpy's polyfit."""

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

import course.mdl as mdl
from course.errors import CourseError
from course.mdl import (
    fit_polynomial,
    model_code_length,
    parameter_code_length,
    residual_code_length,
    sample_polynomial_data,
    two_part_code_lengths,
)


def test_docstring_examples_run():
    result = doctest.testmod(mdl)
    assert result.attempted >= 8 and result.failed == 0


def test_asymptotic_parameter_code_is_half_log2_n_per_parameter():
    # 3 parameters, n = 16: 3 · ½ · log2(16) = 3 · ½ · 4 = 6 bits
    assert parameter_code_length(3, 16) == pytest.approx(6.0)
    # 4 parameters, n = 1024: 4 · ½ · 10 = 20 bits
    assert parameter_code_length(4, 1024) == pytest.approx(20.0)
    assert parameter_code_length(0, 1024) == 0.0


def test_fixed_precision_parameter_code_is_b_bits_per_parameter():
    # 5 parameters × 16 bits = 80 bits, whatever n is
    assert parameter_code_length(5, 7, code="fixed", bits_per_parameter=16) == pytest.approx(80.0)


def test_model_code_counts_degree_choice_coefficients_and_sigma():
    # degree 2 among 4 candidate degrees, n = 16:
    #   which degree: log2(4) = 2 bits; 3 coefficients + σ = 4 parameters: 4 · ½ · 4 = 8 bits → 10
    assert model_code_length(2, 16, 4) == pytest.approx(10.0)
    # known σ: only the 3 coefficients: 2 + 3 · 2 = 8 bits
    assert model_code_length(2, 16, 4, estimate_sigma=False) == pytest.approx(8.0)
    # fixed 32-bit parameters, 1 candidate (log2 1 = 0): 4 · 32 = 128 bits
    assert model_code_length(2, 16, 1, code="fixed") == pytest.approx(128.0)


def test_gaussian_residual_code_known_sigma_by_hand():
    # r = ±1, σ = 1, δ = 1: each value costs -log2 φ(1) = ½ log2(2π) + ½ log2(e) ≈ 1.3257 + 0.7213 bits
    per_value = 0.5 * math.log2(2 * math.pi) + 0.5 * math.log2(math.e)
    assert per_value == pytest.approx(2.0471, abs=1e-4)
    assert residual_code_length([1.0, -1.0], precision=1.0, sigma=1.0) == pytest.approx(2 * per_value)
    # halving δ costs one more bit per value
    assert residual_code_length([1.0, -1.0], precision=0.5, sigma=1.0) == pytest.approx(2 * per_value + 2)


def test_gaussian_residual_code_matches_scipy_density():
    rng = np.random.default_rng(3)
    r = rng.normal(scale=0.7, size=25)
    expected = -np.sum(norm.logpdf(r, scale=0.7)) / math.log(2) - 25 * math.log2(0.01)
    assert residual_code_length(r, precision=0.01, sigma=0.7) == pytest.approx(expected, rel=1e-12)


def test_gaussian_residual_code_with_fitted_sigma_by_hand():
    # r = (1, -1, 1, -1): σ̂² = RSS/n = 1, so L = n/2 · log2(2πe) − n · log2 δ; δ = ½ adds n = 4 bits
    expected = 2 * math.log2(2 * math.pi * math.e) + 4
    assert expected == pytest.approx(12.1884, abs=1e-4)
    assert residual_code_length([1.0, -1.0, 1.0, -1.0], precision=0.5) == pytest.approx(expected)


def test_fitted_sigma_code_equals_known_sigma_code_at_the_ml_estimate():
    rng = np.random.default_rng(4)
    r = rng.normal(scale=2.0, size=40)
    sigma_ml = math.sqrt(np.mean(r**2))
    assert residual_code_length(r, 0.1) == pytest.approx(residual_code_length(r, 0.1, sigma=sigma_ml))
    # the ML σ is the minimiser of the known-σ code length over σ
    for s in (0.9 * sigma_ml, 1.1 * sigma_ml):
        assert residual_code_length(r, 0.1, sigma=s) > residual_code_length(r, 0.1)


@pytest.mark.parametrize("degree", range(7))
def test_fit_residuals_match_numpy_polyfit(degree):
    x, y = sample_polynomial_data(n=15, seed=degree)
    _, residuals = fit_polynomial(x, y, degree)
    reference = y - np.polyval(np.polyfit(x, y, degree), x)
    np.testing.assert_allclose(residuals, reference, atol=1e-9)


def test_fit_reproduces_an_exact_line():
    p, r = fit_polynomial([0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 7.0], 1)
    np.testing.assert_allclose(r, 0.0, atol=1e-12)
    assert p(10.0) == pytest.approx(21.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=4, max_value=25), st.integers(min_value=0, max_value=10_000))
def test_nested_fits_never_increase_the_data_code(n, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-2, 2, n), rng.normal(size=n)
    table = two_part_code_lengths(x, y, degrees=range(min(8, n - 2) + 1), precision=0.01)
    assert np.all(np.diff(table.rss) <= 1e-9 * table.rss[0])
    assert np.all(np.diff(table.data_bits) <= 1e-6)
    # the model term is the complexity penalty: strictly increasing with the degree
    assert np.all(np.diff(table.model_bits) > 0)


def test_table_adds_the_two_parts_and_model_bits_follow_the_formula():
    x, y = sample_polynomial_data(n=16, seed=2)
    table = two_part_code_lengths(x, y, degrees=[0, 1, 2, 3], precision=0.01)
    np.testing.assert_allclose(table.total_bits, table.data_bits + table.model_bits)
    # log2(4 candidates) = 2, then (d + 2)/2 · log2(16) = 2(d + 2): 6, 8, 10, 12 bits
    np.testing.assert_allclose(table.model_bits, [6.0, 8.0, 10.0, 12.0])


def test_shortest_code_recovers_the_generating_degree():
    # y = 1 + 3x² + small noise: degree 2 is the truth; without L(H) the largest degree would always win
    x, y = sample_polynomial_data(n=40, coefficients=(1.0, 0.0, 3.0), noise=0.1, seed=7)
    table = two_part_code_lengths(x, y, degrees=range(11))
    assert table.best_degree == 2
    assert int(table.degrees[np.argmin(table.data_bits)]) == 10


def test_default_data_set_picks_a_middle_degree():
    table = two_part_code_lengths(*sample_polynomial_data(), degrees=range(11))
    assert 0 < table.best_degree < 10


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: fit_polynomial([0, 1, 2], [0, 1], 1), "same length"),
        (lambda: fit_polynomial([0, 1, float("nan")], [0, 1, 2], 0), "NaN"),
        (lambda: fit_polynomial([0, 1, 2], [0, 1, 2], 2), "at least 4 data points"),
        (lambda: fit_polynomial([1, 1, 1], [0, 1, 2], 1), "identifiable"),
        (lambda: fit_polynomial([0, 1, 2], [0, 1, 2], True), "non-negative integer"),
        (lambda: residual_code_length([1.0], precision=0), "precision"),
        (lambda: residual_code_length([1.0], precision=0.1, sigma=-1), "sigma"),
        (lambda: residual_code_length([0.0, 0.0], precision=0.1), "residuals are zero"),
        (lambda: residual_code_length([], precision=0.1), "non-empty"),
        (lambda: parameter_code_length(2, 10, code="gzip"), "code must be one of"),
        (lambda: parameter_code_length(-1, 10), "n_params"),
        (lambda: parameter_code_length(2, 0), "positive integer"),
        (lambda: two_part_code_lengths([0, 1, 2, 3], [0, 1, 0, 1], degrees=[1, 1]), "distinct"),
        (lambda: two_part_code_lengths([0, 1, 2, 3], [0, 1, 0, 1], degrees=[]), "empty"),
        (lambda: two_part_code_lengths([0, 1, 2, 3], [0, 1, 0, 1], degrees=5), "iterable"),
        (lambda: sample_polynomial_data(n=0), "positive integer"),
        (lambda: sample_polynomial_data(noise=-1), "noise"),
    ],
)
def test_bad_input_raises_course_error(call, message):
    with pytest.raises(CourseError, match=message):
        call()
