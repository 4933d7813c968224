"""Grading specs: what each autograded cell checks, in a form a grader can run outside the student's kernel.

Format
------
Every assignment ``NAME`` under ``exercises/`` has a module
``course.grading.NAME`` with a module-level ``SPEC = AssignmentSpec(...)``.
:func:`load_spec` returns it. A spec is a tuple of :class:`Part`, one per
nbgrader autograded test cell; ``Part.grade_id`` and ``Part.points`` equal the
cell's nbgrader metadata (a test checks that).

A part is a tuple of :class:`Probe`. Grading one part has two halves that may
run in different processes:

1. **In the student's kernel** (after the notebook ran): evaluate each probe's
   ``expression`` -- a self-contained Python expression (it imports what it
   needs, e.g. ``__import__('numpy').array([...])``) that calls the student's
   function on grader-chosen inputs, or names a variable -- and turn the result
   into plain data with :func:`to_plain` (None, bool, int, float, str, lists,
   dicts with str keys, NumPy arrays of numbers/bools/strings; sets become
   sorted lists). Nothing else leaves the kernel.
2. **In the grader**: ``part.grade(values, student_id=...)`` with the plain
   values in probe order. It computes each key with ``probe.key(ctx)`` -- from
   the course's engines (``course.relevance``, ``course.causal``,
   ``course.quiz``), never from the student's kernel -- compares with
   ``probe.check(value, key, ctx)`` and returns a :class:`PartResult`:
   ``points`` (partial credit = points × fraction of the probes that pass,
   each probe's weight being ``probe.weight``), ``max_points`` and a
   ``feedback`` text that says what is wrong without revealing the key.
   ``ctx`` is a dict with ``student_id`` (for per-student variants).

``course.grading.grade_values(assignment, grade_id, values, student_id)`` does
step 2 in one call. ``part.list_expression`` joins a part's probes into one
expression ``[e1, e2, ...]`` for graders that evaluate one expression per grade
id. If evaluating an expression raises, the grader passes :data:`RAISED` (a
``{"error": "<ExceptionName>: message"}`` dict made by :func:`raised`) as the
value; the probe then fails with that message.

The nbgrader route runs both halves inside the kernel: the hidden test cell of
a part is ``check_in_kernel("NAME", "GRADE_ID", globals())`` -- it returns the
points (nbgrader's partial credit) and raises AssertionError with the feedback
when the part earns nothing. Both routes therefore use the same checkers.

Checkers (``probe.check``) return ``(ok, message)``: ``ok`` is a bool or a
fraction in [0, 1] (partial credit within a probe, e.g. a quiz answer scored
by :func:`course.quiz.scoring.score_answer`); the message is shown only when
``ok`` is below 1.

>>> spec = load_spec("lrp_rules")
>>> part = spec["lrp0_step"]
>>> part.points, len(part.probes) > 0
(2.0, True)
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from course.errors import CourseError
from course.grading.checks import OUT_OF_RANGE

__all__ = ["Probe", "Part", "PartResult", "AssignmentSpec", "load_spec", "grade_values", "to_plain", "raised",
           "literal", "call", "check_in_kernel", "evaluate_in_namespace"]


# ------------------------------------------------------------------ plain data

def to_plain(value: Any, _depth: int = 0) -> Any:
    """Convert a kernel value to plain data, refusing anything with behaviour of its own.

    >>> to_plain({"b", "a"}), to_plain((1, 2.5)), to_plain(np.float32(0.5))
    (['a', 'b'], [1, 2.5], 0.5)
    """
    if _depth > 20:
        raise CourseError("value nested too deeply")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if type(value) is np.ndarray:
        if value.dtype.kind not in "biufU":
            raise CourseError(f"array of dtype {value.dtype} is not plain data")
        return np.array(value, copy=True)
    if type(value) in (list, tuple):
        return [to_plain(v, _depth + 1) for v in value]
    if type(value) in (set, frozenset):
        items = [to_plain(v, _depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=repr)
    if type(value) is dict:
        if not all(type(k) is str for k in value):
            raise CourseError("dict keys must be strings")
        return {k: to_plain(v, _depth + 1) for k, v in value.items()}
    raise CourseError(f"a {type(value).__name__} is not plain data (return numbers, strings, lists or arrays)")


def raised(exc: BaseException) -> dict:
    """The plain value standing for an expression that raised ``exc``."""
    return {"error": f"{type(exc).__name__}: {exc}"}


def _raised_message(value) -> str | None:
    if isinstance(value, dict) and set(value) == {"error"}:
        return f"your code raised {value['error']}"
    return None


# ------------------------------------------------------------------ expressions

def literal(value: Any) -> str:
    """A self-contained Python expression that rebuilds plain ``value`` (arrays via numpy).

    >>> literal(np.array([[1.0, 2.0]]))
    "__import__('numpy').array([[1.0, 2.0]], dtype='float64')"
    """
    if isinstance(value, np.ndarray):
        return f"__import__('numpy').array({value.tolist()!r}, dtype={str(value.dtype)!r})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(literal(v) for v in sorted(value)) + "}" if value else "set()"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return repr(value)
    raise CourseError(f"cannot write {type(value).__name__} as a literal")


def call(function: str, *args: Any, **kwargs: Any) -> str:
    """Expression calling the student's ``function`` on literal arguments.

    >>> call("f", 1, np.array([2.0]), eps=0.5)
    "f(1, __import__('numpy').array([2.0], dtype='float64'), eps=0.5)"
    """
    parts = [literal(a) for a in args] + [f"{k}={literal(v)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


# ------------------------------------------------------------------ spec objects

Check = Callable[[Any, Any, dict], "tuple[bool, str]"]


@dataclass(frozen=True)
class Probe:
    """One value to fetch from the kernel and compare with a key computed in the grader."""

    expression: str
    key: Callable[[dict], Any]
    check: Check
    weight: float = 1.0
    label: str = ""


@dataclass(frozen=True)
class PartResult:
    grade_id: str
    points: float
    max_points: float
    feedback: str


@dataclass(frozen=True)
class Part:
    """One autograded nbgrader test cell."""

    grade_id: str
    points: float
    probes: tuple[Probe, ...]
    description: str = ""

    @property
    def expressions(self) -> list[str]:
        return [p.expression for p in self.probes]

    @property
    def list_expression(self) -> str:
        """All probes as one expression ``[e1, e2, ...]``, for graders that evaluate one expression per grade id.

        If any probe raises, the whole list raises: grade that as ``[raised(exc)] * len(probes)``.
        """
        return "[" + ", ".join(self.expressions) + "]"

    def grade(self, values: list, student_id: str | None = None) -> PartResult:
        """Grade the plain ``values`` (one per probe, in order) against keys computed here."""
        if len(values) != len(self.probes):
            raise CourseError(f"part {self.grade_id!r} has {len(self.probes)} probes, got {len(values)} values")
        ctx = {"student_id": student_id}
        total = sum(p.weight for p in self.probes)
        earned, messages = 0.0, []
        for probe, value in zip(self.probes, values):
            message = _raised_message(value)
            ok = False
            if message is None:
                try:
                    ok, message = probe.check(value, probe.key(ctx), ctx)
                except CourseError as exc:  # e.g. a value of the wrong type
                    ok, message = False, str(exc)
                except OverflowError:  # e.g. float(10**400) in a checker: wrong for this probe only
                    ok, message = False, OUT_OF_RANGE
            fraction = min(1.0, max(0.0, float(ok)))  # a checker may return a fraction instead of a bool
            earned += probe.weight * fraction
            if fraction < 1.0:
                messages.append(f"{probe.label}: {message}" if probe.label else message)
        points = round(self.points * earned / total, 10)
        if not messages:
            return PartResult(self.grade_id, points, self.points, "correct")
        return PartResult(self.grade_id, points, self.points, " | ".join(dict.fromkeys(messages)))


@dataclass(frozen=True)
class AssignmentSpec:
    name: str
    parts: tuple[Part, ...]
    notebook: str = ""
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self._index.update({p.grade_id: p for p in self.parts})
        if len(self._index) != len(self.parts):
            raise CourseError(f"assignment {self.name!r}: duplicate grade ids")

    def __getitem__(self, grade_id: str) -> Part:
        try:
            return self._index[grade_id]
        except KeyError:
            raise CourseError(f"assignment {self.name!r} has no graded part {grade_id!r}") from None

    def __iter__(self):
        return iter(self.parts)

    @property
    def total_points(self) -> float:
        return float(sum(p.points for p in self.parts))


def grade_values(assignment: str, grade_id: str, values: list, student_id: str | None = None) -> PartResult:
    """Grader side in one call: the plain ``values`` of a part's probes → points and feedback.

    This is what an external grader (e.g. ``autograder``'s pipeline) calls after
    evaluating ``load_spec(assignment)[grade_id].expressions`` in the sandboxed kernel.

    >>> grade_values("backdoor", "set_g1", [["A", "Z"]]).points   # {A, Z} is minimal in G1
    2.0
    >>> grade_values("backdoor", "set_g1", [["W"]]).feedback.startswith("SET_G1: W is a descendant")
    True
    """
    if not isinstance(values, (list, tuple)):
        raise CourseError(f"values must be a list with one plain value per probe, got {type(values).__name__}")
    return load_spec(assignment)[grade_id].grade(list(values), student_id=student_id)


def load_spec(name: str) -> AssignmentSpec:
    """The grading spec of the assignment ``name`` (module ``course.grading.<name>``, attribute SPEC).

    >>> load_spec("backdoor").total_points
    10.0
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise CourseError(f"not an assignment name: {name!r}")
    try:
        module = importlib.import_module(f"course.grading.{name}")
    except ModuleNotFoundError:
        raise CourseError(f"no grading spec for assignment {name!r} (expected course/grading/{name}.py)") from None
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, AssignmentSpec):
        raise CourseError(f"{name!r} is not an assignment: course/grading/{name}.py defines no SPEC")
    return spec


# ------------------------------------------------------------------ the in-kernel route (nbgrader hidden tests)

def evaluate_in_namespace(part: Part, namespace: dict) -> list:
    """Evaluate a part's expressions in ``namespace`` and return plain values (errors as :func:`raised`)."""
    values = []
    for expr in part.expressions:
        try:
            values.append(to_plain(eval(expr, namespace)))  # noqa: S307 - the student's own kernel
        except Exception as exc:  # noqa: BLE001 - any failure of student code is a failed probe
            values.append(raised(exc))
    return values


def check_in_kernel(assignment: str, grade_id: str, namespace: dict, student_id: str | None = None) -> float:
    """nbgrader hidden test: grade one part inside the kernel; return the points or raise AssertionError.

    Prints the feedback when the part earns partial credit.
    """
    part = load_spec(assignment)[grade_id]
    if student_id is None:
        student_id = namespace.get("STUDENT_ID")
    result = part.grade(evaluate_in_namespace(part, namespace), student_id=student_id)
    if result.points == 0:
        raise AssertionError(result.feedback)
    if result.points < result.max_points:
        print(f"partial credit {result.points:g}/{result.max_points:g}: {result.feedback}")
    return result.points
