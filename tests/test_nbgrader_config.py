"""The repository as an nbgrader course: nbgrader_config.py and course.nbgrader_setup."""

import os
import subprocess
import sys

import nbformat
import pytest
from nbgrader.preprocessors import IgnorePattern
from traitlets.config.loader import PyFileConfigLoader

from course.errors import CourseError
from course.nbgrader_setup import _LAUNCH, course_root, nbgrader_env, run_nbgrader

ROOT = course_root()


@pytest.fixture(scope="module")
def config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def test_course_settings(config):
    assert config.CourseDirectory.root == str(ROOT)
    assert config.CourseDirectory.source_directory == "exercises"
    assert config.OverwriteCells.add_missing_cells is True
    assert config.Execute.timeout == 60
    assert config.IgnorePattern.enabled is True


def _stderr_cell(text):
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text=text)]
    return cell


@pytest.mark.parametrize(
    "text, dropped",
    [
        ("/home/s/nb.py:3: UserWarning: the divisor is small\n  warnings.warn(...)\n", True),
        ("<ipython-input-2>:1: RuntimeWarning: invalid value encountered in divide\n", True),
        ("/x/numpy/core.py:10: DeprecationWarning: old API\n", True),
        ("Traceback: something went wrong\n", False),
        ("I print to stderr on purpose\n", False),
    ],
)
def test_ignore_pattern_drops_only_python_warnings(config, text, dropped):
    pre = IgnorePattern(config=config)
    cell, _ = pre.preprocess_cell(_stderr_cell(text), {}, 0)
    assert (cell.outputs == []) is dropped


def test_env_puts_the_course_first_on_the_config_path():
    env = nbgrader_env(env={"JUPYTER_CONFIG_PATH": "/elsewhere", "PATH": "/usr/bin"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(ROOT), "/elsewhere"]
    assert env["PATH"].endswith("/usr/bin") and env["PATH"] != "/usr/bin"


def test_course_root_found_from_a_subdirectory_and_refused_elsewhere(tmp_path):
    assert course_root(ROOT / "exercises" / "quiz7") == ROOT
    with pytest.raises(CourseError, match="no nbgrader course"):
        course_root(tmp_path)


def test_run_nbgrader_starts_the_same_nbgrader_without_the_iri_grammar(tmp_path):
    """The launcher is ``python -m nbgrader`` minus jsonschema's optional IRI check (the 2 s grammar import)."""
    plain = subprocess.run([sys.executable, "-m", "nbgrader", "--version"], capture_output=True, text=True)
    assert run_nbgrader(["--version"], root=ROOT).stdout == plain.stdout != ""
    probe = (
        "import sys\nfrom nbformat import validator\n"
        "print('rfc3987_syntax' in sys.modules and sys.modules['rfc3987_syntax'] is not None)"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", _LAUNCH.split("from nbgrader")[0] + probe], capture_output=True, text=True
    )
    assert loaded.stdout.strip() == "False", loaded.stderr
    # and nbformat still validates (and refuses) notebooks in such a process
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "nope"}]}')
    check = (
        _LAUNCH.split("from nbgrader")[0] + "import nbformat\n"
        f"nbformat.validate(nbformat.read({str(bad)!r}, as_version=4))"
    )
    refused = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
    assert refused.returncode != 0 and "ValidationError" in refused.stderr


def test_run_nbgrader_raises_with_nbgraders_output_on_failure(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("")
    with pytest.raises(CourseError, match="nbgrader release_assignment nowhere failed") as caught:
        run_nbgrader(["release_assignment", "nowhere"], root=tmp_path, timeout=120)
    assert "nowhere" in str(caught.value).split("failed", 1)[1]
    assert run_nbgrader(["release_assignment", "nowhere"], root=tmp_path, check=False).returncode != 0
