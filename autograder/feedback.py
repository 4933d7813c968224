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

import os
from pathlib import Path

import nbformat

from autograder.restore import grade_id, is_solution, is_test
from autograder.sanitise import markdown_cell_html, raw_cell_html
from course.nbgrader_setup import run_nbgrader

__all__ = ["feedback_notebook", "generate_feedback"]


def _stream(text: str, name: str = "stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def feedback_notebook(restored, run, outcomes: dict, limits: list[str], release=None) -> nbformat.NotebookNode:
    """The notebook a student may see: outputs, per-test result lines and the limits hit.

    ``outcomes`` maps grade id -> (points, max_points, message). Markdown and
    raw cells are the student's text, cleaned (:mod:`autograder.sanitise`),
    unless they are locked cells or, given the ``release`` notebook, a text of
    it left unchanged.
    """
    released = {c.get("source") for c in release.cells if c.get("cell_type") != "code"} if release else set()
    # a copy two levels deep: the cells changed below are new dicts, ``restored`` stays as it was
    nb = nbformat.NotebookNode(restored)
    nb.cells = [nbformat.NotebookNode(cell) for cell in restored.cells]
    for position, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            nb.cells[position] = cell if cell.get("source") in released else _student_text(cell)
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
            what = {
                "error": f"this cell raised {result.error}",
                "interrupted": "this cell was interrupted (time limit)",
                "stopped": "the notebook was stopped in this cell",
            }[result.status]
            cell["outputs"].append(_stream(f"[autograder] {what}\n", "stderr"))
    if limits:
        text = "**Autograder limits hit:**\n\n" + "\n".join(f"- {line}" for line in limits)
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(markdown_cell_html(text)))
    return nb


def _student_text(cell):
    """A markdown or raw cell as it may appear in feedback: the instructor's locked cells as released,
    the student's text (answers, added cells) rendered and cleaned by :mod:`autograder.sanitise`."""
    if grade_id(cell) and not is_solution(cell):  # restored from the release, not the student's
        return cell
    render = markdown_cell_html if cell.get("cell_type") == "markdown" else raw_cell_html
    return nbformat.v4.new_markdown_cell(render(cell.get("source", "")), metadata=cell.get("metadata", {}))


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


#: added to every feedback page: long checker messages and outputs wrap instead of running off the page
WRAP_CSS = (
    "<style>/* xai-course: wrap outputs */ div.output_subarea pre, div.output_area pre, .output pre "
    "{white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;}</style>"
)


def wrap_outputs(html_path: str | Path) -> bool:
    """Make a feedback page's output text wrap (nbgrader's page keeps ``<pre>`` lines unbroken and clips them).

    Returns whether the page was changed (a page already wrapped is left alone).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.html"
    >>> _ = p.write_text("<html><head></head><body><pre>a very long line</pre></body></html>")
    >>> wrap_outputs(p), wrap_outputs(p), p.read_text().count("pre-wrap")
    (True, False, 1)
    """
    path = Path(html_path)
    text = path.read_text(encoding="utf-8")
    if WRAP_CSS in text or "</head>" not in text:
        return False
    path.write_text(text.replace("</head>", WRAP_CSS + "</head>", 1), encoding="utf-8")
    return True


def _feedback_pages(root: Path, assignments, since: float) -> list[Path]:
    return [p for a in assignments for p in root.glob(f"feedback/*/{a}/*.html") if p.stat().st_mtime >= since]


def generate_feedback(
    course_root: str | Path, assignment: str | list[str], *, workers: int | None = None, progress: bool = False
) -> int:
    """Run ``nbgrader generate_feedback ASSIGNMENT --force`` (HTML under feedback/), students split over processes.

    Each process takes one assignment (``assignment`` may list several) and the
    students whose id ends in some of the characters (:func:`student_patterns`);
    all of them run at once, up to twice the cores, so no core idles while the
    last process finishes. With ``progress`` a bar counts the pages written so
    far (nbgrader itself prints nothing until it is done). Every page then gets
    :data:`WRAP_CSS`, so long messages wrap. Returns the number of pages.
    """
    import time
    from concurrent.futures import ThreadPoolExecutor, wait

    root = Path(course_root)
    assignments = [assignment] if isinstance(assignment, str) else list(assignment)
    autograded = root / "autograded"
    cores = workers or os.cpu_count() or 1
    jobs, expected = [], 0
    for name in assignments:
        students = sorted(p.parent.name for p in autograded.glob(f"*/{name}")) if autograded.is_dir() else []
        expected += sum(len(list((autograded / s / name).glob("*.ipynb"))) for s in students)
        jobs += [(name, pattern) for pattern in student_patterns(students, cores)]
    started = time.time() - 1  # file times are whole seconds on some file systems
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=expected, desc=f"feedback {', '.join(assignments)}", unit="page")
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(len(jobs), 2 * cores))) as pool:
            running = [
                pool.submit(
                    run_nbgrader,
                    [
                        "generate_feedback",
                        name,
                        "--force",
                        "--log-level=WARN",
                        f"--CourseDirectory.student_id={pattern}",
                    ],
                    root,
                    timeout=1800,
                )
                for name, pattern in jobs
            ]
            while bar is not None and wait(running, timeout=0.5).not_done:
                bar.update(len(_feedback_pages(root, assignments, started)) - bar.n)
            for job in running:
                job.result()
        pages = _feedback_pages(root, assignments, started)
        for page in pages:
            wrap_outputs(page)
        if bar is not None:
            bar.update(len(pages) - bar.n)
    finally:
        if bar is not None:
            bar.close()
    return len(pages)
