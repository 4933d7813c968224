"""Read a student's submitted files the way a root-run grader must: regular files of that student's folder only.

The grader runs as root and ``submitted/<student>/<assignment>/`` belongs to
the student: any name in it may be a symbolic link (to another student's
notebook, to the instructor's source notebook, to a root-only file), a hard
link to a file elsewhere, a FIFO that blocks its reader forever, a device, a
folder named like a notebook, or a file of gigabytes. :func:`open_folder`
walks from the course's ``submitted/`` folder with ``O_NOFOLLOW`` at every
step, and :func:`read_file` opens one name relative to that folder's
descriptor with ``O_NOFOLLOW | O_NONBLOCK``, checks the *opened* file with
``fstat`` (a regular file, one link, at most ``limit`` bytes) and reads at most
that much — so what it returns was a regular file inside the student's own
folder when it was read, whatever is renamed meanwhile. Anything else raises
:class:`RefusedFile` whose message is one line for the summary.

>>> import tempfile, pathlib
>>> base = pathlib.Path(tempfile.mkdtemp())
>>> (base / "s1" / "ps1").mkdir(parents=True)
>>> _ = (base / "s1" / "ps1" / "timestamp.txt").write_text("2026-11-20 10:00:00 UTC")
>>> (base / "s1" / "ps1" / "ps1.ipynb").symlink_to("/etc/passwd")
>>> with open_folder(base, "s1", "ps1") as folder:
...     print(read_file(folder, "timestamp.txt", 100).decode())
...     read_file(folder, "ps1.ipynb", 100)
Traceback (most recent call last):
...
autograder.submitted.RefusedFile: ps1.ipynb is a symbolic link
>>> print(read_file(open_folder(base, "s1", "ps1"), "timestamp.txt", 100).decode())
2026-11-20 10:00:00 UTC
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from course.errors import CourseError

__all__ = ["RefusedFile", "Folder", "open_folder", "read_file", "MAX_NOTEBOOK_BYTES", "MAX_TIMESTAMP_BYTES"]

#: a submitted notebook larger than this is not graded (outputs included; nbgrader's own limit is 100 MB of output)
MAX_NOTEBOOK_BYTES = 32 << 20
#: timestamp.txt holds one line such as "2026-11-20 10:00:00.000000 UTC"
MAX_TIMESTAMP_BYTES = 1024

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class RefusedFile(CourseError):
    """A submitted name that is not a regular file of the student's own folder (the message says what it is)."""


class Folder:
    """An open directory descriptor of one submission folder (a context manager; closed on exit)."""

    def __init__(self, fd: int, label: str):
        self.fd, self.label = fd, label

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()


def _kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    for test, words in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder, not a file"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "not a regular file"


def open_folder(base: str | Path, student: str, assignment: str) -> Folder:
    """``base/student/assignment`` opened without following a symbolic link at the last two steps.

    ``base`` is the course's ``submitted/`` folder (the instructor's); a
    student or assignment folder that is a symbolic link raises :class:`RefusedFile`.
    """
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name, what in ((student, f"submitted/{student}"), (assignment, f"submitted/{student}/{assignment}")):
            if not name or "/" in name or name in (".", ".."):
                raise RefusedFile(f"{what} is not a folder name")
            try:
                inner = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    kind = _kind(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
                    raise RefusedFile(f"{what} is {kind}") from None
                raise
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return Folder(fd, f"submitted/{student}/{assignment}")


def read_file(folder: Folder, name: str, limit: int) -> bytes:
    """The bytes of the regular file ``name`` of ``folder`` (at most ``limit``); RefusedFile for anything else.

    FileNotFoundError when there is no such name.
    """
    before = os.stat(name, dir_fd=folder.fd, follow_symlinks=False)
    _refuse(name, before, limit)  # never open a FIFO or a device, even without blocking
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=folder.fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a symbolic link since the stat
            raise RefusedFile(f"{name} is a symbolic link") from None
        raise
    try:
        opened = os.fstat(fd)
        _refuse(name, opened, limit)
        if (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise RefusedFile(f"{name} was replaced while it was read")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise RefusedFile(f"{name} is larger than {_size(limit)}")
    return data


def _refuse(name: str, st: os.stat_result, limit: int) -> None:
    kind = _kind(st.st_mode)
    if kind is not None:
        raise RefusedFile(f"{name} is {kind}")
    if st.st_nlink != 1:  # a hard link: the same file is also somewhere else (another student's, the instructor's)
        raise RefusedFile(f"{name} is a hard link ({st.st_nlink} names for one file)")
    if st.st_size > limit:
        raise RefusedFile(f"{name} is larger than {_size(limit)}")


def _size(n: int) -> str:
    return f"{n >> 20} MB" if n >= 1 << 20 else f"{n} bytes"
