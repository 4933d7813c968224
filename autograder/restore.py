"""Restore a submitted notebook from the released one and turn it into a grading plan.

Like nbgrader's ``OverwriteCells`` and ``add_missing_cells``: every cell the
instructor marked (it has an nbgrader ``grade_id``) comes back from the
released notebook — locked cells with their released source, cells the
student deleted re-inserted, cell types and metadata restored — and only the
answer (solution) cells keep the student's text. Unlike nbgrader, marked cells
are put back in the released order (a student who moves a test above the
answer cannot break grading) and the autograder-test cells are never run: each
becomes a *probe* (:class:`autograder.kernel.Step`) that evaluates the grading
expression of its grade id. Cells the student added stay where they were,
after the marked cell they followed.

Examples
--------
>>> import nbformat
>>> rel = nbformat.v4.new_notebook(cells=[
...     nbformat.v4.new_code_cell("x = 0", metadata={"nbgrader": {"grade_id": "a", "solution": True}}),
...     nbformat.v4.new_code_cell("assert x", metadata={"nbgrader": {"grade_id": "t", "grade": True,
...                                                                  "points": 1}})])
>>> sub = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
...     "x = 42", metadata={"nbgrader": {"grade_id": "a", "solution": True}})])   # test cell deleted
>>> [(s.kind, s.source) for s in build_plan(restore(rel, sub), {"t": "x"})[0]]
[('code', 'x = 42'), ('probe', 'x')]
"""

from __future__ import annotations

import copy
import json

import nbformat
from nbformat import NotebookNode

from autograder.kernel import Step
from course.errors import CourseError

__all__ = ["grade_id", "is_test", "is_solution", "restore", "build_plan", "read_notebook", "parse_submission"]


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    gid = _meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def is_solution(cell) -> bool:
    return bool(_meta(cell).get("solution", False))


def is_test(cell) -> bool:
    """An autograder-test cell: graded, not an answer cell."""
    meta = _meta(cell)
    return bool(meta.get("grade", False)) and not meta.get("solution", False) and cell.get("cell_type") == "code"


def read_notebook(path) -> NotebookNode:
    """Read a submitted notebook; CourseError (the "ungradable" reason) when it is not one."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise CourseError(f"notebook {path.name if hasattr(path, 'name') else path} is missing") from None
    except Exception as exc:  # nbformat raises many kinds for broken JSON
        raise CourseError(f"notebook {getattr(path, 'name', path)} cannot be read ({type(exc).__name__})") from None
    if not isinstance(nb.get("cells"), list):
        raise CourseError("notebook has no cell list")
    return nb


#: digits of an integer in a submitted notebook's JSON; longer ones stay text (int() is quadratic in the digits)
MAX_INT_DIGITS = 100
_CELL_TYPES = ("code", "markdown", "raw")


def parse_submission(data: bytes, name: str = "notebook") -> NotebookNode:
    """A submitted notebook's bytes -> a valid nbformat 4 notebook of plain cells; CourseError when unreadable.

    Validated and normalised once, on the way in, so that nothing after this
    (restoring, running, feedback, nbgrader's ``generate_feedback``) meets a
    malformed cell: each cell keeps its type (code, markdown or raw; others are
    dropped), its source as one string (a list of lines is joined, a number
    becomes its text, anything else is empty) and its nbgrader ``grade_id``;
    outputs, attachments, other metadata and the notebook's metadata are dropped.

    >>> nb = parse_submission(b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {"x": 1}, "cells": ['
    ...     b'{"cell_type": "markdown", "source": 42, "metadata": {}},'
    ...     b'{"cell_type": "code", "source": ["a = 1; ", "b = 2"], "outputs": [{"bad": 1}]}]}')
    >>> [(c.cell_type, c.source) for c in nb.cells], nb.metadata
    ([('markdown', '42'), ('code', 'a = 1; b = 2')], {})
    """
    try:
        raw = json.loads(data, parse_int=_bounded_int)
        if isinstance(raw, dict) and raw.get("nbformat") != 4:
            raw = nbformat.convert(nbformat.from_dict(raw), 4)  # an older notebook (v3: worksheets)
    except Exception as exc:  # broken JSON, nesting too deep, a conversion that fails
        raise CourseError(f"notebook {name} cannot be read ({type(exc).__name__})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise CourseError(f"notebook {name} cannot be read (no cell list)")
    cells = [c for c in map(_plain_cell, raw["cells"]) if c is not None]
    for k, cell in enumerate(cells):
        cell["id"] = f"cell-{k}"
    nb = nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})
    nbformat.validate(nb)  # holds by construction (checked once); a failure is the grader's bug, not the student's
    return nb


def _bounded_int(literal: str):
    return int(literal) if len(literal) <= MAX_INT_DIGITS else literal


def _text(source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list):
        return "".join(_text(s) for s in source if not isinstance(s, (list, dict)))
    if type(source) in (int, float):
        return str(source)
    return ""


def _plain_cell(cell) -> dict | None:
    if not isinstance(cell, dict) or cell.get("cell_type") not in _CELL_TYPES:
        return None
    gid = grade_id(cell) if isinstance(cell.get("metadata"), dict) else None
    plain = {
        "cell_type": cell["cell_type"],
        "metadata": {"nbgrader": {"grade_id": gid}} if gid else {},
        "source": _text(cell.get("source")),
    }
    if cell["cell_type"] == "code":
        plain.update(outputs=[], execution_count=None)
    return plain


def restore(release: NotebookNode, submitted: NotebookNode) -> NotebookNode:
    """The submission with the instructor's cells restored (a new notebook; inputs untouched)."""
    anchors = []
    seen = set()
    for cell in release.cells:
        gid = grade_id(cell)
        if gid is not None and gid not in seen:
            anchors.append((gid, cell))
            seen.add(gid)
    known = {gid for gid, _ in anchors}
    answers: dict[str, NotebookNode] = {}
    extra: dict[str | None, list] = {None: []}
    last = None
    for cell in submitted.cells:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        gid = grade_id(cell)
        if gid in known and gid not in answers:
            answers[gid] = cell
            last = gid
            continue
        free = copy.deepcopy(cell)
        free.get("metadata", {}).pop("nbgrader", None)  # a student cell cannot claim a grade id
        extra.setdefault(last, []).append(free)
    cells = list(extra[None])
    for gid, rel_cell in anchors:
        restored = copy.deepcopy(rel_cell)
        if is_solution(rel_cell) and gid in answers:
            source = answers[gid].get("source", "")
            restored["source"] = "".join(source) if isinstance(source, list) else str(source)
        if restored.get("cell_type") == "code":
            restored["outputs"], restored["execution_count"] = [], None
        cells.append(restored)
        cells.extend(extra.get(gid, []))
    out = copy.deepcopy(release)
    out.cells = [nbformat.from_dict(c) for c in cells]
    for cell in out.cells:
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    return out


def _probe(position: int, gid: str, expression) -> Step:
    if isinstance(expression, str):
        return Step(position, "probe", expression, grade_id=gid, label=f"test {gid!r}")
    return Step(position, "probe", "", grade_id=gid, label=f"test {gid!r}", expressions=tuple(expression))


def build_plan(notebook: NotebookNode, probes: dict) -> tuple[list[Step], list[str]]:
    """Steps for the sandbox, in notebook order; returns ``(plan, probe ids without a test cell)``.

    ``probes`` maps grade id -> expression, or a tuple of expressions whose
    values are graded together (each evaluated on its own). A test cell whose grade id has no
    expression is a configuration error (it could only be graded by running the
    hidden test in the student's kernel). Probes whose grade id has no test
    cell run at the end.
    """
    plan: list[Step] = []
    placed = set()
    for position, cell in enumerate(notebook.cells):
        if cell.get("cell_type") != "code":
            continue
        gid = grade_id(cell)
        if is_test(cell):
            if gid not in probes:
                raise CourseError(f"test cell {gid!r} has no grading expression in the grading spec")
            plan.append(_probe(position, gid, probes[gid]))
            placed.add(gid)
        else:
            label = f"answer cell {gid!r}" if is_solution(cell) and gid else f"cell {position + 1}"
            source = cell.get("source", "")
            plan.append(
                Step(position, "code", "".join(source) if isinstance(source, list) else str(source), label=label)
            )
    trailing = [gid for gid in probes if gid not in placed]
    for k, gid in enumerate(trailing):
        plan.append(_probe(len(notebook.cells) + k, gid, probes[gid]))
    return plan, trailing
