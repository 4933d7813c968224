"""Every lecture notebook runs top to bottom in a fresh kernel, and none is committed with outputs.

The notebooks are collected when the tests are collected, so a new ``lectures/*.ipynb`` is picked
up without touching this file. The run's outputs are also read as a student would: no floating-point noise
printed as a number (``-7.77e-16``, ``-0.00``; print such values with ``course.plotting.fmt``), and no figure
wider than a notebook column can show without shrinking its text. A notebook that takes more than ~10 s on an idle
2-core machine sets ``"xai_course": {"slow": true}`` in its notebook metadata and is then marked ``slow`` (it still
runs in CI).
"""

import base64
import re
import struct
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.notebook_kernel import execute_notebook

LECTURES = Path(__file__).resolve().parent.parent / "lectures"
NOTEBOOKS = sorted(LECTURES.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds per cell; a hang fails the test instead of blocking CI
# a mantissa with a decimal point and an exponent of -10 or below is rounding noise, so is a negative zero
NOISE = re.compile(r"\d\.\d+e-(?:1\d|[2-9]\d)\b|(?<![\w.])-0\.0+(?![\d])")
MAX_FIGURE_PX = 1400  # 14 in at 100 dpi: wider figures are shrunk by more than a third in a JupyterLab column


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
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("import os, sys, course; print(sys.prefix); print(os.getcwd())")]
    )
    out = _run(nb, tmp_path).cells[0].outputs[0]["text"].split("\n")
    assert Path(out[0]).resolve() == Path(sys.prefix).resolve()
    assert Path(out[1]).resolve() == tmp_path.resolve()


@pytest.mark.parametrize("path", [pytest.param(p, id=p.name) for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", [_param(p) for p in NOTEBOOKS])
def test_notebook_runs_headless(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    _run(nb, LECTURES)
    elapsed = time.perf_counter() - start
    figures = sum(
        "image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs
    )
    print(f"{path.name}: {len(nb.cells)} cells ran in {elapsed:.1f} s, {figures} static figures")
    errors = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"
    ]
    assert not errors
    assert figures > 0, f"{path.name} draws no static figure when run without a widget front end"
    noisy = [(i, m.group()) for i, text in _texts(nb) for m in NOISE.finditer(text)]
    assert not noisy, f"{path.name}: (cell, printed noise) {noisy}; format these numbers with course.plotting.fmt"
    wide = [(i, w) for i, w in _png_widths(nb) if w > MAX_FIGURE_PX]
    assert not wide, f"{path.name}: (cell, figure width px) {wide} wider than {MAX_FIGURE_PX} px; split the figure"


def _texts(nb):
    """(cell index, text) of every printed or displayed text output."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                yield i, out["text"]
            for kind in ("text/plain", "text/markdown"):
                if kind in out.get("data", {}) and "image/png" not in out["data"]:
                    yield i, out["data"][kind]


def _png_widths(nb):
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if "image/png" in out.get("data", {}):
                png = base64.b64decode(out["data"]["image/png"])
                yield i, struct.unpack(">I", png[16:20])[0]  # IHDR width, after the 8-byte signature


def test_the_output_checks_catch_noise_and_wide_figures():
    assert [m.group() for m in NOISE.finditer("f = -7.77e-16, R = 1.0e-13, -0.00, x-0.0, 1e-12, 2.5e-07, -0.001")] == [
        "7.77e-16",
        "1.0e-13",
        "-0.00",
    ]
    png = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">II", 2871, 581)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", {"image/png": base64.b64encode(png).decode()})]
    assert list(_png_widths(nb)) == [(0, 2871)]
