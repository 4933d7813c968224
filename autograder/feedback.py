"""Feedback notebooks: the restored submission with the grader's results, never the tests.

:func:`feedback_notebook` takes the restored notebook (:mod:`autograder.restore`)
and the sandboxed run and returns the notebook stored under ``autograded/`` —
the student's cells with the output they printed (truncated), and each
autograder-test cell replaced by a short description and the checker's message
(no hidden test, no key). :func:`generate_feedback` then runs nbgrader's own
``generate_feedback`` on those notebooks, which adds the scores from the
gradebook and writes the HTML under ``feedback/``.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from autograder.restore import grade_id, is_test
from course.errors import CourseError

__all__ = ["feedback_notebook", "generate_feedback", "run_nbgrader"]


def _stream(text: str, name: str = "stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def feedback_notebook(restored, run, outcomes: dict, limits: list[str]) -> nbformat.NotebookNode:
    """The notebook a student may see: outputs, per-test result lines and the limits hit.

    ``outcomes`` maps grade id -> (points, max_points, message).
    """
    nb = copy.deepcopy(restored)
    for position, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        result = run.cells.get(position) if run is not None else None
        if is_test(cell):
            gid = grade_id(cell)
            points, max_points, message = outcomes.get(gid, (0.0, 0.0, "not graded"))
            cell["source"] = f"# Autograder test {gid!r} (hidden; graded by the course's autograder)"
            line = f"{gid}: {points:g} / {max_points:g} points" + (f" — {message}" if message else "")
            cell["outputs"] = [_stream(line + "\n")]
            continue
        cell["outputs"] = []
        if result is not None and result.output:
            cell["outputs"].append(_stream(result.output))
        if result is not None and result.status in ("error", "interrupted", "stopped"):
            what = {"error": f"this cell raised {result.error}", "interrupted": "this cell was interrupted "
                    "(time limit)", "stopped": "the notebook was stopped in this cell"}[result.status]
            cell["outputs"].append(_stream(f"[autograder] {what}\n", "stderr"))
    if limits:
        text = "**Autograder limits hit:**\n\n" + "\n".join(f"- {line}" for line in limits)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(text))
    return nb


def run_nbgrader(course_root: str | Path, *args: str, timeout: float = 1800) -> str:
    """Run ``nbgrader ARGS`` on the course at ``course_root`` with this interpreter; CourseError on failure.

    The interpreter's bin directory goes first on PATH: nbgrader calls the
    ``alembic`` command when it creates a gradebook.
    """
    root = Path(course_root).resolve()
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}", "--log-level=WARN"]
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(cmd, cwd=str(root), capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0 or "[ERROR]" in proc.stderr or "| ERROR]" in proc.stderr:
        raise CourseError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def student_patterns(students: list[str], parts: int) -> list[str]:
    """Split students into ``parts`` nbgrader glob patterns by their last character (``*[02468]``…).

    >>> student_patterns(["s01", "s02", "s03", "s04"], 2)
    ['*[13]', '*[24]']
    """
    last = sorted({s[-1] for s in students if s})
    if parts <= 1 or len(last) < 2 or not all(ch.isalnum() for ch in last):
        return ["*"]
    groups = [last[k::parts] for k in range(parts)]
    return [f"*[{''.join(g)}]" for g in groups if g]


def generate_feedback(course_root: str | Path, assignment: str, *, workers: int | None = None) -> None:
    """Run ``nbgrader generate_feedback ASSIGNMENT --force`` (HTML under feedback/), students split over processes."""
    from concurrent.futures import ThreadPoolExecutor

    root = Path(course_root)
    autograded = root / "autograded"
    students = sorted(p.parent.name for p in autograded.glob(f"*/{assignment}")) if autograded.is_dir() else []
    patterns = student_patterns(students, workers or os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=len(patterns)) as pool:
        jobs = [pool.submit(run_nbgrader, root, "generate_feedback", assignment, "--force",
                            f"--CourseDirectory.student_id={pattern}") for pattern in patterns]
        for job in jobs:
            job.result()
