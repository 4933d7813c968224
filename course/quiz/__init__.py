"""course.quiz: the lecture quiz -- question bank, answer normalisation, scoring, export, variants, widgets.

>>> from course.quiz import example_bank, score_answer
>>> score_answer(example_bank()["ex_sets"], "гв").points
1.0
"""

from course.quiz.bank import Bank, Option, Question, example_bank, load_bank, parse_bank  # noqa: F401
from course.quiz.normalize import AnswerError, parse_letters, parse_number, parse_truefalse  # noqa: F401
from course.quiz.scoring import Score, read_answer, score_answer  # noqa: F401
