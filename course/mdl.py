"""Two-part MDL code lengths for polynomial models (quiz item T3.1).

The crude two-part code of the Minimum Description Length principle describes
a data set D with a hypothesis H in two pieces (Rissanen 1978; Grünwald 2007,
Ch. 1 and Ch. 5):

.. math:: L(D, H) = L(D \\mid H) + L(H)

* ``L(H)`` — the bits to write the hypothesis down: which model class (here the
  polynomial degree, uniform over the candidate degrees) and its parameters.
  This is the **model-complexity term**; it grows with the number of
  parameters.
* ``L(D|H)`` — the bits to write the data down with a code built from H: the
  residuals under a Gaussian code at a fixed data precision δ. It shrinks as
  the model fits better.

Parameters are coded either with the asymptotically optimal precision
1/√n, which costs ½ log₂ n bits per parameter (Rissanen 1978, "Modeling by
shortest data description", Automatica 14; Grünwald 2007, Ch. 5, the
"(k/2) log n" crude two-part code), or at a fixed precision of ``b`` bits per
parameter (Grünwald 2007, Ch. 5: the naive fixed-precision two-part code).

All code lengths are in bits (log base 2).

References
----------
P. D. Grünwald, *The Minimum Description Length Principle*, MIT Press, 2007.
J. Rissanen, "Modeling by shortest data description", Automatica 14, 1978.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course.errors import CourseError
from course.validate import as_vector

__all__ = [
    "PARAMETER_CODES",
    "MDLTable",
    "fit_polynomial",
    "residual_code_length",
    "parameter_code_length",
    "model_code_length",
    "two_part_code_lengths",
    "sample_polynomial_data",
]

PARAMETER_CODES = ("asymptotic", "fixed")


def _check_positive(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise CourseError(f"{name} must be a positive number, got {value!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise CourseError(f"{name} must be a positive finite number, got {value!r}")
    return value


def _check_degree(degree, n: int) -> int:
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise CourseError(f"degree must be a non-negative integer, got {degree!r}")
    if degree + 2 > n:
        # degree + 1 coefficients interpolate n = degree + 1 points exactly: zero residuals, unbounded code
        raise CourseError(
            f"degree {degree} needs at least {degree + 2} data points (one more than its "
            f"{degree + 1} coefficients), got {n}; lower the degree or add data"
        )
    return int(degree)


def fit_polynomial(x, y, degree: int):
    """Least-squares polynomial of the given degree; returns ``(polynomial, residuals)``.

    Fits in the Legendre basis on x rescaled to [-1, 1] (well conditioned up to
    degree 10 and beyond). The basis spans the same space as 1, x, …, x^degree,
    so the fits of increasing degree are nested and the residual sum of
    squares never increases with the degree.

    Parameters
    ----------
    x, y : 1-D sequences of the same length n
    degree : int, 0 <= degree <= n - 2

    Returns
    -------
    polynomial : numpy.polynomial.Legendre (callable)
    residuals : ndarray, y - polynomial(x)

    Examples
    --------
    >>> p, r = fit_polynomial([0, 1, 2, 3], [1, 3, 5, 7], 1)
    >>> bool(np.allclose(r, 0)), round(float(p(4)), 6)
    (True, 9.0)
    """
    x = as_vector(x, "x")
    y = as_vector(y, "y")
    if x.shape != y.shape:
        raise CourseError(f"x and y must have the same length, got {x.size} and {y.size}")
    degree = _check_degree(degree, x.size)
    if degree > 0 and np.ptp(x) == 0:
        raise CourseError("all x values are equal: a polynomial of degree >= 1 is not identifiable; spread x out")
    polynomial = np.polynomial.Legendre.fit(x, y, degree)
    return polynomial, y - polynomial(x)


def residual_code_length(residuals, precision: float, sigma: float | None = None) -> float:
    """L(D|H): bits to encode the residuals with a Gaussian code at data precision δ.

    Each value is written to precision δ, so its code length is
    ``-log2(φ(r_i; 0, σ²) · δ)`` (Grünwald 2007, Ch. 3: a density becomes a
    code once the data are discretised). Summed over n residuals:

    * known σ:  L = n/2·log₂(2πσ²) + Σ r_i² / (2σ² ln 2) − n·log₂ δ
    * ``sigma=None``, σ² = RSS/n (maximum likelihood):
      L = n/2·log₂(2πe·RSS/n) − n·log₂ δ

    The code is meaningful for δ much smaller than σ; otherwise it can go negative.

    Examples
    --------
    Residuals ±1 with σ = 1 at precision 1: each costs ½log₂(2π) + ½log₂ e ≈ 2.047 bits.

    >>> round(residual_code_length([1.0, -1.0], precision=1.0, sigma=1.0), 3)
    4.094
    """
    r = as_vector(residuals, "residuals")
    delta = _check_positive(precision, "precision")
    n = r.size
    rss = float(np.dot(r, r))
    if sigma is None:
        if rss == 0.0:
            raise CourseError(
                "all residuals are zero, so the fitted noise level is 0 and the Gaussian code "
                "length is unbounded; give a known sigma or use noisy data"
            )
        return 0.5 * n * math.log2(2 * math.pi * math.e * rss / n) - n * math.log2(delta)
    s = _check_positive(sigma, "sigma")
    return 0.5 * n * math.log2(2 * math.pi * s * s) + rss / (2 * s * s * math.log(2)) - n * math.log2(delta)


def parameter_code_length(n_params: int, n: int, code: str = "asymptotic", bits_per_parameter: float = 32.0) -> float:
    """Bits for the k real parameters of a hypothesis.

    * ``code="asymptotic"``: each parameter at precision 1/√n costs ½·log₂ n
      bits, so L(θ|k) = k/2 · log₂ n (Rissanen 1978; Grünwald 2007, Ch. 5).
    * ``code="fixed"``: each parameter written with ``bits_per_parameter`` bits,
      L(θ|k) = k · b.

    Examples
    --------
    >>> parameter_code_length(3, 16)        # 3/2 · log2(16) = 3/2 · 4
    6.0
    >>> parameter_code_length(3, 16, code="fixed", bits_per_parameter=8)
    24.0
    """
    if isinstance(n_params, bool) or not isinstance(n_params, (int, np.integer)) or n_params < 0:
        raise CourseError(f"n_params must be a non-negative integer, got {n_params!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CourseError(f"n (the number of data points) must be a positive integer, got {n!r}")
    if code == "asymptotic":
        return 0.5 * int(n_params) * math.log2(int(n))
    if code == "fixed":
        return int(n_params) * _check_positive(bits_per_parameter, "bits_per_parameter")
    raise CourseError(f"code must be one of {PARAMETER_CODES}, got {code!r}")


def model_code_length(
    degree: int,
    n: int,
    n_candidates: int,
    *,
    estimate_sigma: bool = True,
    code: str = "asymptotic",
    bits_per_parameter: float = 32.0,
) -> float:
    """L(H) for a polynomial of the given degree: which degree, then its parameters.

    L(H) = log₂(n_candidates) + L(θ|k), with a uniform code over the candidate
    degrees and k = degree + 1 coefficients (+1 for σ when it is estimated).

    Examples
    --------
    Degree 2 among 4 candidates, σ estimated, n = 16: 2 + (4/2)·4 = 10 bits.

    >>> model_code_length(2, 16, 4)
    10.0
    """
    if isinstance(n_candidates, bool) or not isinstance(n_candidates, (int, np.integer)) or n_candidates < 1:
        raise CourseError(f"n_candidates must be a positive integer, got {n_candidates!r}")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 0:
        raise CourseError(f"degree must be a non-negative integer, got {degree!r}")
    k = int(degree) + 1 + (1 if estimate_sigma else 0)
    return math.log2(int(n_candidates)) + parameter_code_length(k, n, code, bits_per_parameter)


@dataclass(frozen=True)
class MDLTable:
    """Code lengths per candidate degree, all in bits.

    ``data_bits`` is L(D|H), ``model_bits`` is L(H), ``total_bits`` is L(D, H).
    """

    degrees: np.ndarray
    data_bits: np.ndarray
    model_bits: np.ndarray
    total_bits: np.ndarray
    rss: np.ndarray

    @property
    def best_degree(self) -> int:
        """The degree with the shortest total description L(D, H) (the smallest on ties)."""
        return int(self.degrees[int(np.argmin(self.total_bits))])


def two_part_code_lengths(
    x,
    y,
    degrees=range(11),
    precision: float = 0.01,
    sigma: float | None = None,
    code: str = "asymptotic",
    bits_per_parameter: float = 32.0,
) -> MDLTable:
    """L(D|H), L(H) and L(D,H) = L(D|H) + L(H) for polynomial fits of each degree.

    Parameters
    ----------
    x, y : 1-D data of length n
    degrees : iterable of distinct non-negative ints, each <= n - 2
    precision : δ, the precision the y values are written with
    sigma : known noise level, or None to estimate it per model (then it is a parameter)
    code, bits_per_parameter : see :func:`parameter_code_length`

    Examples
    --------
    >>> x = np.linspace(-1, 1, 12)
    >>> y = 1 + x ** 2 + 0.05 * np.cos(7 * x)
    >>> table = two_part_code_lengths(x, y, degrees=range(6))
    >>> table.best_degree
    2
    """
    x = as_vector(x, "x")
    y = as_vector(y, "y")
    try:
        degree_list = [d for d in degrees]
    except TypeError:
        raise CourseError(f"degrees must be an iterable of integers, got {degrees!r}") from None
    if not degree_list:
        raise CourseError("degrees is empty; give at least one candidate degree")
    if len(set(degree_list)) != len(degree_list):
        raise CourseError(f"degrees must be distinct, got {degree_list}")
    n = x.size
    fits = [fit_polynomial(x, y, d)[1] for d in degree_list]
    data_bits = [residual_code_length(r, precision, sigma) for r in fits]
    model_bits = [
        model_code_length(
            d, n, len(degree_list), estimate_sigma=sigma is None, code=code, bits_per_parameter=bits_per_parameter
        )
        for d in degree_list
    ]
    data_bits, model_bits = np.array(data_bits), np.array(model_bits)
    return MDLTable(
        degrees=np.array(degree_list, dtype=int),
        data_bits=data_bits,
        model_bits=model_bits,
        total_bits=data_bits + model_bits,
        rss=np.array([float(np.dot(r, r)) for r in fits]),
    )


def sample_polynomial_data(
    n: int = 30,
    coefficients=(0.0, 1.0, 0.0, -2.0),
    noise: float = 0.15,
    seed: int = 0,
    low: float = -1.0,
    high: float = 1.0,
):
    """n points x ~ U[low, high], y = Σ_j c_j x^j + N(0, noise²); returns sorted ``(x, y)``.

    The default is the cubic y = x − 2x³ with a little noise: a case where the
    shortest two-part code picks a middle degree.

    Examples
    --------
    >>> x, y = sample_polynomial_data(n=5, noise=0.0, seed=1)
    >>> bool(np.allclose(y, x - 2 * x ** 3))
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise CourseError(f"n must be a positive integer, got {n!r}")
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise CourseError(f"noise must be a non-negative number, got {noise!r}") from None
    if not (math.isfinite(noise) and noise >= 0):
        raise CourseError(f"noise must be a non-negative number, got {noise!r}")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise CourseError(f"need finite low < high, got low={low!r}, high={high!r}")
    c = as_vector(coefficients, "coefficients")
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(low, high, size=int(n)))
    y = np.polynomial.polynomial.polyval(x, c) + noise * rng.standard_normal(int(n))
    return x, y
