"""Score one answer to one question: the single place where quiz points are decided.

Every route to a grade uses :func:`score_answer` — the nbgrader hidden tests of
``exercises/quiz7``, the autograding pipeline (which calls it in the grader's
process on the plain value that left the student's kernel), and the
self-study widgets — so they cannot disagree.

Rules (the policies are defined in :mod:`course.quiz.bank`):

* an answer that cannot be read (not an option letter, not a number, two
  letters on a single-choice question) earns 0 and the feedback says why;
* true/false, single choice and ``all_or_nothing`` multiple choice: full
  points for exactly the key, 0 otherwise;
* ``proportional`` multiple choice (Moodle's rule): +1/|C| for each correct
  option chosen, −1/|W| for each wrong option chosen (|C|, |W|: the numbers
  of correct and wrong options), floored at 0 — choosing every option scores 0;
* numeric: full points when |answer − key| ≤ tolerance (with a relative slack
  of 10⁻⁹, :func:`~course.quiz.normalize.within_tolerance`).

How an answer is read (one pipeline for all kinds): :mod:`course.quiz.normalize`
and ``docs/answers.md``. When a backdoor answer names a vertex set in braces
("{B, D}"), the feedback says which option it was read as.

Feedback never states the correct answer; after a wrong answer it names what
was wrong ("option Д is not correct", "2 of the correct options are
missing") and adds the question's usual-mistake explanation.

>>> from course.quiz.bank import example_bank
>>> s = score_answer(example_bank()["ex_sets"], "b, Γ")
>>> s.points == s.max_points
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from course.errors import CourseError
from course.localized import Localized, check_lang
from course.quiz.bank import NO_KEYS, Question
from course.quiz.normalize import AnswerError, parse_number, parse_truefalse, read_letters, within_tolerance

__all__ = ["Score", "score_answer", "read_answer", "vertex_sets", "proportional_fraction"]


# the feedback's own sentences (the question's texts come from the bank)
_CORRECT = Localized("Верно.", "Correct.")
_NOT_CORRECT = Localized("Неверно.", "Not correct.")
_NUMBER_NOT_CORRECT = Localized("{value:g} — неверно.", "{value:g} is not correct.")
_WRONG_OPTIONS = Localized("Неверные варианты: {letters}.", "Options that are not correct: {letters}.")
_MISSING = Localized(
    "Выбраны не все верные варианты (не хватает: {missing}).", "Not all correct options are chosen ({missing} missing)."
)


@dataclass(frozen=True)
class Score:
    """The outcome of scoring one answer.

    ``answer`` is the normalised answer (bool, float, frozenset of letters) or
    None when it could not be read; ``valid`` tells the two apart.
    """

    question_id: str
    points: float
    max_points: float
    answer: object
    valid: bool
    feedback: str

    @property
    def correct(self) -> bool:
        return self.points == self.max_points

    @property
    def fraction(self) -> float:
        return self.points / self.max_points


def read_answer(question: Question, answer: object):
    """Normalise ``answer`` for ``question`` (raises :class:`AnswerError` when unreadable)."""
    return _read(question, answer)[0]


def vertex_sets(question: Question) -> dict[str, frozenset] | None:
    """Option letter → vertex set, for a backdoor question whose options all stand for sets (else None)."""
    if question.dag is None or not question.options:
        return None
    sets = {o.letter: o.nodes for o in question.options if o.nodes is not None}
    return sets if len(sets) == len(question.options) else None


def _read(question: Question, answer: object):
    """The normalised answer and the notes on how it was read (each in Russian and English)."""
    if question.kind == "truefalse":
        return parse_truefalse(answer), ()
    if question.kind == "numeric":
        return parse_number(answer), ()
    letters, notes = read_letters(answer, question.letters, vertex_sets(question))
    if question.kind == "single" and len(letters) != 1:
        raise AnswerError(
            f"choose exactly one option, got {len(letters)}: {', '.join(sorted(letters))}",
            f"выберите ровно один вариант, выбрано {len(letters)}: {', '.join(sorted(letters))}",
        )
    return letters, notes


def score_answer(question: Question, answer: object, lang: str = "ru") -> Score:
    """Score ``answer`` (as the student typed it) for ``question``.

    Parameters
    ----------
    question : Question
    answer : str, bool, number, or iterable of str
    lang : "ru" or "en"
        Language of the feedback.

    Returns
    -------
    Score

    Examples
    --------
    >>> from course.quiz.bank import example_bank
    >>> s = score_answer(example_bank()["ex_sets"], "в")   # one of the two correct options
    >>> s.points, s.valid
    (0.5, True)
    >>> score_answer(example_bank()["ex_tf"], "может быть").valid
    False
    """
    if not isinstance(question, Question):
        raise CourseError(f"score_answer needs a bank Question (e.g. load_bank()[id]), got {type(question).__name__}")
    if not question.has_key:
        raise CourseError(
            f"{NO_KEYS}: question {question.id!r} was loaded without its answer key, so it cannot be "
            "scored; load the bank with load_bank(keys=True) where the keys file is readable "
            "(XAI_COURSE_QUIZ_KEYS)"
        )
    check_lang(lang)
    try:
        value, reading_notes = _read(question, answer)
    except AnswerError as exc:
        return Score(question.id, 0.0, question.points, None, False, exc.text(lang))
    fraction, notes = _FRACTION[question.kind](question, value, lang)
    fraction = max(0.0, min(1.0, fraction))
    if fraction < 1.0 and question.mistake(lang):
        notes.append(question.mistake(lang))
    if fraction == 1.0:
        notes = [_CORRECT(lang)]
    reading = [note(lang) for note in reading_notes]
    return Score(
        question.id, round(fraction * question.points, 10), question.points, value, True, " ".join(reading + notes)
    )


def _truefalse(q: Question, value: bool, lang: str):
    if value == q.correct:
        return 1.0, []
    return 0.0, [_NOT_CORRECT(lang)]


def _numeric(q: Question, value: float, lang: str):
    if not isinstance(q.correct, float):
        raise CourseError(f"question {q.id!r}: a numeric question needs a number as its key")
    if within_tolerance(value, q.correct, q.tolerance):
        return 1.0, []
    return 0.0, [_NUMBER_NOT_CORRECT.format(value=value)(lang)]


def _choice(q: Question, value: frozenset, lang: str):
    key = q.correct
    if not isinstance(key, frozenset):
        raise CourseError(f"question {q.id!r}: a choice question needs a set of letters as its key")
    wrong = sorted(value - key)
    missing = len(key - value)
    hits = len(value & key)
    if q.kind == "single" or q.partial == "all_or_nothing":
        fraction = 1.0 if value == key else 0.0
    else:  # proportional: Moodle's weights +1/|C| per correct, −1/|W| per wrong option chosen
        fraction = proportional_fraction(hits, len(wrong), len(key), len(q.options) - len(key))
    notes = []
    if wrong:
        notes.append(_WRONG_OPTIONS.format(letters=", ".join(wrong))(lang))
        notes.extend(f"{letter}: {q.option(letter).why(lang)}." for letter in wrong if q.option(letter).why(lang))
    if missing and q.kind == "multiple":
        notes.append(_MISSING.format(missing=missing)(lang))
    return fraction, notes


def proportional_fraction(hits: int, wrong: int, n_correct: int, n_wrong: int) -> float:
    """Moodle's multiple-answer credit: hits/|C| − wrong/|W|, floored at 0 (|W| = 0: no wrong option exists).

    >>> proportional_fraction(4, 2, 4, 2)   # every option of a 4-correct, 2-wrong question ticked
    0.0
    >>> proportional_fraction(2, 1, 2, 5)   # both correct and one of five wrong: 1 − 1/5
    0.8
    """
    fraction = hits / n_correct - (wrong / n_wrong if n_wrong else 0.0)
    return max(0.0, fraction)


#: kind -> (question, the answer as _read normalised it for that kind, language) -> (fraction, notes)
_FRACTION: dict[str, Callable[[Question, Any, str], tuple[float, list[str]]]] = {
    "truefalse": _truefalse,
    "numeric": _numeric,
    "single": _choice,
    "multiple": _choice,
}
