"""Optional dependencies: import one on first use, or say in one line which extra installs it.

``pip install xai-course`` brings NumPy, networkx and matplotlib (engine, solver, figures); widgets
need ``[lab]``, the nbformat/nbgrader side ``[grader]`` (extras in pyproject.toml).

>>> require("math", "lab").sqrt(4.0)
2.0
"""

from __future__ import annotations

import importlib
from types import ModuleType

from course.errors import CourseError

__all__ = ["require"]


def require(module: str, extra: str) -> ModuleType:
    """``importlib.import_module(module)``, or a :class:`CourseError` naming ``pip install 'xai-course[extra]'``.

    >>> require("no_such_module_here", "lab")
    Traceback (most recent call last):
    ...
    course.errors.CourseError: no_such_module_here is not installed; pip install 'xai-course[lab]'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is None or module.split(".")[0] != exc.name.split(".")[0]:
            raise  # the module exists but something inside it failed: show that, not an install hint
        raise CourseError(f"{module} is not installed; pip install 'xai-course[{extra}]'") from exc
