"""Run nbgrader on the course from any directory.

nbgrader looks for ``nbgrader_config.py`` only in the working directory, the
course root given on the command line, and the directories on
``JUPYTER_CONFIG_PATH``. :func:`nbgrader_env` puts the course root (the
directory holding ``nbgrader_config.py`` and ``exercises/``) first on
``JUPYTER_CONFIG_PATH``; :func:`run_nbgrader` also passes the root explicitly,
so a command gives the same result wherever it is started.

>>> (course_root() / "nbgrader_config.py").is_file()
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from course.errors import CourseError

__all__ = ["course_root", "nbgrader_env", "run_nbgrader", "copy_course", "ASSIGNMENTS"]

#: The course's assignments, one folder each under exercises/.
ASSIGNMENTS = ("lrp_rules", "deep_taylor", "pattern_attribution", "backdoor", "quiz7")


def course_root(start: str | Path | None = None) -> Path:
    """The nbgrader course directory: ``start`` or the first parent holding nbgrader_config.py + exercises/.

    Without ``start``: the repository this package is imported from (editable
    install), else the working directory and its parents.
    """
    candidates = [Path(start)] if start is not None else [Path(__file__).resolve().parent.parent, Path.cwd()]
    for base in candidates:
        for d in (base.resolve(), *base.resolve().parents):
            if (d / "nbgrader_config.py").is_file() and (d / "exercises").is_dir():
                return d
    raise CourseError(
        f"no nbgrader course found at or above {', '.join(map(str, candidates))} "
        "(a course is a directory with nbgrader_config.py and exercises/)"
    )


def nbgrader_env(root: str | Path | None = None, env: dict | None = None) -> dict[str, str]:
    """A copy of ``env`` (default os.environ) with the course root first on JUPYTER_CONFIG_PATH.

    ``root``: the course directory (default: :func:`course_root`). Also puts the
    running interpreter's ``bin`` directory first on PATH, since nbgrader starts
    the ``alembic`` command of its own environment.
    """
    root = course_root() if root is None else Path(root).resolve()
    env = dict(os.environ if env is None else env)
    rest = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = str(root) + (os.pathsep + rest if rest else "")
    # nbgrader runs `alembic` (its database migrations) from PATH: put this interpreter's scripts first
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


#: ``python -m nbgrader`` without jsonschema's optional IRI format check: importing its grammar
#: (rfc3987_syntax, pulled in by nbformat's validator) costs about 2 s of the 3.5 s an nbgrader command
#: takes to start, and nothing nbgrader validates uses that format (nbformat passes no format checker)
_LAUNCH = (
    "import sys; sys.modules['rfc3987_syntax'] = None; sys.argv[0] = 'nbgrader'; "
    "from nbgrader.apps.nbgraderapp import main; sys.exit(main())"
)


def run_nbgrader(
    args: list[str], root: str | Path | None = None, check: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` on the course at ``root`` (default :func:`course_root`) from any directory.

    Example: ``run_nbgrader(["generate_assignment", "lrp_rules", "--force"])``.
    With ``check``, raises CourseError with the end of nbgrader's output when it
    exits non-zero or logs an error (nbgrader's per-notebook errors keep exit status 0).
    """
    root = course_root() if root is None else Path(root).resolve()
    cmd = [sys.executable, "-c", _LAUNCH, *args, f"--CourseDirectory.root={root}"]
    proc = subprocess.run(cmd, cwd=str(root), env=nbgrader_env(root), capture_output=True, text=True, timeout=timeout)
    if check and (proc.returncode != 0 or "[ERROR]" in proc.stderr or "| ERROR]" in proc.stderr):
        raise CourseError(
            f"nbgrader {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
    return proc


def copy_course(dest: str | Path, root: str | Path | None = None, assignments=None) -> Path:
    """Copy the course (nbgrader_config.py + exercises/) to ``dest``, e.g. to build a throw-away gradebook."""
    root, dest = course_root(root), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    names = ASSIGNMENTS if assignments is None else assignments
    for name in names:
        src = root / "exercises" / name
        if not src.is_dir():
            raise CourseError(f"no assignment {name!r} under {root / 'exercises'}")
        shutil.copytree(
            src,
            dest / "exercises" / name,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
    return dest


def main(argv: list[str] | None = None) -> int:
    """``python -m course.nbgrader_setup <nbgrader args>``: nbgrader on the course from anywhere."""
    proc = run_nbgrader(list(sys.argv[1:] if argv is None else argv), check=False)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
