"""Reading nbgrader gradebooks (read-only, through nbgrader's API) and answers from autograded notebooks."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest

from autograder.sources import read_gradebook, read_responses_notebooks
from course.errors import CourseError

pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
    pytest.mark.slow,
]  # each test creates an nbgrader gradebook (alembic migrations, ~5-10 s)


@pytest.fixture(autouse=True)
def alembic_on_path(monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


def two_notebook_gradebook(path: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_assignment("ps1")
        for nb in ("part1", "part2"):
            gb.add_notebook(nb, "ps1")
            gb.add_grade_cell("answer", nb, "ps1", max_score=2 if nb == "part1" else 3, cell_type="code")
        for sid, points in [("ann", (2.0, 1.0)), ("bob", (0.0, 3.0)), ("cid", None)]:
            gb.add_student(sid)
            sub = gb.add_submission("ps1", sid, timestamp="2024-03-02 08:30:00")
            if points is None:
                continue  # submitted, never autograded
            for nb in sub.notebooks:
                g = nb.grades[0]
                g.auto_score = points[0] if nb.notebook.name == "part1" else points[1]
                g.needs_manual_grade = False
        gb.db.commit()


def test_cells_of_several_notebooks_become_questions(tmp_path):
    two_notebook_gradebook(tmp_path / "gb.db")
    a = read_gradebook(tmp_path / "gb.db", "ps1")
    assert a.questions == ("part1/answer", "part2/answer")
    assert a.item_max.tolist() == [2.0, 3.0]
    rows = sorted(zip(a.student, a.score, a.max_score, map(tuple, a.item_scores.tolist())))
    assert rows == [("ann", 3.0, 5.0, (2.0, 1.0)), ("bob", 3.0, 5.0, (0.0, 3.0))]  # cid: not graded yet
    assert "flagged for grading by hand" not in a.source


def test_submissions_waiting_for_manual_grading_are_named(tmp_path):
    from nbgrader.api import Gradebook

    path = tmp_path / "gb.db"
    two_notebook_gradebook(path)
    with Gradebook(f"sqlite:///{path}") as gb:
        sub = gb.find_submission("ps1", "bob")
        sub.notebooks[0].grades[0].needs_manual_grade = True  # flagged for a look by hand
        gb.db.commit()
    a = read_gradebook(path, "ps1")
    assert (
        "1 submission flagged for grading by hand (a cell with no score yet counts 0, as in nbgrader's export)"
        in a.source
    )
    assert sorted(a.score.tolist()) == [3.0, 3.0]  # the autograder's points stand until a grader changes them


def test_late_penalty_and_extra_credit_are_scored_as_nbgraders_own_export(tmp_path, capsys, monkeypatch):
    """The gradebook and ``nbgrader export`` of it give the same totals (nbgrader's CsvExportPlugin is the reference).

    By hand: ann 2 + 3 + 1 extra credit = 6 of 5 -> 5 (counted at the maximum); bob 1 + 3 - 1.5 late = 2.5; cid 0.
    """
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin

    from autograder import cli
    from autograder.sources import read_grades_csv

    path = tmp_path / "gb.db"
    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_assignment("ps1", duedate="2024-03-05 00:00:00")
        gb.add_notebook("p1", "ps1")
        gb.add_grade_cell("a", "p1", "ps1", max_score=2, cell_type="code")
        gb.add_grade_cell("b", "p1", "ps1", max_score=3, cell_type="code")
        for sid, points, penalty, extra in [
            ("ann", (2, 3), 0.0, 1.0),
            ("bob", (1, 3), 1.5, None),
            ("cid", (0, 0), 0, None),
        ]:
            gb.add_student(sid)
            sub = gb.add_submission("ps1", sid, timestamp="2024-03-06 08:30:00")
            for nb in sub.notebooks:
                for g in nb.grades:
                    g.auto_score = points[0] if g.cell.name == "a" else points[1]
                    g.needs_manual_grade = False
                    g.extra_credit = extra if g.cell.name == "a" else None
                nb.late_submission_penalty = penalty
        gb.db.commit()
        exporter = CsvExportPlugin()
        exporter.to = str(tmp_path / "export.csv")
        exporter.export(gb)

    a, b = read_gradebook(path, "ps1"), read_grades_csv(tmp_path / "export.csv")
    assert a.student.tolist() == b.student.tolist() == ["ann", "bob", "cid"]
    assert a.score.tolist() == b.score.tolist() == [5.0, 2.5, 0.0]
    assert a.item_scores.tolist() == [[2.0, 3.0], [1.0, 3.0], [0.0, 0.0]]  # the cell's extra credit capped too
    assert "late penalty taken off 1 submission" in a.source
    assert "1 attempt with extra credit above the maximum counted at the maximum" in a.source
    assert "1 attempt with extra credit" in b.source

    out = tmp_path / "report"
    assert cli.main(["report", "--gradebook", str(path), "--assignment", "ps1", "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "late penalty taken off 1 submission" in md and "Average score: 50.00 %" in md  # (100 + 50 + 0) / 3


def test_gradebook_file_and_sqlite_url_are_left_untouched(tmp_path):
    path = tmp_path / "gb.db"
    two_notebook_gradebook(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    read_gradebook(path, "ps1")
    read_gradebook(f"sqlite:///{path}", "ps1", course_id="another_course")  # would insert a course row
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gb.db"]


def test_missing_file_and_non_database_are_clear_errors(tmp_path):
    with pytest.raises(CourseError, match="no such gradebook file"):
        read_gradebook(tmp_path / "nope.db", "ps1")
    (tmp_path / "junk.db").write_text("not a database")
    with pytest.raises(CourseError, match="cannot open as an nbgrader gradebook"):
        read_gradebook(tmp_path / "junk.db", "ps1")


def test_empty_gradebook_names_the_problem(tmp_path):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gb.db'}"):
        pass
    with pytest.raises(CourseError, match=r"unknown assignment 'ps1' \(the gradebook has: no assignments\)"):
        read_gradebook(tmp_path / "gb.db", "ps1")


def notebook(cells):
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


def answer_cell(grade_id, source, solution=True):
    return {
        "cell_type": "code",
        "execution_count": None,
        "outputs": [],
        "source": source,
        "metadata": {"nbgrader": {"grade_id": grade_id, "solution": solution, "grade": False}},
    }


def test_responses_from_autograded_notebooks(tmp_path):
    for student, q3, mdl in [("ann", 'ANSWER = "в, г"', "ANSWER = 'неверно'"), ("bob", "# my answer\nB", "True")]:
        folder = tmp_path / student / "quiz7"
        folder.mkdir(parents=True)
        cells = [
            answer_cell("backdoor_2", q3),
            answer_cell("mdl_two_part", mdl),
            answer_cell("tests_backdoor_2", "assert True", solution=False),
        ]
        (folder / "quiz7.ipynb").write_text(json.dumps(notebook(cells)), encoding="utf-8")
        (folder / "timestamp.txt").write_text("2024-03-02 10:00:00 UTC")
    r = read_responses_notebooks(tmp_path, "quiz7")
    got = sorted(zip(r.student, r.question, r.choice))
    assert got == [
        ("ann", "backdoor_2", frozenset("ВГ")),
        ("ann", "mdl_two_part", frozenset({"false"})),
        ("bob", "backdoor_2", frozenset("В")),
        ("bob", "mdl_two_part", frozenset({"true"})),
    ]
    # the typed answer is kept for numeric questions; the released stub `ANSWER = ...` is no answer
    assert sorted(zip(r.student, r.question, r.raw))[:2] == [
        ("ann", "backdoor_2", "в, г"),
        ("ann", "mdl_two_part", "неверно"),
    ]
    stub = tmp_path / "cid" / "quiz7"
    stub.mkdir(parents=True)
    (stub / "quiz7.ipynb").write_text(
        json.dumps(notebook([answer_cell("w", "# ANSWER = ...\nANSWER = ...")])), encoding="utf-8"
    )
    r = read_responses_notebooks(tmp_path, "quiz7", questions=["w"])
    assert list(r.raw) == [""] and r.choice == (frozenset(),)
    only = read_responses_notebooks(tmp_path, "quiz7", questions=["mdl_two_part"])
    assert set(only.question) == {"mdl_two_part"}
    with pytest.raises(CourseError, match="no notebooks for assignment 'quiz8'"):
        read_responses_notebooks(tmp_path, "quiz8")


def test_hand_edited_cell_metadata_is_skipped_and_a_non_notebook_is_named(tmp_path):
    folder = tmp_path / "eve" / "quiz7"
    folder.mkdir(parents=True)
    cells = [
        5,
        {"metadata": 5},
        {"metadata": {"xai_course": 5}},
        {"metadata": {"nbgrader": {"solution": True, "grade_id": 5}}, "source": "A = 'В'"},
        {"metadata": {"nbgrader": {"solution": True, "grade_id": "q1"}}, "source": 7},
        answer_cell("q2", ["ANSWER = ", "'б'"]),
    ]
    (folder / "quiz7.ipynb").write_text(json.dumps(notebook(cells)), encoding="utf-8")
    r = read_responses_notebooks(tmp_path, "quiz7")
    assert list(zip(r.student, r.question, r.choice)) == [("eve", "q2", frozenset("Б"))]
    (folder / "quiz7.ipynb").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(CourseError, match="quiz7.ipynb: not a notebook"):
        read_responses_notebooks(tmp_path, "quiz7")
