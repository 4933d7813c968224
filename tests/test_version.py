"""One version source: pyproject.toml reads it from course.__version__, so the installed metadata agrees."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

import course

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_installed_metadata_reports_course_version():
    assert importlib.metadata.version("xai-course") == course.__version__


def test_pyproject_writes_no_version_of_its_own():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "course.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", course.__version__)
