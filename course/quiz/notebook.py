"""The quiz notebook's student side: what its cells call in the student's kernel (and the sandbox).

``exercises/quiz7/quiz7.ipynb`` is built by
:func:`autograder.grading.quiz_notebook.build_quiz_notebook` (instructor side:
it writes the keys into the solution cells). Its cells call the functions here:
:func:`check_readable` (the visible test: can the answer be read?),
:func:`draw_question` and :func:`show_variant` (the student's own backdoor
question, :mod:`course.quiz.variants`, keyed by ``STUDENT_ID``). They load the
bank without its keys, so they work where the keys are hidden.

>>> answer_variable("t3_mdl")
'answer_t3_mdl'
"""

from __future__ import annotations

from course.quiz.bank import Question, load_bank
from course.quiz.normalize import AnswerError
from course.quiz.scoring import read_answer
from course.quiz.variants import VARIANT_ID, backdoor_variant

__all__ = ["answer_variable", "check_readable", "show_question", "one_line_dag", "show_variant", "draw_question"]


def answer_variable(qid: str) -> str:
    """Name of the variable that holds the answer to question ``qid``."""
    return f"answer_{qid}"


def check_readable(qid: str, answer, student_id: str | None = None) -> None:
    """Visible check: raise AssertionError (in Russian and English) when ``answer`` cannot be read; never says if it
    is right.

    Loads the bank without its keys (it needs only the options), so it works in
    the autograder's sandbox, where the keys file is hidden.
    """
    q = backdoor_variant(student_id) if qid == VARIANT_ID else load_bank(keys=False)[qid]
    try:
        read_answer(q, answer)
    except AnswerError as exc:
        raise AssertionError(f"{exc.text('ru')} / {exc.text('en')}") from None


def show_question(q: Question) -> None:
    """Print a question with its options (for a variant, which cannot be written into the notebook).

    The DAG is printed once more only in DAGitty's syntax, on one line, to paste into dagitty.net;
    :func:`draw_question` draws it.
    """
    print(q.text.ru)
    print(q.text.en)
    for o in q.options:
        print(f"{o.letter}) {o.text.ru}")
    if q.dag:
        print("\nDAGitty (dagitty.net): " + one_line_dag(q.dag))


def one_line_dag(dag: str) -> str:
    """A DAGitty graph written over several lines, on one line (statements separated by ';').

    >>> one_line_dag("dag {\\nX [exposure]\\nX -> Y\\n}")
    'dag { X [exposure]; X -> Y }'
    """
    lines = [line.strip() for line in dag.splitlines() if line.strip()]
    if len(lines) < 3 or not lines[0].endswith("{") or lines[-1] != "}":
        return " ".join(lines)
    return f"{lines[0]} {'; '.join(line.rstrip(';') for line in lines[1:-1])} }}"


def draw_question(qid_or_question):
    """The drawing of a backdoor question's DAG (:class:`~course.quiz.figures.DagDrawing`, shown as a cell's
    last expression).

    Takes a question id of the course's bank (loaded without keys, as in the sandbox) or a Question.
    """
    from course.quiz.figures import DagDrawing

    q = qid_or_question if isinstance(qid_or_question, Question) else load_bank(keys=False)[qid_or_question]
    return DagDrawing(q)


def show_variant(student_id: str, draw: bool = True):
    """Print the student's own backdoor question and return the drawing of its DAG (None with ``draw=False``)."""
    q = backdoor_variant(student_id)
    show_question(q)
    return draw_question(q) if draw else None


def zygote_warm_up() -> None:
    """The grader's warm-started kernels call this before any student's run: the quiz notebook's fixed DAG
    drawings are drawn once there instead of in every submission (see :func:`course.quiz.figures.zygote_warm_up`)."""
    from course.quiz.figures import zygote_warm_up as draw_fixed_questions

    draw_fixed_questions()
