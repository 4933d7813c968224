"""Step 6, record: every graded attempt in ``grades/<assignment>_attempts.csv`` and the autograded notebooks.

nbgrader's gradebook keeps only a student's latest submission; the attempts
CSV keeps one row per (student, timestamp), upserted atomically, which the
report reads (dynamics, best attempts). :func:`write_autograded` writes the
restored notebooks with their results where nbgrader's ``generate_feedback``
looks for them.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from autograder import gradebook_io
from autograder.collect import Course

if TYPE_CHECKING:
    from autograder.pipeline import SubmissionResult

__all__ = ["ATTEMPT_FIELDS", "attempts_path", "record_attempt", "write_autograded"]


ATTEMPT_FIELDS = ("student_id", "timestamp", "score", "max_score")


def attempts_path(course: Course, assignment: str) -> Path:
    return course.root / "grades" / f"{assignment}_attempts.csv"


def record_attempt(path: Path, result: SubmissionResult, max_points: dict) -> None:
    """Step 6: upsert the row of (student, timestamp) in the attempts CSV, atomically."""
    several = len({n for n, _ in max_points}) > 1
    columns = [
        f"{nb}/{gid} /{points:g}" if several else f"{gid} /{points:g}" for (nb, gid), points in max_points.items()
    ]
    header = list(ATTEMPT_FIELDS) + columns
    rows = {}
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rows[(row["student_id"], row["timestamp"])] = row
    sub = result.submission
    stamp = gradebook_io.parse_timestamp(sub.timestamp)  # naive UTC, written as ISO 8601
    row = {
        "student_id": sub.student,
        "timestamp": stamp.isoformat(sep=" ") if stamp else "",
        "score": f"{result.score:g}",
        "max_score": f"{sum(max_points.values()):g}",
    }
    for column, key in zip(columns, max_points):
        row[column] = f"{result.scores.get(key, 0.0):g}"
    rows[(sub.student, row["timestamp"])] = row
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    for key in sorted(rows):
        writer.writerow(rows[key])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def write_autograded(course: Course, result: SubmissionResult) -> None:
    sub = result.submission
    folder = course.folder("autograded", sub.assignment, sub.student)
    folder.mkdir(parents=True, exist_ok=True)
    for notebook, text in result.feedback.items():
        (folder / f"{notebook}.ipynb").write_text(text, encoding="utf-8")
    if sub.timestamp:
        (folder / "timestamp.txt").write_text(sub.timestamp, encoding="utf-8")
