"""The examples in course.causal's docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = ["graphs", "paths", "backdoor", "separators", "minimal", "minimum", "adjustment", "examples", "quiz"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"course.causal.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_package_docstring():
    import course.causal

    assert doctest.testmod(course.causal).failed == 0


def test_dag_drawing_docstring():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import course.plotting.dags

    assert doctest.testmod(course.plotting.dags).failed == 0
    plt.close("all")
