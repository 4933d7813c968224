"""Feedback and the batch: student text is never live in feedback HTML, odd notebooks are normalised on the way
in, and the batch always ends with its summary.

A page is checked the way a browser would see it (:class:`LiveContent`, an
HTML parser): no event-handler attribute, no ``javascript:``/``data:``/``vbscript:``
URL, no frame, no script body carrying a student's marker. The checker is shown
to catch the attacks on the unsanitised notebook first, so it can fail. The
cases ``tests/fixtures/adversarial/feedback_*.toml`` are then graded warm and
cold next to honest submissions and their real nbgrader feedback pages checked.
"""

from __future__ import annotations

import html.parser
import json
import os

import nbformat
import pytest

from autograder import pipeline
from autograder.feedback import feedback_notebook
from autograder.restore import parse_submission, restore
from course.errors import CourseError
from tests.autograde_support import ASSIGNMENT, build_course, corpus, load_case, submit_case
from tests.test_collect_files import HONEST, assert_graded_as_written, cohort_fixture, e2e, grade_cases

FEEDBACK_CASES = [n for n in corpus() if n.startswith("feedback_")]
_URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "xlink:href",
    "background",
    "poster",
    "srcset",
    "cite",
    "longdesc",
}


class LiveContent(html.parser.HTMLParser):
    """What in a page would run or load on its own: ``live`` lists each finding (empty for a safe page)."""

    def __init__(self, marker: str = "XSS"):
        super().__init__(convert_charrefs=True)  # entities decoded, as a browser does (&#106;avascript:)
        self.marker, self.live, self._script = marker, [], False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            scheme = "".join(ch for ch in (value or "") if ch > " ").lower().split(":", 1)
            if name.startswith("on") or name == "srcdoc":
                self.live.append(f"<{tag} {name}={value!r}>")
            elif name in _URL_ATTRIBUTES and len(scheme) == 2 and scheme[0] in ("javascript", "vbscript", "data"):
                self.live.append(f"<{tag} {name}={value!r}>")
        if tag in ("iframe", "frame", "object", "embed"):
            self.live.append(f"<{tag}>")
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script and self.marker in data:
            self.live.append(f"<script>{data[:80]}")


def live_content(page: str) -> list[str]:
    parser = LiveContent()
    parser.feed(page)
    parser.close()
    return parser.live


def _render(nb) -> str:
    """The notebook as nbconvert's HTML export shows it (the template nbgrader's feedback page extends)."""
    from nbconvert.exporters import HTMLExporter

    return HTMLExporter(template_name="classic").from_notebook_node(nb)[0]


@pytest.fixture(scope="module")
def submitted(tmp_path_factory):
    """name -> the fixture case as a submitted notebook of ps1 (path), and ps1's release."""
    course = build_course(tmp_path_factory.mktemp("feedback_fast") / "course")
    for name in FEEDBACK_CASES:
        submit_case(course, name)
    release = nbformat.read(course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    return {name: course / "submitted" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb" for name in FEEDBACK_CASES}, release


# ------------------------------------------------------------------ fast: the checker, the sanitiser, the reader


@pytest.mark.slow  # nbgrader generate_feedback on a submitted course
def test_the_checker_finds_the_attacks_in_an_unsanitised_page(submitted):
    paths, release = submitted
    nb = nbformat.read(paths["feedback_markdown_html"], as_version=4)
    found = live_content(_render(nb))
    # img onerror, script, svg onload, iframe (+ srcdoc), div onmouseover, 4 javascript:/data: links, raw script
    assert len(found) >= 10, found


@pytest.mark.slow  # nbgrader generate_feedback on a submitted course
def test_feedback_notebook_shows_the_text_and_nothing_live(submitted):
    paths, release = submitted
    path = paths["feedback_markdown_html"]
    restored = restore(release, parse_submission(path.read_bytes()))
    page = _render(feedback_notebook(restored, None, {}, ["a limit line with <b onclick=alert('XSS-L')>"], release))
    assert live_content(page) == []
    for words in ("My notes", "hover", "click", "a limit line"):
        assert words in page, words


@pytest.mark.slow  # nbgrader generate_feedback on a submitted course
def test_instructor_text_is_kept_as_released_and_an_edited_copy_is_cleaned(submitted):
    """Locked cells and unchanged release text are the instructor's (and cost nothing); an edit is the student's."""
    paths, release = submitted
    restored = restore(release, parse_submission(paths["feedback_markdown_html"].read_bytes()))
    texts = [
        c
        for c in restored.cells
        if c.cell_type == "markdown" and c.source in {r.source for r in release.cells if r.cell_type == "markdown"}
    ]
    assert texts
    shown = feedback_notebook(restored, None, {}, [], release)
    assert all(cell in shown.cells for cell in texts)
    texts[0].source += "\n<img src=x onerror=alert('XSS-edit')>"
    assert live_content(_render(feedback_notebook(restored, None, {}, [], release))) == []


@pytest.mark.slow  # nbgrader generate_feedback on a submitted course
def test_a_source_that_is_not_text_is_normalised_on_the_way_in(submitted):
    paths, release = submitted
    path = paths["feedback_source_not_text"]
    with pytest.raises(nbformat.ValidationError):  # what nbgrader's generate_feedback refused
        nbformat.validate(nbformat.from_dict(json.loads(path.read_text())))
    nb = parse_submission(path.read_bytes())
    nbformat.validate(nb)
    texts = [c.source for c in nb.cells]
    assert "42" in texts and "line 7\n" in texts and "" in texts
    nbformat.validate(feedback_notebook(restore(release, nb), None, {}, []))


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"[1, 2]", "no cell list"),
        (b"[" * 100_000 + b"]" * 100_000, "cannot be read"),
        (b"\xff\xfe", "cannot be read"),
        (json.dumps({"nbformat": 4, "cells": "x"}).encode(), "no cell list"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "cells": [], "x": ' + b"9" * 1_000_000 + b"}", None),
    ],
    ids=["list", "deep", "binary", "cells-not-list", "long-int"],
)
def test_unreadable_notebooks_are_one_clear_error(data, reason):
    if reason is None:  # a million-digit number is kept as text, in linear time
        assert parse_submission(data).cells == []
        return
    with pytest.raises(CourseError, match=reason):
        parse_submission(data)


# ------------------------------------------------------------------ graded end to end, warm and cold

graded = cohort_fixture()


@e2e
def test_feedback_pages_have_nothing_live(graded):
    course, *_ = graded
    pages = [course / "feedback" / name / ASSIGNMENT / f"{ASSIGNMENT}.html" for name in HONEST + FEEDBACK_CASES]
    for page in pages + sorted((course / "feedback").rglob("*.html")):
        assert live_content(page.read_text()) == [], page
    text = (course / "feedback" / "feedback_markdown_html" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for words in load_case("feedback_markdown_html")["visible"]:
        assert words in text, words


@e2e
def test_graded_fully_and_autograded_notebooks_valid(graded):
    assert_graded_as_written(graded, HONEST + FEEDBACK_CASES)
    course = graded[0]
    for name in HONEST + FEEDBACK_CASES:
        nbformat.validate(nbformat.read(course / "autograded" / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4))


@e2e
def test_the_batch_ends_with_a_line_per_submission_left_without_feedback(tmp_path_factory, monkeypatch):
    def broken(root, assignment, workers=None):
        raise CourseError("nbgrader generate_feedback ps1 failed:\n[ERROR] something nbgrader did not like")

    monkeypatch.setattr(pipeline, "generate_feedback", broken)
    course, summary, results, *_ = grade_cases(tmp_path_factory, HONEST, "warm", "nofeedback")
    lines = summary.lines()
    for name in HONEST:
        mine = [line for line in lines if line.startswith(f"  not graded fully {name}:")]
        assert len(mine) == 1 and "no feedback page for ps1" in mine[0] and "did not like" in mine[0], lines
    assert os.path.isdir(course / "autograded" / "honest_full")  # the grades and notebooks were kept


def test_feedback_notebook_leaves_the_restored_notebook_as_it_was():
    """The page's notebook is a copy: the restored notebook (shared with the rest of the grading) keeps its
    test source, outputs and text."""
    import json

    from autograder.kernel import CellResult, Execution
    from autograder.restore import is_test

    test = nbformat.v4.new_code_cell(
        "assert answer == 42  # the secret test",
        metadata={"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "t1", "points": 1}},
    )
    code = nbformat.v4.new_code_cell("answer = 41\nprint(answer)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n")]
    text = nbformat.v4.new_markdown_cell("My <b>notes</b>")
    restored = nbformat.v4.new_notebook(cells=[code, test, text])
    before = json.dumps(restored, sort_keys=True)
    run = Execution(cells={0: CellResult("ok", None, "41\n")})
    shown = feedback_notebook(restored, run, {"t1": (0.0, 1.0, "not 42")}, ["a limit"])
    assert json.dumps(restored, sort_keys=True) == before
    assert is_test(restored.cells[1]) and "secret" in restored.cells[1].source
    assert [c.cell_type for c in shown.cells] == ["markdown", "code", "code", "markdown"]
    assert shown.cells[1].outputs[0].text == "41\n" and "secret" not in shown.cells[2].source
    assert "not 42" in shown.cells[2].outputs[0].text
