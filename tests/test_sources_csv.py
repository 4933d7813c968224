"""Grade CSVs as instructors' spreadsheets write them, nbgrader's export CSV, and clear errors naming the row."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from autograder import cli
from autograder.sources import read_grades_csv, read_responses_csv
from course.errors import CourseError


def write(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_windows_1251_semicolons_decimal_commas_and_russian_dates(tmp_path):
    text = (
        "Student_ID;Timestamp;Score;Max_Score\r\nИванов;01.03.2024 10:15;7,5;10\r\nПетрова;02.03.2024 09:00;10;10\r\n"
    )
    a = read_grades_csv(write(tmp_path / "g.csv", text, "cp1251"))
    assert a.student.tolist() == ["Иванов", "Петрова"]
    assert a.percent().tolist() == [75.0, 100.0]
    assert a.timestamp.astype(str).tolist() == ["2024-03-01T10:15:00", "2024-03-02T09:00:00"]


def test_utf8_bom_commas_and_a_quoted_decimal_comma(tmp_path):
    text = '\ufeffstudent_id,timestamp,score,max_score\ns1,2024-03-01T10:00:00+03:00,"4,25",5\n'
    a = read_grades_csv(write(tmp_path / "g.csv", text))
    assert a.score.tolist() == [4.25]
    assert str(a.timestamp[0]) == "2024-03-01T07:00:00"  # converted to UTC


def test_per_question_columns_with_and_without_a_stated_maximum(tmp_path):
    text = (
        "student_id;timestamp;score;max_score;Q. 1 /2,00;Q. 2\n"
        "a;2024-03-01 10:00;3;4;1,5;1,5\n"
        "b;2024-03-01 11:00;2;4;0;2\n"
    )
    a = read_grades_csv(write(tmp_path / "g.csv", text))
    assert a.questions == ("Q. 1", "Q. 2")
    assert a.item_max.tolist() == [2.0, 2.0]  # stated /2,00; for Q. 2 the largest score seen
    assert a.item_scores.tolist() == [[1.5, 1.5], [0.0, 2.0]]


def test_timestamp_column_is_optional(tmp_path):
    a = read_grades_csv(write(tmp_path / "g.csv", "student_id,score,max_score\na,1,2\nb,2,2\n"))
    assert np.isnat(a.timestamp).all() and len(a) == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("student_id,timestamp,points_total\na,2024-03-01,1\n", "missing column(s) score, max_score"),
        (
            "student_id,score,max_score\na,1,2\nb,3,2\n",
            "row 3 (student b): score is above max_score (score 3, max_score 2)",
        ),
        ("student_id,score,max_score\na,-1,2\n", "row 2 (student a): score is negative"),
        ("student_id,score,max_score\na,1,0\n", "row 2 (student a): max_score must be a positive number"),
        ("student_id,score,max_score\na,one,2\n", "row 2: column 'score' is not a number: one"),
        (
            "student_id,timestamp,score,max_score\na,2024-03-01 10:00,1,2\nb,2024-03-01 10:00,1,2\n"
            "a,2024-03-01 10:00,2,2\n",
            "rows 2 and 4 are duplicates (student a, timestamp 2024-03-01T10:00:00)",
        ),
        ("student_id,score,max_score\na,1,2\na,1,2\n", "rows 2 and 3 are duplicates (student a, no timestamp)"),
        ("student_id,timestamp,score,max_score\na,yesterday,1,2\n", "row 2: column 'timestamp': not a date"),
        ("student_id,score,max_score\n", "no graded attempts"),
        ("", "the file is empty"),
        ("student_id;score;max_score\na;1\n", "row 2 has 2 fields, the header has 3"),
        # 7,5 of 10 with a decimal comma in a comma-separated file: read as score 7, max 5 it would be "above max"
        ("student_id,score,max_score\na,7,5,10\n", "row 2 has 4 fields, the header has 3 (a decimal comma"),
        # a short row leaves the assignment column empty: it is a second (unnamed) assignment, not a crash
        ("student_id,score,max_score,assignment\na,1,2,quiz7\nb,1,2\n", "several assignments (, quiz7)"),
    ],
)
def test_bad_rows_are_named(tmp_path, text, message):
    with pytest.raises(CourseError) as err:
        read_grades_csv(write(tmp_path / "g.csv", text))
    assert message in str(err.value)
    assert str(tmp_path / "g.csv") in str(err.value)


def test_several_assignments_need_a_choice(tmp_path):
    path = write(tmp_path / "g.csv", "assignment,student_id,score,max_score\nq1,a,1,2\nq2,a,2,2\n")
    with pytest.raises(CourseError, match=r"several assignments \(q1, q2\); choose one with assignment=NAME"):
        read_grades_csv(path)
    assert read_grades_csv(path, assignment="q2").score.tolist() == [2.0]
    with pytest.raises(CourseError, match="unknown assignment 'q3'"):
        read_grades_csv(path, assignment="q3")


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # raised inside nbgrader's add_submission
def test_nbgrader_export_csv_from_nbgrader_itself(tmp_path):
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    with Gradebook(f"sqlite:///{tmp_path / 'gb.db'}") as gb:
        gb.add_assignment("ps1", duedate="2024-03-10 12:00:00")
        gb.add_notebook("p1", "ps1")
        gb.add_grade_cell("c1", "p1", "ps1", max_score=4, cell_type="code")
        for sid, points in [("ann", 3.0), ("bob", 1.5), ("cid", None)]:  # cid never submitted
            gb.add_student(sid)
            if points is not None:
                sub = gb.add_submission("ps1", sid, timestamp="2024-03-02 08:30:00")
                sub.notebooks[0].grades[0].auto_score = points
        gb.db.commit()
        CsvExportPlugin(to=str(tmp_path / "grades.csv")).export(gb)
    a = read_grades_csv(tmp_path / "grades.csv")
    assert sorted(zip(a.student, a.score, a.max_score)) == [("ann", 3.0, 4.0), ("bob", 1.5, 4.0)]
    assert a.assignment == "ps1" and str(a.due) == "2024-03-10T12:00:00"
    assert a.questions == ()  # nbgrader's export has no per-question columns
    assert "nbgrader export" in a.source


def test_cli_prints_one_line_and_exits_2_writing_nothing(tmp_path, capsys):
    path = write(tmp_path / "g.csv", "student_id,score,max_score\na,1,2\nb,3,2\n")
    assert cli.main(["report", "--csv", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("xai-course report: error: ")
    assert "row 3 (student b): score is above max_score" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.csv"]


def test_responses_csv_normalises_typed_answers(tmp_path):
    text = "student_id;question;answer\r\nа1;q3;в, г\r\nа2;q3;{B,Г}\r\nа3;mdl;Неверно\r\n"
    r = read_responses_csv(write(tmp_path / "r.csv", text, "cp1251"))
    assert r.choice == (frozenset("ВГ"), frozenset("ВГ"), frozenset({"false"}))
    assert r.question.tolist() == ["q3", "q3", "mdl"]


def test_name_columns_are_not_questions_and_words_are_not_dates(tmp_path):
    a = read_grades_csv(
        write(tmp_path / "g.csv", "student_id,last_name,email,score,max_score,q1\na,Иванов,a@x.ru,1,2,1\n")
    )
    assert a.questions == ("q1",)
    with pytest.raises(CourseError, match="row 2: column 'timestamp': not a date: 'now'"):
        read_grades_csv(write(tmp_path / "h.csv", "student_id,timestamp,score,max_score\na,now,1,2\n"))
