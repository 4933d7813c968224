"""What a sandboxed run sees: the trees mounted read-only into its empty root, and the secrets masked in them.

The sandbox (:mod:`autograder.sandbox`) binds ``/usr`` and the top-level links
of a merged-/usr system (:func:`_system_binds`), the Python installation, the
virtual environment and the ``course`` library (:func:`_python_paths`) and the
grader's runner script at :data:`RUNNER_PATH`; every quiz answer-key file that
lies under one of those trees (:func:`quiz_keys_paths`) is overlaid with an
empty read-only file.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

__all__ = ["RUNNER_SOURCE", "RUNNER_PATH", "FILES_PATH", "SCRATCH", "quiz_keys_paths"]

#: the in-sandbox runner script, mounted read-only at RUNNER_PATH
RUNNER_SOURCE = Path(__file__).with_name("_runner.py")
RUNNER_PATH = "/opt/xai-grader/runner.py"
#: read-only copy of the assignment's support files, copied to /scratch by the runner
FILES_PATH = "/opt/xai-grader/files"
SCRATCH = "/scratch"


def _python_paths() -> list[str]:
    """Directories the sandboxed interpreter needs: installation, venv, the course library."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    spec = importlib.util.find_spec("course")
    if spec is not None and spec.submodule_search_locations:
        paths.update(os.path.realpath(p) for p in spec.submodule_search_locations)
    return sorted(p for p in paths if not p.startswith("/usr/") and p != "/usr")


def quiz_keys_paths() -> list[str]:
    """The quiz answer-key files a sandboxed run must not read (real paths).

    Where the course's bank finds its keys (``XAI_COURSE_QUIZ_KEYS``, else
    ``exercises/quiz7/keys_quiz7.toml`` of the nbgrader course, see
    :func:`course.quiz.bank.default_keys_path`) and any ``keys_*.toml`` /
    ``*.keys.toml`` in the installed ``course.quiz`` package (none ships
    there). The sandbox overlays those under a mounted tree with an empty file.

    >>> any(p.endswith("/exercises/quiz7/keys_quiz7.toml") for p in quiz_keys_paths())
    True
    """
    from course.quiz.bank import KEYS_ENV, default_keys_path

    found = set()
    spec = importlib.util.find_spec("course.quiz")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        for pattern in ("keys_*.toml", "*.keys.toml"):
            found.update(os.path.realpath(p) for p in Path(folder).glob(pattern))
    env = os.environ.get(KEYS_ENV, "").strip()
    if env:
        found.add(os.path.realpath(os.path.expanduser(env)))
    course_keys = default_keys_path()
    if course_keys is not None:
        found.add(os.path.realpath(course_keys))
    return sorted(found)


def _system_binds() -> list[str]:
    """bwrap arguments for /usr and the top-level /bin, /lib… links of a merged-/usr system."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _parent_dirs(paths: list[str]) -> list[str]:
    """Create the parents of mount points world-readable (bwrap would make them 0700 under root)."""
    parents = set()
    for path in paths:
        parent = Path(path).parent
        while str(parent) not in ("/", "/usr") and not str(parent).startswith("/usr/"):
            parents.add(str(parent))
            parent = parent.parent
    args = []
    for parent in sorted(parents, key=lambda p: (p.count("/"), p)):
        args += ["--perms", "0755", "--dir", parent]
    return args
