"""Checkers for grading specs: compare a plain student value with a key, explain a mismatch without the key.

A checker is ``check(value, key, ctx) -> (ok, message)`` (see :mod:`course.grading.spec`).
Messages describe the student's value (its shape, a NaN, which known mistake it
matches) and never print the key.

>>> ok, msg = array_close()([1.0, 2.0], np.array([1.0, 2.5]), {})
>>> ok, "differ" in msg
(False, True)
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from course.errors import CourseError

__all__ = ["as_array", "array_close", "number_close", "OUT_OF_RANGE"]

#: the message for a number float64 cannot hold (e.g. the int 10**400): a wrong answer for its probe, never a crash
OUT_OF_RANGE = "a number in the value is out of range (beyond ±1.8e308)"

Mistake = tuple[Callable[[], Any], str]


def as_array(value: Any) -> np.ndarray:
    """The student's value as a float64 array, or CourseError saying what it was.

    >>> as_array([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> as_array("1, 2")
    Traceback (most recent call last):
    ...
    course.errors.CourseError: expected numbers, got str '1, 2'
    """
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (str, dict)):
        raise CourseError(f"expected numbers, got {type(value).__name__} {value!r:.60}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CourseError("expected an array of numbers (all rows of the same length)") from None
    except OverflowError:
        raise CourseError(OUT_OF_RANGE) from None
    return arr


def array_close(rtol: float = 1e-4, atol: float = 1e-6, mistakes: Iterable[Mistake] = ()):
    """Checker: the value has the key's shape and is close to it (``np.allclose(value, key, rtol, atol)``).

    ``mistakes``: pairs ``(alternative(), message)``; when the value matches an
    alternative -- the result of a known wrong formula, computed by the grader
    -- that message explains the mistake.
    """
    mistakes = tuple(mistakes)

    def check(value, key, ctx):
        arr, key = as_array(value), np.asarray(key, dtype=np.float64)
        if arr.shape != key.shape:
            return False, f"expected shape {key.shape}, got {arr.shape}"
        if not np.all(np.isfinite(arr)):
            return False, "the result contains NaN or inf (a division by zero?)"
        if np.allclose(arr, key, rtol=rtol, atol=atol):
            return True, ""
        for alternative, message in mistakes:
            alt = np.asarray(alternative(), dtype=np.float64)
            if alt.shape == arr.shape and np.allclose(arr, alt, rtol=rtol, atol=atol):
                return False, message
        if key.ndim == 0:
            return False, "the value differs from the expected one"
        worst = np.unravel_index(np.argmax(np.abs(arr - key)), key.shape)
        return False, f"values differ from the expected ones (first look at index {tuple(int(i) for i in worst)})"

    return check


def number_close(rtol: float = 1e-4, atol: float = 1e-6, mistakes: Iterable[Mistake] = ()):
    """Checker for a single number (a 0-d array or a length-1 list is accepted too).

    >>> check = number_close(mistakes=[(lambda: 2.0, "you forgot the bias")])
    >>> check([1.5], 1.5, {}), check(2.0, 1.5, {}), check([1, 2], 1.5, {})[1]
    ((True, ''), (False, 'you forgot the bias'), 'expected one number, got an array of shape (2,)')
    """
    inner = array_close(rtol, atol, mistakes)

    def check(value, key, ctx):
        arr = as_array(value)
        if arr.size != 1:
            return False, f"expected one number, got an array of shape {arr.shape}"
        return inner(arr.reshape(()), np.asarray(key, dtype=np.float64).reshape(()), ctx)

    return check
