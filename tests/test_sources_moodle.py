"""Moodle's own quiz downloads ("Grades" and "Responses", English and Russian; CSV with BOM, TSV, Excel, ODS, HTML).

The fixtures in tests/fixtures/moodle/ are laid out as Moodle writes them (see make_fixtures.py there):
identity columns, State, Started on, Completed, Time taken, Grade/10.00, Q. n /2.00 ("-" = not
answered), an attempt still in progress and the "Overall average" row at the end. Expected values are
read off the fixture rows by hand.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pytest

from autograder import cli, report
from autograder.readers.moodle import parse_moodle_date
from autograder.sources import read_grades_csv, read_responses_csv
from course.errors import CourseError

HERE = Path(__file__).parent / "fixtures" / "moodle"
GRADES = sorted(HERE.glob("quiz7-grades-*"))
RESPONSES = sorted(HERE.glob("quiz7-responses-*"))


def test_the_fixtures_are_laid_out_as_moodle_writes_them():
    # CSV and TSV here; the .xlsx, .ods and .html downloads in test_sources_workbooks.py
    assert len(GRADES) == 7 and len(RESPONSES) == 5
    for path in [p for p in GRADES + RESPONSES if p.suffix in (".csv", ".tsv")]:
        data = path.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") == (path.suffix == ".csv")  # Moodle's CSV starts with a BOM
        first = data.decode("utf-8-sig").splitlines()[0]
        assert ("\t" in first) == (path.suffix == ".tsv")
    assert '"Оценка/10,00","В. 1 /2,00"' in (HERE / "quiz7-grades-ru.csv").read_text(encoding="utf-8-sig")
    assert 'Grade/10.00,"Q. 1 /2.00"' in (HERE / "quiz7-grades-en.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("path", GRADES, ids=lambda p: p.name)
def test_grades_download_gives_finished_attempts_with_scores_and_maxima(path):
    a = read_grades_csv(path)
    # rows: Ivanova 8.00 (finished), Petrov 6.00 and 10.00 (finished), Sidorov in progress, Overall average
    assert len(a) == 3 and a.students() == 2
    assert a.score.tolist() == [8.0, 6.0, 10.0] and a.max_score.tolist() == [10.0] * 3
    assert a.student.tolist() == ["a.ivanova@example.edu", "b.petrov@example.edu", "b.petrov@example.edu"]
    assert a.timestamp.astype(object).tolist() == [
        datetime(2024, 3, 14, 10, 32),
        datetime(2024, 3, 14, 11, 20),
        datetime(2024, 3, 15, 21, 30),
    ]  # "Completed", 9:30 PM = 21:30
    prefix = "В." if "-ru" in path.name else "Q."
    assert a.questions == tuple(f"{prefix} {k}" for k in range(1, 6))
    assert a.item_max.tolist() == [2.0] * 5
    assert math.isnan(a.item_scores[1, 3])  # Petrov's "-" on question 4 is "not answered", not zero
    assert a.item_scores[0].tolist() == [2.0, 2.0, 0.0, 2.0, 2.0]
    assert "left out" in a.source  # the attempt in progress is counted, not graded


@pytest.mark.parametrize("path", RESPONSES, ids=lambda p: p.name)
def test_responses_download_gives_the_chosen_options_and_the_key(path):
    r = read_responses_csv(path)
    assert len(r) == 12  # 3 finished attempts x 4 questions; the attempt in progress is left out
    prefix = "В." if "-ru" in path.name else "Q."
    q1 = [c for q, c in zip(r.question, r.choice) if q == f"{prefix} 1"]
    assert q1 == [frozenset({"false"}), frozenset({"true"}), frozenset({"true"})]  # False/Неверно → one label
    q3 = [c for q, c in zip(r.question, r.choice) if q == f"{prefix} 3"]
    assert q3[1] == frozenset({"{B, D}", "{C, D}"})  # "; " separates the options of one response
    assert r.right[f"{prefix} 3"] == frozenset({"{B, D}", "{C, D}"})
    q4 = [raw for q, raw in zip(r.question, r.raw) if q == f"{prefix} 4"]
    assert [x.replace(",", ".") for x in q4] == ["0.5", "2", ""]  # "-" = not answered


def test_report_from_a_russian_moodle_download(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        cli.main(
            [
                "report",
                "--csv",
                str(HERE / "quiz7-grades-ru.csv"),
                "--out",
                str(out),
                "--responses",
                str(HERE / "quiz7-responses-ru.csv"),
            ]
        )
        == 0
    ), capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["total_results"] == 3 and s["students"] == 2
    assert s["average_percent"] == 80.0  # (80 + 60 + 100) / 3
    # best attempts: Ivanova 80 % ("5"), Petrov 100 % ("5")
    assert [b["count"] for b in s["bands"]] == [2, 0, 0, 0]
    assert [i["question"] for i in s["items"]] == ["В. 1", "В. 2", "В. 3", "В. 4", "В. 5"]
    # В. 1 of the responses: Неверно is right; 1 of 3 answered it
    assert s["responses"]["В. 1"]["responses"] == 3


def test_dates_as_moodle_shows_them():
    assert parse_moodle_date("14 March 2024, 12:05 AM") == datetime(2024, 3, 14, 0, 5)
    assert parse_moodle_date("Thursday, 14 March 2024, 12:05 PM") == datetime(2024, 3, 14, 12, 5)
    assert parse_moodle_date("1 мая 2024, 23:59") == datetime(2024, 5, 1, 23, 59)
    assert parse_moodle_date("-") is None
    with pytest.raises(ValueError):
        parse_moodle_date("14 Smarch 2024, 10:00")


def test_a_download_with_no_finished_attempt_is_one_clear_error(tmp_path):
    text = (HERE / "quiz7-grades-en.csv").read_text(encoding="utf-8-sig").splitlines()
    only_in_progress = "\n".join([text[0]] + [line for line in text if "In progress" in line]) + "\n"
    (tmp_path / "g.csv").write_text(only_in_progress, encoding="utf-8")
    with pytest.raises(CourseError, match=r"no finished, graded attempts.*1 'In progress' left out"):
        read_grades_csv(tmp_path / "g.csv")


def test_not_yet_graded_attempts_are_left_out(tmp_path):
    text = (HERE / "quiz7-grades-en.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "g.csv").write_text(text.replace(",6.00,", ',"Not yet graded",', 1), encoding="utf-8")
    a = read_grades_csv(tmp_path / "g.csv")
    assert a.score.tolist() == [8.0, 10.0] and "1 not yet graded left out" in a.source
    out = report.write_report(a, tmp_path / "r")
    assert "not yet graded" in (out / "report.md").read_text(encoding="utf-8")


def test_moodle_4_headers_read_as_the_older_ones(tmp_path):
    """Moodle 4 names the columns Status, Started and Duration; the attempts are the same."""
    text = (HERE / "quiz7-grades-en.csv").read_text(encoding="utf-8-sig")
    head, rest = text.split("\n", 1)
    head = head.replace("State", "Status").replace('"Started on"', "Started").replace('"Time taken"', "Duration")
    (tmp_path / "g.csv").write_text("\ufeff" + head + "\n" + rest, encoding="utf-8")
    a, b = read_grades_csv(tmp_path / "g.csv"), read_grades_csv(HERE / "quiz7-grades-en.csv")
    assert a.score.tolist() == b.score.tolist() == [8.0, 6.0, 10.0]
    assert a.timestamp.tolist() == b.timestamp.tolist() and "1 'In progress' left out" in a.source
