"""Every example in a public docstring of `course` and `autograder` runs and prints what it claims."""

import doctest
import importlib
import pkgutil

import matplotlib
import pytest

import autograder
import course

matplotlib.use("Agg")

# scripts that train models or build files when imported as __main__ only, and modules needing the widget front end
SKIP = {"course.relevance.models.make_models"}


def _modules():
    for package in (course, autograder):
        yield package.__name__
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if info.name not in SKIP:
                yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_docstring_examples(name):
    import matplotlib.pyplot as plt

    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    plt.close("all")
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
