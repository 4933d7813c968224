"""The course's secret seed for the probes drawn at grading (see "Fresh probes" in :mod:`autograder.grading.model`).

One seed per nbgrader course, kept in ``<course>/.xai-course-grading-seed``
(created on the first ``xai-course autograde``, readable by its owner only).
The sandbox never shows the course directory, so a submission cannot read it;
keeping it makes grading reproducible: grading again draws the same inputs.
Deleting it draws new inputs, which changes nothing for an implementation
that is right, and only moves which inputs a memorised table misses.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from course.errors import CourseError

__all__ = ["SEED_FILE", "grading_seed"]

SEED_FILE = ".xai-course-grading-seed"


def grading_seed(course_root: str | os.PathLike) -> int:
    """The course's seed: read from :data:`SEED_FILE`, or drawn (63 bits) and written there on first use.

    >>> import tempfile
    >>> root = tempfile.mkdtemp()
    >>> grading_seed(root) == grading_seed(root)
    True
    """
    path = Path(course_root) / SEED_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        text = path.read_text(encoding="ascii", errors="replace").strip()
        if not text.isdigit() or len(text) > 19:
            raise CourseError(
                f"{path}: not a grading seed ({text[:30]!r}); delete the file to draw a new one"
            ) from None
        return int(text)
    except OSError as exc:
        raise CourseError(f"{path}: cannot write the grading seed ({exc.strerror})") from None
    seed = secrets.randbits(63)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(f"{seed}\n")
    return seed
