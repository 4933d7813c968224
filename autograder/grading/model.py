"""The grading model: an assignment is a tuple of parts, a part a tuple of probes; one model for every spec.

Every autograded nbgrader test cell (grade id) is a :class:`Part`; a part is
a tuple of :class:`Probe`. Grading one part has two halves that may run in
different processes:

1. **In the student's kernel** (after the notebook ran): evaluate each probe's
   ``expression`` -- a self-contained Python expression (it imports what it
   needs, e.g. ``__import__('numpy').array([...])``) that calls the student's
   function on grader-chosen inputs, or names a variable -- and turn the result
   into plain data (:mod:`autograder.grading.plaindata`). Nothing else leaves
   the kernel.
2. **In the grader**: ``part.grade(values, student_id=...)`` with the plain
   values in probe order. It computes each key with ``probe.key(ctx)`` -- from
   the course's engines (``course.relevance``, ``course.causal``,
   ``course.quiz``), from the spec file (``expected``) or from the
   instructor's solution notebook run in the sandbox (``ctx["source_key"]``),
   never from the student's kernel -- compares with ``probe.check(value, key,
   ctx)`` (:mod:`autograder.grading.checkers`) and returns a
   :class:`PartResult`: ``points`` (partial credit = points × the weighted
   fraction of the probes that pass), ``max_points`` and a ``feedback`` text
   that says what is wrong without revealing the key. ``ctx`` is a dict with
   ``student_id`` (for per-student variants).

Specs come from two loaders onto this one model (:mod:`autograder.grading.loaders`):
the course's Python modules (:mod:`autograder.grading.assignments`, one
``SPEC`` each) and ``autograde.toml`` files beside an assignment's source
notebooks. Two routes call it: the sandboxed pipeline (:mod:`autograder.pipeline`)
and nbgrader's hidden tests (:func:`autograder.grading.hidden.check_in_kernel`).

If evaluating an expression raises, the grader passes a ``{"error": "..."}``
value (:func:`~autograder.grading.plaindata.raised`); the probe then fails
with that message.

**Fresh probes.** A spec is public (it ships with the package), so the inputs
of its probes are known in advance, and a submission could return memorised
outputs for exactly those inputs. A part may therefore also draw inputs at
grading time: ``Part.fresh(seed)`` returns further probes of the same kind on
inputs drawn from ``seed``, and :meth:`AssignmentSpec.with_fresh_probes` adds
them to every such part from a seed the student never sees (the sandboxed
pipeline keeps one per course, beside the gradebook). A memorised table then
fails the fresh probes; an honest implementation passes both.

>>> from autograder.grading.checkers import number_close
>>> part = Part("double", 2.0, (Probe(call("double", 3), key=lambda ctx: 6, check=number_close()),))
>>> part.grade([6.0]).points, part.grade([5.0]).points
(2.0, 0.0)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ParamSpec, SupportsIndex, TypeVar

import numpy as np

from autograder.grading.checkers import OUT_OF_RANGE, Checker, Context, SpecError
from course.errors import CourseError

__all__ = [
    "Probe",
    "Part",
    "PartResult",
    "AssignmentSpec",
    "Expected",
    "SourceKey",
    "literal",
    "call",
    "fixed_key",
    "derived_seed",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")


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


def fixed_key(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> Callable[[Context], _T]:
    """A probe's key computed in the grader, the same for every student: ``function(*args, **kwargs)`` at grading.

    >>> fixed_key(pow, 2, 5)({"student_id": "s001"})
    32
    """

    def key(ctx: Context) -> _T:
        return function(*args, **kwargs)

    return key


def derived_seed(seed: int, name: str) -> int:
    """A 63-bit seed for ``name`` from a secret ``seed`` (SHA-256), so each part draws its own inputs.

    >>> derived_seed(1, "a") == derived_seed(1, "a") != derived_seed(1, "b")
    True
    """
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


# ------------------------------------------------------------------ keys of spec files (plain data: they pickle)


@dataclass(frozen=True)
class Expected:
    """A key written in the spec file (``expected = ...``)."""

    value: Any

    def __call__(self, ctx: Context) -> Any:
        return self.value


@dataclass(frozen=True)
class SourceKey:
    """A key obtained by evaluating the probe on the instructor's solution notebook (``ctx["source_key"]``)."""

    def __call__(self, ctx: Context) -> Any:
        if "source_key" not in ctx:
            raise SpecError("this part's key comes from the instructor's solution notebook, and none was computed")
        return ctx["source_key"]


# ------------------------------------------------------------------ spec objects


@dataclass(frozen=True)
class Probe:
    """One value to fetch from the kernel and compare with a key computed in the grader."""

    expression: str
    key: Callable[[Context], Any]
    check: Checker
    weight: float = 1.0
    label: str = ""


@dataclass(frozen=True)
class PartResult:
    grade_id: str
    points: float
    max_points: float
    feedback: str

    @property
    def fraction(self) -> float:
        return self.points / self.max_points if self.max_points else 0.0


def _raised_message(value: Any) -> str | None:
    if isinstance(value, dict) and set(value) == {"error"}:
        return f"your code raised {value['error']}"
    return None


@dataclass(frozen=True)
class Part:
    """One autograded nbgrader test cell.

    ``points`` equal the cell's nbgrader metadata for the course's specs (a test
    checks it); spec files leave them at 1 and the pipeline scales by the cell's
    points. ``hint`` follows the message after a wrong answer. ``one_expression``:
    the sandbox evaluates the single probe's expression as the part's value (an
    error in it is the part's problem); otherwise each probe is evaluated on
    its own. ``notebook``: the notebook (stem) the cell is in, when not the
    assignment's default.
    """

    grade_id: str
    points: float
    probes: tuple[Probe, ...]
    description: str = ""
    hint: str = ""
    notebook: str = ""
    one_expression: bool = False
    #: probes on inputs drawn from a seed at grading time (see "Fresh probes" above)
    fresh: Callable[[int], tuple[Probe, ...]] | None = field(default=None, compare=False)

    @property
    def expressions(self) -> list[str]:
        return [p.expression for p in self.probes]

    @property
    def list_expression(self) -> str:
        """All probes as one expression ``[e1, e2, ...]``, for graders that evaluate one expression per grade id.

        If any probe raises, the whole list raises: grade that as ``[raised(exc)] * len(probes)``.
        """
        return "[" + ", ".join(self.expressions) + "]"

    @property
    def sandbox_probe(self) -> str | tuple[str, ...]:
        """What the sandbox evaluates: the one expression, or the probes' expressions one by one."""
        return self.probes[0].expression if self.one_expression else tuple(self.expressions)

    @property
    def needs_source_key(self) -> bool:
        """True when a key comes from running the probe on the instructor's solution notebook."""
        return any(isinstance(p.key, SourceKey) for p in self.probes)

    def grade(self, values: list[Any], student_id: str | None = None, **context: Any) -> PartResult:
        """Grade the plain ``values`` (one per probe, in order) against keys computed here.

        ``context`` goes into ``ctx`` beside ``student_id`` (``source_key``: the
        key computed from the instructor's notebook). A :class:`SpecError`
        propagates; any other failure on the student's value fails that probe.
        """
        if len(values) != len(self.probes):
            raise CourseError(f"part {self.grade_id!r} has {len(self.probes)} probes, got {len(values)} values")
        ctx: Context = {"student_id": student_id, **context}
        total = sum(p.weight for p in self.probes)
        earned, messages = 0.0, []
        for probe, value in zip(self.probes, values):
            message = _raised_message(value)
            ok: float | bool = False
            if message is None:
                try:
                    ok, message = probe.check(value, probe.key(ctx), ctx)
                except SpecError:
                    raise
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
        feedback = " | ".join(dict.fromkeys(messages))
        if self.hint:
            feedback = f"{feedback}. {self.hint}" if feedback else self.hint
        return PartResult(self.grade_id, points, self.points, feedback)


@dataclass(frozen=True)
class AssignmentSpec:
    """The parts of one assignment, by grade id. ``module``: the Python spec it came from (it pickles by name)."""

    name: str
    parts: tuple[Part, ...]
    notebook: str = ""
    module: str = ""
    _index: dict[str, Part] = field(default_factory=dict, repr=False, compare=False)
    #: the seed :meth:`with_fresh_probes` drew the fresh probes from (None: none added)
    seed: int | None = None
    #: modules an answer may not use ("Use NumPy only"): the course's engines, the grader (see
    #: :mod:`autograder.engine_use`); ``allowed``: exact names inside them that it may use
    forbidden: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self._index.update({p.grade_id: p for p in self.parts})
        if len(self._index) != len(self.parts):
            raise CourseError(f"assignment {self.name!r}: duplicate grade ids")

    def __getitem__(self, grade_id: str) -> Part:
        try:
            return self._index[grade_id]
        except KeyError:
            raise CourseError(f"assignment {self.name!r} has no graded part {grade_id!r}") from None

    def __iter__(self) -> Iterator[Part]:
        return iter(self.parts)

    def __reduce_ex__(self, protocol: SupportsIndex) -> str | tuple[Any, ...]:
        if self.module:  # keys and checkers are code: a worker imports the same module (and draws the same)
            from autograder.grading.loaders import reload_assignment

            return reload_assignment, (self.name, self.notebook, self.seed)
        return super().__reduce_ex__(protocol)

    def with_fresh_probes(self, seed: int) -> AssignmentSpec:
        """The spec with each part's fresh probes, drawn from ``seed``, after its fixed ones.

        Each part draws from its own seed, derived from ``seed`` and its grade id,
        so the same ``seed`` always gives the same probes (grading is reproducible).

        >>> from autograder.grading.checkers import number_close
        >>> def twice(s):
        ...     return (Probe(call("double", s % 100), key=lambda ctx, x=s % 100: 2 * x, check=number_close()),)
        >>> spec = AssignmentSpec("a", (Part("double", 1.0, (), fresh=twice),))
        >>> spec.with_fresh_probes(7)["double"].expressions == spec.with_fresh_probes(7)["double"].expressions
        True
        """
        if self.seed is not None:
            raise CourseError(f"assignment {self.name!r} already has fresh probes (seed {self.seed})")
        parts = tuple(
            replace(p, probes=p.probes + p.fresh(derived_seed(seed, p.grade_id))) if p.fresh else p for p in self.parts
        )
        return replace(self, parts=parts, seed=seed, _index={})

    @property
    def total_points(self) -> float:
        return float(sum(p.points for p in self.parts))

    def for_notebook(self, notebook: str) -> dict[str, Part]:
        """The parts graded in ``notebook`` (a stem), by grade id."""
        default = Path(self.notebook).stem
        return {p.grade_id: p for p in self.parts if (p.notebook or default) == notebook}
