"""Every lecture notebook runs top to bottom in a fresh kernel, and none is committed with outputs.

The notebooks are collected when the tests are collected, so a new ``lectures/*.ipynb`` is picked
up without touching this file. A notebook that takes more than ~20 s sets
``"xai_course": {"slow": true}`` in its notebook metadata and is then marked ``slow`` (it still runs in CI).
"""
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.notebook_kernel import execute_notebook

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
NOTEBOOKS = sorted(LECTURES.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell; a hang fails the test instead of blocking CI


def _param(path: Path):
    meta = nbformat.read(path, as_version=4).metadata.get("xai_course", {})
    marks = [pytest.mark.slow] if meta.get("slow") else []
    return pytest.param(path, id=path.name, marks=marks)


def _run(nb, cwd: Path):
    return execute_notebook(nb, cwd, timeout=CELL_TIMEOUT)  # raises CellExecutionError on the first failing cell


def test_lecture_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {LECTURES}"


def test_python3_kernel_is_this_environment(tmp_path):
    # the kernel must import the package from this venv, not some other python on PATH
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, sys, course; print(sys.prefix); print(os.getcwd())")])
    out = _run(nb, tmp_path).cells[0].outputs[0]["text"].split("\n")
    assert Path(out[0]).resolve() == Path(sys.prefix).resolve()
    assert Path(out[1]).resolve() == tmp_path.resolve()


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", [_param(p) for p in NOTEBOOKS])
def test_notebook_runs_headless(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    _run(nb, LECTURES)
    elapsed = time.perf_counter() - start
    figures = sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                  for out in cell.outputs)
    print(f"{path.name}: {len(nb.cells)} cells ran in {elapsed:.1f} s, {figures} static figures")
    errors = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
              if out.output_type == "error"]
    assert not errors
    assert figures > 0, f"{path.name} draws no static figure when run without a widget front end"
