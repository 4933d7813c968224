"""The report read against the course's own (SEED_NOTES T1–T3): what an instructor sees by default.

Numbers below are worked out by hand from the attempts written in each test.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder import report
from autograder.sources import Attempts, Responses, normalise_choice


@pytest.fixture
def cohort():
    # s1: 40 % then 90 %; s2: 60 %; s3: 100 % then 70 % -> 5 results of 3 students
    # questions q1, q2, q10 (1 point each... scaled to 10): item scores chosen so the facilities differ
    return Attempts.from_rows(
        ["s1", "s1", "s2", "s3", "s3"],
        ["2024-03-01 10:00", "2024-03-02 10:00", "2024-03-01 12:00", "2024-03-01 18:00", "2024-03-02 18:00"],
        [4, 9, 6, 10, 7],
        10,
        questions=["q10", "q2", "q1"],
        item_scores=[[0, 2, 2], [3, 3, 3], [1, 2, 3], [4, 3, 3], [1, 3, 3]],
        item_max=[4, 3, 3],
        assignment="quiz7",
        source="test",
    )


def test_results_and_students_are_visibly_distinct(cohort, tmp_path):
    out = report.write_report(cohort, tmp_path / "r", due="2024-03-05")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "Total number of test results: 5 (every graded attempt of 3 students)" in md
    # all attempts: (40 + 90 + 60 + 100 + 70) / 5 = 72; best attempts: (90 + 60 + 100) / 3 = 83.33
    assert "Average score: 72.00 % (over all 5 results)" in md
    assert (
        "**Students in the bands: 3** — each student once, with their best attempt (of the 5 test results "
        "above); average of the best attempts: 83.33 %"
    ) in md
    assert "## Test statistics (best attempts)" in md and "| Average of the best attempts | 83.33 % |" in md
    assert "| Best attempts analysed | 3 |" in md
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["policy_average_percent"] == 83.33 and s["population"] == "best attempts"


def test_one_name_per_population_with_every_policy(cohort, tmp_path):
    out = report.write_report(cohort, tmp_path / "r", policy="all")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "**Results in the bands: 5**; average of the attempts: 72.00 %" in md
    assert "best attempt" not in md.split("## Test statistics")[1]


def test_by_default_the_three_hardest_questions_are_listed(cohort, tmp_path):
    # best attempts: s1 row 2 [3, 3, 3], s2 [1, 2, 3], s3 row 4 [4, 3, 3]
    # facilities by hand: q10 (3+1+4)/12 = 66.67 %, q2 (3+2+3)/9 = 88.89 %, q1 9/9 = 100 % (nobody wrong)
    out = report.write_report(cohort, tmp_path / "r")
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [m["question"] for m in s["common_mistakes"]] == ["q10", "q2"]
    assert [i["question"] for i in s["items"]] == ["q1", "q2", "q10"]  # natural order
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "The 2 questions with the lowest facility, hardest first:" in md
    out = report.write_report(cohort, tmp_path / "r2", mistakes_threshold=70)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [m["question"] for m in s["common_mistakes"]] == ["q10"]


def test_count_charts_have_whole_number_ticks(cohort, monkeypatch):
    figures = []
    real = report.charts._png
    monkeypatch.setattr(report.charts, "_png", lambda fig: (figures.append(fig), real(fig))[1])
    summary = report.build_summary(cohort)
    report.make_charts(summary)
    assert len(figures) == 3
    for fig in figures:
        (ax,) = fig.axes
        ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_backdoor_mistakes_carry_their_dag_drawn(tmp_path):
    from course.quiz.bank import default_bank_path

    bank = report.load_bank(default_bank_path())
    q = "t3_backdoor_smallest"
    typed = ["А"] * 3 + ["В"] * 5 + ["Д"] * 2  # 3 of 10 right
    r = Responses(
        np.array([f"s{i}" for i in range(10)], dtype=object),
        np.array([q] * 10, dtype=object),
        tuple(normalise_choice(t) for t in typed),
        np.full(10, np.datetime64("NaT", "s")),
        raw=tuple(typed),
    )
    a = Attempts.from_rows([f"s{i}" for i in range(10)], [None] * 10, [1 if t == "А" else 0 for t in typed], 1)
    out = report.write_report(a, tmp_path / "r", bank=bank, responses=r)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert f"![DAG of {q}](mistake1_dag.png)" in md
    assert (out / "mistake1_dag.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert f'<img alt="DAG of {q}" src="data:image/png;base64,' in page
    # the option text beside each letter, in the response analysis
    assert "| А) {B} | 3 | 30% | ✓ |" in md
    assert "Most common wrong answers: «В» — 5 of 10 (50%), «Д» — 2 of 10 (20%)" in md
