"""The pipeline's steps alone, without a sandbox: warm-kernel preloads, executors, the check step on plain values."""

from types import SimpleNamespace

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder.executors import run_jobs
from autograder.grading import Part, Probe, check
from autograder.grading.checkers import named
from autograder.grading.model import Expected, SourceKey
from autograder.kernel import ProbeError
from autograder.pipeline import check_values, grade_part
from autograder.warm_pool import BASE_PRELOAD, preload_modules
from course.errors import CourseError


def test_preload_reads_the_instructors_cells_only():
    answer = new_code_cell("import secret_student_module\nx = 1")
    answer.metadata["nbgrader"] = {"solution": True, "grade_id": "a"}
    nb = new_notebook(
        cells=[
            new_code_cell("import networkx as nx\nfrom course.causal import parse_dag"),
            new_code_cell("%matplotlib inline"),
            answer,
            new_code_cell("from . import relative"),
        ]
    )
    names = preload_modules({"nb": nb})
    assert set(names) == set(BASE_PRELOAD) | {"networkx", "course.causal"}
    assert list(names) == sorted(names)


def test_run_jobs_yields_every_result_and_refuses_an_unknown_executor():
    assert sorted(run_jobs(lambda n: n * n, range(5), workers=2)) == [0, 1, 4, 9, 16]
    with pytest.raises(CourseError, match="unknown executor 'spark'"):
        run_jobs(abs, [1], executor="spark")


def _one(checker="close", key=None, **options):
    probe = Probe("f()", Expected(key) if key is not None else SourceKey(), named(checker, **options))
    return Part("t", 1.0, (probe,), hint="f returns squares.", notebook="nb", one_expression=True)


def test_check_step_grades_spec_file_parts_with_written_or_computed_keys():
    run = SimpleNamespace(values={"a": [0.0, 1.0], "b": [0.0, 2.0]}, problems={"c": "evaluating it raised KeyError"})
    parts = {"a": _one(key=[0.0, 1.0]), "b": _one(), "c": _one(key=1.0)}
    keys = {("nb", "b"): [0.0, 1.0]}  # computed from the instructor's notebook
    out = check_values(run, parts, keys, {("nb", g): 2.0 for g in parts}, "nb")
    assert out["a"] == (2.0, 2.0, "")
    assert out["b"][0] == 0.0 and out["b"][2].endswith(". f returns squares.") and "1.0" not in out["b"][2]
    assert out["c"] == (0.0, 2.0, "evaluating it raised KeyError")


def test_check_step_passes_each_probe_of_a_python_part_and_a_failed_one_as_raised():
    part = Part(
        "p",
        2.0,
        (Probe("a", key=lambda ctx: 1.0, check=named("close")), Probe("b", key=lambda ctx: {"B"}, check=named("set"))),
    )
    result = grade_part(part, [1.0, ProbeError("evaluating it raised NameError: b")])
    assert result.points == 1.0 and "NameError" in result.feedback
    assert grade_part(part, [1.0, frozenset({"B"})]).points == 2.0  # a decoded set reaches the checker as plain data


def test_a_spec_without_a_computed_key_is_the_instructors_error():
    with pytest.raises(CourseError, match="instructor's solution notebook"):
        _one().grade([[1.0]])
    assert check("close", [1.0], [1.0 + 1e-7]).fraction == 1.0  # within the one default rtol of 1e-6
    assert check("close", [1.0], [1.0 + 1e-5]).fraction == 0.0


def test_a_grading_job_spec_pickles_for_dask_workers():
    """Spec files pickle as data; the course's Python specs (keys and checkers are code) by their module's name."""
    import pickle
    from pathlib import Path

    from autograder.grading import load_assignment, load_spec

    root = Path(__file__).resolve().parent.parent
    toml = load_spec(root / "tests" / "fixtures" / "autograde_course" / "source" / "ps1")
    assert pickle.loads(pickle.dumps(toml)) == toml
    python = load_spec(root / "exercises" / "backdoor", "backdoor")
    assert pickle.loads(pickle.dumps(python)) is load_assignment("backdoor")


def test_notebook_text_is_nbformats_text_and_refuses_no_less():
    """The feedback notebooks are written as ``nbformat.writes`` writes them, minus its schema check.

    That check only logs: ``nbformat.writes`` writes an invalid notebook too, so
    skipping it refuses nothing; submissions are refused or normalised when read
    (``parse_submission``) and the written feedback notebooks are validated in
    ``test_feedback_sanitise``.
    """
    import nbformat

    from autograder.feedback import feedback_notebook
    from autograder.pipeline import notebook_text
    from autograder.restore import parse_submission, restore

    release = new_notebook(
        cells=[
            new_code_cell("x = 1", metadata={"nbgrader": {"grade_id": "setup", "locked": True}}),
            new_code_cell("# ответ\n", metadata={"nbgrader": {"grade_id": "answer", "solution": True}}),
        ]
    )
    submitted = parse_submission(nbformat.writes(release).replace("# ответ", "y = 'Б'").encode())
    fb = feedback_notebook(restore(release, submitted), None, {}, ["a limit"], release)
    fb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="Б\nline 2\n")]
    text = notebook_text(fb)
    assert text == nbformat.writes(fb)
    nbformat.validate(nbformat.reads(text, as_version=4))
    bad_cell = {"cell_type": "code", "id": "c0", "metadata": {}, "source": "", "execution_count": None}
    bad_cell["outputs"] = [{"output_type": "no such type"}]
    broken = nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [bad_cell]})
    with pytest.raises(nbformat.ValidationError):
        nbformat.validate(broken)
    assert notebook_text(broken) == nbformat.writes(broken)  # written by both, refused by neither
    with pytest.raises(CourseError, match="cannot be read"):
        parse_submission(b'{"nbformat": 4, "cells": "not a list"}')
