"""Answers that call what the exercise forbids: the course's own engines, the grader, other XAI libraries.

The course library is installed in the students' lab and mounted in the sandbox
(the lectures and the released notebooks use it), and its engines compute
exactly what the exercises ask for: ``course.relevance.lrp`` is an LRP step,
``course.causal.minimal_backdoor_sets`` the backdoor sets. An exercise that
says "Use NumPy only" or "work the answers out by hand" names in its spec the
modules an answer may not use (``AssignmentSpec.forbidden``, with exact names
still allowed in ``AssignmentSpec.allowed``, e.g. ``course.causal.parse_dag``).

This module reads the student's code -- the answer cells and the cells the
student added, never the instructor's -- without running it (Python's
:mod:`ast`), and marks:

1. a statement that imports a forbidden module or name (``import``, ``from ...
   import``, or a literal module name anywhere in the statement, as in
   ``__import__("course.relevance")`` or ``sys.modules["course.relevance"]``, or
   named in code run from a string: ``exec``, ``eval``, ``%run``-style magics and
   ``!`` shell lines, read as IPython runs them);
2. every name such a statement binds, and every name bound by a statement that
   uses a marked name, until nothing changes (a function that calls a helper
   that calls the engine is marked too).

A part whose probes use a marked name (``lrp0_step(...)``, ``SET_G1``) is the
student's answer made with the forbidden module: :func:`forbidden_parts` says
which, and why, so the pipeline gives it 0 points with that reason. A
submission can still hide a call from a reader of its text (code assembled from
strings at run time); that is named in the README as not covered.

>>> cells = ["from course.relevance import lrp\\ndef lrp0_step(a, W, b, R):\\n    return lrp(a)", "x = 1"]
>>> marked = forbidden_names(cells, ("course.relevance",))
>>> sorted(marked), marked["lrp0_step"]
(['lrp', 'lrp0_step'], 'from course.relevance import lrp (cell 1, line 1)')
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence

from autograder.restore import grade_id, is_solution

__all__ = ["forbidden_names", "forbidden_parts", "student_code"]


def _matches(name: str, prefixes: Sequence[str]) -> bool:
    """``name`` is one of ``prefixes``, inside one, or a parent package of one (``course`` reaches ``course.x``)."""
    return any(name == p or name.startswith(p + ".") or p.startswith(name + ".") for p in prefixes)


def _statement_reason(node: ast.stmt, forbidden: Sequence[str], allowed: set[str]) -> str | None:
    """Why this statement reaches a forbidden module by itself, or None."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Import):
            for alias in sub.names:
                if _matches(alias.name, forbidden):
                    return f"import {alias.name}"
        elif isinstance(sub, ast.ImportFrom) and sub.module and not sub.level:
            for alias in sub.names:
                full = f"{sub.module}.{alias.name}"
                if full in allowed:
                    continue
                if alias.name == "*" and _matches(sub.module, forbidden):
                    return f"from {sub.module} import *"
                if _matches(full, forbidden) or (_matches(sub.module, forbidden) and sub.module not in allowed):
                    return f"from {sub.module} import {alias.name}"
        elif isinstance(sub, ast.Call) and _imports_by_name(sub):
            first = sub.args[0] if sub.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and _matches(first.value, forbidden):
                return f"an import of {first.value!r}"
        elif isinstance(sub, ast.Call) and _runs_text(sub):
            for arg in sub.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    named = _named_in_text(arg.value, forbidden)
                    if named and named not in allowed:
                        return f"{named} in code run from text"
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            text = sub.value.strip()
            inside = any(text == p or text.startswith(p + ".") for p in forbidden)
            if inside and text not in allowed:
                return f"the module name {text!r}"
    return None


def _imports_by_name(call: ast.Call) -> bool:
    """``__import__(...)``, ``importlib.import_module(...)``, ``import_module(...)``."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in ("__import__", "import_module")


def _star_names(module: str) -> set[str]:
    """The names ``from module import *`` binds, for the course's own packages (imported here to ask);
    nothing for other modules (their import statement is still marked)."""
    if module.split(".")[0] not in ("course", "autograder"):
        return set()
    import importlib

    try:
        mod = importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a name that is no module of ours binds nothing
        return set()
    return set(getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")]))


#: calls that run a string as code: exec and eval, and IPython's magics and shell (``%run``, ``!python -c``)
_RUNNERS = {"exec", "eval", "compile", "run_cell", "run_line_magic", "run_cell_magic", "system", "getoutput"}


def _runs_text(call: ast.Call) -> bool:
    func = call.func
    return (func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else "") in _RUNNERS


def _named_in_text(text: str, forbidden: Sequence[str]) -> str | None:
    """The first forbidden module named as a whole dotted word in ``text`` (code run from a string)."""
    for prefix in forbidden:
        m = re.search(rf"(?<![\w.]){re.escape(prefix)}(?:\.\w+)*", text)
        if m:
            return m.group()
    return None


def _bound(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds (definitions, assignments, imports, loop and with targets)."""
    names: set[str] = set()
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        names.add(node.name)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        if isinstance(node, ast.ImportFrom) and node.module and any(a.name == "*" for a in node.names):
            names.update(_star_names(node.module))
    for sub in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else ():
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
        elif isinstance(sub, ast.Call) and _runs_text(sub):  # exec("from x import y") binds y
            for arg in sub.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    try:
                        inner = ast.parse(arg.value)
                    except (SyntaxError, ValueError):
                        continue
                    for statement in inner.body:
                        names |= _bound(statement)
    return names


def _used(node: ast.AST) -> set[str]:
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)}


def forbidden_names(cells: Sequence[str], forbidden: Sequence[str], allowed: Iterable[str] = ()) -> dict[str, str]:
    """Names the student's ``cells`` bind with the help of a ``forbidden`` module -> the first reason.

    A cell that does not parse (a syntax error fails its own part anyway) is skipped.
    """
    allowed = set(allowed)
    statements: list[tuple[ast.stmt, str]] = []
    for k, source in enumerate(cells, 1):
        try:
            tree = ast.parse(_python(source))
        except (SyntaxError, ValueError):
            continue
        statements += [(node, f"cell {k}, line {node.lineno}") for node in tree.body]
    marked: dict[str, str] = {}
    direct = {id(node): reason for node, where in statements if (reason := _reason_at(node, where, forbidden, allowed))}
    changed = True
    while changed:
        changed = False
        for node, _ in statements:
            reason = direct.get(id(node)) or next((marked[n] for n in sorted(_used(node)) if n in marked), None)
            if reason is None:
                continue
            for name in _bound(node) - marked.keys():
                marked[name] = reason
                changed = True
    return marked


def _python(source: str) -> str:
    """A cell as the kernel runs it: IPython's magics and ``!`` lines turned into the calls they are."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # the grader's extra brings IPython; without it, magics make the cell unreadable
        return source
    try:
        return str(TransformerManager().transform_cell(source))
    except Exception:  # noqa: BLE001 - a cell IPython cannot transform is read as it is
        return source


def _reason_at(node: ast.stmt, where: str, forbidden: Sequence[str], allowed: set[str]) -> str | None:
    reason = _statement_reason(node, forbidden, allowed)
    return f"{reason} ({where})" if reason else None


def student_code(notebook) -> list[str]:
    """The code the student wrote in a restored notebook: answer cells and cells without a grade id."""
    out = []
    for cell in notebook.cells:
        if cell.get("cell_type") == "code" and (is_solution(cell) or grade_id(cell) is None):
            source = cell.get("source", "")
            out.append("".join(source) if isinstance(source, list) else str(source))
    return out


def forbidden_parts(notebook, parts: dict, forbidden: Sequence[str], allowed: Iterable[str] = ()) -> dict[str, str]:
    """Grade id -> reason, for each part whose probes use a name made with a forbidden module."""
    if not forbidden:
        return {}
    marked = forbidden_names(student_code(notebook), forbidden, allowed)
    if not marked:
        return {}
    out = {}
    for gid, part in parts.items():
        for expression in part.expressions:
            try:
                names = _used(ast.parse(expression, mode="eval"))
            except SyntaxError:
                continue
            hit = sorted(names & marked.keys())
            if hit:
                out[gid] = f"{hit[0]} is made with {marked[hit[0]]}"
                break
    return out
