"""Compare a student's plain value with the key, in the grader's process.

Each checker takes the decoded value (:mod:`autograder.plaindata`), the key
and the checker's options and returns a :class:`Check`: the fraction of the
points earned and a message for the student. Messages describe the student's
value ("has shape (3,)") and never the key.

>>> check("close", [0.0, 1.0, 4.0], [0.0, 1.0, 4.0 + 1e-12]).fraction
1.0
>>> check("set", ["B", "C"], {"C", "B"}).fraction
1.0
>>> check("exact", 3, 4).message
'not the expected value'
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from course.errors import CourseError
from course.grading.checks import OUT_OF_RANGE

__all__ = ["Check", "check", "CHECKERS"]


@dataclass(frozen=True)
class Check:
    fraction: float
    message: str = ""


def _is_number(x) -> bool:
    return type(x) in (int, float) or (isinstance(x, np.ndarray) and x.dtype.kind in "iuf" and x.ndim == 0)


def _numeric_array(x):
    """A float64 array from numbers / nested lists / numeric arrays, else None."""
    if isinstance(x, np.ndarray):
        return x.astype(np.float64) if x.dtype.kind in "biuf" else None
    if type(x) is bool:
        return None
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr


def _close(value, key, *, rtol: float = 1e-6, atol: float = 1e-9, partial: bool = False) -> Check:
    if type(key) is list and key and any(isinstance(k, (list, np.ndarray)) for k in key) and partial:
        if type(value) is not list or len(value) != len(key):
            return Check(0.0, f"expected a list of {len(key)} results")
        parts = [_close(v, k, rtol=rtol, atol=atol) for v, k in zip(value, key)]
        hits = sum(p.fraction for p in parts)
        msg = "" if hits == len(key) else f"{len(key) - int(hits)} of {len(key)} results are not close enough"
        return Check(hits / len(key), msg)
    want = _numeric_array(key)
    try:
        got = _numeric_array(value) if value is not None else None
    except OverflowError:
        return Check(0.0, OUT_OF_RANGE)
    if want is None:
        raise CourseError("checker 'close' needs a numeric key")
    if got is None:
        return Check(0.0, f"the value ({type(value).__name__}) is not numeric")
    if got.shape != want.shape:
        return Check(0.0, f"the result has shape {got.shape}, which is not the expected shape")
    if not np.all(np.isfinite(got)):
        return Check(0.0, "the result contains NaN or infinite values")
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return Check(1.0)
    wrong = int(np.sum(~np.isclose(got, want, rtol=rtol, atol=atol)))
    return Check(0.0, f"{wrong} of {got.size} entries are not close enough to the expected values")


def _canonical(x):
    """Comparable form: bools stay bools, numbers compare numerically, tuples are lists."""
    if type(x) is bool:
        return ("bool", x)
    if isinstance(x, np.ndarray):
        return ("array", x.shape, x.astype(np.float64).tolist() if x.dtype.kind != "b" else x.tolist())
    if type(x) in (list, tuple):
        return ("list", tuple(_canonical(v) for v in x))
    if type(x) in (set, frozenset):
        return ("set", frozenset(_canonical(v) for v in x))
    if type(x) is dict:
        return ("dict", frozenset((k, _canonical(v)) for k, v in x.items()))
    if type(x) is str:
        return ("str", x.strip())
    return ("scalar", x)


def _exact(value, key) -> Check:
    return Check(1.0) if _canonical(value) == _canonical(key) else Check(0.0, "not the expected value")


def _as_set(x):
    if type(x) in (set, frozenset, list, tuple):
        items = list(x)
    else:
        return None
    if not all(type(v) in (str, int, float, bool) for v in items):
        return None
    return frozenset(v.strip() if type(v) is str else v for v in items)


def _set(value, key) -> Check:
    got, want = _as_set(value), _as_set(key)
    if want is None:
        raise CourseError("checker 'set' needs a set of names as key")
    if got is None:
        return Check(0.0, "the value is not a set (or list) of names")
    return Check(1.0) if got == want else Check(0.0, "not the expected set")


def _sets(value, key) -> Check:
    """A collection of sets, order-free (e.g. all minimal backdoor sets)."""
    def sets(x):
        if type(x) not in (set, frozenset, list, tuple):
            return None
        inner = [_as_set(v) for v in x]
        return None if any(s is None for s in inner) else frozenset(inner)
    got, want = sets(value), sets(key)
    if want is None:
        raise CourseError("checker 'sets' needs a collection of sets as key")
    if got is None:
        return Check(0.0, "the value is not a list of sets of names")
    if got == want:
        return Check(1.0)
    return Check(0.0, f"{len(got - want)} of your {len(got)} sets are not expected, {len(want - got)} expected "
                      "sets are missing")


def _quiz(value, key, *, question: str | None = None) -> Check:
    """A quiz question of course.quiz: scored by ``score_answer`` (its feedback never states the key)."""
    from course.quiz.scoring import score_answer

    if question is None:
        raise CourseError("checker 'quiz' needs the option question = <question id>")
    if value is None or (type(value) is str and not value.strip()):
        return Check(0.0, "no answer")
    if type(value) not in (str, int, float, bool, list, tuple, set, frozenset):
        return Check(0.0, "the answer is not text, a number or a list of options")
    if type(value) in (list, tuple, set, frozenset):
        if not all(type(v) is str for v in value):
            return Check(0.0, "the answer is not a list of option letters")
        value = ", ".join(sorted(value))
    score = score_answer(_quiz_bank()[question], value)  # CourseError names an unknown question
    return Check(score.points / score.max_points, score.feedback)


@functools.lru_cache(maxsize=1)
def _quiz_bank():
    from course.quiz.bank import load_bank

    return load_bank(keys=True)  # a clear CourseError where the keys are not readable, never a 0


CHECKERS = {"close": _close, "exact": _exact, "set": _set, "sets": _sets, "quiz": _quiz}


def check(name: str, value, key, **options) -> Check:
    """Run checker ``name``; a checker error on the *student's* value scores 0, never crashes the job."""
    try:
        fn = CHECKERS[name]
    except KeyError:
        raise CourseError(f"unknown checker {name!r}; known: {', '.join(sorted(CHECKERS))}") from None
    try:
        result = fn(value, key, **options)
    except CourseError:
        raise
    except OverflowError:
        return Check(0.0, OUT_OF_RANGE)
    except (TypeError, ValueError) as exc:
        return Check(0.0, f"the value could not be compared ({type(exc).__name__})")
    return Check(min(1.0, max(0.0, float(result.fraction))), result.message)
