"""`make lab`: JupyterLab for students on a working copy of lectures/, without the instructor's tools.

JupyterLab autosaves every notebook it has open, outputs included. So that the committed notebooks stay
without outputs whatever the lab does, the lab never serves ``lectures/``: :func:`sync_working_copy` copies
it to ``lab/`` (untracked, git-ignored) and the server's root is that copy. Running ``make lab`` again
refreshes the copy from ``lectures/``:

- a file missing from the copy is copied;
- a lecture that changed replaces its copy when the student has not edited the copy (outputs and execution
  counts do not count as edits: only the cells' text does);
- a copy the student edited is never replaced without asking: on a terminal the student is asked, else
  (or on "no") the copy is kept and a line says so. A replaced copy is first saved under ``lab/backup/``.

``lab/.lab-copy.json`` records, per file, the hash of the lecture it was copied from and the text of the
copy at that moment.

The lab runs with ``lectures/.lab-settings`` as JupyterLab's app settings directory: its
``page_config.json`` disables nbgrader's lab extension (the "Nbgrader" menu, the "Create Assignment"
panel, formgrader, assignment list) and ``student_server_config.json`` turns nbgrader's server
extensions off, so a student's lab has none of the instructor's tools. (Being the lab's ``--config``, that
file is read instead of a personal ``jupyter_server_config``; extensions enabled in ``*.d/`` folders still load.)

>>> import tempfile
>>> src, work = Path(tempfile.mkdtemp()), Path(tempfile.mkdtemp()) / "lab"
>>> _ = (src / "a.md").write_text("v1")
>>> sync_working_copy(src, work).actions
{'a.md': 'copied'}
>>> _ = (src / "a.md").write_text("v2")
>>> sync_working_copy(src, work).actions, (work / "a.md").read_text()
({'a.md': 'refreshed'}, 'v2')
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from course.errors import CourseError

__all__ = ["SETTINGS", "sync_working_copy", "lab_command", "SyncReport", "main"]

#: The students' lab settings, inside the lectures folder (committed): page_config.json, overrides.json, ...
SETTINGS = ".lab-settings"
SERVER_CONFIG = "student_server_config.json"
MANIFEST = ".lab-copy.json"
BACKUP = "backup"

Ask = Callable[[str], bool]


@dataclass
class SyncReport:
    """What :func:`sync_working_copy` did, per file (path relative to the copy's root)."""

    actions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for action in self.actions.values():
            counts[action] = counts.get(action, 0) + 1
        return ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to copy"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _text_fingerprint(path: Path) -> str:
    """The hash of what a student edits: a notebook's cell types and sources (not outputs); else the bytes."""
    data = path.read_bytes()
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(data)["cells"]
            text = [
                (c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"]) for c in cells
            ]
            return _sha(json.dumps(text, ensure_ascii=False).encode())
        except (ValueError, KeyError, TypeError):
            pass  # not a readable notebook: compare the bytes
    return _sha(data)


def _sources(source: Path) -> list[Path]:
    """The files of ``source`` to copy: everything but hidden files/folders (settings, checkpoints)."""
    return sorted(
        p
        for p in source.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(source).parts)
    )


def _backup(target: Path, workdir: Path, rel: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = workdir / BACKUP / rel.parent / f"{rel.stem}.{stamp}{rel.suffix}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target, dest)
    return dest


def sync_working_copy(source: str | Path, workdir: str | Path, ask: Ask | None = None) -> SyncReport:
    """Copy ``source`` (lectures/) to ``workdir`` (lab/), refreshing only what the student has not edited.

    ``ask(relative_path)`` is called for a copy the student edited whose lecture changed since it was
    copied; True replaces it (after saving it under ``workdir/backup/``), False or no ``ask`` keeps it.
    Never writes into ``source``.
    """
    source, workdir = Path(source).resolve(), Path(workdir).resolve()
    if not source.is_dir():
        raise CourseError(f"no lectures folder at {source}")
    if workdir == source or source in workdir.parents or workdir in source.parents:
        raise CourseError(f"the working copy {workdir} must lie outside {source} (and not contain it)")
    workdir.mkdir(parents=True, exist_ok=True)
    manifest_path = workdir / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    except ValueError:
        manifest = {}  # a damaged record: every copy that differs from its lecture counts as edited
    report = SyncReport()
    for path in _sources(source):
        rel = path.relative_to(source)
        key, target = rel.as_posix(), workdir / rel
        lecture_sha, lecture_text = _sha(path.read_bytes()), _text_fingerprint(path)
        record = manifest.get(key, {})
        if not target.exists():
            action = "copied"
        elif record.get("sha256") == lecture_sha:
            report.actions[key] = "unchanged"
            continue
        elif _text_fingerprint(target) == lecture_text:  # already the lecture's text: keep its outputs
            manifest[key] = {"sha256": lecture_sha, "text": lecture_text}
            report.actions[key] = "up to date"
            continue
        elif _text_fingerprint(target) == record.get("text"):
            action = "refreshed"  # the student ran it but did not edit it
        elif ask is not None and ask(key):
            saved = _backup(target, workdir, rel)
            report.notes.append(f"{key}: your version is saved as {saved.relative_to(workdir)}")
            action = "replaced"
        else:
            report.actions[key] = "kept (edited)"
            report.notes.append(
                f"{key}: kept your edits; the lecture has changed since (run again to be asked, "
                f"or delete {workdir.name}/{key} to get the new one)"
            )
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        manifest[key] = {"sha256": lecture_sha, "text": lecture_text}
        report.actions[key] = action
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return report


def lab_command(workdir: str | Path, settings: str | Path, extra: list[str] | None = None) -> list[str]:
    """The ``jupyter lab`` command line that serves ``workdir`` with the students' settings.

    ``--allow-root`` is added when running as root (containers, CI), where Jupyter refuses to start otherwise.
    """
    settings = Path(settings).resolve()
    for name in ("page_config.json", SERVER_CONFIG):
        if not (settings / name).is_file():
            raise CourseError(f"missing lab setting {settings / name}")
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={Path(workdir).resolve()}",
        f"--config={settings / SERVER_CONFIG}",
        f"--LabApp.app_settings_dir={settings}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd + list(extra or [])


def _always(key: str) -> bool:
    return True


def _ask_on_terminal(key: str) -> bool:
    answer = input(
        f"{key}: you edited it and the lecture has changed since. "
        "Replace it with the new lecture (yours is saved under lab/backup/)? [y/N] "
    )
    return answer.strip().lower() in ("y", "yes")


def main(argv: list[str] | None = None) -> int:
    """``python -m course.lab [--lectures DIR] [--workdir DIR] [--replace|--keep] [--sync-only] [jupyter args]``.

    Any argument it does not know (``--no-browser``, ``--port=8899``) goes to ``jupyter lab``.
    """
    parser = argparse.ArgumentParser(
        prog="python -m course.lab",
        allow_abbrev=False,
        description="JupyterLab for students on a working copy of lectures/.",
    )
    parser.add_argument("--lectures", default="lectures", help="the committed notebooks (default: lectures)")
    parser.add_argument("--workdir", default="lab", help="the untracked working copy (default: lab)")
    parser.add_argument("--settings", help=f"lab settings (default: LECTURES/{SETTINGS})")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--replace", action="store_true", help="replace edited copies whose lecture changed")
    choice.add_argument("--keep", action="store_true", help="keep edited copies without asking")
    parser.add_argument("--sync-only", action="store_true", help="refresh the working copy, do not start the lab")
    args, extra = parser.parse_known_args(argv)
    if args.replace:
        ask: Ask | None = _always
    elif args.keep or not sys.stdin.isatty():
        ask = None
    else:
        ask = _ask_on_terminal
    try:
        cmd = (
            None
            if args.sync_only
            else lab_command(args.workdir, args.settings or Path(args.lectures) / SETTINGS, extra)
        )
        report = sync_working_copy(args.lectures, args.workdir, ask=ask)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{Path(args.workdir)}/ (working copy of {Path(args.lectures)}/; edit and save there): {report.summary()}")
    for note in report.notes:
        print(f"  {note}")
    if cmd is None:
        return 0
    sys.stdout.flush()
    os.execv(cmd[0], cmd)  # the lab takes over this process (Ctrl-C stops it as usual)
    return 0  # pragma: no cover -- execv does not return


if __name__ == "__main__":
    sys.exit(main())
