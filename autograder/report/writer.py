"""Writing a report folder: every file into a temporary directory, then one rename into place.

A failed run leaves nothing half-written, an earlier report survives a failed
``force`` run, and only a folder the report wrote itself (it holds
:data:`REPORT_MARKER`, :mod:`autograder.owned`) is ever replaced.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import numpy as np

from course.errors import CourseError

from .. import items as itemstats
from .. import stats
from ..owned import check_replaceable, mark
from ..readers import Attempts, Responses, parse_timestamp
from .charts import make_charts
from .html_page import render_html
from .markdown import render_markdown
from .summary import build_summary, render_json

__all__ = ["REPORT_MARKER", "check_target", "write_report"]


#: written into every report directory: only a folder holding it is ever replaced (with force)
REPORT_MARKER = ".xai-course-report"


def check_target(out: Path, force: bool) -> bool:
    """Whether ``out`` holds an earlier report (replaced only with ``force``); CourseError for anything else."""
    return check_replaceable(out, REPORT_MARKER, command="xai-course report", force=force, arg="out_dir")


def write_report(
    attempts: Attempts,
    out_dir: str | os.PathLike,
    *,
    bands=stats.DEFAULT_BANDS,
    policy: str = "best",
    due=None,
    bank: Mapping | Iterable | None = None,
    responses: Responses | None = None,
    every="day",
    mistakes_threshold: float | None = None,
    mistakes_limit: int | None = itemstats.DEFAULT_MISTAKES,
    force: bool = False,
    now: datetime | None = None,
) -> Path:
    """Write the instructor's report of ``attempts`` into ``out_dir`` and return its path.

    Parameters
    ----------
    attempts : the table of attempts (:func:`autograder.readers.read_gradebook`,
        :func:`~autograder.readers.read_grades_csv`, or built with ``Attempts.from_rows``)
    out_dir : the report directory; it receives ``report.md``, ``report.html``
        (self-contained), ``summary.json`` and ``distribution.png``, ``bands.png``
        and, when attempts have timestamps, ``dynamics.png``
    bands : grade bands, highest first (:data:`autograder.stats.DEFAULT_BANDS`
        or :func:`autograder.stats.parse_bands`)
    policy : which attempts the bands and statistics use: "best" (default),
        "first", "last" or "all"
    due : due date (datetime or ISO text, UTC); defaults to the source's; the
        report is marked preliminary until it has passed
    bank : the quiz's questions: a ``course.quiz.bank.Bank``, a mapping question id → ``Question``
        (:func:`autograder.report.load_bank`) or → :class:`autograder.items.ItemQuestion`
    responses : the options students chose, for the response analysis
    every : dynamics step, "day" or a number of attempts
    mistakes_threshold, mistakes_limit : common mistakes are the ``mistakes_limit``
        questions with the lowest facility (default 3; None: all) that someone got
        wrong; with a threshold (percent) only those with facility below it
    force : replace an earlier report in ``out_dir``; a folder the report did not
        write (no ``.xai-course-report`` file in it) is never replaced
    now : the time the report is made (for tests); default: the current UTC time

    Raises
    ------
    CourseError : ``out_dir`` holds an earlier report (without ``force``) or
        anything else (always), or bad options. Nothing
        is written then: files go to a temporary directory beside ``out_dir``
        that is renamed into place at the end.

    Examples
    --------
    >>> import tempfile, json, pathlib
    >>> from autograder.readers import Attempts
    >>> a = Attempts.from_rows(["s1", "s2"], ["2024-03-01 10:00", "2024-03-02 11:00"], [9, 5], 10)
    >>> out = write_report(a, pathlib.Path(tempfile.mkdtemp()) / "rep")
    >>> json.loads((out / "summary.json").read_text())["average_percent"]
    70.0
    """
    out = Path(out_dir)
    check_target(out, force)
    if mistakes_threshold is not None and (
        isinstance(mistakes_threshold, bool)
        or not isinstance(mistakes_threshold, (int, float))
        or not 0 <= mistakes_threshold <= 100
    ):
        raise CourseError(f"mistakes_threshold={mistakes_threshold!r}: must be a percentage from 0 to 100")
    if mistakes_limit is not None and (
        isinstance(mistakes_limit, bool) or not isinstance(mistakes_limit, int) or mistakes_limit < 0
    ):
        raise CourseError(f"mistakes_limit={mistakes_limit!r}: must be a non-negative number of questions")
    if due is not None and not isinstance(due, (datetime, np.datetime64)):
        try:
            due = parse_timestamp(str(due))
        except ValueError as exc:
            raise CourseError(f"due date: {exc}") from None
    summary = build_summary(
        attempts,
        bands=bands,
        policy=policy,
        due=due,
        now=now,
        bank=bank,
        responses=responses,
        every=every,
        mistakes_threshold=mistakes_threshold,
        mistakes_limit=mistakes_limit,
    )
    charts = make_charts(summary)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise CourseError(f"{out}: cannot create the report directory there ({exc.strerror}: {exc.filename})") from None
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the report is meant to be shared
        mark(tmp, REPORT_MARKER, "xai-course report")
        for name, data in charts.items():
            (tmp / name).write_bytes(data)
        (tmp / "summary.json").write_text(render_json(summary), encoding="utf-8")
        (tmp / "report.md").write_text(render_markdown(summary, set(charts)), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(summary, charts), encoding="utf-8")
        if check_target(out, force):
            old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise CourseError(f"{out}: writing the report failed ({exc.strerror}); nothing was written") from None
        raise
    return out
