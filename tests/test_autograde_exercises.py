"""The course's own assignments through the autograder: the instructor's solution earns every point,
the released stubs earn none (the Python specs of autograder.grading.assignments)."""

from __future__ import annotations

import shutil

import numpy as np
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


def _memorised_cells() -> dict:
    """Solution cells that return the published probes' outputs from a table and zeros otherwise."""
    from autograder.grading import load_assignment

    spec = load_assignment("lrp_rules")
    cells = {}
    for part in spec:
        table = {}
        for probe in part.probes:
            name = probe.expression.split("(", 1)[0]
            args = eval(probe.expression, {name: lambda *a: a})  # noqa: S307 - the spec's own literals
            key = repr(_plain(args))
            table[key] = np.asarray(probe.key({"student_id": None})).tolist()
        params = "a, W, b, R" if "step" in part.grade_id else "x, params, target, eps"
        params += ", eps" if part.grade_id == "lrp_eps_step" else ""
        cells[f"{part.grade_id}_solution"] = (
            "import numpy as np\n"
            f"_TABLE_{part.grade_id} = {table!r}\n"
            "def _plain(v):\n"
            "    if isinstance(v, (list, tuple)):\n"
            "        return [_plain(x) for x in v]\n"
            "    return np.asarray(v).tolist()\n"
            f"def {name}({params}):\n"
            f"    return np.array(_TABLE_{part.grade_id}.get(repr(_plain([{params}])), np.zeros(3)))\n"
        )
    return cells


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return np.asarray(v).tolist()


def test_memorised_outputs_earn_only_the_published_probes_share(tmp_path):
    """A table of the spec's public probe outputs: full marks on those, none on the probes drawn at grading."""
    import os
    import stat

    from autograder.grading import load_assignment
    from autograder.grading_seed import SEED_FILE
    from tests.autograde_support import submit

    root = copy_course(tmp_path / "course", assignments=("lrp_rules",))
    run_nbgrader(["generate_assignment", "lrp_rules", "--force"], root)
    submit(root, "memoriser", _memorised_cells(), assignment="lrp_rules")
    limits = Limits(cell_seconds=60, notebook_seconds=300)
    first = autograde(root, "lrp_rules", workers=1, limits=limits, progress=False, feedback=False)
    seed_file = root / SEED_FILE
    assert stat.S_IMODE(os.stat(seed_file).st_mode) == 0o600
    spec = load_assignment("lrp_rules")
    fresh = spec.with_fresh_probes(int(seed_file.read_text()))
    (result,) = first.graded
    expected = {("lrp_rules", p.grade_id): p.points * len(p.probes) / len(fresh[p.grade_id].probes) for p in spec}
    # with the public probes alone it would be every point
    assert result.scores == pytest.approx(expected), (result.limits, result.messages, result.notes)
    assert all("drawn at grading" in result.messages[k] for k in expected)
    again = autograde(root, "lrp_rules", workers=1, limits=limits, progress=False, feedback=False, force=True)
    assert again.graded[0].scores == result.scores  # the same seed, the same probes: grading is reproducible


ENGINE_CELLS = {
    "lrp_rules": (
        "lrp0_step_solution",
        "from course.relevance import Dense, Sequential, lrp, rules\n"
        "def lrp0_step(a, W, b, R):\n"
        "    model = Sequential([Dense(np.asarray(W, dtype=float), np.asarray(b, dtype=float))])\n"
        "    z = model(a[None])[0]\n"
        "    return sum(R[k] / z[k] * lrp(model, a[None], rules.Zero(), k)[0] for k in range(len(R)))\n",
        "lrp0_step",
    ),
    "backdoor": (
        "set_g1_solution",
        "import course.causal as solver\nSET_G1 = set(solver.minimal_backdoor_sets(G1, 'X', 'Y')[0])\n",
        "set_g1",
    ),
}


@pytest.mark.parametrize("name", sorted(ENGINE_CELLS))
def test_an_answer_computed_by_the_course_engine_earns_nothing(tmp_path, name):
    """The engine's answer is right to the last digit, and the exercise forbids it: 0 for that part, with why."""
    import nbformat

    cell_id, source, gid = ENGINE_CELLS[name]
    root = copy_course(tmp_path / "course", assignments=(name,))
    run_nbgrader(["generate_assignment", name, "--force"], root)
    nb = nbformat.read(root / "exercises" / name / f"{name}.ipynb", as_version=4)  # the instructor's solution
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == cell_id:
            cell.source = source
    folder = root / "submitted" / "engine_user" / name
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    summary = autograde(
        root, name, workers=1, limits=Limits(cell_seconds=60, notebook_seconds=300), progress=False, feedback=False
    )
    (result,) = summary.graded
    total = notebook_points(root / "release" / name / f"{name}.ipynb")
    assert result.scores[(name, gid)] == 0.0
    assert (
        "is made with" in result.messages[(name, gid)]
        and "this exercise asks for your own code" in (result.messages[(name, gid)])
    )
    others = {k: v for k, v in result.scores.items() if k != (name, gid)}
    cell_points = total - sum(others.values())
    assert cell_points == 2.0  # every other part earned all its points: only the engine's answer lost them
    assert any(gid in line for line in result.forbidden)  # and the summary names it for the instructor
    assert any(
        line.startswith("  0 points for an answer made with a forbidden module engine_user: ")
        for line in summary.lines()
    )
