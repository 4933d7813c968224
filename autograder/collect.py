"""Step 1, collect: the nbgrader course's paths and every submission of an assignment, read safely.

:class:`Course` reads the course's ``nbgrader_config.py`` (nbgrader's own
``CourseDirectory``). :func:`collect` lists ``submitted/<student>/<assignment>/``
folders; only regular files of the student's own folder are read
(:mod:`autograder.submitted`), and :func:`read_submitted` validates and
normalises one notebook (:func:`autograder.restore.parse_submission`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import nbformat

from autograder.restore import parse_submission
from autograder.submitted import MAX_NOTEBOOK_BYTES, MAX_TIMESTAMP_BYTES, Folder, RefusedFile, open_folder, read_file
from course.errors import CourseError

__all__ = ["Course", "Submission", "collect", "read_submitted"]


class Course:
    """Paths of an nbgrader course, read from its ``nbgrader_config.py``."""

    def __init__(self, root: str | Path):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        self.root = Path(root).resolve()
        config_file = self.root / "nbgrader_config.py"
        if not config_file.is_file():
            raise CourseError(f"{self.root} is not an nbgrader course (no nbgrader_config.py)")
        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        cfg.merge(Config({"CourseDirectory": {"root": str(self.root)}}))
        self.coursedir = CourseDirectory(config=cfg)
        self.db_url = self.coursedir.db_url

    def folder(self, kind: str, assignment: str, student: str = ".") -> Path:
        name = getattr(self.coursedir, f"{kind}_directory")
        return Path(self.coursedir.format_path(name, student, assignment))

    def secrets(self) -> tuple[str, ...]:
        """What the sandbox must never show: the whole course directory and the gradebook."""
        paths = [str(self.root)]
        if self.db_url.startswith("sqlite:///"):
            paths.append(self.db_url[len("sqlite:///") :])
        return tuple(paths)

    def notebooks(self, assignment: str) -> list[str]:
        release = self.folder("release", assignment)
        names = sorted(p.stem for p in release.glob("*.ipynb"))
        if not names:
            raise CourseError(f"no released notebooks in {release}; run nbgrader generate_assignment {assignment}")
        return names


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    folder: str
    timestamp: str | None
    notes: tuple = ()  # files not collected, one line each (e.g. "timestamp.txt is a symbolic link")
    refused: str | None = None  # the folder itself is not the student's own: nothing in it is graded

    def open(self) -> Folder:
        """The submission folder, opened without following symbolic links (RefusedFile otherwise)."""
        if self.refused:
            raise RefusedFile(self.refused)
        folder = Path(self.folder)
        return open_folder(folder.parent.parent, folder.parent.name, folder.name)


def collect(course: Course, assignment: str) -> list[Submission]:
    """Step 1: every ``submitted/<student>/<assignment>`` folder, sorted by student id.

    Files are read as :mod:`autograder.submitted` allows (regular files of the
    student's own folder): a folder that is a symbolic link is ``refused`` and a
    ``timestamp.txt`` that is not a small regular file is a note (no timestamp).
    """
    base = Path(course.coursedir.format_path(course.coursedir.submitted_directory, ".", "."))
    found = []
    if not base.is_dir():
        return found
    for student_dir in sorted(base.iterdir()):
        folder = student_dir / assignment
        if not (student_dir.is_dir() and (folder.is_dir() or folder.is_symlink())):
            continue
        sub = Submission(student_dir.name, assignment, str(folder), None)
        try:
            opened = sub.open()
        except RefusedFile as exc:
            found.append(replace(sub, notes=(str(exc),), refused=str(exc)))
            continue
        with opened:
            found.append(_with_timestamp(sub, opened))
    return found


def _with_timestamp(sub: Submission, folder: Folder) -> Submission:
    try:
        data = read_file(folder, "timestamp.txt", MAX_TIMESTAMP_BYTES)
    except FileNotFoundError:
        return sub
    except RefusedFile as exc:
        return replace(sub, notes=(str(exc),))
    return replace(sub, timestamp=data.decode("utf-8", "replace").strip())


def read_submitted(sub: Submission, notebook: str) -> nbformat.NotebookNode:
    """The student's ``<notebook>.ipynb``: a regular file of their own folder, validated and normalised.

    FileNotFoundError when absent, RefusedFile when not a small regular file,
    CourseError when it is not a notebook.
    """
    with sub.open() as folder:
        data = read_file(folder, f"{notebook}.ipynb", MAX_NOTEBOOK_BYTES)
    return parse_submission(data, f"{notebook}.ipynb")
