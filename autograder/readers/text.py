"""Spreadsheet text as instructors' tools write it: encodings, separators and decimal commas.

Other table files (Excel, OpenDocument, HTML, JSON) are handed to
:mod:`autograder.readers.workbooks` and come back as the same header and rows.

UTF-8, UTF-8 with BOM and Windows-1251 files; ``;``, TAB or ``,`` separators
(whichever the header uses most); numbers with a decimal point or a decimal
comma. Every error names the file and the row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from course.errors import CourseError

from .workbooks import read_workbook, sniff

__all__ = ["decode_text", "read_table", "parse_numbers"]


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


def read_table(path: str | os.PathLike) -> tuple[list[str], list[list[str]]]:
    """Header and non-empty rows of a table file: CSV/TSV text with detected encoding and separator, or a
    workbook, an HTML table or JSON records (:mod:`autograder.readers.workbooks`), told by its first bytes."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CourseError(f"{path}: cannot read ({exc.strerror})") from None
    kind = sniff(data)
    if kind != "text":
        return read_workbook(data, kind, where=str(path))
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


def parse_numbers(
    values: Sequence[str], *, where: str, column: str, rows: Sequence[int], allow_empty: bool = False
) -> np.ndarray:
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
