"""Benchmark: what a sandboxed kernel imports before a student's first cell (target: under 1 s per assignment).

The grader's warm kernels (a zygote per worker) import the modules that the
released notebooks import, plus NumPy and IPython's shell
(:func:`autograder.pipeline.preload_modules`). Here the same list is computed
from each committed source notebook with its hidden tests removed (what
nbgrader releases) and imported in a fresh interpreter, median of
:data:`REPEATS` runs after one run that writes the bytecode caches. Printed
beside the same imports in the tree of :data:`BEFORE` (the commit before the
grading core moved out of ``course``, when ``course.quiz.notebook`` pulled in
nbformat and jsonschema through ``course.grading.cells``), extracted with
``git archive`` when the checkout has that commit.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the last commit with course/grading/ (grading specs and cell builders inside the student package)
BEFORE = "ea51517"
TARGET_S = 1.0
REPEATS = 5
_HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
_SCRIPT = (
    "import sys, time; t = time.perf_counter(); import {names}; "
    "print(time.perf_counter() - t, sys.modules['course'].__file__ if 'course' in sys.modules else '')"
)


def kernel_modules() -> dict[str, tuple[str, ...]]:
    """Assignment -> the modules a warm kernel preloads for it (from the committed notebooks, as released)."""
    import nbformat

    from autograder.pipeline import preload_modules

    out = {}
    for path in sorted((ROOT / "exercises").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = _HIDDEN.sub("", cell.source)
        out[path.stem] = preload_modules({path.stem: nb})
    return out


def import_seconds(modules: tuple[str, ...], tree: Path) -> float:
    """Median wall time of importing ``modules`` in a fresh interpreter whose ``course`` comes from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": ""}
    script = _SCRIPT.format(names=", ".join(modules))
    times = []
    for _ in range(REPEATS + 1):  # the first run writes the bytecode caches
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=tree, env=env, capture_output=True, text=True, check=True
        )
        seconds, *origin = done.stdout.split()
        if origin and not Path(origin[0]).resolve().is_relative_to(tree.resolve()):
            raise RuntimeError(f"course was imported from {origin[0]}, not from {tree}")
        times.append(float(seconds))
    return statistics.median(times[1:])


def _old_tree(dest: Path) -> Path | None:
    """The tree of :data:`BEFORE` under ``dest``, or None outside a git checkout that has it."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", BEFORE, "course"], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    archive_path = dest / "before.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(dest, filter="data")
    return dest


def main() -> None:
    modules = kernel_modules()
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        old = _old_tree(Path(tmp))
        print(
            f"import in a fresh interpreter of what a warm kernel preloads (median of {REPEATS}; "
            f"target < {TARGET_S:g} s)"
        )
        print(f"{'assignment':<22}{'before ' + BEFORE:>16}{'now':>10}{'ratio':>8}  modules")
        for name, names in modules.items():
            now = import_seconds(names, ROOT)
            before = import_seconds(names, old) if old is not None else float("nan")
            ok = "ok" if now < TARGET_S else "OVER TARGET"
            print(f"{name:<22}{before:>14.3f} s{now:>8.3f} s{before / now:>7.1f}x  {', '.join(names)}  [{ok}]")


if __name__ == "__main__":
    main()
