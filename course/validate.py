"""Input checks shared by the course's modules: bad input becomes one CourseError naming the argument."""

from __future__ import annotations

import numpy as np

from course.errors import CourseError

__all__ = ["as_vector"]


def as_vector(values: object, name: str) -> np.ndarray:
    """``values`` as a non-empty, finite 1-D float64 array, or a CourseError naming ``name``.

    >>> as_vector([1, 2.5], "x")
    array([1. , 2.5])
    >>> as_vector([[1.0]], "x")
    Traceback (most recent call last):
    ...
    course.errors.CourseError: x must be a non-empty 1-D sequence of numbers, got shape (1, 1)
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise CourseError(f"{name} must be a non-empty 1-D sequence of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise CourseError(f"{name} must be a non-empty 1-D sequence of numbers, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise CourseError(f"{name} contains NaN or infinite values")
    return arr
