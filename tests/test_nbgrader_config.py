"""The repository as an nbgrader course: nbgrader_config.py and course.nbgrader_setup."""

import os

import nbformat
import pytest
from nbgrader.preprocessors import IgnorePattern
from traitlets.config.loader import PyFileConfigLoader

from course.errors import CourseError
from course.nbgrader_setup import course_root, nbgrader_env

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
