"""Grading spec of ``exercises/quiz7``: every bank question scored by :func:`course.quiz.scoring.score_answer`.

One part per bank question (grade id = question id, value = the variable
``answer_<id>``) plus ``variant_backdoor``, whose key is recomputed from the
student id in the grading context (``ctx["student_id"]``; in the nbgrader route
the kernel's ``STUDENT_ID``). Feedback is the scorer's, in Russian.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograder.grading.checkers import Context
from autograder.grading.model import AssignmentSpec, Part, Probe
from course.quiz.bank import Question, load_bank
from course.quiz.notebook import answer_variable
from course.quiz.scoring import score_answer
from course.quiz.variants import VARIANT_ID, backdoor_variant

NAME = "quiz7"


def _score(value: Any, question: Question, ctx: Context) -> tuple[float, str]:
    s = score_answer(question, value, lang="ru")
    return s.fraction, s.feedback


def _question_key(question: Question) -> Callable[[Context], Question]:
    """The key of a bank question's probe: the question itself (with its key), whoever the student is."""

    def key(ctx: Context) -> Question:
        return question

    return key


def _variant_key(ctx: Context) -> Question:
    return backdoor_variant(ctx["student_id"])  # CourseError (→ feedback) when there is no student id


def _parts() -> tuple[Part, ...]:
    parts = [
        Part(q.id, q.points, (Probe(answer_variable(q.id), key=_question_key(q), check=_score),), q.text.en)
        for q in load_bank(keys=True)
    ]  # CourseError when the keys file is not readable
    parts.append(
        Part(
            VARIANT_ID,
            backdoor_variant("student").points,
            (Probe(answer_variable(VARIANT_ID), key=_variant_key, check=_score),),
            "the student's own backdoor question",
        )
    )
    return tuple(parts)


SPEC = AssignmentSpec(NAME, _parts(), notebook="quiz7.ipynb", module=__name__)
