"""The adversarial corpus (tests/fixtures/adversarial): exact scores, and nothing outside the sandbox touched.

One autograding run grades every submission of the corpus side by side (as a
cohort would be graded); each test then checks one submission's exact points
per grade id — written by hand in its TOML file — or one property of the course
directory after the run.
"""

from __future__ import annotations

import json
import sqlite3

import nbformat
import pytest

from autograder.pipeline import autograde
from autograder.sandbox import Limits, sandbox_available
from tests.autograde_support import (
    ASSIGNMENT,
    POINTS,
    QUIZ,
    QUIZ_CORPUS,
    build_course,
    build_quiz_course,
    corpus,
    digest,
    load_case,
    notebook_points,
    submit_case,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox_available()[0], reason=f"no sandbox: {sandbox_available()[1]}"),
]

LIMITS = Limits(
    cell_seconds=8, notebook_seconds=60, interrupt_grace=1.0, memory_bytes=768 << 20, output_bytes=1 << 20, processes=32
)
CASES = corpus()


@pytest.fixture(scope="module", params=["warm", "cold"])
def graded(request, tmp_path_factory):
    """The corpus graded with warm-started kernels (forked from a zygote) and with a new sandbox each."""
    course = build_course(tmp_path_factory.mktemp("adversarial") / "course")
    for name in CASES:
        submit_case(course, name)
    protected = [course / "source", course / "release", course / "nbgrader_config.py"]
    before = digest(protected)
    submitted_before = digest([course / "submitted"])
    summary = autograde(course, ASSIGNMENT, workers=2, limits=LIMITS, progress=False, warm=request.param == "warm")
    results = {r.submission.student: r for r in summary.graded}
    return course, summary, results, before, digest(protected), submitted_before


def test_every_submission_is_graded(graded):
    _, summary, results, *_ = graded
    assert summary.ungradable == []
    assert sorted(results) == CASES


@pytest.mark.parametrize("name", CASES)
def test_exact_score(graded, name):
    _, _, results, *_ = graded
    case = load_case(name)
    scores = {gid: points for (_, gid), points in results[name].scores.items()}
    assert scores == {gid: float(v) for gid, v in case["expected"].items()}, case["description"]
    assert set(scores) == set(POINTS)


@pytest.mark.parametrize("name", [n for n in CASES if "limit" in load_case(n)])
def test_limit_is_named_in_the_feedback(graded, name):
    course, _, results, *_ = graded
    phrase = load_case(name)["limit"]
    assert any(phrase in line for line in results[name].limits)
    html = (course / "feedback" / name / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert phrase in html


def test_gradebook_holds_exactly_the_grader_scores(graded):
    course, _, results, *_ = graded
    con = sqlite3.connect(course / "gradebook.db")
    rows = con.execute(
        "SELECT student.id, grade_cell.name, grade.auto_score, grade.manual_score, grade.extra_credit, "
        "grade.needs_manual_grade FROM grade JOIN base_cell grade_cell ON grade.cell_id = grade_cell.id "
        "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
        "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
        "JOIN student ON submitted_assignment.student_id = student.id"
    ).fetchall()
    students = [r[0] for r in con.execute("SELECT id FROM student")]
    con.close()
    assert sorted(students) == CASES  # no "victim", nobody created from inside a sandbox
    assert len(rows) == len(CASES) * len(POINTS)  # one grade per grade cell, no duplicates
    for student, gid, auto, manual, extra, needs_manual in rows:
        assert auto == results[student].scores[(ASSIGNMENT, gid)]
        assert manual is None and extra is None and not needs_manual


def test_source_release_and_other_students_files_untouched(graded):
    course, _, _, before, after, submitted_before = graded
    assert before == after
    assert digest([course / "submitted"]) == submitted_before
    assert not (course / "submitted" / "victim").exists()


def test_feedback_shows_no_hidden_tests(graded):
    course, *_ = graded
    pages = sorted((course / "feedback").rglob("*.html"))
    assert len(pages) == len(CASES)
    for page in pages:
        text = page.read_text()
        for secret in ("HIDDEN-", "BEGIN HIDDEN TESTS", "assert squares(", "assert blocking_set(", "allclose(relu"):
            assert secret not in text, (page, secret)


def test_snooping_found_nothing(graded):
    course, *_ = graded

    def output(name):  # what the submission printed, as kept in its feedback notebook
        nb = json.loads((course / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        texts = [o.get("text", "") for cell in nb["cells"] for o in cell.get("outputs", [])]
        return "".join("".join(t) if isinstance(t, list) else t for t in texts)

    assert "FOUND []" in output("read_gradebook")
    assert "UPDATED" not in output("gradebook_extra_credit")
    assert "OVERWROTE" not in output("overwrite_other")
    assert "CONNECTED" not in output("network") and "NETWORK" in output("network")


# ------------------------------------------------------------ the quiz's answer keys (tests/fixtures/adversarial/quiz7)

QUIZ_CASES = corpus(QUIZ_CORPUS)


@pytest.fixture(scope="module", params=["warm", "cold"])
def graded_quiz(request, tmp_path_factory):
    """The quiz corpus graded on the course's own quiz7: the grader reads the keys, the sandboxed code cannot."""
    course = build_quiz_course(tmp_path_factory.mktemp("adversarial_quiz") / "course")
    for name in QUIZ_CASES:
        submit_case(course, name, folder=QUIZ_CORPUS, assignment=QUIZ)
    summary = autograde(
        course,
        QUIZ,
        workers=2,
        limits=LIMITS.with_(cell_seconds=30, notebook_seconds=120),
        progress=False,
        warm=request.param == "warm",
    )
    return course, summary, {r.submission.student: r for r in summary.graded}


def _printed(course, assignment, name) -> str:
    """What a submission printed, as kept in its autograded notebook."""
    nb = json.loads((course / "autograded" / name / assignment / f"{assignment}.ipynb").read_text())
    texts = [o.get("text", "") for cell in nb["cells"] for o in cell.get("outputs", [])]
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


@pytest.mark.parametrize("name", QUIZ_CASES)
def test_quiz_exact_score(graded_quiz, name):
    course, summary, results = graded_quiz
    assert summary.ungradable == []
    case = load_case(name, QUIZ_CORPUS)
    scores = {gid: points for (_, gid), points in results[name].scores.items()}
    assert len(scores) > len(case["expected"])  # every question of the quiz was graded
    want = {gid: float(case["expected"].get(gid, case["others"])) for gid in scores}
    assert scores == want, case["description"]
    messages = {gid: text for (_, gid), text in results[name].messages.items()}
    for gid, phrase in case.get("feedback", {}).items():
        assert phrase in messages[gid], (gid, phrase, messages[gid])
    out = _printed(course, QUIZ, name)
    for phrase in case.get("printed", []):
        assert phrase in out, (phrase, out[-2000:])


# ------------------------------------------------------------ a hostile submission and the students graded after it

HOSTILE_QUIZ_CELL = r"""
import os, stat, json, time
print("HOSTILE-MARKER")
def forge(data):
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            flags = int(open(f"/proc/self/fdinfo/{fd}").read().split("flags:")[1].split()[0], 8)
            if fd > 2 and flags & 3 == 1 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, data)
        except (OSError, IndexError, ValueError):
            pass
if os.fork() == 0:  # outlives the cell and claims wrong values for every cell of whoever runs next
    os.setsid()
    end = time.time() + 30
    while time.time() < end:
        for index in range(200):
            forge((json.dumps({"event": "start", "index": index}) + "\n").encode())
            forge((json.dumps({"event": "value", "index": index, "grade_id": "x", "data": '"Ж"'}) + "\n").encode())
            forge((json.dumps({"event": "done", "index": index, "error": None}) + "\n").encode())
        time.sleep(0.05)
    os._exit(0)
for top in ("/tmp", "/scratch", "/dev/shm"):
    os.makedirs(f"{top}/locked/inner", exist_ok=True)
    os.chmod(f"{top}/locked", 0)
forge(b"[1, 2]\n")  # a JSON list where an object belongs: it once crashed the grader's loop
time.sleep(2)
"""


@pytest.fixture(scope="module")
def hostile_first(tmp_path_factory):
    """quiz7: a hostile submission graded first, then two honest solutions and an untouched release."""
    course = build_quiz_course(tmp_path_factory.mktemp("hostile_first") / "course")
    release = nbformat.read(str(course / "release" / QUIZ / f"{QUIZ}.ipynb"), as_version=4)
    hostile = nbformat.from_dict(json.loads(nbformat.writes(release)))
    hostile.cells.insert(1, nbformat.v4.new_code_cell(HOSTILE_QUIZ_CELL))
    solution = nbformat.read(str(course / "exercises" / QUIZ / f"{QUIZ}.ipynb"), as_version=4)
    for student, nb in (("a_hostile", hostile), ("b_honest", solution), ("c_blank", release), ("d_honest", solution)):
        folder = course / "submitted" / student / QUIZ
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{QUIZ}.ipynb"))
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return course


@pytest.mark.parametrize("mode, workers", [("warm", 1), ("warm", 2), ("cold", 2)])
def test_a_hostile_submission_bends_no_grade_of_the_students_after_it(hostile_first, mode, workers):
    """The reported case: honest quiz7 work scored 4.42/25 and an untouched release full marks after it."""
    course = hostile_first
    total = notebook_points(course / "release" / QUIZ / f"{QUIZ}.ipynb")
    assert total > 0
    submitted = digest([course / "submitted"])
    summary = autograde(
        course,
        QUIZ,
        workers=workers,
        limits=LIMITS.with_(cell_seconds=30, notebook_seconds=120),
        progress=False,
        feedback=False,
        warm=mode == "warm",
        force=True,
    )
    assert summary.ungradable == []
    scores = {r.submission.student: r.score for r in summary.graded}
    assert scores == {"a_hostile": 0.0, "b_honest": total, "c_blank": 0.0, "d_honest": total}
    results = {r.submission.student: r for r in summary.graded}
    assert any("event protocol" in line for line in results["a_hostile"].limits)
    assert all(not results[s].limits for s in ("b_honest", "c_blank", "d_honest"))
    con = sqlite3.connect(course / "gradebook.db")
    booked = dict(
        con.execute(
            "SELECT student.id, SUM(grade.auto_score) FROM grade "
            "JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
            "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
            "JOIN student ON submitted_assignment.student_id = student.id GROUP BY student.id"
        ).fetchall()
    )
    con.close()
    assert booked == pytest.approx(scores)
    assert digest([course / "submitted"]) == submitted
    for student in ("b_honest", "c_blank", "d_honest"):
        assert "HOSTILE-MARKER" not in _printed(course, QUIZ, student)
