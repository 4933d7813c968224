"""Write autograded scores into the nbgrader gradebook: one transaction per submission.

Only the grader's own process calls these functions (student code never sees
the database). :func:`save_submission` builds or updates the whole submission
— student row, submitted assignment and notebooks, one ``Grade`` per grade
cell, one ``Comment`` per answer cell, as ``Gradebook.add_submission`` does —
and commits once, so a job killed at any moment leaves each submission either
fully graded or untouched. :func:`is_graded` tells a re-run what is already
done. Manual scores and extra credit that an instructor entered are kept.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime

from nbgrader.api import (
    Assignment,
    BaseCell,
    Comment,
    Grade,
    Gradebook,
    MissingEntry,
    Notebook,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
)

from course.errors import CourseError

# the one timestamp parser; the pipeline reads a submission's timestamp.txt as gradebook_io.parse_timestamp
from .timestamps import submission_timestamp as parse_timestamp

__all__ = ["alembic_on_path", "open_gradebook", "graded_cells", "is_graded", "save_submission", "parse_timestamp"]

# student -> (the submission's timestamp, the (notebook, grade id) pairs holding an automatic score)
GradedCells = dict[str, tuple["datetime | None", frozenset[tuple[str, str]]]]


def alembic_on_path() -> None:
    """nbgrader's Gradebook runs ``alembic`` (its migrations): put this interpreter's scripts first on PATH."""
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + (os.pathsep + path if path else "")


def open_gradebook(db_url: str, *, course_id: str = "default_course") -> Gradebook:
    """nbgrader's Gradebook (``course_id``: nbgrader's default), with ``alembic`` findable (:func:`alembic_on_path`)."""
    alembic_on_path()
    return Gradebook(db_url, course_id=course_id)


def _find_submission(gb: Gradebook, assignment: str, student: str):
    try:
        return gb.find_submission(assignment, student)
    except MissingEntry:
        return None


def graded_cells(gb: Gradebook, assignment: str) -> GradedCells:
    """Every submission of ``assignment`` in the gradebook, read in ONE query.

    student -> (timestamp, the ``(notebook, grade_id)`` pairs with an automatic
    score); a submission without any score maps to an empty set. Example:
    ``graded_cells(gb, "quiz7")["s001"] == (datetime(...), frozenset({("quiz7", "q1"), ...}))``.
    """
    rows = (
        gb.db.query(
            SubmittedAssignment.student_id,
            SubmittedAssignment.timestamp,
            Notebook.name,
            BaseCell.name,
            Grade.auto_score,
        )
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .outerjoin(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
        .outerjoin(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
        .outerjoin(Grade, Grade.notebook_id == SubmittedNotebook.id)
        .outerjoin(BaseCell, BaseCell.id == Grade.cell_id)
        .filter(Assignment.name == assignment)
    )
    stamps: dict[str, datetime | None] = {}
    scored: dict[str, set[tuple[str, str]]] = {}
    for student, stamp, notebook, cell, score in rows:
        stamps[student] = stamp
        pairs = scored.setdefault(student, set())
        if score is not None:
            pairs.add((notebook, cell))
    return {student: (stamps[student], frozenset(pairs)) for student, pairs in scored.items()}


def is_graded(
    gb: Gradebook,
    assignment: str,
    student: str,
    timestamp: datetime | None,
    grade_ids: set[tuple[str, str]],
    *,
    graded: GradedCells | None = None,
) -> bool:
    """True when the gradebook holds this very submission with an automatic score for every grade id.

    ``grade_ids`` are ``(notebook, grade_id)`` pairs of the autograded cells.
    ``graded``: :func:`graded_cells` of the assignment, read once by a caller
    asking about many students (otherwise one query per call).
    """
    entry = (graded if graded is not None else graded_cells(gb, assignment)).get(student)
    if entry is None or (timestamp is not None and entry[0] != timestamp):
        return False
    return grade_ids <= entry[1]


def _new_submission(gb: Gradebook, assignment: Assignment, student: Student) -> tuple[SubmittedAssignment, dict, dict]:
    """The structure ``Gradebook.add_submission`` creates, without its commit.

    Also its new Grade and Comment rows by ``(notebook, cell name)`` (as :func:`_by_cell` reads them back).
    """
    sub = SubmittedAssignment(assignment=assignment, student=student)
    grades: dict[tuple[str, str], Grade] = {}
    comments: dict[tuple[str, str], Comment] = {}
    for notebook in assignment.notebooks:
        nb = SubmittedNotebook(notebook=notebook, assignment=sub)
        for cell in notebook.grade_cells:
            grades[notebook.name, cell.name] = Grade(cell_id=cell.id, notebook=nb)
        for cell in notebook.solution_cells:
            comments[notebook.name, cell.name] = Comment(cell_id=cell.id, notebook=nb)
        for cell in notebook.task_cells:
            comments[notebook.name, cell.name] = Comment(cell_id=cell.id, notebook=nb)
            grades[notebook.name, cell.name] = Grade(cell_id=cell.id, notebook=nb)
    gb.db.add(sub)
    return sub, grades, comments


def _by_cell(gb: Gradebook, model: type[Grade] | type[Comment], sub: SubmittedAssignment) -> dict:
    """The submission's Grade (or Comment) rows by ``(notebook, cell name)``, in one query."""
    rows = (
        gb.db.query(model, Notebook.name, BaseCell.name)
        .join(SubmittedNotebook, SubmittedNotebook.id == model.notebook_id)
        .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
        .join(BaseCell, BaseCell.id == model.cell_id)
        .filter(SubmittedNotebook.assignment_id == sub.id)
    )
    return {(notebook, cell): row for row, notebook, cell in rows}


def save_submission(
    gb: Gradebook,
    assignment: str,
    student: str,
    timestamp: datetime | None,
    scores: dict[tuple[str, str], float],
    comments: dict[tuple[str, str], str] | None = None,
) -> None:
    """Write the automatic scores of one submission in a single transaction.

    ``scores`` maps ``(notebook, grade_id)`` to points. Raises CourseError when the
    assignment or a grade id is not in the gradebook (run ``nbgrader generate_assignment``).
    """
    session = gb.db
    try:
        target = session.query(Assignment).filter(Assignment.name == assignment).one_or_none()
        if target is None:
            raise CourseError(f"assignment {assignment!r} is not in the gradebook; run nbgrader generate_assignment")
        person = session.get(Student, student)
        if person is None:
            person = Student(id=student)
            session.add(person)
        with session.no_autoflush:
            sub = _find_submission(gb, assignment, student)
            made = None if sub is not None else _new_submission(gb, target, person)
        if made is not None:  # a first submission: its rows are the ones just made
            sub, grades, by_cell = made
        sub.timestamp = timestamp
        session.flush()
        if made is None:  # an earlier submission: its rows, in one query each
            grades = _by_cell(gb, Grade, sub)
            by_cell = _by_cell(gb, Comment, sub) if comments else {}
        missing = sorted(f"{nb}/{gid}" for nb, gid in scores if (nb, gid) not in grades)
        if missing:
            raise CourseError(f"grade ids not in the gradebook for {assignment!r}: {', '.join(missing)}")
        for key, points in scores.items():
            grade = grades[key]
            grade.auto_score = float(points)
            grade.needs_manual_grade = grade.manual_score is not None
        for key, text in (comments or {}).items():
            if key in by_cell:
                by_cell[key].auto_comment = text
        session.commit()
    except BaseException:
        session.rollback()
        raise
