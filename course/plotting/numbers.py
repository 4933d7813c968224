"""Numbers as students should read them: a fixed number of significant digits, exact zero as ``0``.

Floating-point arithmetic leaves noise such as ``-7.77e-16`` where the mathematics says 0 (a root
point's value, a conservation residual). Printed as it is, the noise draws the eye and says nothing.
:func:`fmt` rounds to ``digits`` significant digits, prints 0 as ``0`` (never ``-0.0`` or ``0.00e+00``),
and with ``zero=`` treats everything up to that magnitude as 0 -- say in the text what that tolerance is.
"""

from __future__ import annotations

import numpy as np

from course.errors import CourseError

__all__ = ["fmt", "fmt_array"]


def fmt(value, digits: int = 3, zero: float = 0.0, sign: bool = False) -> str:
    """``value`` with ``digits`` significant digits; ``"0"`` when ``|value| <= zero`` (default: exactly 0).

    Fixed-point notation from 1e-4 to 1e6, scientific notation outside it; ``sign=True`` writes ``+``
    before positive numbers (for signed relevances).

    >>> fmt(29.532245436545974), fmt(-5.551115123125783e-16), fmt(-5.551115123125783e-16, zero=1e-9)
    ('29.5', '-5.55e-16', '0')
    >>> fmt(0.0), fmt(-0.0), fmt(1388.612, digits=4), fmt(0.5, sign=True), fmt(2.0)
    ('0', '0', '1389', '+0.5', '2')
    """
    if digits < 1:
        raise CourseError(f"digits must be at least 1, got {digits}")
    v = float(value)
    if not np.isfinite(v):
        return str(v)
    if abs(v) <= zero or v == 0:
        return "0"
    exponent = int(np.floor(np.log10(abs(v))))
    rounded = float(f"{v:.{digits - 1}e}")
    if -4 <= exponent < 6:
        decimals = max(0, digits - 1 - exponent)
        text = f"{rounded:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        mantissa, exp = f"{rounded:.{digits - 1}e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        text = f"{mantissa}e{int(exp)}"
    return ("+" if sign and v > 0 else "") + text


def fmt_array(values, digits: int = 3, zero: float = 0.0, sign: bool = False) -> str:
    """A 1-D array as ``[a, b, c]`` with :func:`fmt` applied to every entry.

    >>> fmt_array([13.8022, 15.7301, -2.2e-16], zero=1e-12)
    '[13.8, 15.7, 0]'
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    return "[" + ", ".join(fmt(v, digits, zero, sign) for v in flat) + "]"
