"""The nbgrader assignments under exercises/: they generate, the solutions pass, the released versions fail.

Everything nbgrader writes (gradebook.db, release/) goes to a temporary copy of the course.
"""
import copy
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.utils import determine_grade

from course.grading import load_spec
from course.nbgrader_setup import ASSIGNMENTS, copy_course, course_root, run_nbgrader

ROOT = course_root()


def _source(name):
    return nbformat.read(str(ROOT / "exercises" / name / f"{name}.ipynb"), as_version=4)


def _graded(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _execute(nb, cwd):
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_has_no_outputs_and_ascii_grade_ids(name):
    nb = _source(name)
    ids = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        meta = cell.metadata.get("nbgrader")
        if meta:
            assert meta["grade_id"].isascii() and meta["grade_id"].replace("_", "").isalnum()
            ids.append(meta["grade_id"])
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_graded_cells_match_the_grading_spec(name):
    spec = load_spec(name)
    cells = {c.metadata.nbgrader["grade_id"]: c for c in _graded(_source(name))}
    assert {p.grade_id: p.points for p in spec} == {g: c.metadata.nbgrader["points"] for g, c in cells.items()}
    for grade_id, cell in cells.items():  # the hidden tests call the spec's checker, nothing else
        hidden = cell.source.split("### BEGIN HIDDEN TESTS")[1]
        assert f"check_in_kernel({name!r}, {grade_id!r}, globals())" in hidden
    assert len(spec.parts) >= 3  # partial credit is split over several cells


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_notebook_is_what_the_builder_writes(name):
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "exercises" / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    built, committed = builder.build(name), _source(name)
    assert [(c.cell_type, c.source, c.metadata) for c in built.cells] == \
           [(c.cell_type, c.source, c.metadata) for c in committed.cells]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """nbgrader generate_assignment for every assignment, in a temporary copy of the course, run from elsewhere."""
    course = copy_course(tmp_path_factory.mktemp("course"))
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("elsewhere"))  # the command must not depend on the working directory
    try:
        for name in ASSIGNMENTS:
            run_nbgrader(["generate_assignment", name, "--force"], root=course, timeout=300)
    finally:
        os.chdir(cwd)
    assert not (ROOT / "release").exists() and not (ROOT / "gradebook.db").exists()
    return course


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_generate_assignment_strips_solutions_and_hidden_tests(released, name):
    nb = nbformat.read(str(released / "release" / name / f"{name}.ipynb"), as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text and "check_in_kernel" not in text
    assert "raise NotImplementedError()" in text


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_passes_its_hidden_tests(name, tmp_path):
    nb = _execute(_source(name), tmp_path)
    for cell in _graded(nb):
        score, max_score = determine_grade(cell)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert score == max_score, (cell.metadata.nbgrader["grade_id"], errors and errors[0].evalue)


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_version_fails_the_hidden_tests(released, name, tmp_path):
    nb = nbformat.read(str(released / "release" / name / f"{name}.ipynb"), as_version=4)
    source_cells = {c.metadata.nbgrader["grade_id"]: c.source for c in _graded(_source(name))}
    for cell in _graded(nb):  # restore the hidden tests, as nbgrader autograde does
        cell.source = source_cells[cell.metadata.nbgrader["grade_id"]]
    nb = _execute(nb, tmp_path)
    for cell in _graded(nb):
        score, _ = determine_grade(cell)
        assert score == 0, cell.metadata.nbgrader["grade_id"]


# ---------------------------------------------------------------- nbgrader autograde end to end


def _submit(course, name, student, edit):
    """Copy the released notebook into submitted/<student>/<name>/ after ``edit(cells)``."""
    nb = nbformat.read(str(course / "release" / name / f"{name}.ipynb"), as_version=4)
    nb.cells = edit(nb.cells)
    target = course / "submitted" / student / name
    target.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target / f"{name}.ipynb"))


def _grades(course, name, student):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        sub = gb.find_submission(name, student)
        return sub.score, {g.name: g.score for nb in sub.notebooks for g in nb.grades}


@pytest.mark.slow
def test_nbgrader_autograde_quiz_partial_credit_variant_and_restored_cell(released):
    from course.quiz.bank import load_bank
    from course.quiz.notebook import answer_variable, typed_key
    from course.quiz.variants import backdoor_variant
    bank = load_bank()
    answers = {q.id: typed_key(q) for q in bank}
    answers["t3_mdl"] = repr("верно")                   # wrong: 0 of 1
    answers["t3_backdoor_smallest_sets"] = repr("в")    # one of two correct options: 0.5 of 1
    answers["variant_backdoor"] = repr(" ".join(backdoor_variant("s001").correct))  # s001's own variant

    def edit(cells):
        out = []
        for cell in cells:
            meta = cell.metadata.get("nbgrader", {})
            gid = meta.get("grade_id", "")
            if meta.get("solution"):
                qid = gid.removesuffix("_answer")
                cell.source = f"{answer_variable(qid)} = {answers[qid]}"
            if gid == "l1_saliency":
                continue  # the student deleted this test cell: nbgrader must put it back and grade it
            out.append(cell)
        return out

    _submit(released, "quiz7", "s001", edit)
    run_nbgrader(["autograde", "quiz7", "--force"], root=released, timeout=600)
    total, grades = _grades(released, "quiz7", "s001")
    assert grades["t3_mdl"] == 0 and grades["t3_backdoor_smallest_sets"] == 0.5
    assert grades["l1_saliency"] == 1 and grades["variant_backdoor"] == 1
    assert total == bank.total_points + 1 - 1.5


@pytest.mark.slow
def test_nbgrader_autograde_ignores_a_warning_on_stderr(released):
    solutions = {c.metadata.nbgrader["grade_id"]: c.source for c in _source("lrp_rules").cells
                 if c.metadata.get("nbgrader", {}).get("solution")}

    def edit(cells):
        for cell in cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in solutions:
                src = solutions[gid].replace("### BEGIN SOLUTION\n", "").replace("### END SOLUTION\n", "")
                src = src.replace("### END SOLUTION", "")
                if gid == "lrp0_step_solution":  # a correct answer that warns on stderr whenever it is called
                    src = "import warnings\n" + src.replace('"""LRP-0 for one dense layer."""',
                                                            '"""LRP-0."""\n    warnings.warn("just a warning")')
                cell.source = src
        return cells

    _submit(released, "lrp_rules", "s002", edit)
    run_nbgrader(["autograde", "lrp_rules", "--force"], root=released, timeout=600)
    total, grades = _grades(released, "lrp_rules", "s002")
    assert grades["lrp0_step"] == 2
    assert total == load_spec("lrp_rules").total_points
