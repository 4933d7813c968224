"""One assignment of an nbgrader gradebook, read through nbgrader's own ``nbgrader.api.Gradebook``.

A SQLite file is copied to a temporary directory first, so the instructor's
gradebook is only ever read; the gradebook is opened by
:func:`autograder.gradebook_io.open_gradebook`, the one place the grader opens one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from course.errors import CourseError

from ..progress import progress as progress_bar
from .attempts import Attempts, cap_extra_credit, natural_key

__all__ = ["read_gradebook"]


def read_gradebook(
    gradebook: str | os.PathLike, assignment: str, *, course_id: str = "default_course", progress: bool | None = None
) -> Attempts:
    """Read one assignment of an nbgrader gradebook: one attempt per graded submission.

    Parameters
    ----------
    gradebook : path of a SQLite ``gradebook.db`` or any SQLAlchemy ``db_url``
        (``sqlite:///…``, ``postgresql://…``). A SQLite file is copied to a
        temporary directory and the copy is opened, so the original is never
        written (nbgrader's ``Gradebook`` may add its course row or tables).
    assignment : the assignment name
    course_id : nbgrader course id (nbgrader's default is "default_course")
    progress : show a progress bar (None: only on a terminal)

    Returns
    -------
    Attempts with one question per grade cell (``notebook/cell`` when the
    assignment has several notebooks); submissions that have no score at all
    yet (neither autograded nor graded by hand) are left out. Totals are
    ``nbgrader export``'s: late penalties taken off, extra credit above the
    maximum counted at the maximum; a cell flagged for manual grading keeps its
    autograded score, one with no score yet counts 0 (the source says how many
    of each).

    Raises
    ------
    CourseError : missing file, not a gradebook, unknown assignment, no graded submissions.
    """
    from nbgrader.api import BaseCell, Grade, MissingEntry, Notebook, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy.exc import SQLAlchemyError

    from ..gradebook_io import open_gradebook

    text = str(gradebook)
    with tempfile.TemporaryDirectory(prefix="xai-course-gradebook-") as tmp:
        if text.startswith("sqlite:///") and text != "sqlite:///:memory:":
            text = text[len("sqlite:///") :]  # a SQLite URL is a file too: copy it like a path
        if "://" in text:
            db_url, where = text, text
        else:
            src = Path(text)
            if not src.is_file():
                raise CourseError(f"{src}: no such gradebook file")
            copy = Path(tmp) / "gradebook.db"
            shutil.copyfile(src, copy)
            db_url, where = f"sqlite:///{copy}", str(src)
        try:
            gb = open_gradebook(db_url, course_id=course_id)
        except (SQLAlchemyError, OSError) as exc:
            raise CourseError(f"{where}: cannot open as an nbgrader gradebook ({type(exc).__name__})") from None
        except Exception as exc:  # alembic missing etc.: say what failed, in one line
            raise CourseError(f"{where}: nbgrader could not open the gradebook: {exc}") from None
        try:
            try:
                record = gb.find_assignment(assignment)
            except MissingEntry:
                names = sorted(a.name for a in gb.assignments)
                raise CourseError(
                    f"{where}: unknown assignment {assignment!r} "
                    f"(the gradebook has: {', '.join(names) or 'no assignments'})"
                ) from None
            due = record.duedate
            n_notebooks = len(record.notebooks)
            query = (
                gb.db.query(
                    SubmittedAssignment.id,
                    SubmittedAssignment.student_id,
                    SubmittedAssignment.timestamp,
                    Notebook.name,
                    BaseCell.name,
                    Grade.score,
                    Grade.max_score,
                    Grade.auto_score,
                    Grade.manual_score,
                    SubmittedNotebook.id,
                    SubmittedNotebook.late_submission_penalty,
                    Grade.needs_manual_grade,
                )
                .select_from(Grade)
                .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                .join(BaseCell, Grade.cell_id == BaseCell.id)
                .filter(SubmittedAssignment.assignment_id == record.id)
            )
            total = query.count()
            rows = list(progress_bar(query.yield_per(2000), total=total, desc="reading gradebook", show=progress))
        except SQLAlchemyError as exc:
            raise CourseError(
                f"{where}: cannot read the gradebook ({type(exc).__name__}: {exc.args[0][:200]})"
            ) from None
        finally:
            gb.close()
            gb.engine.dispose()

    return _gradebook_rows_to_attempts(rows, n_notebooks, assignment, due, where)


def _gradebook_rows_to_attempts(rows, n_notebooks, assignment, due, where) -> Attempts:
    """One attempt per graded submission, scored as ``nbgrader export`` scores it.

    nbgrader's export: ``score = max(0, raw_score - late_submission_penalty)``, the
    penalty summed over the submission's notebooks (``nbgrader/plugins/export.py``);
    a total or a cell above its maximum (extra credit) counts as the maximum.
    """
    cells: dict[str, float] = {}
    subs: dict[str, dict] = {}
    for sub_id, student, ts, nb_name, cell, score, max_score, auto, manual, nb_id, penalty, pending in rows:
        name = f"{nb_name}/{cell}" if n_notebooks > 1 else cell
        cells.setdefault(name, float(max_score or 0.0))
        s = subs.setdefault(
            sub_id, {"student": student, "timestamp": ts, "items": {}, "graded": False, "penalty": {}, "pending": False}
        )
        s["pending"] |= bool(pending)
        s["items"][name] = float(score or 0.0)
        s["penalty"][nb_id] = float(penalty or 0.0)
        s["graded"] |= auto is not None or manual is not None
    graded = [s for s in subs.values() if s["graded"]]
    if not graded:
        raise CourseError(
            f"{where}: assignment {assignment!r} has no graded submissions yet ({len(subs)} submitted, none autograded)"
        )
    questions = sorted(cells, key=natural_key)
    item_max = np.array([cells[q] for q in questions], dtype=np.float64)
    item_scores = np.array([[s["items"].get(q, np.nan) for q in questions] for s in graded], dtype=np.float64)
    if item_max.sum() <= 0:
        raise CourseError(f"{where}: assignment {assignment!r} has no points to score (max score 0)")
    penalty = np.array([sum(s["penalty"].values()) for s in graded], dtype=np.float64)
    total = np.maximum(0.0, np.nansum(item_scores, axis=1) - penalty)
    total, extra = cap_extra_credit(total, np.full(len(graded), item_max.sum()))
    with np.errstate(invalid="ignore"):
        item_scores = np.where(item_scores > item_max, item_max, item_scores)  # a cell's extra credit
    notes = [extra] if extra else []
    if (late := int(np.count_nonzero(penalty > 0))) > 0:
        notes.insert(0, f"late penalty taken off {late} submission{'s' if late > 1 else ''}")
    if (pending := sum(s["pending"] for s in graded)) > 0:
        notes.insert(
            0,
            f"{pending} submission{'s' if pending > 1 else ''} flagged for grading by hand "
            "(a cell with no score yet counts 0, as in nbgrader's export)",
        )
    return Attempts.from_rows(
        [s["student"] for s in graded],
        [s["timestamp"] for s in graded],
        total,
        item_max.sum(),
        questions=questions,
        item_scores=item_scores,
        item_max=item_max,
        assignment=assignment,
        due=due,
        source="nbgrader gradebook" + (f" ({'; '.join(notes)})" if notes else ""),
        where=where,
    )
