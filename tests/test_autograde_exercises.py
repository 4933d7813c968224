"""The course's own assignments through the autograder: the instructor's solution earns every point,
the released stubs earn none (the Python specs of autograder.grading.assignments)."""

from __future__ import annotations

import shutil

import pytest

from autograder.pipeline import autograde
from autograder.sandbox import Limits, sandbox_available
from course.nbgrader_setup import ASSIGNMENTS, copy_course, run_nbgrader
from tests.autograde_support import notebook_points

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sandbox_available()[0], reason="no sandbox")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("exercises") / "course")
    for name in ASSIGNMENTS:
        run_nbgrader(["generate_assignment", name, "--force"], root)
        for student, src in (("solver", root / "exercises" / name), ("blank", root / "release" / name)):
            folder = root / "submitted" / student / name
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / f"{name}.ipynb", folder / f"{name}.ipynb")
            (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    return root


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_full_marks_stub_zero(course, name):
    summary = autograde(
        course, name, workers=2, limits=Limits(cell_seconds=60, notebook_seconds=300), progress=False, feedback=False
    )
    scores = {r.submission.student: r.score for r in summary.graded}
    total = notebook_points(course / "release" / name / f"{name}.ipynb")
    assert total > 0
    assert scores == {"solver": total, "blank": 0.0}
    assert all(not r.limits for r in summary.graded)
