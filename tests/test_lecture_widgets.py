"""Lecture explorers never touch pyplot from a widget callback (read from the notebooks' source, no kernel).

JupyterLab >= 4.4 with ipykernel >= 7 runs widget callbacks on a second kernel thread, where pyplot races the
inline backend (course/widgets.py explains). So every explorer goes through ``live_figure(draw, ...)``, and
``draw`` -- with every notebook function it calls, transitively -- must not use ``plt``.
"""
import ast
from pathlib import Path

import nbformat
import pytest

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
NOTEBOOKS = sorted(LECTURES.glob("*.ipynb"))
PYPLOT_WIDGET_APIS = {"interactive_output", "interactive", "interact", "interact_manual"}


def notebook_tree(path: Path) -> ast.Module:
    nb = nbformat.read(path, as_version=4)
    # IPython magics (%matplotlib inline) are not Python; blank them out
    code = "\n".join("\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in c.source.splitlines())
                     for c in nb.cells if c.cell_type == "code")
    return ast.parse(code)


def live_draw_functions(tree: ast.Module) -> list[str]:
    """Names passed as the first argument of live_figure(...)."""
    return [call.args[0].id for call in ast.walk(tree) if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name) and call.func.id == "live_figure"
            and call.args and isinstance(call.args[0], ast.Name)]


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
    tree = ast.parse("def helper(ax):\n    plt.gca()\n\ndef draw(fig, k):\n    helper(fig.subplots())\n\n"
                     "live_figure(draw, {})\n")
    assert live_draw_functions(tree) == ["draw"]
    assert sorted(reachable(tree, "draw")) == ["draw", "helper"]
    assert [name for name, f in reachable(tree, "draw").items() if uses_pyplot(f)] == ["helper"]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in NOTEBOOKS])
def test_explorers_draw_without_pyplot(path):
    tree = notebook_tree(path)
    called = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
              and isinstance(n.func.value, ast.Name) and n.func.value.id == "widgets"}
    assert not called & PYPLOT_WIDGET_APIS, f"{path.name}: use course.widgets.live_figure, not {called & PYPLOT_WIDGET_APIS}"
    draws = live_draw_functions(tree)
    for draw in draws:
        funcs = reachable(tree, draw)
        assert draw in funcs, f"{path.name}: live_figure's draw function {draw} is not defined in the notebook"
        assert [a.arg for a in funcs[draw].args.args[:1]] == ["fig"], f"{path.name}: {draw} must take fig first"
        offenders = sorted(name for name, f in funcs.items() if uses_pyplot(f))
        assert not offenders, f"{path.name}: the live figure {draw} reaches pyplot through {offenders}"
