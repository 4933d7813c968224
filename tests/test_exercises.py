"""The nbgrader assignments under exercises/: they generate, the solutions pass, the released versions fail,
the released stubs sit inside their functions.

Everything nbgrader writes (gradebook.db, release/) goes to a temporary copy of the course.
"""

import ast
import inspect
import os
import textwrap
import traceback

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder.grading import load_assignment as load_spec
from course.nbgrader_setup import ASSIGNMENTS, copy_course, course_root, run_nbgrader
from tests.notebook_kernel import execute_notebook

ROOT = course_root()


def _source(name):
    return nbformat.read(str(ROOT / "exercises" / name / f"{name}.ipynb"), as_version=4)


def _graded(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def _execute(nb, cwd):
    return execute_notebook(nb, cwd, timeout=120, allow_errors=True)


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
    assert [(c.cell_type, c.source, c.metadata) for c in built.cells] == [
        (c.cell_type, c.source, c.metadata) for c in committed.cells
    ]


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
def test_the_quiz_keys_stay_in_the_source_folder_and_never_reach_the_release(released):
    """exercises/quiz7/keys_quiz7.toml is the instructors' (nbgrader_config.py ignores keys_*.toml)."""
    assert (released / "exercises" / "quiz7" / "keys_quiz7.toml").is_file()
    shipped = sorted(p.name for p in (released / "release").rglob("*") if p.is_file())
    assert shipped and not [n for n in shipped if n.startswith("keys_") or n.endswith(".toml")], shipped


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


# ---------------------------------------------------------------- the released stubs, as a student runs them

STUB_COMMENT, STUB_RAISE = "# YOUR CODE HERE", "raise NotImplementedError()"


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _released(released, name):
    return nbformat.read(str(released / "release" / name / f"{name}.ipynb"), as_version=4)


def _functions(source):
    return [n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def _run(source, namespace, filename):
    """exec a cell in process; return the value of a trailing expression (nbgrader's partial credit)."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    return None if last is None else eval(compile(ast.Expression(last.value), filename, "eval"), namespace)


def _answer(source):
    """The lines between the instructor's BEGIN/END SOLUTION markers, indented as written."""
    lines = source.splitlines()
    begin = next(i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION")
    end = next(i for i, line in enumerate(lines) if line.strip() == "### END SOLUTION")
    return lines[begin + 1 : end]


def _type_under_stub(released_source, answer):
    """What a student does: keep the comment, replace the raise line by the answer (typed at the comment's column)."""
    lines = released_source.splitlines()
    i = next(i for i, line in enumerate(lines) if line.strip() == STUB_RAISE)
    assert lines[i - 1].strip() == STUB_COMMENT
    column = lines[i - 1][: len(lines[i - 1]) - len(lines[i - 1].lstrip())]
    typed = textwrap.indent(textwrap.dedent("\n".join(answer)), column).splitlines()
    return "\n".join(lines[:i] + typed + lines[i + 1 :])


@pytest.fixture(scope="module")
def cleared(tmp_path_factory):
    """A fast stand-in for generate_assignment: nbgrader's own ClearSolutions/ClearHiddenTests, in process."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    course = tmp_path_factory.mktemp("cleared")
    for name in ASSIGNMENTS:
        nb = _source(name)
        for step in (ClearSolutions(), ClearHiddenTests()):
            nb, _ = step.preprocess(nb, {})
        (course / "release" / name).mkdir(parents=True)
        nbformat.write(nb, str(course / "release" / name / f"{name}.ipynb"))
    return course


# the real `nbgrader generate_assignment` (slow), and nbgrader's preprocessors in process (fast)
RELEASES = [pytest.param("released", marks=pytest.mark.slow), "cleared"]


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_stub_cells_define_their_functions_which_raise_from_inside(request, release, name):
    check_stub_cells(request.getfixturevalue(release), name)


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_a_solution_typed_under_the_released_comment_passes_the_hidden_tests(request, release, name):
    check_typed_solution(request.getfixturevalue(release), name)


def check_stub_cells(course, name):
    """Run every released answer cell as a student does before writing anything.

    A cell that defines functions must run without error and define each of them; calling one raises
    NotImplementedError from the function's own frame. A cell with no function (an answer variable) raises
    NotImplementedError where the value is to be written.
    """
    sources = {_meta(c)["grade_id"]: c.source for c in _source(name).cells if _meta(c).get("solution")}
    namespace, stubs = {}, 0
    for cell in _released(course, name).cells:
        meta = _meta(cell)
        if cell.cell_type != "code" or meta.get("grade"):
            continue
        filename = f"<{name}:{meta.get('grade_id')}>"
        if not meta.get("solution"):
            _run(cell.source, namespace, filename)
            continue
        stubs += 1
        assert STUB_COMMENT in cell.source and STUB_RAISE in cell.source, cell.source
        expected = _functions(sources[meta["grade_id"]])
        if not expected:
            with pytest.raises(NotImplementedError):
                _run(cell.source, namespace, filename)
            continue
        _run(cell.source, namespace, filename)  # defining the functions must not raise
        assert _functions(cell.source) == expected, cell.source
        for fname in expected:
            func = namespace[fname]
            required = [p for p in inspect.signature(func).parameters.values() if p.default is p.empty]
            with pytest.raises(NotImplementedError) as info:
                func(*[None] * len(required))
            innermost = traceback.extract_tb(info.tb)[-1]
            assert (innermost.name, innermost.filename) == (fname, filename), cell.source
    assert stubs == len(sources) > 0


def check_typed_solution(course, name):
    """The instructor's answer, typed under `# YOUR CODE HERE` of the released cell, earns every point."""
    source = {_meta(c)["grade_id"]: c.source for c in _source(name).cells if _meta(c).get("grade_id")}
    namespace, earned = {}, {}
    for cell in _released(course, name).cells:
        meta = _meta(cell)
        if cell.cell_type != "code":
            continue
        gid = meta.get("grade_id")
        code_ = cell.source
        if meta.get("solution"):
            code_ = _type_under_stub(code_, _answer(source[gid]))
        elif meta.get("grade"):
            code_ = source[gid]  # the hidden tests come back, as in nbgrader autograde
        value = _run(code_, namespace, f"<{name}:{gid}>")
        if meta.get("grade"):
            earned[gid] = meta["points"] if value is None else float(value)
    assert earned == {p.grade_id: p.points for p in load_spec(name)}


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
    from autograder.grading.quiz_notebook import typed_key
    from course.quiz.bank import load_bank
    from course.quiz.notebook import answer_variable
    from course.quiz.variants import backdoor_variant

    bank = load_bank()
    answers = {q.id: typed_key(q) for q in bank}
    answers["t3_mdl"] = repr("верно")  # wrong: 0 of 1
    answers["t3_backdoor_smallest_sets"] = repr("в")  # one of two correct options: 0.5 of 1
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
    solutions = {
        c.metadata.nbgrader["grade_id"]: c.source
        for c in _source("lrp_rules").cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }

    def edit(cells):
        for cell in cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in solutions:
                src = "\n".join(line for line in solutions[gid].splitlines() if "### " not in line)
                if gid == "lrp0_step_solution":  # a correct answer that warns on stderr whenever it is called
                    src = "import warnings\n" + src.replace(
                        '"""LRP-0 for one dense layer."""', '"""LRP-0."""\n    warnings.warn("just a warning")'
                    )
                cell.source = src
        return cells

    _submit(released, "lrp_rules", "s002", edit)
    run_nbgrader(["autograde", "lrp_rules", "--force"], root=released, timeout=600)
    total, grades = _grades(released, "lrp_rules", "s002")
    assert grades["lrp0_step"] == 2
    assert total == load_spec("lrp_rules").total_points
