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

    @property
    def has_key(self) -> bool:
        return self.expected is not _MISSING


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
        raise CourseError(f"no grading spec in {folder} (expected one of {', '.join(SPEC_FILES)})")
    try:
        data = json.loads(path.read_text("utf-8")) if path.suffix == ".json" else tomllib.loads(path.read_text("utf-8"))
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: cannot parse the grading spec ({exc})") from None
    grades = data.get("grades")
    if not isinstance(grades, dict) or not grades:
        raise CourseError(f"{path}: the spec needs a [grades.<grade_id>] table per autograded grade id")
    parsed = {gid: _parse_entry(gid, entry, notebooks, str(path)) for gid, entry in grades.items()}
    return AssignmentSpec(assignment or folder.name, parsed)
