"""Build nbgrader notebooks from Python: cells with the metadata nbgrader's `generate_assignment` expects.

Used by ``exercises/build_notebooks.py`` and :mod:`autograder.grading.quiz_notebook` so that
the committed source notebooks are reproducible (a test rebuilds and compares).

>>> cell = tests_cell("t1", 2, "assert True", hidden="check()")
>>> cell.metadata.nbgrader["points"], "### BEGIN HIDDEN TESTS" in cell.source
(2.0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import nbformat
from nbformat import v4

#: nbformat's constructors carry no annotations; each returns a NotebookNode (nbformat/v4/nbbase.py)
_new_code_cell: Callable[[str], nbformat.NotebookNode] = v4.new_code_cell
_new_markdown_cell: Callable[[str], nbformat.NotebookNode] = v4.new_markdown_cell
_new_notebook: Callable[..., nbformat.NotebookNode] = v4.new_notebook

__all__ = ["markdown", "code", "locked_code", "solution", "tests_cell", "notebook"]

_SCHEMA = 3


def _meta(
    grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False, points: float | None = None
) -> dict[str, dict[str, Any]]:
    meta: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": _SCHEMA,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = float(points)
    return {"nbgrader": meta}


def markdown(text: str, grade_id: str | None = None) -> nbformat.NotebookNode:
    """A markdown cell; with ``grade_id`` it is locked (read-only) for students."""
    cell = _new_markdown_cell(text.strip("\n"))
    if grade_id:
        cell.metadata.update(_meta(grade_id, locked=True))
    return cell


def code(source: str) -> nbformat.NotebookNode:
    """A free code cell (students may edit it)."""
    return _new_code_cell(source.strip("\n"))


def locked_code(grade_id: str, source: str) -> nbformat.NotebookNode:
    """A read-only code cell (setup, data)."""
    cell = _new_code_cell(source.strip("\n"))
    cell.metadata.update(_meta(grade_id, locked=True))
    return cell


def solution(grade_id: str, before: str, answer: str, after: str = "") -> nbformat.NotebookNode:
    """A solution cell: ``before``, then ``answer`` between the BEGIN/END SOLUTION markers, then ``after``.

    The markers take the indentation of the answer's first line: nbgrader's released stub
    (``# YOUR CODE HERE`` / ``raise NotImplementedError()``) keeps the indentation of the BEGIN line,
    so a function's stub stays inside the function body and code typed under it lands there too.

    >>> print(solution("f", "def f(x):", "    return 2 * x").source)
    def f(x):
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION
    """
    answer = answer.strip("\n")
    indent = answer[: len(answer) - len(answer.lstrip(" \t"))]
    body = "\n".join(
        p
        for p in (
            before.strip("\n"),
            indent + "### BEGIN SOLUTION",
            answer,
            indent + "### END SOLUTION",
            after.strip("\n"),
        )
        if p
    )
    cell = _new_code_cell(body)
    cell.metadata.update(_meta(grade_id, solution=True))
    return cell


def tests_cell(grade_id: str, points: float, visible: str, hidden: str) -> nbformat.NotebookNode:
    """An autograded test cell: visible checks, then the hidden tests (removed from the released notebook).

    Put the grading call last in ``hidden``: its value is nbgrader's partial credit.
    """
    body = "\n".join(
        p for p in (visible.strip("\n"), "### BEGIN HIDDEN TESTS", hidden.strip("\n"), "### END HIDDEN TESTS") if p
    )
    cell = _new_code_cell(body)
    cell.metadata.update(_meta(grade_id, grade=True, locked=True, points=points))
    return cell


def hidden_check(assignment: str, grade_id: str) -> str:
    """The hidden-test body that grades a part with its spec (see autograder.grading.hidden)."""
    return f"from autograder.grading import check_in_kernel\ncheck_in_kernel({assignment!r}, {grade_id!r}, globals())"


def notebook(cells: Iterable[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    """A v4 notebook with the Python 3 kernel, no outputs.

    >>> nb = notebook([markdown("# Task"), code("x = 1")])
    >>> [c["id"] for c in nb.cells], nb.metadata["kernelspec"]["name"]
    (['cell-00', 'cell-01'], 'python3')
    """
    nb = _new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for i, cell in enumerate(nb.cells):  # stable ids, so rebuilding gives the same file
        cell["id"] = f"cell-{i:02d}"
    return nb
