"""Folders a command may replace: only those it wrote itself, recognised by a marker file.

``xai-course demo`` and ``xai-course report`` delete and rebuild their output
folder. Each writes a marker file into every folder it builds; a non-empty
folder without the marker belongs to someone else and is never deleted, not
even with ``force`` (which only allows replacing the command's own earlier
output where that needs confirming).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp()) / "thesis"
>>> d.mkdir(); _ = (d / "thesis.tex").write_text("...")
>>> check_replaceable(d, ".xai-course-report", command="xai-course report", force=True)
Traceback (most recent call last):
...
course.errors.CourseError: ...thesis exists and was not written by `xai-course report` ...: choose another out=PATH
"""

from __future__ import annotations

from pathlib import Path

from course.errors import CourseError

__all__ = ["check_replaceable", "mark"]


def check_replaceable(
    path: Path, marker: str, *, command: str, force: bool, needs_force: bool = True, arg: str = "out"
) -> bool:
    """Raise CourseError unless ``path`` may be (re)built by ``command``; return whether it holds anything.

    A missing or empty folder is always fine. A folder holding files is fine
    only when it holds ``marker`` (an earlier run of ``command`` wrote it) and,
    with ``needs_force``, ``force`` is true. Messages name the Python
    arguments (``force=True``, ``arg`` as ``out=PATH``); the command line shows them as flags
    (:func:`autograder.cli.flag_words`).
    """
    path = Path(path)
    if not path.exists():
        return False
    if not path.is_dir():
        raise CourseError(f"{path}: exists and is not a directory; choose another {arg}=PATH")
    if not any(path.iterdir()):
        return False
    if not (path / marker).is_file():
        raise CourseError(
            f"{path} exists and was not written by `{command}` (it has no {marker} file); "
            f"refusing to replace it: choose another {arg}=PATH"
        )
    if needs_force and not force:
        raise CourseError(f"{path}: already exists (written by an earlier `{command}`); pass force=True to replace it")
    return True


def mark(path: Path, marker: str, command: str) -> None:
    """Write ``marker`` into ``path``: the folder was built by ``command`` and may be rebuilt by it."""
    (Path(path) / marker).write_text(
        f"written by `{command}`, which may delete and rebuild this folder\n", encoding="utf-8"
    )
