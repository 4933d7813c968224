"""Moodle's other download formats (Excel, OpenDocument, HTML, JSON) and workbooks saved again by a spreadsheet program.

The Moodle fixtures in tests/fixtures/moodle/ are written as Moodle's dataformat plugins write them
(make_fixtures.py there); each must read exactly as the CSV download of the same report does, which
test_sources_moodle.py checks against values read off the rows by hand. Workbooks as Excel saves them
are written here with openpyxl (numbers and dates as typed cells), their text then moved to a
shared-strings table as Excel stores it. OpenDocument files as LibreOffice saves them are written by
hand from the ODF 1.2 schema (repeated cells and rows to the sheet's edge, ``text:s`` spaces, typed
float cells). Hostile or wrong files must each give one clear line.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from autograder import cli
from autograder.readers import text, workbooks
from autograder.sources import read_grades_csv, read_responses_csv
from course.errors import CourseError

HERE = Path(__file__).parent / "fixtures" / "moodle"


def same_attempts(a, b):
    assert a.student.tolist() == b.student.tolist()
    assert a.score.tolist() == b.score.tolist() and a.max_score.tolist() == b.max_score.tolist()
    assert a.timestamp.tolist() == b.timestamp.tolist()
    assert a.questions == b.questions and a.item_max.tolist() == b.item_max.tolist()
    np.testing.assert_array_equal(a.item_scores, b.item_scores)  # NaN (not answered) in the same places


def excel_layout(path: Path) -> None:
    """Rewrite an openpyxl workbook (inline strings) with its text in a shared-strings table, as Excel stores it."""
    import re
    from xml.sax.saxutils import escape, unescape

    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    strings: list[str] = []

    def shared(m: re.Match) -> str:
        value = unescape(m.group(2))
        if value not in strings:
            strings.append(value)
        return f'<c {m.group(1)} t="s"><v>{strings.index(value)}</v></c>'

    sheet = members["xl/worksheets/sheet1.xml"].decode()
    members["xl/worksheets/sheet1.xml"] = re.sub(
        r'<c ([^>]*?) ?t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>', shared, sheet
    ).encode()
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    items = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    members["xl/sharedStrings.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(strings)}" '
        f'uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()
    for member, closing, entry in (
        (
            "xl/_rels/workbook.xml.rels",
            "</Relationships>",
            '<Relationship Id="rIdSST" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/sharedStrings"/>',
        ),
        (
            "[Content_Types].xml",
            "</Types>",
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sharedStrings+xml"/>',
        ),
    ):
        members[member] = members[member].decode().replace(closing, entry + closing).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.mark.parametrize(
    "name, csv",
    [
        ("quiz7-grades-en.xlsx", "quiz7-grades-en.csv"),
        ("quiz7-grades-ru.ods", "quiz7-grades-ru.csv"),
        ("quiz7-grades-ru.html", "quiz7-grades-ru.csv"),
    ],
)
def test_each_moodle_grades_format_reads_as_its_csv(name, csv):
    a, b = read_grades_csv(HERE / name), read_grades_csv(HERE / csv)
    same_attempts(a, b)
    assert len(a) == 3 and "left out" in a.source  # the attempt in progress, as in the CSV


@pytest.mark.parametrize(
    "name, csv",
    [("quiz7-responses-ru.xlsx", "quiz7-responses-ru.csv"), ("quiz7-responses-en.ods", "quiz7-responses-en.csv")],
)
def test_each_moodle_responses_format_reads_as_its_csv(name, csv):
    a, b = read_responses_csv(HERE / name), read_responses_csv(HERE / csv)
    assert a.student.tolist() == b.student.tolist() and a.question.tolist() == b.question.tolist()
    assert a.choice == b.choice and a.raw == b.raw and a.right == b.right


def test_the_fixtures_are_laid_out_as_moodles_dataformat_plugins_write_them():
    with zipfile.ZipFile(HERE / "quiz7-grades-en.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert '<c r="H1" s="0" t="inlineStr"><is><t>Grade/10.00</t></is></c>' in sheet
    with zipfile.ZipFile(HERE / "quiz7-grades-ru.ods") as z:
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        content = z.read("content.xml").decode()
        assert 'table:number-columns-repeated="2"' in content  # Иванова's "2,00", "2,00" merged into one cell
    page = (HERE / "quiz7-grades-ru.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html><html>") and "<th>Оценка/10,00</th>" in page
    doc = json.loads((HERE / "moodle-grades-en.json").read_text(encoding="utf-8"))
    assert doc[0][0][:2] == ["Ivanova", "Anna"]  # records only: Moodle's JSON has no column names


def test_a_report_from_an_ods_and_an_xlsx_equals_the_one_from_the_csvs(tmp_path, capsys):
    def summary(grades, responses, out):
        args = ["report", "--csv", str(HERE / grades), "--responses", str(HERE / responses), "--out", str(out)]
        assert cli.main(args) == 0, capsys.readouterr().err
        s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        s.pop("source", None)
        s.pop("generated_at", None)  # the two reports are written a second apart
        return s

    from_workbooks = summary("quiz7-grades-ru.ods", "quiz7-responses-ru.xlsx", tmp_path / "a")
    from_csv = summary("quiz7-grades-ru.csv", "quiz7-responses-ru.csv", tmp_path / "b")
    assert from_workbooks == from_csv
    assert from_workbooks["total_results"] == 3 and from_workbooks["average_percent"] == 80.0


def test_a_workbook_saved_by_excel_with_numbers_and_dates(tmp_path):
    """The plain grade format typed into Excel: typed numbers, a real date cell, shared strings, a second sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["student_id", "timestamp", "score", "max_score", "q1 /2"])
    sheet.append(["s1", datetime(2024, 3, 1, 10, 0), 7.5, 10, 2])
    sheet.append(["s2", datetime(2024, 3, 2, 9, 30), 4, 10, 0.5])
    sheet.append([None, None, None, None, None])  # an empty row in between
    sheet.append(["s1", datetime(2024, 3, 3, 8, 0), 10, 10, 2])
    book.create_sheet("notes").append(["not read"])
    book.save(tmp_path / "grades.xlsx")
    excel_layout(tmp_path / "grades.xlsx")
    a = read_grades_csv(tmp_path / "grades.xlsx")
    assert a.student.tolist() == ["s1", "s2", "s1"]
    assert a.score.tolist() == [7.5, 4.0, 10.0] and a.max_score.tolist() == [10.0] * 3
    assert a.timestamp.astype(object).tolist() == [
        datetime(2024, 3, 1, 10, 0),
        datetime(2024, 3, 2, 9, 30),
        datetime(2024, 3, 3, 8, 0),
    ]
    assert a.item_scores[:, 0].tolist() == [2.0, 0.5, 2.0] and a.item_max.tolist() == [2.0]


def _ods(content_body: str) -> bytes:
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr(
            "content.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}><office:body>'
            f"<office:spreadsheet>{content_body}</office:spreadsheet></office:body></office:document-content>",
        )
    return buf.getvalue()


def test_an_ods_saved_by_libreoffice(tmp_path):
    """Typed float cells, text:s spaces, a header row group, repeated rows and padding to the sheet's edge."""
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    num = '<table:table-cell office:value-type="float" office:value="{}"><text:p>{}</text:p></table:table-cell>'
    pad = '<table:table-cell table:number-columns-repeated="1020"/>'
    body = (
        '<table:table table:name="Sheet1"><table:table-header-rows><table:table-row>'
        + "".join(cell.format(h) for h in ("student_id", "score", "max_score", "name"))
        + pad
        + "</table:table-row></table:table-header-rows>"
        + '<table:table-row table:number-rows-repeated="2">'
        + cell.format("s1")
        + num.format("7.5", "7,50")
        + num.format("10", "10")
        + '<table:table-cell office:value-type="string"><text:p>A<text:s text:c="2"/>B</text:p></table:table-cell>'
        + pad
        + "</table:table-row>"
        + '<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="1024"/>'
        + "</table:table-row><table:table-row>"
        + cell.format("s2")
        + num.format("2", "2")
        + num.format("10", "10")
        + pad
        + "</table:table-row>"
        + '<table:table-row table:number-rows-repeated="1048560"><table:table-cell '
        'table:number-columns-repeated="1024"/></table:table-row></table:table>'
    )
    header, rows = workbooks.read_workbook(_ods(body), "ods", where="x.ods")
    assert header == ["student_id", "score", "max_score", "name"]
    assert rows == [["s1", "7.5", "10", "A  B"], ["s1", "7.5", "10", "A  B"], ["s2", "2", "10", ""]]


def _refused(path: Path, capsys, match: str) -> None:
    with pytest.raises(CourseError, match=match):
        read_grades_csv(path)
    out = path.parent / f"report-{path.name}"
    assert cli.main(["report", "--csv", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("xai-course report: error:") and "Traceback" not in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "name, data, match",
    [
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, r"Excel 97-2003 workbook \(\.xls\): save it"),
        ("report.pdf", b"%PDF-1.7\n%...", r"a PDF document: download the report as CSV"),
        ("grades.xlsx", b"PK\x03\x04" + b"\x14\0" * 40, r"not a readable|neither an Excel"),
        (
            "page.html",
            b"<!DOCTYPE html><html><body><p>Log in to continue</p></body></html>",
            r"HTML page with no table",
        ),
        ("broken.json", b'[{"student_id": "s1", ', r"not valid JSON"),
    ],
)
def test_files_that_are_no_table_are_one_clear_line(tmp_path, capsys, name, data, match):
    (tmp_path / name).write_bytes(data)
    _refused(tmp_path / name, capsys, match)


def test_moodles_json_download_is_refused_with_what_to_download_instead(tmp_path, capsys):
    (tmp_path / "g.json").write_bytes((HERE / "moodle-grades-en.json").read_bytes())
    _refused(tmp_path / "g.json", capsys, r"without column names .*download the report as CSV, TSV, Excel")


def test_json_records_with_names_are_read(tmp_path):
    rows = [{"student_id": "s1", "score": 8, "max_score": 10}, {"student_id": "s2", "score": "6,5", "max_score": 10}]
    (tmp_path / "g.json").write_text(json.dumps(rows), encoding="utf-8")
    assert read_grades_csv(tmp_path / "g.json").score.tolist() == [8.0, 6.5]


def test_a_workbook_that_would_unpack_beyond_the_limit_is_refused_before_it_is_opened(tmp_path, capsys, monkeypatch):
    book = tmp_path / "big.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", "<x>" + " " * (3 * 2**20) + "</x>")  # 3 MB of spaces, ~3 KB packed
    monkeypatch.setattr(workbooks, "MAX_UNPACKED", 2**20)
    opened = []
    monkeypatch.setattr(workbooks.zipfile.ZipFile, "read", lambda *a, **k: opened.append(a) or b"")
    _refused(book, capsys, r"would unpack to 3 MB \(more than 1 MB\); refused")
    assert not opened


def test_entity_expansion_in_an_ods_is_refused(tmp_path, capsys):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><d>&c;</d>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", bomb)
    (tmp_path / "g.ods").write_bytes(buf.getvalue())
    _refused(tmp_path / "g.ods", capsys, r"broken OpenDocument spreadsheet \(EntitiesForbidden")


def test_the_kind_is_told_by_the_bytes_not_the_name(tmp_path):
    (tmp_path / "grades.xlsx").write_text("student_id,score,max_score\ns1,9,10\n", encoding="utf-8")
    assert read_grades_csv(tmp_path / "grades.xlsx").score.tolist() == [9.0]  # a CSV, whatever its name
    (tmp_path / "grades.csv").write_bytes((HERE / "quiz7-grades-en.xlsx").read_bytes())
    assert len(read_grades_csv(tmp_path / "grades.csv")) == 3  # an Excel workbook named .csv


@pytest.mark.parametrize(
    "data, kind",
    [
        ((HERE / "quiz7-grades-en.xlsx").read_bytes(), "xlsx"),
        ((HERE / "quiz7-grades-ru.ods").read_bytes(), "ods"),
        ((HERE / "quiz7-grades-ru.html").read_bytes(), "html"),
        ((HERE / "moodle-grades-en.json").read_bytes(), "json"),
        ((HERE / "quiz7-grades-en.csv").read_bytes(), "text"),
        ((HERE / "quiz7-grades-en.tsv").read_bytes(), "text"),
    ],
)
def test_sniff(data, kind):
    assert workbooks.sniff(data) == kind


def test_text_tables_never_go_through_the_workbook_readers(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("a text table reached the workbook readers")

    monkeypatch.setattr(text, "read_workbook", fail)
    header, rows = text.read_table(HERE / "quiz7-grades-en.csv")
    assert header[:2] == ["Surname", "First name"] and len(rows) == 5


def test_moodles_excel_download_saved_again_by_excel_reads_the_same(tmp_path):
    """Excel turns Moodle's text into numbers and dates when the file is edited and saved; nothing changes."""
    from autograder.readers.moodle import parse_moodle_date

    header, rows = text.read_table(HERE / "quiz7-grades-en.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        typed = []
        for c in r:
            try:
                typed.append(float(c))
            except ValueError:
                try:
                    typed.append(parse_moodle_date(c) or c)
                except ValueError:
                    typed.append(c)
        sheet.append(typed)
    book.save(tmp_path / "resaved.xlsx")
    excel_layout(tmp_path / "resaved.xlsx")
    with zipfile.ZipFile(tmp_path / "resaved.xlsx") as z:
        assert 't="s"' in z.read("xl/worksheets/sheet1.xml").decode()  # text as Excel stores it: shared strings
    same_attempts(read_grades_csv(tmp_path / "resaved.xlsx"), read_grades_csv(HERE / "quiz7-grades-en.csv"))
