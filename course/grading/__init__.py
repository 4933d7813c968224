"""Grading specs of the course's nbgrader assignments (instructor side; not part of the released notebooks).

The format is documented in :mod:`course.grading.spec`; one module per
assignment (``course.grading.lrp_rules`` ...) defines ``SPEC``.
"""
from course.grading.spec import (  # noqa: F401
    AssignmentSpec,
    Part,
    PartResult,
    Probe,
    check_in_kernel,
    evaluate_in_namespace,
    grade_values,
    load_spec,
    raised,
    to_plain,
)
