"""Submitted files are read as a root-run grader must: only regular files of the student's own folder.

The adversarial cases ``tests/fixtures/adversarial/files_*.toml`` plant symbolic
links (to another student's notebook, to the instructor's source, to a
root-only file), hard links, FIFOs, a folder named like the notebook and an
oversized file. They are graded warm and cold next to honest submissions:
exact scores for everybody, one summary line per submission not graded fully,
nothing of the link targets copied to ``autograded/`` or ``feedback/``, and the
other students' files unchanged. Fast tests check :mod:`autograder.submitted`
and :func:`autograder.pipeline.collect` alone.
"""

from __future__ import annotations

import os

import pytest

from autograder.pipeline import Course, autograde, collect
from autograder.sandbox import Limits, sandbox_available
from autograder.submitted import RefusedFile, open_folder, read_file
from tests.autograde_support import ASSIGNMENT, POINTS, build_course, corpus, digest, load_case, submit_case

FILE_CASES = [n for n in corpus() if n.startswith("files_")]
HONEST = ["honest_full", "honest_partial"]
LIMITS = Limits(
    cell_seconds=8, notebook_seconds=60, interrupt_grace=1.0, memory_bytes=768 << 20, output_bytes=1 << 20, processes=32
)
#: a root-only file a symlinked timestamp.txt points at (files_symlink_timestamp.toml)
ROOT_ONLY = "/etc/shadow"


# ------------------------------------------------------------------ the reader alone


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "s1" / "ps1").mkdir(parents=True)
    return tmp_path


def test_reads_a_regular_file(folder):
    (folder / "s1" / "ps1" / "a.txt").write_text("hello")
    with open_folder(folder, "s1", "ps1") as f:
        assert read_file(f, "a.txt", 100) == b"hello"


@pytest.mark.parametrize(
    "plant, phrase",
    [
        (lambda p, other: p.symlink_to(other), "symbolic link"),
        (lambda p, other: os.link(other, p), "hard link"),
        (lambda p, other: os.mkfifo(p), "FIFO"),
        (lambda p, other: p.mkdir(), "folder"),
        (lambda p, other: p.write_bytes(b"x" * 102), "larger than 101 bytes"),
    ],
    ids=["symlink", "hardlink", "fifo", "directory", "oversize"],
)
def test_refuses_what_is_not_a_small_regular_file(folder, plant, phrase):
    other = folder / "other.txt"
    other.write_text("someone else's")
    plant(folder / "s1" / "ps1" / "a.txt", other)
    with open_folder(folder, "s1", "ps1") as f, pytest.raises(RefusedFile, match=phrase):
        read_file(f, "a.txt", 101)


def test_refuses_a_character_device(folder):
    os.mknod(folder / "s1" / "ps1" / "a.txt", 0o600 | 0o020000, os.makedev(1, 3))  # like /dev/null
    with open_folder(folder, "s1", "ps1") as f, pytest.raises(RefusedFile, match="device"):
        read_file(f, "a.txt", 100)


@pytest.mark.parametrize("link", ["student", "assignment"])
def test_refuses_a_symlinked_folder(folder, link):
    (folder / "s2" / "ps1").mkdir(parents=True)
    if link == "student":
        (folder / "evil").symlink_to(folder / "s2")
        student = "evil"
    else:
        (folder / "evil").mkdir()
        (folder / "evil" / "ps1").symlink_to(folder / "s2" / "ps1")
        student = "evil"
    with pytest.raises(RefusedFile, match="symbolic link"):
        open_folder(folder, student, "ps1")


@pytest.mark.slow  # a whole autograding run
def test_collect_reads_timestamps_without_following_links(tmp_path):
    course = build_course(tmp_path / "course")
    for name in ("honest_full", "files_symlink_timestamp", "files_fifo_timestamp", "files_symlink_folder"):
        submit_case(course, name)
    subs = {s.student: s for s in collect(Course(course), ASSIGNMENT)}  # returns: the FIFO does not block it
    assert subs["honest_full"].timestamp and subs["honest_full"].notes == ()
    for name in ("files_symlink_timestamp", "files_fifo_timestamp", "files_symlink_folder"):
        assert subs[name].timestamp is None
        assert any(load_case(name)["not_graded"] in note for note in subs[name].notes), subs[name].notes


# ------------------------------------------------------------------ graded end to end, warm and cold


def grade_cases(tmp_path_factory, names: list[str], mode: str, label: str):
    """A fresh ps1 course with ``names`` submitted, graded warm or cold; (course, summary, results, digests)."""
    course = build_course(tmp_path_factory.mktemp(label) / "course")
    for name in names:
        submit_case(course, name)
    protected = [course / "source", course / "release", course / "nbgrader_config.py"]
    before = digest(protected), digest([course / "submitted" / n for n in HONEST])
    summary = autograde(course, ASSIGNMENT, workers=2, limits=LIMITS, progress=False, warm=mode == "warm")
    after = digest(protected), digest([course / "submitted" / n for n in HONEST])
    return course, summary, {r.submission.student: r for r in summary.graded}, before, after


def assert_graded_as_written(graded, names):
    """Exact scores of every case, one summary line per partial submission, the course and others unchanged."""
    course, summary, results, before, after = graded
    assert_exact_scores(summary, results, names)
    assert_one_line_per_partial_submission(summary, names)
    assert before == after


def assert_exact_scores(summary, results, names):
    assert summary.ungradable == []
    assert set(names) <= set(results)
    for name in names:
        scores = {gid: points for (_, gid), points in results[name].scores.items()}
        assert scores == {gid: float(v) for gid, v in load_case(name)["expected"].items()}, name
        assert set(scores) == set(POINTS)


def assert_one_line_per_partial_submission(summary, names):
    lines = summary.lines()
    for name in names:
        mine = [line for line in lines if line.startswith(f"  not graded fully {name}:")]
        phrase = load_case(name).get("not_graded")
        if phrase is None:
            assert mine == [], mine
        else:
            assert len(mine) == 1 and phrase in mine[0], (name, lines)


def e2e(test):
    """A slow end-to-end test that needs the sandbox."""
    available, why = sandbox_available()
    return pytest.mark.slow(pytest.mark.skipif(not available, reason=f"no sandbox: {why}")(test))


#: this issue's cases (files_, numbers_, feedback_) and the honest submissions beside them: one cohort
GRADED_TOGETHER = HONEST + [n for n in corpus() if n.startswith(("files_", "numbers_", "feedback_"))]
_GRADED: dict = {}


def graded_cohort(mode: str, tmp_path_factory):
    """GRADED_TOGETHER graded ``mode`` ("warm" or "cold"): once per test process, shared with
    test_bounded_numbers and test_feedback_sanitise — a cohort graded side by side, as a real batch is."""
    if mode not in _GRADED:
        _GRADED[mode] = grade_cases(tmp_path_factory, GRADED_TOGETHER, mode, "cohort")
    return _GRADED[mode]


def cohort_fixture():
    """The module fixture ``graded``: the cohort of :func:`graded_cohort`, warm and cold (``graded = cohort_fixture()``
    in each module that checks its own cases in it)."""

    @pytest.fixture(scope="module", params=["warm", "cold"])
    def graded(request, tmp_path_factory):
        return graded_cohort(request.param, tmp_path_factory)

    return graded


graded = cohort_fixture()


@e2e
def test_files_exact_scores_and_summary_lines(graded):
    assert_graded_as_written(graded, HONEST + FILE_CASES)


@e2e
def test_link_targets_are_not_copied_anywhere(graded):
    course, *_ = graded
    assert not (course / "autograded" / "files_symlink_timestamp" / ASSIGNMENT / "timestamp.txt").exists()
    secret = open(ROOT_ONLY, "rb").read().split(b"\n")[0]
    solution = (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes()
    for path in sorted((course / "autograded").rglob("*")) + sorted((course / "feedback").rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            assert secret not in data, path
            assert b"BEGIN HIDDEN TESTS" not in data and data != solution, path


@e2e
def test_refused_notebook_gets_feedback_saying_why(graded):
    course, *_ = graded
    for name in FILE_CASES:
        html = (course / "feedback" / name / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        case = load_case(name)
        if case["expected"]["test_squares"] == 0:
            assert case["not_graded"] in html, name


@e2e
def test_other_students_keep_their_grades(graded):
    course, summary, results, *_ = graded
    assert results["honest_full"].score == sum(POINTS.values())
    assert results["honest_partial"].score == sum(load_case("honest_partial")["expected"].values())
