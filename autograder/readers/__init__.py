"""Where grades come from: nbgrader gradebooks, grade CSVs, Moodle's downloads and students' answers.

Every source becomes one :class:`Attempts` table — one row per graded attempt
(student, timestamp, total score, maximum score and, when known, the score of
each question) — or, for answers, one :class:`Responses` table, so the
statistics in :mod:`autograder.stats` and :mod:`autograder.items` never care
where the numbers came from. Every timestamp goes through the grader's one
parser, :mod:`autograder.timestamps`. One module per job:

=========================  ==========================================================================
module                     reads
=========================  ==========================================================================
``attempts``               the two tables, their validation, natural sort order of question names
``text``                   spreadsheet text: encoding, separator, decimal commas
``workbooks``              Excel (.xlsx), OpenDocument (.ods), HTML tables, JSON records: told by their bytes
``grades_csv``             nbgrader's ``export`` CSV and the README's plain grade CSV
``gradebook``              an nbgrader gradebook, through ``nbgrader.api.Gradebook`` (read only)
``responses``              answers: a long CSV or autograded notebooks (``STUDENT/ASSIGNMENT/*.ipynb``)
``moodle``                 Moodle's quiz "Grades" and "Responses" downloads (English or Russian)
=========================  ==========================================================================

Errors a user can fix (a missing column, a score above the maximum, a duplicate
row …) raise :class:`course.errors.CourseError` naming the file and the row.
"""

from __future__ import annotations

from ..timestamps import TIME_UNIT, parse_timestamp
from .attempts import Attempts, Responses, natural_key
from .gradebook import read_gradebook
from .grades_csv import read_grades_csv
from .responses import normalise_choice, read_responses_csv, read_responses_notebooks
from .text import decode_text

__all__ = [
    "Attempts",
    "Responses",
    "read_gradebook",
    "read_grades_csv",
    "read_responses_csv",
    "read_responses_notebooks",
    "normalise_choice",
    "decode_text",
    "parse_timestamp",
    "natural_key",
    "TIME_UNIT",
]
