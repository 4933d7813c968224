"""Per-student variants of the backdoor question: the same student always gets the same DAG.

nbgrader has no per-student versions of an assignment (jupyter/nbgrader issues
#1153, #1433). Here a student's variant is a pure function of their id: the
seed is a stable hash (SHA-256, not Python's salted ``hash``) of the quiz id
and the student id, and :func:`course.causal.quiz.backdoor_question` turns the
seed into a new DAG with options built from the classic mistakes (a
descendant of X, a collider, a larger valid set, a set that leaves a path
open) and the key computed by the solver. The grader never stores keys: it
recomputes the variant from the student id it is grading.

>>> q1, q2 = backdoor_variant("ivanov"), backdoor_variant("ivanov")
>>> q1 == q2, q1.id
(True, 'variant_backdoor')
>>> student_seed("ivanov") == student_seed("petrova")
False
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from course.causal.graphs import format_set
from course.causal.quiz import backdoor_question
from course.errors import CourseError
from course.localized import EMPTY, Localized
from course.quiz.bank import Option, Question

__all__ = ["student_seed", "backdoor_variant", "current_student_id", "VARIANT_ID"]

VARIANT_ID = "variant_backdoor"

_MISTAKE = Localized(
    "Выписывайте все backdoor-пути (начинаются со стрелки в X) и проверяйте каждый: "
    "потомков X брать нельзя, коллайдер открывает путь, "
    "а допустимое множество большего размера — не наименьшее.",
    "List every backdoor path (starting with an arrow into X) and check each one: descendants of X are not "
    "allowed, adjusting for a collider opens a path, and a larger valid set is not the smallest.",
)


def student_seed(student_id: object, quiz_id: str = "quiz7") -> int:
    """A stable 63-bit seed from the quiz id and the student id (same on every machine and Python version).

    Leading/trailing spaces are ignored and case is folded, so "Ivanov " and "ivanov" are one student.
    """
    if not isinstance(student_id, str) or not student_id.strip():
        raise CourseError(f"a student id must be a non-empty string, got {student_id!r}")
    digest = hashlib.sha256(f"{quiz_id}\x00{student_id.strip().casefold()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@lru_cache(maxsize=1024)
def backdoor_variant(student_id: str, quiz_id: str = "quiz7", points: object = 1.0) -> Question:
    """The student's backdoor question ("choose the smallest sets") as a bank :class:`Question`.

    Scored like any bank question (multiple choice, proportional partial credit);
    each wrong option carries the solver's reason, shown only to a student who picked it.
    """
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not 0 < points < float("inf"):
        raise CourseError(f"points must be a positive number, got {points!r}")
    q = backdoor_question(seed=student_seed(student_id, quiz_id), kind="smallest_sets")
    options = tuple(
        Option(
            letter,
            Localized.same(format_set(z)),
            frozenset(map(str, z)),
            why=q.why[letter] if letter not in q.correct else EMPTY,
        )
        for letter, z in q.options.items()
    )
    return Question(
        id=VARIANT_ID,
        kind="multiple",
        text=q.text,
        correct=frozenset(q.correct),
        points=float(points),
        options=options,
        partial="proportional",
        mistake=_MISTAKE,
        topics=("T3",),
        dag=q.dagitty,
        exposure=str(q.exposure),
        outcome=str(q.outcome),
    )


def current_student_id(cwd: str | Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """Who is taking the quiz, as seen from inside the notebook's kernel.

    In this order: ``XAI_STUDENT_ID`` (set by the course's grader when it runs
    a kernel); the working directory when nbgrader runs the notebook
    (``.../submitted/<student>/<assignment>`` or ``.../autograded/<student>/<assignment>``);
    ``JUPYTERHUB_USER`` (the student working on the hub); else "student"
    (self-study outside the hub).

    >>> current_student_id("/course/submitted/s001/quiz7", env={})
    's001'
    >>> current_student_id("/home/jovyan/quiz7", env={"JUPYTERHUB_USER": "ivanov"})
    'ivanov'
    """
    environ = os.environ if env is None else env
    if environ.get("XAI_STUDENT_ID"):
        return environ["XAI_STUDENT_ID"]
    here = Path(os.getcwd() if cwd is None else cwd)
    if len(here.parts) >= 3 and here.parent.parent.name in ("submitted", "autograded"):
        return here.parent.name
    return environ.get("JUPYTERHUB_USER") or "student"
