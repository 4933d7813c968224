"""The demo (make demo) on a small cohort, and the cohort simulator."""

from __future__ import annotations

import csv
import json

import pytest

from autograder.cohort import COMMON_MISTAKES, simulate_quiz, student_ids
from autograder.sandbox import sandbox_available


def test_cohort_is_seeded_and_has_several_attempts_over_several_days():
    ids = student_ids(30)
    first, again = simulate_quiz(ids, seed=5), simulate_quiz(ids, seed=5)
    assert first == again
    per_student = {}
    for a in first:
        per_student.setdefault(a.student, []).append(a.time)
    assert set(per_student) == set(ids)
    assert max(len(t) for t in per_student.values()) >= 3
    assert len({a.time.date() for a in first}) >= 4
    assert all(t == sorted(t) for t in per_student.values())


def test_cohort_makes_the_common_t3_mistakes():
    attempts = simulate_quiz(student_ids(30), seed=2)
    typed = [a.answers.get("t3_backdoor_smallest_answer", "") for a in attempts]
    # В = {B, C} (valid, not the smallest) is the T3.2 mistake of the instructor's report
    assert any("= 'В'" in t for t in typed) and any("= 'А'" in t or "= 'A'" in t for t in typed)
    mdl = [a.answers.get("t3_mdl_answer", "") for a in attempts]
    wrong = sum(any(f"'{w}'" in t for w, _ in COMMON_MISTAKES["t3_mdl"]) for t in mdl)
    assert 0.1 * len(mdl) < wrong < 0.9 * len(mdl)


@pytest.mark.slow
@pytest.mark.skipif(not sandbox_available()[0], reason="no sandbox")
def test_demo_grades_every_attempt_and_writes_the_reports(tmp_path):
    from autograder.demo import run

    reports = run(tmp_path / "demo_course", students=12, engine=False, seed=3)
    expected = simulate_quiz(student_ids(12), seed=3)
    rows = list(csv.DictReader((tmp_path / "demo_course" / "grades" / "quiz7_attempts.csv").open()))
    assert len(rows) == len(expected)  # every attempt graded once, none lost to a later one
    summary = json.loads((reports["quiz7"] / "summary.json").read_text())
    assert summary["total_results"] == len(expected) and summary["students"] == 12
    assert (reports["lrp_rules"] / "report.html").is_file()
    feedback = list((tmp_path / "demo_course" / "feedback").rglob("*.html"))
    assert len(feedback) == 24  # quiz + exercise for each student
    from autograder.feedback import WRAP_CSS

    assert all(WRAP_CSS in page.read_text(encoding="utf-8") for page in feedback)  # long messages wrap


def test_typed_lookalike_letters_mean_the_same_option():
    from autograder.cohort import LATIN
    from course.quiz.normalize import parse_letters

    for cyrillic, typed in LATIN.items():
        assert parse_letters(typed) == frozenset({cyrillic})
    assert parse_letters("b, Γ") == frozenset({"В", "Г"})


@pytest.mark.parametrize(
    "graded,limited,fails",
    [
        (0, [], True),  # nothing graded at all
        (10, ["kernel died"] * 6, True),  # most submissions could not run: a broken sandbox
        (10, ["kernel died"] * 5, False),  # half: students can hit limits on their own
        (10, [], False),
    ],
)
def test_demo_stops_when_most_submissions_could_not_run(graded, limited, fails):
    from autograder.demo import _check_grading_worked
    from course.errors import CourseError

    if fails:
        with pytest.raises(CourseError, match="hit a limit"):
            _check_grading_worked(graded, limited)
    else:
        _check_grading_worked(graded, limited)


def test_demo_refuses_to_delete_a_folder_it_did_not_build(tmp_path):
    from autograder.demo import build_course
    from course.errors import CourseError

    course = tmp_path / "my_real_course"
    (course / "source").mkdir(parents=True)
    (course / "gradebook.db").write_text("the instructor's grades")
    with pytest.raises(CourseError, match="was not written by `xai-course demo`.*refusing to replace it"):
        build_course(course, "lrp_rules")
    assert (course / "gradebook.db").read_text() == "the instructor's grades"


def test_demo_rebuilds_its_own_folder(tmp_path, monkeypatch):
    import autograder.demo as demo
    import course.nbgrader_setup as setup

    def fake_copy(out, assignments):  # the real copy and nbgrader runs are covered by the slow demo test
        out.mkdir(parents=True)
        (out / "new").write_text("")

    monkeypatch.setattr(setup, "copy_course", fake_copy)
    monkeypatch.setattr(demo, "run_nbgrader", lambda *a, **k: "")
    out = tmp_path / "demo_course"
    out.mkdir()
    (out / demo.DEMO_MARKER).write_text("")
    (out / "old").write_text("")
    demo.build_course(out, "lrp_rules")
    assert sorted(p.name for p in out.iterdir()) == sorted([demo.DEMO_MARKER, "new"])


@pytest.mark.slow  # builds the demo course
def test_demo_refusal_names_the_flag_on_the_command_line(tmp_path, capsys):
    from autograder import cli

    course = tmp_path / "my_real_course"
    course.mkdir()
    (course / "gradebook.db").write_text("the instructor's grades")
    assert cli.main(["demo", "--out", str(course), "--no-engine"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "choose another --out PATH" in err and "out=" not in err
    assert (course / "gradebook.db").read_text() == "the instructor's grades"


def test_variants_computed_on_all_cores_keep_each_student_with_their_own():
    from autograder.cohort import _variants

    ids = student_ids(45)
    assert _variants(ids, str.upper) == {s: s.upper() for s in ids}  # the pool path (45 >= 20 students)
    assert _variants(ids[:3], str.upper) == {s: s.upper() for s in ids[:3]}


def test_a_failed_engine_demo_stops_the_demo_with_one_line():
    from autograder.demo import _finish_engine_demo
    from course.errors import CourseError

    class Finished:  # what multiprocessing.Process looks like once the engine demo has exited
        def __init__(self, code):
            self.exitcode = code

        def join(self):
            pass

    _finish_engine_demo(Finished(0))
    with pytest.raises(CourseError, match="the engine demo failed \\(exit code 1\\)"):
        _finish_engine_demo(Finished(1))
