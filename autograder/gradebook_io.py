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
    Comment,
    Grade,
    Gradebook,
    MissingEntry,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
)

from course.errors import CourseError

# the one timestamp parser; the pipeline reads a submission's timestamp.txt as gradebook_io.parse_timestamp
from .timestamps import submission_timestamp as parse_timestamp

__all__ = ["alembic_on_path", "open_gradebook", "is_graded", "save_submission", "parse_timestamp"]


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


def is_graded(
    gb: Gradebook, assignment: str, student: str, timestamp: datetime | None, grade_ids: set[tuple[str, str]]
) -> bool:
    """True when the gradebook holds this very submission with an automatic score for every grade id.

    ``grade_ids`` are ``(notebook, grade_id)`` pairs of the autograded cells.
    """
    sub = _find_submission(gb, assignment, student)
    if sub is None or (timestamp is not None and sub.timestamp != timestamp):
        return False
    scored = {
        (nb.notebook.name, grade.cell.name)
        for nb in sub.notebooks
        for grade in nb.grades
        if grade.auto_score is not None
    }
    return grade_ids <= scored


def _new_submission(gb: Gradebook, assignment: Assignment, student: Student) -> SubmittedAssignment:
    """The structure ``Gradebook.add_submission`` creates, without its commit."""
    sub = SubmittedAssignment(assignment=assignment, student=student)
    for notebook in assignment.notebooks:
        nb = SubmittedNotebook(notebook=notebook, assignment=sub)
        for cell in notebook.grade_cells:
            Grade(cell_id=cell.id, notebook=nb)
        for cell in notebook.solution_cells:
            Comment(cell_id=cell.id, notebook=nb)
        for cell in notebook.task_cells:
            Comment(cell_id=cell.id, notebook=nb)
            Grade(cell_id=cell.id, notebook=nb)
    gb.db.add(sub)
    return sub


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
            sub = _find_submission(gb, assignment, student) or _new_submission(gb, target, person)
        sub.timestamp = timestamp
        session.flush()
        grades = {(nb.notebook.name, g.cell.name): g for nb in sub.notebooks for g in nb.grades}
        missing = sorted(f"{nb}/{gid}" for nb, gid in scores if (nb, gid) not in grades)
        if missing:
            raise CourseError(f"grade ids not in the gradebook for {assignment!r}: {', '.join(missing)}")
        for key, points in scores.items():
            grade = grades[key]
            grade.auto_score = float(points)
            grade.needs_manual_grade = grade.manual_score is not None
        if comments:
            by_cell = {(nb.notebook.name, c.cell.name): c for nb in sub.notebooks for c in nb.comments}
            for key, text in comments.items():
                if key in by_cell:
                    by_cell[key].auto_comment = text
        session.commit()
    except BaseException:
        session.rollback()
        raise
