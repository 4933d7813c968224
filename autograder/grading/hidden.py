"""The nbgrader route: a hidden test cell grades its part inside the kernel with the same spec and checkers.

The hidden test of part ``GRADE_ID`` of assignment ``NAME`` is::

    from autograder.grading import check_in_kernel
    check_in_kernel("NAME", "GRADE_ID", globals())

It evaluates the part's probes in the kernel's namespace, turns the results
into plain data (:func:`~autograder.grading.plaindata.to_plain`) and grades
them in the same process (:meth:`~autograder.grading.model.Part.grade`): the
points are nbgrader's partial credit, an AssertionError with the feedback
means none. The sandboxed pipeline evaluates the same expressions in the
sandbox and grades the decoded values in the grader's process instead.
"""

from __future__ import annotations

from typing import Any

from autograder.grading.loaders import load_assignment
from autograder.grading.model import Part, PartResult
from autograder.grading.plaindata import raised, to_plain
from course.errors import CourseError

__all__ = ["evaluate_in_namespace", "check_in_kernel", "grade_values"]


def evaluate_in_namespace(part: Part, namespace: dict[str, Any]) -> list[Any]:
    """Evaluate a part's expressions in ``namespace`` and return plain values (errors as :func:`raised`)."""
    values: list[Any] = []
    for expr in part.expressions:
        try:
            values.append(to_plain(eval(expr, namespace)))  # noqa: S307 - the student's own kernel
        except Exception as exc:  # noqa: BLE001 - any failure of student code is a failed probe
            values.append(raised(exc))
    return values


def check_in_kernel(assignment: str, grade_id: str, namespace: dict[str, Any], student_id: str | None = None) -> float:
    """nbgrader hidden test: grade one part inside the kernel; return the points or raise AssertionError.

    Prints the feedback when the part earns partial credit.
    """
    part = load_assignment(assignment)[grade_id]
    if student_id is None:
        student_id = namespace.get("STUDENT_ID")
    result = part.grade(evaluate_in_namespace(part, namespace), student_id=student_id)
    if result.points == 0:
        raise AssertionError(result.feedback)
    if result.points < result.max_points:
        print(f"partial credit {result.points:g}/{result.max_points:g}: {result.feedback}")
    return result.points


def grade_values(assignment: str, grade_id: str, values: list[Any], student_id: str | None = None) -> PartResult:
    """Grader side in one call: the plain ``values`` of a part's probes → points and feedback.

    >>> grade_values("backdoor", "set_g1", [["A", "Z"]]).points   # {A, Z} is minimal in G1
    2.0
    >>> grade_values("backdoor", "set_g1", [["W"]]).feedback.startswith("SET_G1: W is a descendant")
    True
    """
    if not isinstance(values, (list, tuple)):
        raise CourseError(f"values must be a list with one plain value per probe, got {type(values).__name__}")
    return load_assignment(assignment)[grade_id].grade(list(values), student_id=student_id)
