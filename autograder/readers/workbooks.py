"""Tables that are not plain text: Excel (.xlsx), OpenDocument (.ods), an HTML table and JSON records.

Moodle offers every report download in these formats besides CSV and TSV
(Moodle's ``dataformat`` plugins): ``excel`` and ``ods`` write the table through
OpenSpout (text cells, consecutive equal cells of an ODS row merged with
``table:number-columns-repeated``), ``html`` writes one ``<table>`` whose first
row holds ``<th>`` cells, ``json`` writes an array of sheets, each an array of
records without the column names. A file saved again by Excel or LibreOffice
(shared strings, numbers as numbers, repeated empty cells and rows) reads the
same. The kind of file is told by its first bytes, never by its name.

Every reader returns the header and the non-empty rows as text, like
:func:`autograder.readers.text.read_table`, so the grade and answer readers
work unchanged. Workbooks are zip archives: their declared sizes are checked
before anything is unpacked (:data:`MAX_UNPACKED`), and their XML is parsed
with :mod:`defusedxml` (no entity expansion, no external entities).

>>> sniff(b"PK\\x03\\x04...") in ("xlsx", "ods", "zip")
True
"""

from __future__ import annotations

import io
import json
import math
import warnings
import zipfile
from datetime import date, datetime, time
from html.parser import HTMLParser

from course.errors import CourseError

__all__ = ["MAX_UNPACKED", "sniff", "read_workbook", "KINDS"]

#: the largest total of unpacked sizes a workbook may declare (a zip bomb is refused before it is opened)
MAX_UNPACKED = 256 * 2**20
#: the widest row and the most rows an ODS table may expand to (repeated cells and rows count as many);
#: trailing empty cells and rows, which LibreOffice repeats to the sheet's edge, are dropped first
_MAX_REPEAT = 10_000
_MAX_ROWS = 1_000_000

KINDS = {
    "xlsx": "an Excel workbook (.xlsx)",
    "ods": "an OpenDocument spreadsheet (.ods)",
    "html": "an HTML table",
    "json": "JSON records",
}
_REFUSED = {
    "xls": "an Excel 97-2003 workbook (.xls): save it as .xlsx or CSV, or download the report again as CSV or Excel",
    "pdf": "a PDF document: download the report as CSV, TSV, Excel (.xlsx) or OpenDocument (.ods) instead",
    "zip": "a zip archive that is neither an Excel (.xlsx) nor an OpenDocument (.ods) spreadsheet",
}
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def sniff(data: bytes) -> str:
    """The kind of a table file from its first bytes: xlsx, ods, zip, xls, pdf, html, json or text.

    >>> sniff(b"%PDF-1.7"), sniff(b'\\xef\\xbb\\xbf[["a"]]'), sniff(b"<!DOCTYPE html><table>"), sniff(b"a,b\\n1,2")
    ('pdf', 'json', 'html', 'text')
    """
    if data.startswith(b"PK\x03\x04"):
        if data[30:38] == b"mimetype" and _ODS_MIME in data[38:120]:
            return "ods"
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return "zip"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names and "mimetype" in names:
            return "ods"
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if data.startswith(b"%PDF"):
        return "pdf"
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml", b"<head", b"<body", b"<meta")):
        return "html"
    if head.startswith((b"[", b"{")):
        return "json"
    return "text"


def read_workbook(data: bytes, kind: str, *, where: str) -> tuple[list[str], list[list[str]]]:
    """Header and non-empty rows (as text) of a file of the given :func:`sniff` kind other than text."""
    if kind in _REFUSED:
        raise CourseError(f"{where}: {_REFUSED[kind]}")
    reader = {"xlsx": _read_xlsx, "ods": _read_ods, "html": _read_html, "json": _read_json}[kind]
    rows = [r for r in reader(data, where) if any(c.strip() for c in r)]
    if not rows:
        raise CourseError(f"{where}: {KINDS[kind]} with no rows")
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    while width and not any(r[width - 1].strip() for r in rows):
        width -= 1  # trailing empty columns a spreadsheet program kept
    rows = [r[:width] for r in rows]
    return [h.strip() for h in rows[0]], rows[1:]


def _open_zip(data: bytes, where: str, what: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CourseError(f"{where}: not a readable {what} ({exc})") from None
    unpacked = sum(i.file_size for i in infos)
    if unpacked > MAX_UNPACKED:
        raise CourseError(
            f"{where}: {what} would unpack to {unpacked / 2**20:.0f} MB (more than {MAX_UNPACKED // 2**20} MB); "
            "refused — download the report as CSV"
        )
    return archive


def _text(value) -> str:
    """One cell as the text a CSV download would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, where: str) -> list[list[str]]:
    """The first worksheet, read with openpyxl (read-only, cached values, not formulas)."""
    _open_zip(data, where, KINDS["xlsx"]).close()
    try:
        import openpyxl
    except ImportError:
        raise CourseError(f"{where}: reading .xlsx needs openpyxl: pip install 'xai-course[grader]'") from None
    try:
        with warnings.catch_warnings():  # "no default style" and the like: about looks, not about values
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                rows = []
                for row in book.worksheets[0].iter_rows(values_only=True):
                    if len(rows) >= _MAX_ROWS:
                        raise CourseError(f"{where}: more than {_MAX_ROWS} rows")
                    rows.append([_text(v) for v in row])
                return rows
            finally:
                book.close()
    except CourseError:
        raise
    except Exception as exc:  # openpyxl raises many kinds (KeyError, ValueError, XML errors) for a broken file
        raise CourseError(f"{where}: not a readable Excel workbook ({type(exc).__name__}: {exc})") from None


_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXTNS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _ods_paragraph(p) -> str:
    """Text of one ``text:p`` with ``text:s`` (spaces), ``text:tab`` and ``text:line-break`` spelled out."""
    out = [p.text or ""]
    for child in p:
        if child.tag == _q(_TEXTNS, "s"):
            out.append(" " * int(child.get(_q(_TEXTNS, "c"), "1")))
        elif child.tag == _q(_TEXTNS, "tab"):
            out.append("\t")
        elif child.tag == _q(_TEXTNS, "line-break"):
            out.append("\n")
        else:
            out.append(_ods_paragraph(child))
        out.append(child.tail or "")
    return "".join(out)


def _ods_cell(cell) -> str:
    kind = cell.get(_q(_OFFICE, "value-type"))
    if kind in ("float", "percentage", "currency"):
        value = cell.get(_q(_OFFICE, "value"))
        if value is not None:
            try:
                return _text(float(value))
            except ValueError:
                return value
    if kind == "date" and cell.get(_q(_OFFICE, "date-value")):
        return cell.get(_q(_OFFICE, "date-value")).replace("T", " ")
    if kind == "boolean" and cell.get(_q(_OFFICE, "boolean-value")):
        return cell.get(_q(_OFFICE, "boolean-value")).upper()
    return "\n".join(_ods_paragraph(p) for p in cell.findall(_q(_TEXTNS, "p")))


def _repeat(element, attribute: str, where: str) -> int:
    try:
        n = int(element.get(_q(_TABLE, attribute), "1"))
    except ValueError:
        raise CourseError(f"{where}: a broken OpenDocument spreadsheet (table:{attribute} is not a number)") from None
    return max(n, 1)


def _read_ods(data: bytes, where: str) -> list[list[str]]:
    """The first table of ``content.xml``; repeated cells and rows expanded, trailing padding dropped."""
    from defusedxml import ElementTree as SafeTree  # the grader's extra brings it (nbconvert needs it too)

    archive = _open_zip(data, where, KINDS["ods"])
    try:
        content = archive.read("content.xml")
    except KeyError:
        raise CourseError(f"{where}: an OpenDocument file without content.xml") from None
    try:
        root = SafeTree.fromstring(content)
    except Exception as exc:  # defusedxml's refusals and expat's syntax errors
        raise CourseError(f"{where}: a broken OpenDocument spreadsheet ({type(exc).__name__}: {exc})") from None
    table = next(root.iter(_q(_TABLE, "table")), None)
    if table is None:
        raise CourseError(f"{where}: an OpenDocument file with no table")
    rows: list[list[str]] = []
    pending_empty = 0  # empty rows seen; kept only if a non-empty row follows
    for row in table.iter(_q(_TABLE, "table-row")):
        cells: list[str] = []
        pending: list[str] = []  # empty cells seen; kept only if a non-empty cell follows
        for cell in row:
            if cell.tag not in (_q(_TABLE, "table-cell"), _q(_TABLE, "covered-table-cell")):
                continue
            n = _repeat(cell, "number-columns-repeated", where)
            value = _ods_cell(cell)
            if not value:
                pending.extend([""] * min(n, _MAX_REPEAT))
                continue
            if len(cells) + len(pending) + n > _MAX_REPEAT:
                raise CourseError(f"{where}: a row wider than {_MAX_REPEAT} cells")
            cells.extend(pending)
            pending = []
            cells.extend([value] * n)
        n_rows = _repeat(row, "number-rows-repeated", where)
        if not cells:
            pending_empty += n_rows
            continue
        if len(rows) + pending_empty + n_rows > _MAX_ROWS:
            raise CourseError(f"{where}: more than {_MAX_ROWS} rows")
        rows.extend([[] for _ in range(pending_empty)])
        pending_empty = 0
        rows.extend([list(cells) for _ in range(n_rows)])
    return rows


class _TableParser(HTMLParser):
    """The rows of the first ``<table>`` of a page: the text of each ``<th>``/``<td>``, whitespace collapsed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.depth = 0  # nesting of tables; only the first top-level table is read
        self.done = False
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if tag == "table":
            self.depth += 1
        elif self.depth == 1 and tag == "tr":
            self._close_cell()
            self.rows.append([])
        elif self.depth == 1 and tag in ("td", "th"):
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            self.cell = []
        elif self.cell is not None and tag in ("br", "p", "div", "li"):
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if self.done:
            return
        if tag == "table":
            self.depth -= 1
            if self.depth == 0:
                self._close_cell()
                self.done = bool(self.rows)
        elif self.depth == 1 and tag in ("td", "th", "tr"):
            self._close_cell()

    def handle_data(self, data):
        if self.cell is not None and self.depth >= 1:
            self.cell.append(data)

    def _close_cell(self):
        if self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None


def _read_html(data: bytes, where: str) -> list[list[str]]:
    from .text import decode_text

    parser = _TableParser()
    parser.feed(decode_text(data, where=where))
    parser.close()
    if not parser.rows:
        raise CourseError(f"{where}: an HTML page with no table")
    return parser.rows


def _is_number(text: str) -> bool:
    try:
        float(text.strip().replace(",", "."))
    except ValueError:
        return False
    return True


def _read_json(data: bytes, where: str) -> list[list[str]]:
    """Records as objects (their keys are the header) or rows as arrays under a header row of text."""
    from .text import decode_text

    try:
        doc = json.loads(decode_text(data, where=where))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CourseError(f"{where}: not valid JSON ({exc})") from None
    # Moodle writes [sheet, ...] with each sheet a list of records; take the first sheet
    if isinstance(doc, list) and doc and isinstance(doc[0], list) and doc[0] and isinstance(doc[0][0], (list, dict)):
        doc = doc[0]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list) or not doc:
        raise CourseError(f"{where}: JSON with no records")
    if all(isinstance(r, dict) for r in doc):
        header: list[str] = []
        for r in doc:
            header.extend(k for k in r if k not in header)
        return [header] + [[_text(r.get(k)) for k in header] for r in doc]
    if all(isinstance(r, list) for r in doc):
        rows = [[_text(v) for v in r] for r in doc]
        if not any(_is_number(c) for c in rows[0]):
            return rows  # a header row of names first
        raise CourseError(
            f"{where}: JSON rows without column names (Moodle's JSON download leaves them out); "
            "download the report as CSV, TSV, Excel (.xlsx) or OpenDocument (.ods) instead"
        )
    raise CourseError(f"{where}: JSON that is neither a list of records nor a list of rows")
