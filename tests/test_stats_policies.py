"""Several attempts per student: attempt policies and the dynamics table against a brute-force recount.

The reference below is written without NumPy and without the code under test:
plain dicts of attempts per student, an if-chain for the course's bands and
exact fractions for the half-up percent shares.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import datetime, timedelta
from fractions import Fraction
from math import floor

import pytest

from autograder import cli, stats
from autograder.report import write_report
from autograder.sources import read_grades_csv
from course.errors import CourseError

MAX = 20
START = datetime(2024, 3, 1, 8, 0)
LABELS = ["5", "4", "3", "failed"]


def make_attempts(seed=11, students=60):
    """(student, time, score) rows: 1–4 attempts each, over six days, all times distinct."""
    rnd = random.Random(seed)
    minutes = rnd.sample(range(6 * 24 * 60), 4 * students)
    rows = []
    for s in range(students):
        for _ in range(rnd.randint(1, 4)):
            rows.append((f"st{s:02d}", START + timedelta(minutes=minutes.pop()), rnd.randint(0, MAX)))
    rnd.shuffle(rows)  # file order must not matter
    return rows


def band_of(points):
    percent = Fraction(100 * points, MAX)
    if percent >= 80:
        return "5"
    if percent >= 60:
        return "4"
    if percent >= 40:
        return "3"
    return "failed"


def reference_bands(rows, policy):
    per_student = {}
    for student, when, points in rows:
        per_student.setdefault(student, []).append((when, points))
    if policy == "all":
        chosen = [p for _, _, p in rows]
    elif policy == "best":
        chosen = [max(p for _, p in v) for v in per_student.values()]
    elif policy == "first":
        chosen = [min(v)[1] for v in per_student.values()]
    else:
        chosen = [max(v)[1] for v in per_student.values()]
    counts = [sum(band_of(p) == lab for p in chosen) for lab in LABELS]
    shares = [floor(Fraction(100 * c, len(chosen)) + Fraction(1, 2)) for c in counts]
    return counts, shares


def write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student_id", "timestamp", "score", "max_score"])
        for student, when, points in rows:
            w.writerow([student, when.isoformat(sep=" "), points, MAX])


@pytest.fixture(scope="module")
def rows():
    return make_attempts()


@pytest.fixture(scope="module")
def attempts(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "grades.csv"
    write_csv(path, rows)
    return read_grades_csv(path)


@pytest.mark.parametrize("policy", ["best", "first", "last", "all"])
def test_policy_band_counts_match_brute_force(attempts, rows, policy):
    chosen = attempts.take(stats.select_attempts(attempts, policy))
    got = stats.band_counts(chosen.percent())
    counts, shares = reference_bands(rows, policy)
    assert [c.count for c in got] == counts
    assert [c.percent for c in got] == shares


def test_best_policy_keeps_one_attempt_per_student_with_their_maximum(attempts, rows):
    chosen = attempts.take(stats.select_attempts(attempts, "best"))
    best = {}
    for student, _, points in rows:
        best[student] = max(best.get(student, -1), points)
    assert sorted(zip(chosen.student, chosen.score)) == sorted((s, float(p)) for s, p in best.items())


def test_total_results_count_attempts_but_bands_count_students(attempts, rows, tmp_path):
    s = json.loads((write_report(attempts, tmp_path / "r") / "summary.json").read_text(encoding="utf-8"))
    assert s["total_results"] == len(rows)
    assert s["students"] == len({r[0] for r in rows})
    assert sum(b["count"] for b in s["bands"]) == s["students"]
    assert s["average_percent"] == pytest.approx(
        float(Fraction(sum(100 * p for _, _, p in rows), MAX * len(rows))), abs=0.005
    )


def test_daily_dynamics_table_matches_brute_force(attempts, rows, tmp_path):
    s = json.loads((write_report(attempts, tmp_path / "r", due="2099-01-01") / "summary.json").read_text())
    table = s["dynamics"]["rows"]
    days = sorted({when.date() for _, when, _ in rows})
    assert [r["until"] for r in table] == [d.isoformat() for d in days]
    for row, day in zip(table, days):
        so_far = [r for r in rows if r[1].date() <= day]
        counts, shares = reference_bands(so_far, "best")
        assert row["attempts"] == len(so_far)
        assert row["students"] == len({r[0] for r in so_far})
        assert row["counts"] == counts and row["percents"] == shares
    assert s["dynamics"]["preliminary"] is True


def test_dynamics_every_n_attempts_matches_brute_force(attempts, rows):
    dyn = stats.dynamics(attempts, policy="last", every=25)
    ordered = sorted(rows, key=lambda r: r[1])
    cut = list(range(25, len(rows), 25)) + [len(rows)]
    assert [r["attempts"] for r in dyn.rows] == cut
    for row, end in zip(dyn.rows, cut):
        counts, _ = reference_bands(ordered[:end], "last")
        assert row["counts"] == counts


def test_report_is_final_once_the_due_date_has_passed(attempts):
    dyn = stats.dynamics(attempts, due="2024-03-03 00:00", now=datetime(2024, 3, 10))
    assert dyn.preliminary is False
    dyn = stats.dynamics(attempts, due="2024-03-03 00:00", now=datetime(2024, 3, 2))
    assert dyn.preliminary is True


def test_cli_policy_first_is_named_in_the_report(rows, tmp_path, capsys):
    path = tmp_path / "grades.csv"
    write_csv(path, rows)
    assert cli.main(["report", "--csv", str(path), "--out", str(tmp_path / "r"), "--policy", "first"]) == 0
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    counts, shares = reference_bands(rows, "first")
    assert "Taking each student's first attempt, we have the following results" in md
    assert f'- "5" (from 80%): {counts[0]} {shares[0]}%' in md
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["attempt_policy"] == "first"


def test_unknown_policy_is_refused(attempts):
    with pytest.raises(ValueError, match="unknown attempt policy"):
        stats.select_attempts(attempts, "median")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"every": "week"}, "'day' or a positive number"),
        ({"every": 1.5}, "'day' or a positive number"),
        ({"every": 0}, "positive number of attempts"),
        ({"due": "tomorrow"}, "due date: not a date"),
    ],
)
def test_bad_dynamics_options_are_clear_errors(attempts, kwargs, message):
    with pytest.raises(CourseError, match=message):
        stats.dynamics(attempts, **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"timestamp": ["yesterday"]}, "timestamp: not a date"),
        ({"score": ["seven"]}, "scores must be numbers"),
        ({"questions": ["q1", "q2"], "item_scores": [[1.0]]}, r"expected \(1, 2\)"),
    ],
)
def test_attempts_from_rows_refuses_bad_columns(kwargs, message):
    from autograder.sources import Attempts

    args = {"student": ["s1"], "timestamp": [None], "score": [7.0], "max_score": 10.0}
    args.update(kwargs)
    with pytest.raises(CourseError, match=message):
        Attempts.from_rows(args.pop("student"), args.pop("timestamp"), args.pop("score"), args.pop("max_score"), **args)
