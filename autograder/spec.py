"""The grading spec of an assignment: how each grade id is graded.

For every autograded grade id the spec gives the *expression* evaluated in
the student's kernel (its value must be plain data), the *checker* that
compares it with the key in the grader's process (:mod:`autograder.checkers`)
and its options, and a *feedback* line shown after a wrong answer. The key is
either written in the spec (``expected``) or obtained by running the same
expressions on the instructor's source notebook — in the sandbox too, and
never shown to a student. Points always come from the nbgrader cell metadata.

File format: ``autograde.toml`` in the assignment's source folder::

    [grades.test_squares]
    notebook = "ps1"              # optional when the assignment has one notebook
    expression = "squares(7)"
    checker = "close"             # close | exact | set | sets | quiz
    rtol = 1e-9                   # any other key is an option of the checker
    feedback = "squares(n) returns n**2 for 0..n-1 as an array."

A ``quiz`` checker scores with :func:`course.quiz.scoring.score_answer`; its
``question`` option defaults to the grade id.

The course's own assignments keep their specs in Python
(:mod:`course.grading`, one ``SPEC`` per assignment): when the source folder
has no spec file, :func:`load_spec` adapts ``course.grading.load_spec(name)``
— each part's probe expressions are evaluated one by one in the sandbox and
the part grades the plain values itself, computing its keys in the grader
(checker ``"course"``).
"""
from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from autograder.checkers import CHECKERS
from course.errors import CourseError

__all__ = ["GradeSpec", "AssignmentSpec", "load_spec", "SPEC_FILES"]

SPEC_FILES = ("autograde.toml", "grading.toml", "grading.json")
_MISSING = object()
_RESERVED = {"notebook", "expression", "checker", "feedback", "expected", "points"}


@dataclass(frozen=True)
class GradeSpec:
    grade_id: str
    notebook: str
    expression: str
    checker: str
    options: dict = field(default_factory=dict)
    feedback: str = ""
    expected: object = _MISSING
    expressions: tuple = ()  # several values graded together (course.grading parts)

    @property
    def has_key(self) -> bool:
        """True when no key has to be computed from the source notebook."""
        return self.expected is not _MISSING or self.checker == "course"

    @property
    def probe(self):
        """What the sandbox evaluates: one expression, or a tuple evaluated one by one."""
        return self.expressions or self.expression


@dataclass(frozen=True)
class AssignmentSpec:
    assignment: str
    grades: dict  # grade id -> GradeSpec

    def for_notebook(self, notebook: str) -> dict:
        return {gid: g for gid, g in self.grades.items() if g.notebook == notebook}


def _parse_entry(gid: str, entry: dict, notebooks: list[str], where: str) -> GradeSpec:
    if not isinstance(entry, dict):
        raise CourseError(f"{where}: grade {gid!r} must be a table")
    expression = entry.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise CourseError(f"{where}: grade {gid!r} needs an expression (evaluated in the student's kernel)")
    try:
        compile(expression, f"<{gid}>", "eval")
    except SyntaxError as exc:
        raise CourseError(f"{where}: grade {gid!r}: expression is not a Python expression ({exc.msg})") from None
    checker = entry.get("checker", "exact")
    if checker not in CHECKERS:
        raise CourseError(f"{where}: grade {gid!r}: unknown checker {checker!r}; known: {', '.join(sorted(CHECKERS))}")
    notebook = entry.get("notebook")
    if notebook is None:
        if len(notebooks) != 1:
            raise CourseError(f"{where}: grade {gid!r} must name its notebook (one of {', '.join(notebooks)})")
        notebook = notebooks[0]
    if notebook not in notebooks:
        raise CourseError(f"{where}: grade {gid!r}: no notebook {notebook!r} in the assignment")
    options = {k: v for k, v in entry.items() if k not in _RESERVED}
    if checker == "quiz":
        options.setdefault("question", gid)
    return GradeSpec(gid, notebook, expression, checker, options, str(entry.get("feedback", "")),
                     entry.get("expected", _MISSING))


def load_spec(source_dir: str | Path, assignment: str | None = None) -> AssignmentSpec:
    """Read the spec file of the assignment folder ``source_dir`` (the instructor's version)."""
    folder = Path(source_dir)
    notebooks = sorted(p.stem for p in folder.glob("*.ipynb"))
    for name in SPEC_FILES:
        path = folder / name
        if path.is_file():
            break
    else:
        course_spec = _course_spec(assignment or folder.name, notebooks)
        if course_spec is None:
            raise CourseError(f"no grading spec in {folder} (expected one of {', '.join(SPEC_FILES)}, "
                              f"or a module course/grading/{assignment or folder.name}.py)")
        return course_spec
    try:
        data = json.loads(path.read_text("utf-8")) if path.suffix == ".json" else tomllib.loads(path.read_text("utf-8"))
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: cannot parse the grading spec ({exc})") from None
    grades = data.get("grades")
    if not isinstance(grades, dict) or not grades:
        raise CourseError(f"{path}: the spec needs a [grades.<grade_id>] table per autograded grade id")
    parsed = {gid: _parse_entry(gid, entry, notebooks, str(path)) for gid, entry in grades.items()}
    return AssignmentSpec(assignment or folder.name, parsed)


def _course_spec(assignment: str, notebooks: list[str]) -> AssignmentSpec | None:
    """Adapt ``course.grading.load_spec(assignment)`` (the course's Python specs), or None."""
    try:
        from course.grading import load_spec as course_load_spec
    except ImportError:
        return None
    try:
        spec = course_load_spec(assignment)
    except CourseError:
        return None
    notebook = Path(spec.notebook).stem if spec.notebook else (notebooks[0] if len(notebooks) == 1 else None)
    if notebook is None or notebook not in notebooks:
        raise CourseError(f"course.grading.{assignment}: notebook {spec.notebook!r} is not in the assignment")
    grades = {part.grade_id: GradeSpec(part.grade_id, notebook, part.list_expression, "course",
                                       {"assignment": assignment}, expressions=tuple(part.expressions))
              for part in spec.parts}
    return AssignmentSpec(assignment, grades)
