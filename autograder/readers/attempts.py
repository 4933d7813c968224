"""The table every grade source becomes: :class:`Attempts` (one row per graded attempt) and
:class:`Responses` (one row per answer), with the checks every reader shares.

The statistics in :mod:`autograder.stats` and :mod:`autograder.items` read
these two tables only, so they never care where the numbers came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from course.errors import CourseError

from ..timestamps import TIME_UNIT, to_datetime64

__all__ = ["Attempts", "Responses", "natural_key", "observed_item_max", "check_duplicates", "cap_extra_credit"]


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
    def from_rows(
        cls,
        student,
        timestamp,
        score,
        max_score,
        *,
        questions=(),
        item_scores=None,
        item_max=None,
        assignment=None,
        due=None,
        source="",
        where="attempts",
    ) -> Attempts:
        """Build a validated table from plain sequences (timestamps: datetime, ISO text or None).

        Raises CourseError for columns of different lengths, non-numbers, bad
        timestamps and every problem :meth:`validate` finds.
        """
        student = np.asarray([str(s) for s in student], dtype=object)
        n = len(student)
        try:
            ts = np.array([to_datetime64(t) for t in timestamp], dtype=TIME_UNIT) if n else np.zeros(0, TIME_UNIT)
            if due is not None:
                due = to_datetime64(due)
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
                item_max = observed_item_max(item_scores)
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
        return Attempts(
            self.student[index],
            self.timestamp[index],
            self.score[index],
            self.max_score[index],
            self.questions,
            self.item_scores[index],
            self.item_max,
            self.assignment,
            self.due,
            self.source,
        )

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
                raise CourseError(
                    f"{where}: row {row(i)} (student {self.student[i]}): {what} "
                    f"(score {self.score[i]:g}, max_score {self.max_score[i]:g})"
                )
        if self.questions:
            item = self.item_scores
            bad = (item < 0) | (item > self.item_max * (1 + 1e-9))
            if bad.any():
                i, j = map(int, np.argwhere(bad)[0])
                raise CourseError(
                    f"{where}: row {row(i)} (student {self.student[i]}): question "
                    f"{self.questions[j]!r} has {item[i, j]:g} points, outside 0..{self.item_max[j]:g}"
                )


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

    @classmethod
    def from_rows(
        cls,
        student: Sequence[str],
        question: Sequence[str],
        choice: Sequence[frozenset],
        timestamp: Sequence[np.datetime64],
        raw: Sequence[str],
        right: dict | None = None,
    ) -> Responses:
        """Responses from the parallel per-row lists a reader collects (one entry per answer).

        >>> r = Responses.from_rows(["s1"], ["q1"], [frozenset("А")], [np.datetime64("NaT")], ["А"])
        >>> len(r), r.student.dtype, r.timestamp.dtype
        (1, dtype('O'), dtype('<M8[s]'))
        """
        return cls(
            np.array(student, dtype=object),
            np.array(question, dtype=object),
            tuple(choice),
            np.array(timestamp, dtype=TIME_UNIT),
            raw=tuple(raw),
            right=right if right is not None else {},
        )


def natural_key(name) -> tuple:
    """Sort key that orders the numbers inside names by value: l1, l2, …, l10 (not l1, l10, l2).

    >>> sorted(["l10", "l2", "Q. 1", "l1", "Q. 10", "Q. 9"], key=natural_key)
    ['l1', 'l2', 'l10', 'Q. 1', 'Q. 9', 'Q. 10']
    """
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", str(name)) if part
    )


def observed_item_max(item_scores: np.ndarray) -> np.ndarray:
    """The largest score seen per question column (1 where none is positive): the maximum a source did not give."""
    if item_scores.size == 0:
        return np.zeros(item_scores.shape[1])
    with np.errstate(all="ignore"):
        m = np.nanmax(np.where(np.isnan(item_scores), -np.inf, item_scores), axis=0)
    return np.where(np.isfinite(m) & (m > 0), m, 1.0)


def cap_extra_credit(score: np.ndarray, max_score: np.ndarray) -> tuple[np.ndarray, str]:
    """Scores above the maximum counted at the maximum, and a note saying how many (empty when none).

    nbgrader's extra credit (``Grade.extra_credit``) may lift a submission above
    the assignment's ``max_score``; the report works on a 0-100 % scale, so such
    an attempt counts as 100 % and the report says so. Only nbgrader's sources
    call this: in a grade CSV typed by hand a score above the maximum is an error.

    >>> cap_extra_credit(np.array([6.0, 4.0]), np.array([5.0, 5.0]))
    (array([5., 4.]), '1 attempt with extra credit above the maximum counted at the maximum')
    """
    with np.errstate(invalid="ignore"):
        above = score > max_score * (1 + 1e-9)
    n = int(np.count_nonzero(above))
    if not n:
        return score, ""
    note = f"{n} attempt{'s' if n > 1 else ''} with extra credit above the maximum counted at the maximum"
    return np.where(above, max_score, score), note


def check_duplicates(student, timestamp, rows, *, where, extra=None) -> None:
    """Two rows with the same student and timestamp (or identical rows without timestamps)."""
    seen: dict = {}
    ts = timestamp.astype("int64")
    nat = np.isnat(timestamp)
    for i in range(len(student)):
        key = (student[i], None if nat[i] else int(ts[i]), extra[i] if nat[i] and extra is not None else None)
        j = seen.setdefault(key, i)
        if j != i:
            when = "no timestamp" if nat[i] else f"timestamp {timestamp[i]}"
            raise CourseError(
                f"{where}: rows {rows[j]} and {rows[i]} are duplicates "
                f"(student {student[i]}, {when}); remove one of them"
            )
