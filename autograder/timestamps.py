"""The one timestamp parser of the grader: grade files, nbgrader's ``timestamp.txt`` and due dates.

Every timestamp becomes a naive UTC :class:`datetime.datetime` (and, in the
tables, a ``datetime64[s]``). Accepted: ISO 8601 with any offset or none,
``dd.mm.yyyy [HH:MM[:SS]]`` (Russian spreadsheets) and nbgrader's own
``timestamp.txt`` form ``2024-03-01 12:00:00.123456 UTC`` (its default
``timestamp_format`` ``%Y-%m-%d %H:%M:%S.%f %Z``; a zone name from the system's
time-zone database or a numeric offset).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path

import numpy as np

from course.errors import CourseError

__all__ = [
    "TIME_UNIT",
    "parse_timestamp",
    "submission_timestamp",
    "to_datetime64",
    "timestamp_column",
    "timestamp_file",
]

#: numpy unit for every timestamp of the tables (naive UTC)
TIME_UNIT = "datetime64[s]"

_RU_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def _zone(name: str) -> tzinfo:
    """A zone written after the time: UTC/GMT/Z, ``+0300``/``-05:00`` or an IANA name (``Europe/Moscow``)."""
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    m = _OFFSET.match(name)
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def parse_timestamp(text: str | None) -> datetime | None:
    """ISO 8601 (any offset, converted to naive UTC), ``dd.mm.yyyy [HH:MM[:SS]]`` or nbgrader's
    ``DATE TIME ZONE``; empty → None; anything else raises ValueError.

    >>> parse_timestamp("2024-03-01T12:00:00+03:00")
    datetime.datetime(2024, 3, 1, 9, 0)
    >>> parse_timestamp("01.03.2024 09:30")
    datetime.datetime(2024, 3, 1, 9, 30)
    >>> parse_timestamp("2026-11-20 10:00:00.000000 UTC"), parse_timestamp("2024-03-01 12:00:00 +0300")
    (datetime.datetime(2026, 11, 20, 10, 0), datetime.datetime(2024, 3, 1, 9, 0))
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
    parts = text.split()
    stamp, zone = text, None
    if len(parts) == 3:  # nbgrader's timestamp.txt: date, time, zone
        stamp, zone = " ".join(parts[:2]), _zone(parts[2])
    try:
        ts = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use ISO 8601, e.g. 2024-03-01 12:00, or 01.03.2024 12:00)") from None
    if zone is not None and ts.tzinfo is None:
        ts = ts.replace(tzinfo=zone)
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts


def submission_timestamp(text: str | None) -> datetime | None:
    """A submission's ``timestamp.txt`` text → naive UTC; None when absent or unreadable (no time known).

    >>> submission_timestamp("2026-11-20 10:00:00.000000 UTC"), submission_timestamp("yesterday")
    (datetime.datetime(2026, 11, 20, 10, 0), None)
    """
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


def to_datetime64(value) -> np.datetime64:
    """None/NaN → NaT; a datetime, ``datetime64`` or text (:func:`parse_timestamp`) → naive UTC seconds."""
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


def timestamp_column(values: Sequence[str], *, where: str, rows: Sequence[int]) -> np.ndarray:
    """A column of timestamp texts → ``datetime64[s]``; CourseError names the file row of a bad one."""
    stripped = [v.strip() for v in values]
    try:  # fast path: naive ISO timestamps, as nbgrader and most tools write them
        if all(v[:1].isdigit() for v in stripped) and not any(
            "+" in v or v.endswith("Z") or "." in v[:10] for v in stripped
        ):
            return np.array(stripped, dtype=TIME_UNIT)
    except ValueError:
        pass
    out = np.empty(len(values), dtype=TIME_UNIT)
    for i, v in enumerate(stripped):
        try:
            out[i] = to_datetime64(parse_timestamp(v))
        except ValueError as exc:
            raise CourseError(f"{where}: row {rows[i]}: column 'timestamp': {exc}") from None
    return out


def timestamp_file(path: Path) -> np.datetime64:
    """The time in an nbgrader ``timestamp.txt``; NaT when the file is missing or unreadable."""
    try:
        return to_datetime64(submission_timestamp(path.read_text(encoding="utf-8")))
    except OSError:
        return np.datetime64("NaT", "s")
