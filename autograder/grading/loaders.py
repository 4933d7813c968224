"""Two loaders onto one model: spec files beside an assignment's notebooks, and the course's Python specs.

Spec files
----------
``autograde.toml`` (or ``grading.toml`` / ``grading.json``) in the
assignment's source folder gives, for every autograded grade id, the
*expression* evaluated in the student's kernel (its value must be plain data),
the *checker* that compares it with the key in the grader's process
(:mod:`autograder.grading.checkers`) and its options, and a *feedback* line
shown after a wrong answer. The key is either written in the spec
(``expected``) or obtained by running the same expression on the
instructor's source notebook -- in the sandbox too, and never shown to a
student. Points always come from the nbgrader cell metadata::

    [grades.test_squares]
    notebook = "ps1"              # optional when the assignment has one notebook
    expression = "squares(7)"
    checker = "close"             # close | exact | set | sets | quiz
    rtol = 1e-9                   # any other key is an option of the checker
    feedback = "squares(n) returns n**2 for 0..n-1 as an array."

A ``quiz`` checker scores with :func:`course.quiz.scoring.score_answer`; its
``question`` option defaults to the grade id. Each entry becomes a
:class:`~autograder.grading.model.Part` of one probe (``one_expression``).

Python specs
------------
The course's own assignments keep their specs in Python: module
``autograder.grading.assignments.NAME`` defines ``SPEC = AssignmentSpec(...)``
(:func:`load_assignment`). A source folder without a spec file is graded with
the Python spec of its name.

>>> load_assignment("backdoor").total_points
10.0
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import tomllib
from dataclasses import replace
from pathlib import Path

from autograder.grading.checkers import named
from autograder.grading.model import AssignmentSpec, Expected, Part, Probe, SourceKey
from course.errors import CourseError

__all__ = ["SPEC_FILES", "ASSIGNMENTS_PACKAGE", "load_spec", "load_spec_file", "load_assignment", "reload_assignment"]

SPEC_FILES = ("autograde.toml", "grading.toml", "grading.json")
ASSIGNMENTS_PACKAGE = "autograder.grading.assignments"
_RESERVED = {"notebook", "expression", "checker", "feedback", "expected", "points"}


def load_assignment(name: object) -> AssignmentSpec:
    """The Python grading spec of assignment ``name`` (module ``autograder.grading.assignments.<name>``, SPEC)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise CourseError(f"not an assignment name: {name!r}")
    where = f"autograder/grading/assignments/{name}.py"
    try:
        module = importlib.import_module(f"{ASSIGNMENTS_PACKAGE}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{ASSIGNMENTS_PACKAGE}.{name}":
            raise
        raise CourseError(f"no grading spec for assignment {name!r} (expected {where})") from None
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, AssignmentSpec):
        raise CourseError(f"{name!r} is not an assignment: {where} defines no SPEC")
    return spec


def reload_assignment(name: str, notebook: str, seed: int | None = None) -> AssignmentSpec:
    """The Python spec ``name`` as :func:`load_spec` gave it (its notebook set, its fresh probes from ``seed``):
    how such a spec unpickles."""
    spec = load_assignment(name)
    if spec.notebook != notebook:
        spec = replace(spec, notebook=notebook, _index={})
    return spec if seed is None else spec.with_fresh_probes(seed)


def _parse_entry(gid: str, entry: object, notebooks: list[str], where: str) -> Part:
    if not isinstance(entry, dict):
        raise CourseError(f"{where}: grade {gid!r} must be a table")
    expression = entry.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise CourseError(f"{where}: grade {gid!r} needs an expression (evaluated in the student's kernel)")
    try:
        compile(expression, f"<{gid}>", "eval")
    except SyntaxError as exc:
        raise CourseError(f"{where}: grade {gid!r}: expression is not a Python expression ({exc.msg})") from None
    notebook = entry.get("notebook")
    if notebook is None:
        if len(notebooks) != 1:
            raise CourseError(f"{where}: grade {gid!r} must name its notebook (one of {', '.join(notebooks)})")
        notebook = notebooks[0]
    if notebook not in notebooks:
        raise CourseError(f"{where}: grade {gid!r}: no notebook {notebook!r} in the assignment")
    options = {k: v for k, v in entry.items() if k not in _RESERVED}
    checker = entry.get("checker", "exact")
    if checker == "quiz":
        options.setdefault("question", gid)
    try:
        check = named(checker, **options)
    except CourseError as exc:
        raise CourseError(f"{where}: grade {gid!r}: {exc}") from None
    key = Expected(entry["expected"]) if "expected" in entry else SourceKey()
    return Part(
        gid,
        1.0,
        (Probe(expression, key, check),),
        hint=str(entry.get("feedback", "")),
        notebook=notebook,
        one_expression=True,
    )


def load_spec_file(path: str | Path, notebooks: list[str], assignment: str) -> AssignmentSpec:
    """Read one spec file (TOML, or JSON by its suffix) of an assignment with these ``notebooks`` (stems)."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: cannot parse the grading spec ({exc})") from None
    grades = data.get("grades")
    if not isinstance(grades, dict) or not grades:
        raise CourseError(f"{path}: the spec needs a [grades.<grade_id>] table per autograded grade id")
    return AssignmentSpec(
        assignment, tuple(_parse_entry(gid, entry, notebooks, str(path)) for gid, entry in grades.items())
    )


def load_spec(source_dir: str | Path, assignment: str | None = None) -> AssignmentSpec:
    """The spec of the assignment folder ``source_dir`` (the instructor's version): its spec file, else the
    Python spec of the assignment's name, checked against the folder's notebooks."""
    folder = Path(source_dir)
    assignment = assignment or folder.name
    notebooks = sorted(p.stem for p in folder.glob("*.ipynb"))
    for name in SPEC_FILES:
        if (folder / name).is_file():
            return load_spec_file(folder / name, notebooks, assignment)
    if not assignment.isidentifier() or importlib.util.find_spec(f"{ASSIGNMENTS_PACKAGE}.{assignment}") is None:
        raise CourseError(
            f"no grading spec in {folder} (expected one of {', '.join(SPEC_FILES)}, "
            f"or a module autograder/grading/assignments/{assignment}.py)"
        )
    spec = load_assignment(assignment)  # its own errors (e.g. quiz keys not found) say what is missing
    notebook = Path(spec.notebook).stem if spec.notebook else (notebooks[0] if len(notebooks) == 1 else None)
    if notebook is None or notebook not in notebooks:
        raise CourseError(f"{ASSIGNMENTS_PACKAGE}.{assignment}: notebook {spec.notebook!r} is not in the assignment")
    return reload_assignment(assignment, spec.notebook or notebook)
