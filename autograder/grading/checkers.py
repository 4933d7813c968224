"""Checkers: compare a student's plain value with a key in the grader's process, explain a mismatch without the key.

One signature
-------------
A checker is a callable ``check(value, key, ctx) -> (fraction, message)``:
``value`` is plain data (:mod:`autograder.grading.plaindata`), ``key`` is what
the probe's key function computed, ``ctx`` is the grading context (a dict with
``student_id``). ``fraction`` is a bool or a number in [0, 1] (partial credit
within a probe); the message is shown only when it is below 1. The checkers
here return :class:`Check`, a named tuple ``(fraction, message)``. A checker
raises :class:`~course.errors.CourseError` for a value it cannot read (that
probe fails with the message) and :class:`SpecError` for a mistake of the
spec itself (a key of the wrong kind, an unknown quiz question, quiz keys that
are not available): that one is the instructor's to fix and is never turned
into a score.

Messages describe the student's value (its shape, a NaN, which known mistake
it matches) and never print the key.

Tolerance policy
----------------
Numbers are compared with ``np.allclose(value, key, rtol, atol)``, after the
shapes agree and every entry is finite. The one default is
:data:`TOLERANCE` = ``rtol=1e-6, atol=1e-9``: a key computed in float64 by
the course's engines or the instructor's solution, against a student's float64
value of the same formula summed in another order. A spec that accepts more
says so explicitly: the course's specs pass :data:`STUDENT_CODE` =
``rtol=1e-4, atol=1e-6`` (students' own loops, stabilisers and float32
intermediates), some probes their own (e.g. a fitted estimator, ``rtol=1e-3``).

Named checkers (the TOML spec files' ``checker = ...``)
--------------------------------------------------------
``close`` (options ``rtol``, ``atol``, ``partial``: a list of results graded
one by one), ``exact``, ``set`` (names, any order), ``sets`` (a collection of
such sets) and ``quiz`` (a question of the course's bank scored by
:func:`course.quiz.scoring.score_answer`; option ``question``).

>>> check("close", [0.0, 1.0, 4.0], [0.0, 1.0, 4.0 + 1e-12]).fraction
1.0
>>> check("set", ["B", "C"], {"C", "B"}).fraction
1.0
>>> check("exact", 3, 4).message
'not the expected value'
>>> ok, msg = array_close()([1.0, 2.0], np.array([1.0, 2.5]), {})
>>> ok, "differ" in msg
(0.0, True)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

import numpy as np

from course.errors import CourseError

if TYPE_CHECKING:
    from course.quiz.bank import Bank

__all__ = [
    "Check",
    "Checker",
    "Context",
    "SpecError",
    "Tolerance",
    "TOLERANCE",
    "STUDENT_CODE",
    "OUT_OF_RANGE",
    "as_array",
    "array_close",
    "number_close",
    "named",
    "check",
    "CHECKERS",
]

#: the message for a number float64 cannot hold (e.g. the int 10**400): a wrong answer for its probe, never a crash
OUT_OF_RANGE = "a number in the value is out of range (beyond ±1.8e308)"


class Tolerance(TypedDict):
    """Keyword arguments of ``np.allclose``: ``|value - key| <= atol + rtol * |key|`` entrywise."""

    rtol: float
    atol: float


#: the one default tolerance of every numeric checker (see the module docstring)
TOLERANCE: Tolerance = {"rtol": 1e-6, "atol": 1e-9}
#: what the course's own specs pass explicitly: students' code, not a second run of the same formula
STUDENT_CODE: Tolerance = {"rtol": 1e-4, "atol": 1e-6}

Mistake = tuple[Callable[[], Any], str]


class Check(NamedTuple):
    """What a checker returns: the fraction of the probe's points earned and a message for the student."""

    fraction: float
    message: str = ""


#: the grading context handed to every checker (``student_id``, ...)
Context = dict[str, Any]
Checker = Callable[[Any, Any, Context], "tuple[float | bool, str]"]


class SpecError(CourseError):
    """A grading spec that cannot grade (a key of the wrong kind, a missing question or keys): never a score."""


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
    if isinstance(value, np.ndarray) and value.dtype.kind not in "biuf":
        raise CourseError(f"expected numbers, got an array of {value.dtype}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise CourseError("expected an array of numbers (all rows of the same length)") from None
    except OverflowError:
        raise CourseError(OUT_OF_RANGE) from None
    return arr


def _key_array(key: Any) -> np.ndarray:
    try:
        return np.asarray(key, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise SpecError("a numeric checker needs a numeric key") from None


def _compare(arr: np.ndarray, key: np.ndarray, rtol: float, atol: float, mistakes: tuple[Mistake, ...]) -> Check:
    if arr.shape != key.shape:
        return Check(0.0, f"expected shape {key.shape}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        return Check(0.0, "the result contains NaN or inf (a division by zero?)")
    if np.allclose(arr, key, rtol=rtol, atol=atol):
        return Check(1.0)
    for alternative, message in mistakes:
        alt = np.asarray(alternative(), dtype=np.float64)
        if alt.shape == arr.shape and np.allclose(arr, alt, rtol=rtol, atol=atol):
            return Check(0.0, message)
    if key.ndim == 0:
        return Check(0.0, "the value differs from the expected one")
    wrong = int(np.sum(~np.isclose(arr, key, rtol=rtol, atol=atol)))
    worst = np.unravel_index(np.argmax(np.abs(arr - key)), key.shape)
    return Check(
        0.0,
        f"{wrong} of {arr.size} values differ from the expected ones "
        f"(first look at index {tuple(int(i) for i in worst)})",
    )


def array_close(
    rtol: float = TOLERANCE["rtol"], atol: float = TOLERANCE["atol"], mistakes: Iterable[Mistake] = ()
) -> Checker:
    """Checker: the value has the key's shape and is close to it (``np.allclose(value, key, rtol, atol)``).

    ``mistakes``: pairs ``(alternative(), message)``; when the value matches an
    alternative -- the result of a known wrong formula, computed by the grader
    -- that message explains the mistake.
    """
    known = tuple(mistakes)

    def check(value: Any, key: Any, ctx: Context) -> Check:
        return _compare(as_array(value), _key_array(key), rtol, atol, known)

    return check


def number_close(
    rtol: float = TOLERANCE["rtol"], atol: float = TOLERANCE["atol"], mistakes: Iterable[Mistake] = ()
) -> Checker:
    """Checker for a single number (a 0-d array or a length-1 list is accepted too).

    >>> check = number_close(mistakes=[(lambda: 2.0, "you forgot the bias")])
    >>> check([1.5], 1.5, {}), check(2.0, 1.5, {}), check([1, 2], 1.5, {})[1]
    (Check(fraction=1.0, message=''), Check(fraction=0.0, message='you forgot the bias'), \
'expected one number, got an array of shape (2,)')
    """
    known = tuple(mistakes)

    def check(value: Any, key: Any, ctx: Context) -> Check:
        arr = as_array(value)
        if arr.size != 1:
            return Check(0.0, f"expected one number, got an array of shape {arr.shape}")
        return _compare(arr.reshape(()), _key_array(key).reshape(()), rtol, atol, known)

    return check


# ------------------------------------------------------------------ the named checkers of spec files


def _close(
    value: Any,
    key: Any,
    ctx: Context,
    *,
    rtol: float = TOLERANCE["rtol"],
    atol: float = TOLERANCE["atol"],
    partial: bool = False,
) -> Check:
    if partial and type(key) is list and key and any(isinstance(k, (list, np.ndarray)) for k in key):
        if type(value) is not list or len(value) != len(key):
            return Check(0.0, f"expected a list of {len(key)} results")
        parts = [_safe(_close, v, k, ctx, {"rtol": rtol, "atol": atol}) for v, k in zip(value, key)]
        hits = sum(p.fraction for p in parts)
        msg = "" if hits == len(key) else f"{len(key) - int(hits)} of {len(key)} results are not close enough"
        return Check(hits / len(key), msg)
    want = _key_array(key)
    if type(key) is bool:
        raise SpecError("checker 'close' needs a numeric key")
    return _compare(as_array(value), want, rtol, atol, ())


def _canonical(x: Any) -> tuple[Any, ...]:
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


def _exact(value: Any, key: Any, ctx: Context) -> Check:
    return Check(1.0) if _canonical(value) == _canonical(key) else Check(0.0, "not the expected value")


def _as_set(x: Any) -> frozenset[Any] | None:
    if type(x) not in (set, frozenset, list, tuple):
        return None
    items = list(x)
    if not all(type(v) in (str, int, float, bool) for v in items):
        return None
    return frozenset(v.strip() if type(v) is str else v for v in items)


def _set(value: Any, key: Any, ctx: Context) -> Check:
    got, want = _as_set(value), _as_set(key)
    if want is None:
        raise SpecError("checker 'set' needs a set of names as key")
    if got is None:
        return Check(0.0, "the value is not a set (or list) of names")
    return Check(1.0) if got == want else Check(0.0, "not the expected set")


def _sets(value: Any, key: Any, ctx: Context) -> Check:
    """A collection of sets, order-free (e.g. all minimal backdoor sets)."""

    def sets(x: Any) -> frozenset[frozenset[Any]] | None:
        if type(x) not in (set, frozenset, list, tuple):
            return None
        inner = [_as_set(v) for v in x]
        known = [s for s in inner if s is not None]
        return None if len(known) < len(inner) else frozenset(known)

    got, want = sets(value), sets(key)
    if want is None:
        raise SpecError("checker 'sets' needs a collection of sets as key")
    if got is None:
        return Check(0.0, "the value is not a list of sets of names")
    if got == want:
        return Check(1.0)
    return Check(
        0.0, f"{len(got - want)} of your {len(got)} sets are not expected, {len(want - got)} expected sets are missing"
    )


def _quiz(value: Any, key: Any, ctx: Context, *, question: str | None = None) -> Check:
    """A quiz question of course.quiz: scored by ``score_answer`` (its feedback never states the key)."""
    from course.quiz.scoring import score_answer

    if question is None:
        raise SpecError("checker 'quiz' needs the option question = <question id>")
    try:
        q = _quiz_bank()[question]
    except CourseError as exc:  # keys not readable, unknown question: the spec's problem, never a 0
        raise SpecError(str(exc)) from None
    if value is None or (type(value) is str and not value.strip()):
        return Check(0.0, "no answer")
    if type(value) not in (str, int, float, bool, list, tuple, set, frozenset):
        return Check(0.0, "the answer is not text, a number or a list of options")
    if type(value) in (list, tuple, set, frozenset):
        if not all(type(v) is str for v in value):
            return Check(0.0, "the answer is not a list of option letters")
        value = ", ".join(sorted(value))
    score = score_answer(q, value)
    return Check(score.points / score.max_points, score.feedback)


@functools.lru_cache(maxsize=1)
def _quiz_bank() -> Bank:
    from course.quiz.bank import load_bank

    return load_bank(keys=True)  # a clear CourseError where the keys are not readable, never a 0


CHECKERS: dict[str, Callable[..., Check]] = {
    "close": _close,
    "exact": _exact,
    "set": _set,
    "sets": _sets,
    "quiz": _quiz,
}


def _safe(
    fn: Callable[..., tuple[float | bool, str]], value: Any, key: Any, ctx: Context, options: Mapping[str, Any]
) -> Check:
    """``fn`` on a student's value: what it cannot read scores 0 with a message; a SpecError propagates."""
    try:
        result = fn(value, key, ctx, **options)
    except SpecError:
        raise
    except CourseError as exc:
        return Check(0.0, str(exc))
    except OverflowError:
        return Check(0.0, OUT_OF_RANGE)
    except (TypeError, ValueError) as exc:
        return Check(0.0, f"the value could not be compared ({type(exc).__name__})")
    fraction, message = result
    return Check(min(1.0, max(0.0, float(fraction))), message)


@dataclass(frozen=True)
class Named:
    """A named checker with its options, as a spec file gives it (plain data, so a spec pickles)."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def __call__(self, value: Any, key: Any, ctx: Context) -> Check:
        return _safe(CHECKERS[self.name], value, key, ctx, self.options)


def named(name: str, **options: Any) -> Named:
    """The checker ``name`` of :data:`CHECKERS` with its options; SpecError for an unknown name.

    >>> named("set")(["A"], {"A"}, {})
    Check(fraction=1.0, message='')
    """
    if name not in CHECKERS:
        raise SpecError(f"unknown checker {name!r}; known: {', '.join(sorted(CHECKERS))}")
    return Named(name, dict(options))


def check(name: str, value: Any, key: Any, ctx: Context | None = None, **options: Any) -> Check:
    """Run checker ``name`` once: a value it cannot read scores 0, never crashes the job; SpecError propagates."""
    return named(name, **options)(value, key, ctx or {})
