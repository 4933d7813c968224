"""Helpers of the autograding tests: build the fixture course, write submissions from the corpus."""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from pathlib import Path

import nbformat

from course.nbgrader_setup import run_nbgrader

FIXTURE = Path(__file__).parent / "fixtures" / "autograde_course"
ADVERSARIAL = Path(__file__).parent / "fixtures" / "adversarial"
#: submissions of the course's own quiz (exercises/quiz7), graded in a course built from the repository
QUIZ_CORPUS = ADVERSARIAL / "quiz7"
QUIZ = "quiz7"
ASSIGNMENT = "ps1"
STAMP = "2026-11-20 10:00:00.000000 UTC"
#: points per grade id of ps1 (from the test cells' metadata in make_ps1.py)
POINTS = {"test_squares": 2.0, "test_blocking": 1.0, "test_relu": 2.0}


def build_course(dest: Path) -> Path:
    """Copy the fixture course to ``dest`` and run ``nbgrader generate_assignment ps1`` (gradebook + release)."""
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], dest)
    return dest


def build_quiz_course(dest: Path) -> Path:
    """The course's quiz7 (nbgrader_config.py + exercises/quiz7) at ``dest``, generated (gradebook + release)."""
    from course.nbgrader_setup import copy_course

    copy_course(dest, assignments=(QUIZ,))
    run_nbgrader(["generate_assignment", QUIZ, "--force"], dest)
    return dest


def submit(
    course: Path,
    student: str,
    answers: dict | None = None,
    *,
    delete=(),
    extra=(),
    stamp: str = STAMP,
    raw: str | None = None,
    metadata: dict | None = None,
    assignment: str = ASSIGNMENT,
) -> Path:
    """Write ``submitted/<student>/<assignment>/<assignment>.ipynb`` (default ps1) from the released notebook.

    ``answers``: grade id -> new source of that cell; ``delete``: grade ids of cells to drop;
    ``extra``: (after grade id, source[, "markdown" | "raw"]) cells to insert (code by default);
    ``raw``: write this text instead.
    """
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    (folder / "timestamp.txt").write_text(stamp)
    if raw is not None:
        path.write_text(raw)
        return path
    nb = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    cells = []
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in delete:
            continue
        if answers and gid in answers:
            cell.source = answers[gid]
        cells.append(cell)
        for after, source, *kind in extra:
            if after == gid:
                make = {"markdown": nbformat.v4.new_markdown_cell, "raw": nbformat.v4.new_raw_cell}
                added = make.get(kind[0] if kind else "code", nbformat.v4.new_code_cell)()
                added.source = source  # as given, even when it is not text (a malformed notebook)
                cells.append(added)
    nb.cells = cells
    if metadata:
        nb.metadata.update(metadata)
    nbformat.write(nb, path)
    return path


def plant_files(course: Path, folder: Path, files) -> None:
    """Replace names of a submission folder (``"."``: the folder itself) as ``[[file]]`` entries of a case say.

    Each entry has ``name`` and one of ``symlink`` / ``hardlink`` (a target; ``{course}`` is the course
    root), ``kind = "fifo" | "directory"``, ``size`` (a sparse file of that many bytes).
    """
    import os

    for entry in files:
        path = folder / entry["name"]
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        target = str(entry.get("symlink") or entry.get("hardlink") or "").replace("{course}", str(course))
        if "symlink" in entry:
            path.symlink_to(target)
        elif "hardlink" in entry:
            os.link(target, path)
        elif entry.get("kind") == "fifo":
            os.mkfifo(path)
        elif entry.get("kind") == "directory":
            path.mkdir()
            (path / "cells.json").write_text("{}")
        else:
            with open(path, "wb") as fh:
                fh.truncate(int(entry["size"]))


def load_case(name: str, folder: Path = ADVERSARIAL) -> dict:
    """One submission of the adversarial corpus (tests/fixtures/adversarial/<name>.toml, or of ``folder``)."""
    return tomllib.loads((folder / f"{name}.toml").read_text("utf-8"))


def corpus(folder: Path = ADVERSARIAL) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml"))


def submit_case(
    course: Path, name: str, student: str | None = None, *, folder: Path = ADVERSARIAL, assignment: str = ASSIGNMENT
) -> dict:
    case = load_case(name, folder)
    extra = [(e["after"], e["source"], e.get("type", "code")) for e in case.get("extra", [])]
    path = submit(
        course,
        student or name,
        case.get("answers", {}),
        delete=case.get("delete", ()),
        extra=extra,
        raw=case.get("raw"),
        metadata=case.get("metadata"),
        assignment=assignment,
    )
    plant_files(course, path.parent, case.get("file", []))
    return case


def notebook_points(path: Path) -> float:
    """The points of a notebook's autograded test cells (nbgrader ``grade`` cells that are not also solutions)."""
    nb = nbformat.read(str(path), as_version=4)
    return sum(
        float(c.metadata["nbgrader"].get("points", 0))
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")
    )


def digest(paths) -> dict:
    """sha256 of every file under the given paths (to prove nothing was modified)."""
    out = {}
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out
