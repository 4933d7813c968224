"""Grade CSVs: nbgrader's ``export`` and the plain format of the README ("Grade CSV format").

A Moodle quiz "Grades" download is recognised by its header and handed to
:mod:`autograder.readers.moodle`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from course.errors import CourseError

from ..timestamps import TIME_UNIT, parse_timestamp, timestamp_column, to_datetime64
from .attempts import Attempts, cap_extra_credit, check_duplicates, observed_item_max
from .moodle import is_moodle_grades, read_moodle_grades
from .text import parse_numbers, read_table

__all__ = ["read_grades_csv"]


_ALIASES = {
    "student_id": ("student_id", "student", "id", "user", "username"),
    "timestamp": ("timestamp", "time", "submitted", "date"),
    "score": ("score", "grade", "points"),
    "max_score": ("max_score", "max", "max_points", "maximum"),
}
_NBGRADER_EXPORT = {"assignment", "duedate", "timestamp", "student_id", "raw_score", "score", "max_score"}
_NOT_QUESTIONS = ("assignment", "first_name", "last_name", "name", "email", "group", "duedate")
_ITEM_MAX = re.compile(r"^(?P<name>.*?)\s*/\s*(?P<max>\d+(?:[.,]\d+)?)$")


def read_grades_csv(path: str | os.PathLike, *, assignment: str | None = None) -> Attempts:
    """Read nbgrader's ``export`` CSV or the plain grade CSV of the README.

    Plain format: columns ``student_id, timestamp, score, max_score`` (any order,
    case-insensitive; ``timestamp`` may be empty or absent), an optional
    ``assignment`` column, and any further columns as per-question scores. A
    question column may carry its maximum as ``name /2`` (as Moodle exports
    "Q. 1 /2.00"); otherwise the largest score seen in that column is used.

    nbgrader's export (it has ``raw_score`` and ``late_submission_penalty``)
    uses ``score`` (after the late penalty); rows with an empty timestamp are
    students who submitted nothing and are skipped; a score above ``max_score``
    (nbgrader's extra credit) counts as the maximum, and the source says how many.

    Parameters
    ----------
    path : the CSV file
    assignment : keep only the rows of this assignment (needed when the file has several)

    Raises
    ------
    CourseError
        missing columns, unknown assignment, non-numeric or out-of-range scores,
        duplicate rows — each message names the row (line number of the file).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "g.csv"
    >>> _ = p.write_text("student_id;timestamp;score;max_score\\ns1;2024-03-01 10:00;7,5;10\\n")
    >>> read_grades_csv(p).percent().tolist()
    [75.0]
    """
    where = str(path)
    header, rows = read_table(path)
    if is_moodle_grades(header):
        return read_moodle_grades(header, rows, where=where, assignment=assignment)
    lower = [h.lower() for h in header]
    nbgrader_export = _NBGRADER_EXPORT <= set(lower) and "late_submission_penalty" in lower
    col: dict[str, int] = {}
    for key, names in _ALIASES.items():
        for name in names:
            if name in lower:
                col[key] = lower.index(name)
                break
    missing = [k for k in ("student_id", "score", "max_score") if k not in col]
    if missing:
        raise CourseError(
            f"{where}: missing column(s) {', '.join(missing)} (found: {', '.join(header)}); "
            "see 'Grade CSV format' in README.md"
        )
    width = len(header)
    for i, r in enumerate(rows):
        if len(r) < width and any(len(r) <= col[k] for k in col):
            raise CourseError(f"{where}: row {i + 2} has {len(r)} fields, the header has {width}")
        if len(r) > width and any(c.strip() for c in r[width:]):
            raise CourseError(
                f"{where}: row {i + 2} has {len(r)} fields, the header has {width} (a decimal comma "
                "in a comma-separated file? quote the number or separate the columns with ';')"
            )
    line = list(range(2, len(rows) + 2))  # file line of each data row
    rows = [r + [""] * (width - len(r)) for r in rows]  # a short row leaves its optional columns empty

    if "assignment" in lower:
        a = lower.index("assignment")
        names = sorted({r[a].strip() for r in rows})
        if assignment is None and len(names) > 1:
            raise CourseError(
                f"{where}: the file holds several assignments ({', '.join(names)}); choose one with assignment=NAME"
            )
        if assignment is not None:
            if assignment not in names:
                raise CourseError(f"{where}: unknown assignment {assignment!r} (the file has: {', '.join(names)})")
            keep = [i for i, r in enumerate(rows) if r[a].strip() == assignment]
            rows, line = [rows[i] for i in keep], [line[i] for i in keep]
        elif names:
            assignment = names[0]
    if nbgrader_export:  # an empty timestamp is nbgrader's "did not submit"
        t = col["timestamp"]
        keep = [i for i, r in enumerate(rows) if r[t].strip()]
        rows, line = [rows[i] for i in keep], [line[i] for i in keep]
    if not rows:
        raise CourseError(f"{where}: no graded attempts" + (f" for assignment {assignment!r}" if assignment else ""))

    columns = list(zip(*rows))
    student = np.array([s.strip() for s in columns[col["student_id"]]], dtype=object)
    if any(not s for s in student):
        i = next(i for i, s in enumerate(student) if not s)
        raise CourseError(f"{where}: row {line[i]}: empty student_id")
    score = parse_numbers(columns[col["score"]], where=where, column=header[col["score"]], rows=line)
    max_score = parse_numbers(columns[col["max_score"]], where=where, column=header[col["max_score"]], rows=line)
    if "timestamp" in col:
        timestamp = timestamp_column(columns[col["timestamp"]], where=where, rows=line)
    else:
        timestamp = np.full(len(rows), np.datetime64("NaT"), dtype=TIME_UNIT)

    due = None
    # columns that describe the student or the assignment are not questions
    known = set(col.values()) | {lower.index(k) for k in _NOT_QUESTIONS if k in lower}
    if nbgrader_export:
        known |= {lower.index(k) for k in ("raw_score", "late_submission_penalty") if k in lower}
        dues = {v.strip() for v in columns[lower.index("duedate")] if v.strip()}
        if len(dues) == 1:
            due = to_datetime64(parse_timestamp(dues.pop()))
    item_cols = [j for j in range(width) if j not in known and header[j]]
    questions, item_max_given = [], []
    for j in item_cols:
        m = _ITEM_MAX.match(header[j])
        questions.append(m.group("name") if m else header[j])
        item_max_given.append(float(m.group("max").replace(",", ".")) if m else np.nan)
    if item_cols:
        item_scores = np.column_stack(
            [parse_numbers(columns[j], where=where, column=header[j], rows=line, allow_empty=True) for j in item_cols]
        )
        observed = observed_item_max(item_scores)
        item_max = np.where(np.isnan(item_max_given), observed, item_max_given)
    else:
        item_scores, item_max = np.zeros((len(rows), 0)), np.zeros(0)

    notes = []
    if nbgrader_export:  # nbgrader's extra credit may lift a score above max_score
        score, note = cap_extra_credit(score, max_score)
        notes = ["nbgrader export"] + ([note] if note else [])
    table = Attempts(
        student,
        timestamp,
        score,
        max_score,
        tuple(questions),
        item_scores,
        item_max,
        assignment,
        due,
        f"CSV {Path(path).name}" + (f" ({'; '.join(notes)})" if notes else ""),
    )
    table.validate(where=where, rows=line)
    check_duplicates(
        student, timestamp, line, where=where, extra=[tuple(r) for r in rows] if np.isnat(timestamp).any() else None
    )
    return table
