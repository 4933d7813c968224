"""The grading core (instructor side): one model, one checker signature and tolerance, one plain-data codec.

- :mod:`~autograder.grading.model` -- :class:`AssignmentSpec` → :class:`Part`
  (one per autograded nbgrader cell) → :class:`Probe` (an expression evaluated
  in the student's kernel, a key computed in the grader, a checker);
  :class:`PartResult`.
- :mod:`~autograder.grading.checkers` -- ``check(value, key, ctx) -> (fraction,
  message)``; the tolerance policy (:data:`TOLERANCE`, :data:`STUDENT_CODE`).
- :mod:`~autograder.grading.plaindata` -- :func:`to_plain` (kernel side) and
  :func:`decode` (grader side) of the values that leave a student's kernel.
- :mod:`~autograder.grading.loaders` -- spec files (``autograde.toml``) and the
  course's Python specs (:mod:`autograder.grading.assignments`) onto the model.
- :mod:`~autograder.grading.hidden` -- :func:`check_in_kernel`, the nbgrader
  hidden tests' route; the sandboxed pipeline (:mod:`autograder.pipeline`)
  grades the same parts on decoded values.
- :mod:`~autograder.grading.cells` and :mod:`~autograder.grading.quiz_notebook`
  -- builders of the nbgrader source notebooks (``exercises/build_notebooks.py``).

Nothing here is imported by ``course`` (what students install).
"""

from autograder.grading.checkers import STUDENT_CODE, TOLERANCE, Check, SpecError, array_close, check, number_close
from autograder.grading.hidden import check_in_kernel, evaluate_in_namespace, grade_values
from autograder.grading.loaders import load_assignment, load_spec
from autograder.grading.model import AssignmentSpec, Part, PartResult, Probe, call, literal
from autograder.grading.plaindata import PlainDataError, decode, raised, to_plain

__all__ = [
    "AssignmentSpec",
    "Part",
    "PartResult",
    "Probe",
    "call",
    "literal",
    "Check",
    "SpecError",
    "TOLERANCE",
    "STUDENT_CODE",
    "array_close",
    "number_close",
    "check",
    "to_plain",
    "raised",
    "decode",
    "PlainDataError",
    "load_spec",
    "load_assignment",
    "check_in_kernel",
    "evaluate_in_namespace",
    "grade_values",
]
