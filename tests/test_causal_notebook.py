"""lectures/backdoor_criterion.ipynb runs headless and prints the solved T3 keys."""

from pathlib import Path

import nbformat

from tests.notebook_kernel import execute_notebook

NOTEBOOK = Path(__file__).resolve().parent.parent / "lectures" / "backdoor_criterion.ipynb"


def test_backdoor_notebook_runs_and_solves_the_quiz_questions():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit without outputs"
    execute_notebook(nb, NOTEBOOK.parent, timeout=120)
    text = "\n".join(out.get("text", "") for c in nb.cells if c.cell_type == "code" for out in c.outputs)
    assert "smallest sets: [frozenset({'B'})]" in text
    assert "А) ['B']: correct" in text and "В) ['B', 'D']: correct" in text and "Г) ['C', 'D']: correct" in text
    figures = sum("image/png" in out.get("data", {}) for c in nb.cells if c.cell_type == "code" for out in c.outputs)
    assert figures >= 5
