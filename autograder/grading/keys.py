"""The quiz's answer keys on the grader's side: beside the quiz's source in the nbgrader course, or a private file.

The keys are not in what students install. :func:`course.quiz.bank.load_bank`
looks for them in ``$XAI_COURSE_QUIZ_KEYS``, else in the nbgrader course
directory it finds from the working directory. The grader knows its course
(``xai-course autograde ... --course DIR``): while it grades,
:func:`course_keys` points the bank at ``<source>/quiz7/keys_quiz7.toml`` of
that course unless ``XAI_COURSE_QUIZ_KEYS`` already names a file. The quiz's
Python spec (:mod:`autograder.grading.assignments.quiz7`) reads the keys when
it is first imported in a process: one grader process grades one course's quiz.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from course.quiz.keys import COURSE_KEYS, KEYS_ENV

__all__ = ["course_keys", "keys_file"]


def keys_file(source_root: str | Path) -> Path:
    """The course bank's keys file under an nbgrader course's source directory (``exercises/`` here).

    >>> keys_file("/srv/course/exercises").as_posix()
    '/srv/course/exercises/quiz7/keys_quiz7.toml'
    """
    return Path(source_root) / COURSE_KEYS.relative_to(COURSE_KEYS.parts[0])


@contextlib.contextmanager
def course_keys(source_root: str | Path) -> Iterator[Path | None]:
    """While the block runs, the course bank's keys are those of this course (when it has them and
    ``XAI_COURSE_QUIZ_KEYS`` is not set); yields the file used from the course, or None."""
    path = keys_file(source_root)
    if os.environ.get(KEYS_ENV, "").strip() or not path.is_file():
        yield None
        return
    os.environ[KEYS_ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(KEYS_ENV, None)
