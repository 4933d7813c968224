"""The steps of the autograding pipeline one by one, then resuming after a kill and the Dask executor."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import gradebook_io
from autograder.grading.checkers import check
from autograder.grading.loaders import load_spec
from autograder.pipeline import Course, Submission, SubmissionResult, autograde, collect, record_attempt
from autograder.restore import build_plan, restore
from autograder.sandbox import Limits, sandbox_available
from course.errors import CourseError
from tests.autograde_support import ASSIGNMENT, FIXTURE, POINTS, STAMP, build_course, load_case, submit_case


def cell(source, gid=None, **flags):
    meta = {"nbgrader": {"grade_id": gid, **flags}} if gid else {}
    return new_code_cell(source, metadata=meta)


RELEASE = new_notebook(
    cells=[
        new_markdown_cell("intro", metadata={"nbgrader": {"grade_id": "intro", "locked": True}}),
        cell("import math", "setup", locked=True),
        cell("# YOUR CODE HERE", "answer", solution=True),
        cell("assert f(2) == 4", "test_f", grade=True, points=2),
    ]
)


# ---------------------------------------------------------------- restore


def sources(nb):
    return [c.source for c in nb.cells]


def test_locked_cells_come_back_from_the_release():
    sub = new_notebook(
        cells=[
            cell("import os; os.system('x')", "setup", locked=True),
            cell("def f(x): return x * x", "answer", solution=True),
            cell("pass  # test removed", "test_f", grade=True, points=2),
        ]
    )
    out = restore(RELEASE, sub)
    assert sources(out) == ["intro", "import math", "def f(x): return x * x", "assert f(2) == 4"]


def test_deleted_and_moved_cells_return_in_release_order():
    sub = new_notebook(
        cells=[cell("assert True", "test_f", grade=True), cell("def f(x): return x * x", "answer", solution=True)]
    )
    out = restore(RELEASE, sub)
    assert sources(out) == ["intro", "import math", "def f(x): return x * x", "assert f(2) == 4"]


def test_student_cells_stay_after_the_cell_they_followed():
    sub = new_notebook(
        cells=[
            cell("import math", "setup", locked=True),
            cell("helper = 1"),
            cell("def f(x): return x * x", "answer", solution=True),
            cell("# claims a grade id", "answer", solution=True),
        ]
    )
    out = restore(RELEASE, sub)
    assert sources(out) == [
        "intro",
        "import math",
        "helper = 1",
        "def f(x): return x * x",
        "# claims a grade id",
        "assert f(2) == 4",
    ]
    assert "nbgrader" not in out.cells[4].metadata  # the duplicate lost its claim


def test_answer_cell_type_is_restored():
    sub = new_notebook(
        cells=[new_markdown_cell("def f(x): return 4", metadata={"nbgrader": {"grade_id": "answer", "solution": True}})]
    )
    out = restore(RELEASE, sub)
    assert out.cells[2].cell_type == "code" and out.cells[2].source == "def f(x): return 4"


def test_plan_replaces_tests_by_probes_and_needs_an_expression_for_each():
    plan, trailing = build_plan(restore(RELEASE, RELEASE), {"test_f": "f(2)", "extra": "f(3)"})
    assert [(s.kind, s.source) for s in plan] == [
        ("code", "import math"),
        ("code", "# YOUR CODE HERE"),
        ("probe", "f(2)"),
        ("probe", "f(3)"),
    ]
    assert trailing == ["extra"]
    with pytest.raises(CourseError, match="test_f"):
        build_plan(RELEASE, {})


# ---------------------------------------------------------------- checkers


def test_close_checker_uses_tolerances_and_shapes():
    assert check("close", [1.0, 2.0], [1.0, 2.0 + 1e-9]).fraction == 1.0
    assert check("close", [1.0, 2.1], [1.0, 2.0]).fraction == 0.0
    assert "shape (3,)" in check("close", [1.0, 2.0, 3.0], [1.0, 2.0]).message
    assert check("close", [[0.0], [1.0, 2.0]], [[0.0], [1.0, 3.0]], partial=True).fraction == 0.5
    assert check("close", None, [1.0]).fraction == 0.0


def test_set_and_sets_checkers_ignore_order():
    assert check("set", ["C", "B"], {"B", "C"}).fraction == 1.0
    assert check("set", ["B"], {"B", "C"}).fraction == 0.0
    assert check("sets", [["B", "C"], ["A"]], [frozenset({"A"}), frozenset({"C", "B"})]).fraction == 1.0


def test_exact_checker_does_not_confuse_bool_and_number():
    assert check("exact", True, True).fraction == 1.0
    assert check("exact", 1, True).fraction == 0.0


def test_quiz_checker_scores_with_the_question_bank_and_hides_the_key():
    # T3 item 1 (seed notes): the two-part MDL statement is false
    assert check("quiz", "false", None, question="t3_mdl").fraction == 1.0
    wrong = check("quiz", "true", None, question="t3_mdl")
    assert wrong.fraction == 0.0 and wrong.message


def test_messages_never_contain_the_key():
    key = [0.123456, 7.654321]
    for value in ([0.0, 0.0], [1.0], "text"):
        message = check("close", value, key).message
        assert "0.123456" not in message and "7.654321" not in message


# ---------------------------------------------------------------- spec


def test_fixture_spec(tmp_path):
    spec = load_spec(FIXTURE / "source" / ASSIGNMENT)
    assert sorted(part.grade_id for part in spec) == sorted(POINTS)
    assert spec["test_relu"].probes[0].check.options == {"partial": True}


@pytest.mark.parametrize(
    "entry, message",
    [
        ('expression = "f("', "not a Python expression"),
        ('expression = "f(1)"\nchecker = "fuzzy"', "unknown checker"),
        ('checker = "close"', "needs an expression"),
    ],
)
def test_spec_errors_name_the_grade(tmp_path, entry, message):
    (tmp_path / "a.ipynb").write_text(nbformat.writes(RELEASE))
    (tmp_path / "autograde.toml").write_text(f"[grades.test_f]\n{entry}\n")
    with pytest.raises(CourseError, match=message):
        load_spec(tmp_path)


# ---------------------------------------------------------------- recording


def _result(student, stamp, score):
    r = SubmissionResult(Submission(student, ASSIGNMENT, "", stamp))
    r.scores = {(ASSIGNMENT, "q"): score}
    return r


def test_attempts_csv_has_one_row_per_attempt_even_when_recorded_twice(tmp_path):
    path = tmp_path / "attempts.csv"
    record_attempt(path, _result("s1", "2026-11-20 10:00:00 UTC", 1.0), {(ASSIGNMENT, "q"): 2.0})
    record_attempt(path, _result("s1", "2026-11-20 10:00:00 UTC", 2.0), {(ASSIGNMENT, "q"): 2.0})  # regrade
    record_attempt(path, _result("s1", "2026-11-21 09:00:00 UTC", 0.0), {(ASSIGNMENT, "q"): 2.0})
    rows = list(csv.DictReader(path.open()))
    assert [(r["timestamp"], r["score"], r["max_score"], r["q /2"]) for r in rows] == [
        ("2026-11-20 10:00:00", "2", "2", "2"),
        ("2026-11-21 09:00:00", "0", "2", "0"),
    ]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return build_course(tmp_path_factory.mktemp("pipeline") / "course")


def test_gradebook_write_is_one_transaction(course):
    gb = gradebook_io.open_gradebook(Course(course).db_url)
    stamp = gradebook_io.parse_timestamp(STAMP)
    try:
        with pytest.raises(CourseError, match="no_such_test"):
            gradebook_io.save_submission(
                gb, ASSIGNMENT, "tx", stamp, {(ASSIGNMENT, "test_squares"): 2.0, (ASSIGNMENT, "no_such_test"): 1.0}
            )
        assert not gradebook_io.is_graded(gb, ASSIGNMENT, "tx", stamp, {(ASSIGNMENT, "test_squares")})
        gradebook_io.save_submission(gb, ASSIGNMENT, "tx", stamp, {(ASSIGNMENT, gid): 1.0 for gid in POINTS})
        gradebook_io.save_submission(gb, ASSIGNMENT, "tx", stamp, {(ASSIGNMENT, gid): 0.5 for gid in POINTS})
        assert gradebook_io.is_graded(gb, ASSIGNMENT, "tx", stamp, {(ASSIGNMENT, g) for g in POINTS})
        later = gradebook_io.parse_timestamp("2026-11-21 10:00:00 UTC")
        assert not gradebook_io.is_graded(gb, ASSIGNMENT, "tx", later, {(ASSIGNMENT, g) for g in POINTS})
    finally:
        gb.close()
    rows = _sql(
        course,
        "SELECT grade.auto_score FROM grade JOIN submitted_notebook sn ON grade.notebook_id = sn.id "
        "JOIN submitted_assignment sa ON sn.assignment_id = sa.id WHERE sa.student_id = 'tx'",
    )
    assert sorted(rows) == [(0.5,)] * len(POINTS)


def _sql(course, query: str, *params) -> list:
    """The rows of one query on the course's gradebook, read with sqlite3 (not through nbgrader)."""
    con = sqlite3.connect(course / "gradebook.db")
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def _selects(gb):
    """Count the SELECT statements the gradebook's session sends (a list that grows while the listener is on)."""
    from sqlalchemy import event

    seen: list[str] = []

    def listen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(gb.db.get_bind(), "before_cursor_execute", listen)
    return seen, lambda: event.remove(gb.db.get_bind(), "before_cursor_execute", listen)


def test_graded_cells_is_one_query_and_agrees_with_the_database(course):
    """One SELECT for the whole assignment, whatever the number of students and grades; same answers as SQL."""
    gb = gradebook_io.open_gradebook(Course(course).db_url)
    stamp = gradebook_io.parse_timestamp(STAMP)
    later = gradebook_io.parse_timestamp("2026-11-22 10:00:00 UTC")
    every = {(ASSIGNMENT, g) for g in POINTS}
    one = sorted(every)[0]
    try:
        for i in range(6):
            gradebook_io.save_submission(gb, ASSIGNMENT, f"gc{i}", stamp, {(ASSIGNMENT, g): 1.0 for g in POINTS})
        gradebook_io.save_submission(gb, ASSIGNMENT, "gc_part", later, {one: 0.0})  # 0 points is still a score
        seen, stop = _selects(gb)
        graded = gradebook_io.graded_cells(gb, ASSIGNMENT)
        stop()
        assert len(seen) == 1
        asked = {s: gradebook_io.is_graded(gb, ASSIGNMENT, s, stamp, every, graded=graded) for s in graded}
    finally:
        gb.close()
    rows = _sql(
        course,
        "SELECT sa.student_id, nb.name, bc.name FROM grade g JOIN base_cell bc ON g.cell_id = bc.id "
        "JOIN submitted_notebook sn ON g.notebook_id = sn.id JOIN notebook nb ON sn.notebook_id = nb.id "
        "JOIN submitted_assignment sa ON sn.assignment_id = sa.id JOIN assignment a ON sa.assignment_id = a.id "
        "WHERE a.name = ? AND g.auto_score IS NOT NULL",
        ASSIGNMENT,
    )
    students = {r[0] for r in _sql(course, "SELECT student_id FROM submitted_assignment")}
    expected: dict[str, set] = {s: set() for s in students}
    for student, notebook, grade_id in rows:
        expected[student].add((notebook, grade_id))
    assert {s: set(pairs) for s, (_, pairs) in graded.items()} == expected
    assert graded["gc_part"] == (later, frozenset({one}))
    assert all(asked[f"gc{i}"] for i in range(6)) and not asked["gc_part"]  # other timestamp, and one score only


def test_saving_a_submission_reads_its_grades_in_one_query(course):
    """The SELECTs of a (re)write do not grow with the number of grade cells (no lazy load per grade)."""
    gb = gradebook_io.open_gradebook(Course(course).db_url)
    stamp = gradebook_io.parse_timestamp(STAMP)
    scores = {(ASSIGNMENT, g): 1.0 for g in POINTS}
    try:
        gradebook_io.save_submission(gb, ASSIGNMENT, "q1", stamp, scores)
        seen, stop = _selects(gb)
        gradebook_io.save_submission(gb, ASSIGNMENT, "q1", stamp, {k: 0.5 for k in scores})
        stop()
    finally:
        gb.close()
    assert len(POINTS) >= 3 and len(seen) <= 4, seen  # assignment, student, submission, its grades


def test_comments_are_written_on_a_first_and_on_a_later_submission(course):
    """A first submission's rows are the ones just made, a later one's are read back: both take the comment."""
    (answer,) = _sql(
        course,
        "SELECT bc.name FROM base_cell bc JOIN notebook nb ON bc.notebook_id = nb.id "
        "WHERE bc.type = 'SolutionCell' AND nb.name = ? ORDER BY bc.name LIMIT 1",
        ASSIGNMENT,
    )[0]
    gb = gradebook_io.open_gradebook(Course(course).db_url)
    stamp = gradebook_io.parse_timestamp(STAMP)
    scores = {(ASSIGNMENT, g): 1.0 for g in POINTS}
    query = (
        "SELECT c.auto_comment FROM comment c JOIN base_cell bc ON c.cell_id = bc.id "
        "JOIN submitted_notebook sn ON c.notebook_id = sn.id JOIN submitted_assignment sa ON sn.assignment_id = sa.id "
        "WHERE sa.student_id = 'cm' AND bc.name = ?"
    )
    try:
        gradebook_io.save_submission(gb, ASSIGNMENT, "cm", stamp, scores, {(ASSIGNMENT, answer): "first"})
        assert _sql(course, query, answer) == [("first",)]
        gradebook_io.save_submission(gb, ASSIGNMENT, "cm", stamp, scores, {(ASSIGNMENT, answer): "second"})
        assert _sql(course, query, answer) == [("second",)]
    finally:
        gb.close()


def test_collect_reads_folders_and_timestamps(course):
    submit_case(course, "honest_full", "zed")
    subs = [s for s in collect(Course(course), ASSIGNMENT) if s.student == "zed"]
    assert len(subs) == 1 and subs[0].timestamp == STAMP


# ---------------------------------------------------------------- whole runs (sandboxed)

needs_sandbox = pytest.mark.skipif(not sandbox_available()[0], reason="no sandbox")
FAST = Limits(cell_seconds=10, notebook_seconds=60)


def _attempt_rows(course):
    path = course / "grades" / f"{ASSIGNMENT}_attempts.csv"
    return list(csv.DictReader(path.open())) if path.is_file() else []


@pytest.mark.slow
@needs_sandbox
def test_killed_job_resumes_without_duplicates(tmp_path):
    course = build_course(tmp_path / "course")
    names = [f"s{i:02d}" for i in range(8)]
    slow = load_case("honest_full")
    slow["answers"]["squares"] = "import time\ntime.sleep(2)\n" + slow["answers"]["squares"]
    from tests.autograde_support import submit

    for name in names:
        submit(course, name, slow["answers"])
    cmd = [
        sys.executable,
        "-m",
        "autograder.cli",
        "autograde",
        ASSIGNMENT,
        "--course",
        str(course),
        "--workers",
        "1",
        "--no-feedback",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while len(_attempt_rows(course)) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    exited_by_itself = proc.poll()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(_attempt_rows(course))
    assert exited_by_itself is None and 2 <= done_before < len(names), (exited_by_itself, done_before)
    summary = autograde(course, ASSIGNMENT, workers=2, limits=FAST, progress=False, feedback=False)
    # the attempts row is written just before the gradebook transaction, so the kill may fall between the
    # two for the last submission: that one is regraded (and its row replaced, not duplicated)
    assert len(summary.skipped) >= done_before - 1 and len(summary.skipped) + len(summary.graded) == len(names)
    rows = _attempt_rows(course)
    assert sorted(r["student_id"] for r in rows) == names and {r["score"] for r in rows} == {"5"}
    con = sqlite3.connect(course / "gradebook.db")
    per_student = con.execute("SELECT student_id, COUNT(*) FROM submitted_assignment GROUP BY student_id").fetchall()
    scores = con.execute("SELECT COUNT(*), SUM(auto_score) FROM grade").fetchone()
    con.close()
    assert sorted(per_student) == [(n, 1) for n in names]
    assert scores == (len(names) * len(POINTS), 5.0 * len(names))


@pytest.mark.slow
@needs_sandbox
def test_dask_local_cluster_executor_gives_the_same_scores(tmp_path):
    pytest.importorskip("distributed")
    course = build_course(tmp_path / "course")
    for name in ("honest_full", "honest_partial", "always_true_eq"):
        submit_case(course, name)
    summary = autograde(course, ASSIGNMENT, executor="dask", workers=2, limits=FAST, progress=False, feedback=False)
    got = {r.submission.student: {gid: p for (_, gid), p in r.scores.items()} for r in summary.graded}
    for name in got:
        assert got[name] == {gid: float(v) for gid, v in load_case(name)["expected"].items()}


@pytest.mark.slow
@needs_sandbox
def test_unreadable_notebook_is_listed_as_ungradable(tmp_path):
    course = build_course(tmp_path / "course")
    from tests.autograde_support import submit

    submit(course, "broken", raw="{ this is not json")
    submit_case(course, "honest_full")
    summary = autograde(course, ASSIGNMENT, workers=2, limits=FAST, progress=False, feedback=False)
    assert [r.submission.student for r in summary.graded] == ["honest_full"]
    assert len(summary.ungradable) == 1 and summary.ungradable[0][0] == "broken"
    assert "cannot be read" in summary.ungradable[0][1]
    assert any("ungradable broken" in line for line in summary.lines())


def test_cli_reports_a_missing_course_in_one_line(tmp_path, capsys):
    from autograder.cli import main

    assert main(["autograde", "ps1", "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not an nbgrader course" in err and "Traceback" not in err


def test_unsafe_mode_still_runs_in_a_separate_process_with_limits():
    from autograder.kernel import Step, execute
    from autograder.sandbox import Sandbox

    plan = [
        Step(0, "code", "import os\npid = os.getpid()\nx = 2 + 3", label="c1"),
        Step(1, "probe", "x", grade_id="x"),
        Step(2, "probe", "pid", grade_id="pid"),
    ]
    run = execute(plan, Sandbox(Limits(), unsafe=True))
    assert run.values["x"] == 5 and run.values["pid"] != os.getpid()


@pytest.mark.slow
@needs_sandbox
def test_a_grader_failure_is_listed_not_scored(tmp_path, monkeypatch):
    import autograder.pipeline as pipeline

    course = build_course(tmp_path / "course")
    submit_case(course, "honest_full")

    def broken(*args, **kwargs):
        raise OSError("sandbox exploded")

    monkeypatch.setattr(pipeline, "_grade_notebooks", broken)  # the worker's step, after the keys
    summary = autograde(course, ASSIGNMENT, workers=1, limits=FAST, progress=False, feedback=False, warm=False)
    assert summary.graded == [] and summary.ungradable == [
        ("honest_full", "could not be graded: OSError: sandbox exploded")
    ]
    con = sqlite3.connect(course / "gradebook.db")
    assert con.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone() == (0,)
    con.close()


@pytest.mark.slow
def test_unsafe_mode_grades_trusted_submissions_the_same(tmp_path):
    course = build_course(tmp_path / "course")
    for name in ("honest_full", "honest_partial"):
        submit_case(course, name)
    summary = autograde(course, ASSIGNMENT, workers=2, limits=FAST, progress=False, feedback=False, unsafe=True)
    assert summary.sandbox.startswith("no sandbox")
    for r in summary.graded:
        expected = load_case(r.submission.student)["expected"]
        assert {gid: p for (_, gid), p in r.scores.items()} == {g: float(v) for g, v in expected.items()}
