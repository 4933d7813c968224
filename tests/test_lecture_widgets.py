"""Lecture explorers never touch pyplot from a widget callback (read from the notebooks' source, no kernel).

JupyterLab >= 4.4 with ipykernel >= 7 runs widget callbacks on a second kernel thread, where pyplot races the
inline backend (course/widgets.py explains). So every explorer goes through ``live_figure(draw, ...)``, and
``draw`` -- with every notebook function it calls, transitively -- must not use ``plt``.

The same source reading checks that a lecture cell shows the idea rather than a page of matplotlib (figures are
``course.plotting`` helpers) and that the text meant for students carries no implementation notes.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
NOTEBOOKS = sorted(LECTURES.glob("*.ipynb"))
PYPLOT_WIDGET_APIS = {"interactive_output", "interactive", "interact", "interact_manual"}


def notebook_tree(path: Path) -> ast.Module:
    nb = nbformat.read(path, as_version=4)
    # IPython magics (%matplotlib inline) are not Python; blank them out
    code = "\n".join(
        "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in c.source.splitlines())
        for c in nb.cells
        if c.cell_type == "code"
    )
    return ast.parse(code)


def live_draw_functions(tree: ast.Module) -> list[str]:
    """Names passed as the first argument of live_figure(...)."""
    return [
        call.args[0].id
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "live_figure"
        and call.args
        and isinstance(call.args[0], ast.Name)
    ]


def reachable(tree: ast.Module, start: str) -> dict[str, ast.FunctionDef]:
    """``start`` and every notebook-level function it calls, directly or not."""
    defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    seen, todo = {}, [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen[name] = defs[name]
        todo += [n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name) and n.id in defs]
    return seen


def uses_pyplot(func: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "plt" for n in ast.walk(func))


def test_the_checks_catch_a_pyplot_callback():
    tree = ast.parse(
        "def helper(ax):\n    plt.gca()\n\ndef draw(fig, k):\n    helper(fig.subplots())\n\nlive_figure(draw, {})\n"
    )
    assert live_draw_functions(tree) == ["draw"]
    assert sorted(reachable(tree, "draw")) == ["draw", "helper"]
    assert [name for name, f in reachable(tree, "draw").items() if uses_pyplot(f)] == ["helper"]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in NOTEBOOKS])
def test_explorers_draw_without_pyplot(path):
    tree = notebook_tree(path)
    called = {
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == "widgets"
    }
    assert not called & PYPLOT_WIDGET_APIS, (
        f"{path.name}: use course.widgets.live_figure, not {called & PYPLOT_WIDGET_APIS}"
    )
    draws = live_draw_functions(tree)
    for draw in draws:
        funcs = reachable(tree, draw)
        assert draw in funcs, f"{path.name}: live_figure's draw function {draw} is not defined in the notebook"
        assert [a.arg for a in funcs[draw].args.args[:1]] == ["fig"], f"{path.name}: {draw} must take fig first"
        offenders = sorted(name for name, f in funcs.items() if uses_pyplot(f))
        assert not offenders, f"{path.name}: the live figure {draw} reaches pyplot through {offenders}"


# Lectures read as lectures: the figure code lives in course.plotting, the text speaks of the subject only.
MATPLOTLIB_CALL = re.compile(
    r"\.(plot|scatter|bar|barh|imshow|contourf?|annotate|text|legend|set_\w+|set|axhline|"
    r"axvline|axvspan|add_patch|twinx|colorbar|suptitle|tight_layout|subplots)\("
)
MAX_MATPLOTLIB_LINES = 6  # per code cell; more belongs in a documented, tested course.plotting helper
IMPLEMENTATION_NOTES = re.compile(
    r"pyplot|thread|subshell|\bcomms?\b|headless|static (first )?render|first render|"
    r"display id|widget front end|ipykernel",
    re.IGNORECASE,
)


def matplotlib_lines(source: str) -> int:
    return sum(bool(MATPLOTLIB_CALL.search(line)) for line in source.splitlines())


def test_the_lecture_checks_catch_plotting_code_and_implementation_notes():
    cell = "fig, ax = plt.subplots()\nax.plot(x, y)\nax.set_title('t')\nax.legend()\nR = lrp(net, x)\n"
    assert matplotlib_lines(cell) == 4
    assert IMPLEMENTATION_NOTES.search("widget messages arrive on a second kernel thread")
    assert not IMPLEMENTATION_NOTES.search("The threshold of the ReLU; the common cause C")


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in NOTEBOOKS])
def test_lecture_cells_show_the_idea_not_matplotlib(path):
    nb = nbformat.read(path, as_version=4)
    heavy = [
        (i, n)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (n := matplotlib_lines(c.source)) > MAX_MATPLOTLIB_LINES
    ]
    assert not heavy, f"{path.name}: (cell, matplotlib lines) {heavy}; move the figure into course.plotting"


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in NOTEBOOKS])
def test_student_text_has_no_implementation_notes(path):
    nb = nbformat.read(path, as_version=4)
    notes = [
        (i, m.group())
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown"
        for m in IMPLEMENTATION_NOTES.finditer(c.source)
    ]
    assert not notes, f"{path.name}: (cell, word) {notes}; implementation notes belong in course/widgets.py"
