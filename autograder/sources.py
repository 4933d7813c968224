"""Where grades come from: nbgrader gradebooks, grade CSVs and students' answers.

Every source becomes one :class:`Attempts` table — one row per graded attempt
(student, timestamp, total score, maximum score and, when known, the score of
each question) — so the statistics in :mod:`autograder.stats` and
:mod:`autograder.items` never care where the numbers came from.

Sources
-------
- :func:`read_gradebook`: an nbgrader gradebook through nbgrader's own
  ``nbgrader.api.Gradebook``. A SQLite file is copied to a temporary directory
  first, so the instructor's gradebook is only ever read.
- :func:`read_grades_csv`: nbgrader's ``export`` CSV or the plain format of the
  README ("Grade CSV format"): ``student_id, timestamp, score, max_score`` plus
  optional per-question columns. UTF-8, UTF-8 with BOM and Windows-1251 files,
  ``;`` or ``,`` separators and decimal commas are all read.
- :func:`read_responses_csv`, :func:`read_responses_notebooks`: which options
  each student chose, for the response analysis of :mod:`autograder.items`.
- Moodle's own quiz "Grades" and "Responses" downloads (English or Russian)
  are recognised by their headers and read by :mod:`autograder.moodle`.

Errors a user can fix (a missing column, a score above the maximum, a duplicate
row …) raise :class:`course.errors.CourseError` naming the file and the row.
"""
from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from course.errors import CourseError

__all__ = [
    "Attempts",
    "Responses",
    "read_gradebook",
    "read_grades_csv",
    "read_responses_csv",
    "read_responses_notebooks",
    "normalise_choice",
    "decode_text",
    "parse_timestamp",
    "natural_key",
]

#: numpy unit for every timestamp of the table (naive UTC)
TIME_UNIT = "datetime64[s]"


@dataclass(frozen=True)
class Attempts:
    """One row per graded attempt; columns are NumPy arrays of equal length.

    Attributes
    ----------
    student : ndarray of str (object)
    timestamp : ndarray of datetime64[s], naive UTC; ``NaT`` when unknown
    score, max_score : ndarray of float64, total points of the attempt
    questions : tuple of str, the per-question column names (may be empty)
    item_scores : ndarray (n, len(questions)) float64, ``NaN`` = not recorded
    item_max : ndarray (len(questions),) float64, maximum points per question
    assignment : name of the quiz/assignment, if known
    due : datetime64[s] or None, the due date if the source knows it
    source : short description of where the rows came from (for the report)

    Examples
    --------
    >>> a = Attempts.from_rows(["s1", "s2"], [None, None], [8, 5], [10, 10])
    >>> len(a), a.percent().tolist()
    (2, [80.0, 50.0])
    """

    student: np.ndarray
    timestamp: np.ndarray
    score: np.ndarray
    max_score: np.ndarray
    questions: tuple[str, ...] = ()
    item_scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    item_max: np.ndarray = field(default_factory=lambda: np.zeros(0))
    assignment: str | None = None
    due: np.datetime64 | None = None
    source: str = ""

    @classmethod
    def from_rows(cls, student, timestamp, score, max_score, *, questions=(), item_scores=None,
                  item_max=None, assignment=None, due=None, source="", where="attempts") -> Attempts:
        """Build a validated table from plain sequences (timestamps: datetime, ISO text or None).

        Raises CourseError for columns of different lengths, non-numbers, bad
        timestamps and every problem :meth:`validate` finds.
        """
        student = np.asarray([str(s) for s in student], dtype=object)
        n = len(student)
        try:
            ts = np.array([_to_datetime64(t) for t in timestamp], dtype=TIME_UNIT) if n else np.zeros(0, TIME_UNIT)
            if due is not None:
                due = _to_datetime64(due)
        except (ValueError, TypeError) as exc:
            raise CourseError(f"{where}: timestamp: {exc}") from None
        questions = tuple(str(q) for q in questions)
        try:
            score = np.asarray(score, dtype=np.float64).reshape(-1)
            max_score = np.broadcast_to(np.asarray(max_score, dtype=np.float64), score.shape).copy()
            if item_scores is None:
                item_scores = np.full((n, len(questions)), np.nan)
            item_scores = np.asarray(item_scores, dtype=np.float64)
            if item_scores.size != n * len(questions):
                raise ValueError(f"item_scores has shape {item_scores.shape}, expected ({n}, {len(questions)})")
            item_scores = item_scores.reshape(n, len(questions))
            if item_max is None:
                item_max = _observed_item_max(item_scores)
            item_max = np.asarray(item_max, dtype=np.float64).reshape(len(questions))
        except (ValueError, TypeError) as exc:
            raise CourseError(f"{where}: scores must be numbers in columns of equal length ({exc})") from None
        table = cls(student, ts, score, max_score, questions, item_scores, item_max, assignment, due, source)
        table.validate(where=where)
        return table

    def __len__(self) -> int:
        return len(self.student)

    def percent(self) -> np.ndarray:
        """Score of each attempt in percent of its maximum, float64."""
        return 100.0 * self.score / self.max_score

    def take(self, index) -> Attempts:
        """The sub-table of the rows ``index`` (an index array or a boolean mask)."""
        return Attempts(self.student[index], self.timestamp[index], self.score[index], self.max_score[index],
                        self.questions, self.item_scores[index], self.item_max, self.assignment, self.due,
                        self.source)

    def students(self) -> int:
        """Number of distinct students."""
        return len(np.unique(self.student.astype(str))) if len(self) else 0

    def validate(self, *, where: str = "attempts", rows: Sequence[int] | None = None) -> None:
        """Raise CourseError for empty tables, NaN, negative scores or scores above the maximum.

        ``rows`` gives the file row of each attempt for the message (default: 1-based position).
        """
        if len(self) == 0:
            raise CourseError(f"{where}: no graded attempts to report on")
        lengths = {len(self.timestamp), len(self.score), len(self.max_score), len(self.item_scores)}
        if lengths != {len(self)}:
            raise CourseError(f"{where}: columns have different lengths {sorted(lengths)}")

        def row(i):
            return rows[i] if rows is not None else i + 1

        checks = [
            (~np.isfinite(self.score), "score is missing or not a number"),
            (~np.isfinite(self.max_score) | (self.max_score <= 0), "max_score must be a positive number"),
            (self.score < 0, "score is negative"),
            (self.score > self.max_score * (1 + 1e-9), "score is above max_score"),
        ]
        for bad, what in checks:
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise CourseError(f"{where}: row {row(i)} (student {self.student[i]}): {what} "
                                  f"(score {self.score[i]:g}, max_score {self.max_score[i]:g})")
        if self.questions:
            item = self.item_scores
            bad = (item < 0) | (item > self.item_max * (1 + 1e-9))
            if bad.any():
                i, j = map(int, np.argwhere(bad)[0])
                raise CourseError(f"{where}: row {row(i)} (student {self.student[i]}): question "
                                  f"{self.questions[j]!r} has {item[i, j]:g} points, outside 0..{self.item_max[j]:g}")


@dataclass(frozen=True)
class Responses:
    """The options each student chose: one row per (student, question) answer.

    ``choice`` holds a frozenset of option letters per row (Cyrillic А Б В …,
    or ``"true"``/``"false"``; option texts for Moodle's responses); an empty
    set means "no answer".
    """

    student: np.ndarray
    question: np.ndarray
    choice: tuple[frozenset, ...]
    timestamp: np.ndarray
    #: the answer as typed, per row (numeric questions are read from it); may be empty
    raw: tuple[str, ...] = ()
    #: question -> correct set, when the source carries the key (Moodle's "Right answer n")
    right: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.student)


def natural_key(name) -> tuple:
    """Sort key that orders the numbers inside names by value: l1, l2, …, l10 (not l1, l10, l2).

    >>> sorted(["l10", "l2", "Q. 1", "l1", "Q. 10", "Q. 9"], key=natural_key)
    ['l1', 'l2', 'l10', 'Q. 1', 'Q. 9', 'Q. 10']
    """
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.split(r"(\d+)", str(name)) if part)


# ----------------------------------------------------------------- text input

def decode_text(data: bytes, *, where: str = "file") -> str:
    """Decode a spreadsheet export: UTF-8 with BOM, UTF-8, else Windows-1251.

    >>> decode_text("имя".encode("cp1251"))
    'имя'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise CourseError(f"{where}: not UTF-8 and not Windows-1251 text ({exc.reason} at byte {exc.start})") from None


def _read_table(path: str | os.PathLike) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV file with detected encoding and separator."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CourseError(f"{path}: cannot read ({exc.strerror})") from None
    text = decode_text(data, where=str(path))
    first = text.split("\n", 1)[0]
    # the separator is whichever of ; TAB , the header uses most (a header never has decimal commas)
    delimiter = max(";\t,", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = [r for r in reader if any(c.strip() for c in r)]
    if not rows:
        raise CourseError(f"{path}: the file is empty")
    header = [h.strip() for h in rows[0]]
    return header, rows[1:]


def _numbers(values: Sequence[str], *, where: str, column: str, rows: Sequence[int],
             allow_empty: bool = False) -> np.ndarray:
    """Parse numbers written with a decimal point or a decimal comma; name the row on failure."""
    cleaned = [v.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".") for v in values]
    if allow_empty:
        cleaned = [v if v else "nan" for v in cleaned]
    try:
        return np.array(cleaned, dtype=np.float64)
    except ValueError:
        for i, v in enumerate(cleaned):
            try:
                float(v)
            except ValueError:
                shown = values[i].strip() or "(empty)"
                raise CourseError(f"{where}: row {rows[i]}: column {column!r} is not a number: {shown}") from None
        raise


_RU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_timestamp(text: str | None) -> datetime | None:
    """ISO 8601 (any offset, converted to naive UTC) or ``dd.mm.yyyy [HH:MM[:SS]]``; empty → None.

    >>> parse_timestamp("2024-03-01T12:00:00+03:00")
    datetime.datetime(2024, 3, 1, 9, 0)
    >>> parse_timestamp("01.03.2024 09:30")
    datetime.datetime(2024, 3, 1, 9, 30)
    """
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    m = _RU_DATE.match(text)
    if m:
        d, mo, y, h, mi, s = (int(x) if x else 0 for x in m.groups())
        return datetime(y, mo, d, h, mi, s)
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use ISO 8601, e.g. 2024-03-01 12:00, or 01.03.2024 12:00)") from None
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def _to_datetime64(value) -> np.datetime64:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.datetime64("NaT", "s")
    if isinstance(value, np.datetime64):
        return value.astype(TIME_UNIT)
    if isinstance(value, str):
        value = parse_timestamp(value)
        if value is None:
            return np.datetime64("NaT", "s")
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(value, "s")


def _timestamps(values: Sequence[str], *, where: str, rows: Sequence[int]) -> np.ndarray:
    stripped = [v.strip() for v in values]
    try:  # fast path: naive ISO timestamps, as nbgrader and most tools write them
        if all(v[:1].isdigit() for v in stripped) and not any("+" in v or v.endswith("Z") or "." in v[:10]
                                                                for v in stripped):
            return np.array(stripped, dtype=TIME_UNIT)
    except ValueError:
        pass
    out = np.empty(len(values), dtype=TIME_UNIT)
    for i, v in enumerate(stripped):
        try:
            out[i] = _to_datetime64(parse_timestamp(v))
        except ValueError as exc:
            raise CourseError(f"{where}: row {rows[i]}: column 'timestamp': {exc}") from None
    return out


def _observed_item_max(item_scores: np.ndarray) -> np.ndarray:
    if item_scores.size == 0:
        return np.zeros(item_scores.shape[1])
    with np.errstate(all="ignore"):
        m = np.nanmax(np.where(np.isnan(item_scores), -np.inf, item_scores), axis=0)
    return np.where(np.isfinite(m) & (m > 0), m, 1.0)


def _check_duplicates(student, timestamp, rows, *, where, extra=None) -> None:
    """Two rows with the same student and timestamp (or identical rows without timestamps)."""
    seen: dict = {}
    ts = timestamp.astype("int64")
    nat = np.isnat(timestamp)
    for i in range(len(student)):
        key = (student[i], None if nat[i] else int(ts[i]), extra[i] if nat[i] and extra is not None else None)
        j = seen.setdefault(key, i)
        if j != i:
            when = "no timestamp" if nat[i] else f"timestamp {timestamp[i]}"
            raise CourseError(f"{where}: rows {rows[j]} and {rows[i]} are duplicates "
                              f"(student {student[i]}, {when}); remove one of them")


# ----------------------------------------------------------------- grade CSVs

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
    students who submitted nothing and are skipped.

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
    header, rows = _read_table(path)
    from .moodle import is_moodle_grades, read_moodle_grades

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
        raise CourseError(f"{where}: missing column(s) {', '.join(missing)} (found: {', '.join(header)}); "
                          "see 'Grade CSV format' in README.md")
    width = len(header)
    for i, r in enumerate(rows):
        if len(r) < width and any(len(r) <= col[k] for k in col):
            raise CourseError(f"{where}: row {i + 2} has {len(r)} fields, the header has {width}")
        if len(r) > width and any(c.strip() for c in r[width:]):
            raise CourseError(f"{where}: row {i + 2} has {len(r)} fields, the header has {width} (a decimal comma "
                              "in a comma-separated file? quote the number or separate the columns with ';')")
    line = list(range(2, len(rows) + 2))  # file line of each data row
    rows = [r + [""] * (width - len(r)) for r in rows]  # a short row leaves its optional columns empty

    if "assignment" in lower:
        a = lower.index("assignment")
        names = sorted({r[a].strip() for r in rows})
        if assignment is None and len(names) > 1:
            raise CourseError(f"{where}: the file holds several assignments ({', '.join(names)}); choose one "
                              "with assignment=NAME")
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
    score = _numbers(columns[col["score"]], where=where, column=header[col["score"]], rows=line)
    max_score = _numbers(columns[col["max_score"]], where=where, column=header[col["max_score"]], rows=line)
    if "timestamp" in col:
        timestamp = _timestamps(columns[col["timestamp"]], where=where, rows=line)
    else:
        timestamp = np.full(len(rows), np.datetime64("NaT"), dtype=TIME_UNIT)

    due = None
    # columns that describe the student or the assignment are not questions
    known = set(col.values()) | {lower.index(k) for k in _NOT_QUESTIONS if k in lower}
    if nbgrader_export:
        known |= {lower.index(k) for k in ("raw_score", "late_submission_penalty") if k in lower}
        dues = {v.strip() for v in columns[lower.index("duedate")] if v.strip()}
        if len(dues) == 1:
            due = _to_datetime64(parse_timestamp(dues.pop()))
    item_cols = [j for j in range(width) if j not in known and header[j]]
    questions, item_max_given = [], []
    for j in item_cols:
        m = _ITEM_MAX.match(header[j])
        questions.append(m.group("name") if m else header[j])
        item_max_given.append(float(m.group("max").replace(",", ".")) if m else np.nan)
    if item_cols:
        item_scores = np.column_stack([_numbers(columns[j], where=where, column=header[j], rows=line,
                                                allow_empty=True) for j in item_cols])
        observed = _observed_item_max(item_scores)
        item_max = np.where(np.isnan(item_max_given), observed, item_max_given)
    else:
        item_scores, item_max = np.zeros((len(rows), 0)), np.zeros(0)

    table = Attempts(student, timestamp, score, max_score, tuple(questions), item_scores, item_max,
                     assignment, due, f"CSV {Path(path).name}" + (" (nbgrader export)" if nbgrader_export else ""))
    table.validate(where=where, rows=line)
    _check_duplicates(student, timestamp, line, where=where,
                      extra=[tuple(r) for r in rows] if np.isnat(timestamp).any() else None)
    return table


# ----------------------------------------------------------------- nbgrader gradebook

def _alembic_on_path() -> None:
    """nbgrader's Gradebook shells out to ``alembic``: make the interpreter's own scripts findable."""
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if bindir not in path.split(os.pathsep):
        os.environ["PATH"] = bindir + (os.pathsep + path if path else "")


def read_gradebook(gradebook: str | os.PathLike, assignment: str, *, course_id: str = "default_course",
                   progress: bool | None = None) -> Attempts:
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
    yet (neither autograded nor graded by hand) are left out.

    Raises
    ------
    CourseError : missing file, not a gradebook, unknown assignment, no graded submissions.
    """
    _alembic_on_path()
    from nbgrader.api import BaseCell, Grade, Gradebook, MissingEntry, Notebook, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy.exc import SQLAlchemyError

    text = str(gradebook)
    with tempfile.TemporaryDirectory(prefix="xai-course-gradebook-") as tmp:
        if text.startswith("sqlite:///") and text != "sqlite:///:memory:":
            text = text[len("sqlite:///"):]  # a SQLite URL is a file too: copy it like a path
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
            gb = Gradebook(db_url, course_id=course_id)
        except (SQLAlchemyError, OSError) as exc:
            raise CourseError(f"{where}: cannot open as an nbgrader gradebook ({type(exc).__name__})") from None
        except Exception as exc:  # alembic missing etc.: say what failed, in one line
            raise CourseError(f"{where}: nbgrader could not open the gradebook: {exc}") from None
        try:
            try:
                record = gb.find_assignment(assignment)
            except MissingEntry:
                names = sorted(a.name for a in gb.assignments)
                raise CourseError(f"{where}: unknown assignment {assignment!r} "
                                  f"(the gradebook has: {', '.join(names) or 'no assignments'})") from None
            due = record.duedate
            n_notebooks = len(record.notebooks)
            query = (gb.db.query(SubmittedAssignment.id, SubmittedAssignment.student_id,
                                 SubmittedAssignment.timestamp, Notebook.name, BaseCell.name,
                                 Grade.score, Grade.max_score, Grade.auto_score, Grade.manual_score)
                     .select_from(Grade)
                     .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                     .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                     .join(Notebook, SubmittedNotebook.notebook_id == Notebook.id)
                     .join(BaseCell, Grade.cell_id == BaseCell.id)
                     .filter(SubmittedAssignment.assignment_id == record.id))
            total = query.count()
            rows = list(_progress(query.yield_per(2000), total=total, desc="reading gradebook", show=progress))
        except SQLAlchemyError as exc:
            raise CourseError(f"{where}: cannot read the gradebook ({type(exc).__name__}: {exc.args[0][:200]})") \
                from None
        finally:
            gb.close()
            gb.engine.dispose()

    return _gradebook_rows_to_attempts(rows, n_notebooks, assignment, due, where)


def _gradebook_rows_to_attempts(rows, n_notebooks, assignment, due, where) -> Attempts:
    cells: dict[str, float] = {}
    subs: dict[str, dict] = {}
    for sub_id, student, ts, nb_name, cell, score, max_score, auto, manual in rows:
        name = f"{nb_name}/{cell}" if n_notebooks > 1 else cell
        cells.setdefault(name, float(max_score or 0.0))
        s = subs.setdefault(sub_id, {"student": student, "timestamp": ts, "items": {}, "graded": False})
        s["items"][name] = float(score or 0.0)
        s["graded"] |= auto is not None or manual is not None
    graded = [s for s in subs.values() if s["graded"]]
    if not graded:
        raise CourseError(f"{where}: assignment {assignment!r} has no graded submissions yet "
                          f"({len(subs)} submitted, none autograded)")
    questions = sorted(cells, key=natural_key)
    item_max = np.array([cells[q] for q in questions], dtype=np.float64)
    item_scores = np.array([[s["items"].get(q, np.nan) for q in questions] for s in graded], dtype=np.float64)
    if item_max.sum() <= 0:
        raise CourseError(f"{where}: assignment {assignment!r} has no points to score (max score 0)")
    return Attempts.from_rows(
        [s["student"] for s in graded], [s["timestamp"] for s in graded],
        np.nansum(item_scores, axis=1), item_max.sum(), questions=questions, item_scores=item_scores,
        item_max=item_max, assignment=assignment, due=due, source="nbgrader gradebook", where=where)


def _progress(iterable, *, total: int, desc: str, show: bool | None):
    from tqdm.auto import tqdm

    disable = (not show) if show is not None else (total < 20000 or None)
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False)


# ----------------------------------------------------------------- students' answers

def normalise_choice(text) -> frozenset:
    """A typed answer → the set of option letters chosen (Cyrillic), or {"true"}/{"false"}.

    Reads answers with the quiz's own normaliser (:mod:`course.quiz.normalize`):
    look-alike Latin/Greek letters, any case, order and separators. A true/false
    word is tried first; an answer that is neither gives the empty set (no
    valid answer).

    >>> sorted(normalise_choice("{B, г}"))
    ['В', 'Г']
    >>> normalise_choice("Неверно"), normalise_choice("???")
    (frozenset({'false'}), frozenset())
    """
    from course.quiz.normalize import AnswerError, parse_letters, parse_truefalse

    if text is None:
        return frozenset()
    if isinstance(text, (bool, str)):
        try:
            return frozenset({"true" if parse_truefalse(text) else "false"})
        except AnswerError:
            pass
    try:
        return parse_letters(text, "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ")
    except AnswerError:
        return frozenset()


def read_responses_csv(path: str | os.PathLike, *, normalise: Callable = normalise_choice) -> Responses:
    """Answers in long form: columns ``student_id, question, answer`` and optional ``timestamp``.

    ``answer`` is what the student typed ("В, Г", "b", "неверно"); ``normalise``
    turns it into a set of option letters.
    """
    where = str(path)
    header, rows = _read_table(path)
    from .moodle import is_moodle_responses, read_moodle_responses

    if is_moodle_responses(header):
        return read_moodle_responses(header, rows, where=where)
    lower = [h.lower() for h in header]
    need = {"student_id": ("student_id", "student"), "question": ("question", "question_id"),
            "answer": ("answer", "response", "choice")}
    col = {}
    for key, names in need.items():
        found = [lower.index(n) for n in names if n in lower]
        if not found:
            raise CourseError(f"{where}: missing column {key} (found: {', '.join(header)})")
        col[key] = found[0]
    line = list(range(2, len(rows) + 2))
    for i, r in enumerate(rows):
        if len(r) <= max(col.values()):
            raise CourseError(f"{where}: row {line[i]} has {len(r)} fields, the header has {len(header)}")
    ts = (_timestamps([r[lower.index("timestamp")] if len(r) > lower.index("timestamp") else "" for r in rows],
                      where=where, rows=line) if "timestamp" in lower
          else np.full(len(rows), np.datetime64("NaT"), dtype=TIME_UNIT))
    return Responses(np.array([r[col["student_id"]].strip() for r in rows], dtype=object),
                     np.array([r[col["question"]].strip() for r in rows], dtype=object),
                     tuple(normalise(r[col["answer"]]) for r in rows), ts,
                     raw=tuple(r[col["answer"]].strip() for r in rows))


def _answer_from_source(source: str):
    """The answer a cell holds: the literal assigned in ``ANSWER = "В, Г"`` or else the cell's text."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in reversed(tree.body):
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) else None
            if value is not None:
                try:
                    return ast.literal_eval(value)
                except (ValueError, SyntaxError, TypeError):
                    continue
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return " ".join(lines)


def read_responses_notebooks(root: str | os.PathLike, assignment: str, *,
                             questions: Iterable[str] | None = None,
                             normalise: Callable = normalise_choice) -> Responses:
    """Answers read from autograded notebooks laid out as nbgrader does: ``root/STUDENT/ASSIGNMENT/*.ipynb``.

    A cell is an answer when its metadata names a question: ``xai_course.question``
    if present, else nbgrader's ``grade_id`` of a solution cell. The answer is
    the literal the cell assigns (``ANSWER = "В, Г"``) or the cell's text.
    With ``questions`` given, other cells are ignored.
    """
    root = Path(root)
    wanted = set(questions) if questions is not None else None
    notebooks = sorted(root.glob(f"*/{assignment}/*.ipynb"))
    if not notebooks:
        raise CourseError(f"{root}: no notebooks for assignment {assignment!r} (expected {root}/STUDENT/"
                          f"{assignment}/*.ipynb)")
    student, question, choice, raw, stamps = [], [], [], [], []
    for nb_path in notebooks:
        try:
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CourseError(f"{nb_path}: not a readable notebook ({exc})") from None
        cells = nb.get("cells") if isinstance(nb, dict) else None
        if not isinstance(cells, list):
            raise CourseError(f"{nb_path}: not a notebook (no list of cells)")
        stamp = _timestamp_file(nb_path.parent / "timestamp.txt")
        for cell in cells:
            # a student can edit metadata by hand: anything of the wrong type is "not an answer cell"
            meta = _dict(cell.get("metadata")) if isinstance(cell, dict) else {}
            qid = _dict(meta.get("xai_course")).get("question")
            nbg = _dict(meta.get("nbgrader"))
            if qid is None and nbg.get("solution"):
                qid = nbg.get("grade_id")
            if not isinstance(qid, str) or (wanted is not None and qid not in wanted):
                continue
            src = cell.get("source", "")
            src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else src
            if not isinstance(src, str):
                continue
            answer = _answer_from_source(src)
            student.append(nb_path.parent.parent.name)
            question.append(qid)
            choice.append(normalise(answer))
            raw.append("" if answer is None or answer is Ellipsis else str(answer))  # `ANSWER = ...`: none
            stamps.append(stamp)
    return Responses(np.array(student, dtype=object), np.array(question, dtype=object), tuple(choice),
                     np.array(stamps, dtype=TIME_UNIT), raw=tuple(raw))


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _timestamp_file(path: Path) -> np.datetime64:
    try:
        return _to_datetime64(parse_timestamp(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return np.datetime64("NaT", "s")
