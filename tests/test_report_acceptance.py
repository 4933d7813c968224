"""Acceptance: the course's T1/T2 report (SEED_NOTES) reproduced from a real nbgrader gradebook.

The gradebook is built with nbgrader's own API: one assignment "quiz7", one
notebook with four grade cells of 25 points (max 100), 208 students with one
autograded submission each. The scores are chosen by hand:

    band "5"      : 1 x 100 + 1 x 80 + 130 x 95 + 27 x 94      = 15068 points, 159 students
    band "4"      : 1 x 79 + 1 x 60 + 35 x 70                  =  2589 points,  37 students
    band "3"      : 1 x 59 + 1 x 40 + 4 x 50                   =   299 points,   6 students
    band "failed" : 1 x 39 + 1 x 0 + 4 x 35                    =   179 points,   6 students
    total                                                        18135 points, 208 students

Average = 18135 / 208 = 87.1875 % → "87.19 %" (two decimals). Shares: 159/208 = 76.44 → 76 %,
37/208 = 17.79 → 18 %, 6/208 = 2.88 → 3 %. Every band boundary (100, 80, 79,
60, 59, 40, 39, 0) is hit by one student.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

# nbgrader's own add_submission triggers SQLAlchemy autoflush warnings; they are not ours to fix
pytestmark = [
    pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
    pytest.mark.slow,
]  # nbgrader builds and autogrades a course (~20-40 s)

SCORES = {  # band -> [(points out of 100, number of students)]
    "5": [(100, 1), (80, 1), (95, 130), (94, 27)],
    "4": [(79, 1), (60, 1), (70, 35)],
    "3": [(59, 1), (40, 1), (50, 4)],
    "failed": [(39, 1), (0, 1), (35, 4)],
}
EXPECTED_LINES = [
    "Total number of test results: 208",
    "Average score: 87.19 %",
    "Score distribution:",
    "Taking the currently maximum scores, we have the following results",
    '"5" (from 80%): 159 76%',
    '"4" (between 60 and 80%): 37 18%',
    '"3" (between 40 and 60%): 6 3%',
    '"failed" (less 40%): 6 3%',
]
BIN = Path(sys.executable).parent


def cell_points(total: int) -> list[float]:
    """Split a score over four 25-point cells: 79 → [25, 25, 25, 4]."""
    return [float(min(25, max(0, total - 25 * k))) for k in range(4)]


def build_gradebook(path: Path, scores: list[int], start: datetime, due: str) -> None:
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"  # nbgrader runs `alembic`
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{path}") as gb:
        gb.add_assignment("quiz7", duedate=due)
        gb.add_notebook("quiz", "quiz7")
        for c in range(4):
            gb.add_grade_cell(f"q{c + 1}", "quiz", "quiz7", max_score=25, cell_type="code")
        for i, total in enumerate(scores):
            sid = f"s{i:03d}"
            gb.add_student(sid)
            when = start + timedelta(hours=7 * i)  # spread over about two months
            sub = gb.add_submission("quiz7", sid, timestamp=when.isoformat(sep=" "))
            grades = sorted(sub.notebooks[0].grades, key=lambda g: g.name)
            for grade, points in zip(grades, cell_points(total)):
                grade.auto_score = points
                grade.needs_manual_grade = False
        gb.db.commit()


@pytest.fixture(scope="module")
def course_gradebook(tmp_path_factory):
    scores = [points for band in SCORES.values() for points, n in band for _ in range(n)]
    assert len(scores) == 208 and sum(scores) == 18135  # the arithmetic of the module docstring
    path = tmp_path_factory.mktemp("course") / "gradebook.db"
    build_gradebook(path, scores, datetime(2024, 3, 1, 9, 0), due="2099-01-01 00:00:00")
    return path


def run_cli(*args, env_path="/usr/bin:/bin"):
    """`.venv/bin/xai-course` with a PATH that does not contain the virtual environment."""
    return subprocess.run(
        [str(BIN / "xai-course"), *map(str, args)],
        capture_output=True,
        text=True,
        env={"PATH": env_path, "HOME": os.environ.get("HOME", "/tmp")},
        timeout=300,
    )


@pytest.fixture(scope="module")
def course_report(course_gradebook, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "quiz7"
    before = hashlib.sha256(course_gradebook.read_bytes()).hexdigest()
    proc = run_cli("report", "--gradebook", course_gradebook, "--assignment", "quiz7", "--out", out)
    assert proc.returncode == 0, proc.stderr
    after = hashlib.sha256(course_gradebook.read_bytes()).hexdigest()
    return out, before, after


def test_report_md_has_the_course_lines_verbatim(course_report):
    out, _, _ = course_report
    md = (out / "report.md").read_text(encoding="utf-8")
    lines = md.splitlines()
    for expected in EXPECTED_LINES:
        assert any(expected in line for line in lines), expected
    # the band lines are whole lines (list items), in the course's order
    band_lines = [line[2:] for line in lines if line.startswith('- "')]
    assert band_lines == EXPECTED_LINES[4:]
    assert "Preliminary results. Dynamics" in md  # the due date (2099) has not passed


def test_summary_json_has_the_same_numbers(course_report):
    out, _, _ = course_report
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["total_results"] == 208
    assert s["students"] == 208
    assert s["average_percent"] == 87.19
    assert s["attempt_policy"] == "best"
    assert [(b["label"], b["lower"], b["upper"], b["count"], b["percent"]) for b in s["bands"]] == [
        ("5", 80, 100, 159, 76),
        ("4", 60, 80, 37, 18),
        ("3", 40, 60, 6, 3),
        ("failed", 0, 40, 6, 3),
    ]
    assert {"items", "common_mistakes"} <= set(s)
    # the seed's T3 lists the few questions many got wrong; by default the report lists the 3 hardest
    assert len(s["common_mistakes"]) == 3
    facilities = sorted(i["facility"] for i in s["items"])
    assert [m["facility"] for m in s["common_mistakes"]] == pytest.approx(facilities[:3])
    assert [i["question"] for i in s["items"]] == ["q1", "q2", "q3", "q4"]
    assert s["preliminary"] is True


def test_item_facility_matches_the_cell_points(course_report):
    out, _, _ = course_report
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    scores = [points for band in SCORES.values() for points, n in band for _ in range(n)]
    for k, item in enumerate(s["items"]):
        mean_points = sum(cell_points(t)[k] for t in scores) / len(scores)
        assert item["facility"] == pytest.approx(100 * mean_points / 25)


def test_gradebook_is_not_modified(course_report):
    _, before, after = course_report
    assert before == after


def test_html_is_self_contained_with_charts(course_report):
    out, _, _ = course_report
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3
    assert "http://" not in page and "https://" not in page
    assert "&quot;5&quot; (from 80%): 159 76%" in page or '"5" (from 80%): 159 76%' in page
    for chart in ("distribution.png", "bands.png", "dynamics.png"):
        assert (out / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_existing_report_is_not_overwritten_without_force(course_gradebook, course_report):
    out, _, _ = course_report
    stamp = (out / "report.md").stat().st_mtime_ns
    proc = run_cli("report", "--gradebook", course_gradebook, "--assignment", "quiz7", "--out", out)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--force" in proc.stderr
    assert (out / "report.md").stat().st_mtime_ns == stamp


def test_unknown_assignment_is_one_line_and_writes_nothing(course_gradebook, tmp_path):
    proc = run_cli("report", "--gradebook", course_gradebook, "--assignment", "quiz8", "--out", tmp_path / "r")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"xai-course report: error: {course_gradebook}: unknown assignment 'quiz8' (the gradebook has: quiz7)"
    ]
    assert list(tmp_path.iterdir()) == []


def test_gradebook_without_graded_submissions_is_an_error(tmp_path):
    path = tmp_path / "gradebook.db"
    build_gradebook(path, [], datetime(2024, 3, 1), due="2024-03-10 00:00:00")
    proc = run_cli("report", "--gradebook", path, "--assignment", "quiz7", "--out", tmp_path / "r")
    assert proc.returncode == 2
    assert "no graded submissions" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "r").exists()
