"""The quiz as an nbgrader source notebook: one answer cell and one autograded cell per question, from the bank.

``exercises/quiz7/quiz7.ipynb`` is :func:`build_quiz_notebook` of the course's
bank with its keys (``exercises/build_notebooks.py`` writes it; a test checks
the committed file is up to date). The solution cells hold the keys typed as a
student would type them, the hidden tests call
:func:`autograder.grading.hidden.check_in_kernel`; the visible checks and the
drawings call :mod:`course.quiz.notebook` (student side). The last question is
the student's own backdoor variant (:mod:`course.quiz.variants`), keyed by
``STUDENT_ID``.

>>> nb = build_quiz_notebook()
>>> graded = sum(1 for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
>>> graded == len(load_bank()) + 1  # every bank question + the variant
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograder.grading.cells import hidden_check, locked_code, markdown, notebook, solution, tests_cell
from course.errors import CourseError
from course.quiz.bank import NO_KEYS, Bank, Question, load_bank
from course.quiz.notebook import answer_variable
from course.quiz.variants import VARIANT_ID, backdoor_variant

if TYPE_CHECKING:
    import nbformat

__all__ = ["build_quiz_notebook", "typed_key", "ASSIGNMENT"]

ASSIGNMENT = "quiz7"

_HOWTO = """
# {title_ru}

*{title_en}*

Ответ на каждый вопрос — значение переменной в ячейке под вопросом
(*answer each question by setting the variable in the cell below it*):

* выбор: буквы вариантов строкой — `"В, Г"`, `"вг"`, `"{{В,Г}}"`; латинские/греческие двойники
  A, B, E, Γ, Δ тоже принимаются, регистр и порядок не важны (*option letters as a string; Latin/Greek
  look-alikes, any case, any order*);
* верно/неверно: `"верно"` / `"неверно"` (или `True` / `False`);
* число: `0.75`, `"0,75"`, `"3/4"` или `"2 1/4"`;
* в backdoor-вопросах можно писать и множество вершин в фигурных скобках: `"{{B, D}}"` — это вариант с этим
  множеством; буква без скобок — всегда буква варианта (*in the backdoor questions a vertex set in braces,
  `"{{B, D}}"`, means the option with that set; a bare letter is always an option letter*).

Как читаются ответы — `docs/answers.md` (*how answers are read*). Символ, который не является вариантом
(например, `"Б, В, 5"`), делает ответ нечитаемым — видимая проверка покажет это до сдачи
(*a token that is no option makes the answer unreadable; the visible check shows it before you submit*).

Видимая проверка под ответом говорит только, можно ли прочитать ответ; оценку ставят скрытые тесты
(*the visible check only says whether your answer can be read; hidden tests decide the grade*).
"""


def typed_key(q: Question) -> str:
    """The key written the way a student would type it (for the instructor's solution cells)."""
    key = q.correct
    if key is None:  # q.has_key is False
        raise CourseError(f"{NO_KEYS}: question {q.id!r} has no key to write into the solution cell")
    if q.kind == "truefalse":
        return repr("верно" if key else "неверно")
    if isinstance(key, frozenset):  # a choice question: its option letters
        return repr(", ".join(sorted(key, key=q.letters.index)))
    return repr(float(key))  # numeric


def _question_markdown(n: int, q: Question) -> str:
    lines = [f"## {n}. {q.text.ru}", "", f"*{q.text.en}*"]
    if q.dag:
        lines += ["", "DAG (DAGitty):", "", "```", q.dag, "```"]
    if q.options:
        lines += [""] + [
            f"* **{o.letter})** {o.text.ru}" + ("" if o.text.en == o.text.ru else f" / *{o.text.en}*")
            for o in q.options
        ]
    kind = {
        "truefalse": "верно / неверно",
        "single": "один вариант",
        "multiple": "один или несколько вариантов",
        "numeric": "число",
    }[q.kind]
    lines += ["", f"Ответ: {kind}; баллы: {q.points:g}."]
    return "\n".join(lines)


def build_quiz_notebook(bank: Bank | None = None) -> nbformat.NotebookNode:
    """The nbgrader source notebook of the quiz: instructions, then per question text, answer cell, test cell."""
    bank = load_bank(keys=True) if bank is None else bank.require_keys("writing the solution notebook of")
    cells = [
        markdown(_HOWTO.format(title_ru=bank.title.ru or bank.id, title_en=bank.title.en or bank.id), "howto"),
        locked_code(
            "setup",
            """
from course.quiz.variants import current_student_id
# Ваш логин (как в JupyterHub) — по нему выбирается ваш вариант последнего вопроса.
# Your login (as on JupyterHub): it selects your variant of the last question.
STUDENT_ID = current_student_id()
print("STUDENT_ID =", STUDENT_ID)
""",
        ),
    ]
    for n, q in enumerate(bank, 1):
        var = answer_variable(q.id)
        cells.append(markdown(_question_markdown(n, q), f"{q.id}_text"))
        if q.dag:
            cells.append(
                locked_code(f"{q.id}_graph", f"from course.quiz.notebook import draw_question\ndraw_question({q.id!r})")
            )
        cells.append(solution(f"{q.id}_answer", f"# {var} = ...", f"{var} = {typed_key(q)}"))
        cells.append(
            tests_cell(
                q.id,
                q.points,
                f"from course.quiz.notebook import check_readable\ncheck_readable({q.id!r}, {var})",
                hidden_check(ASSIGNMENT, q.id),
            )
        )
    var = answer_variable(VARIANT_ID)
    cells.append(
        markdown(
            f"## {len(bank) + 1}. Ваш вариант / your variant\n\n"
            "Вопрос ниже построен по вашему `STUDENT_ID` (у каждого свой граф). "
            "*The question below is built from your `STUDENT_ID`.*",
            f"{VARIANT_ID}_text",
        )
    )
    cells.append(
        locked_code(f"{VARIANT_ID}_show", "from course.quiz.notebook import show_variant\nshow_variant(STUDENT_ID)")
    )
    cells.append(
        solution(
            f"{VARIANT_ID}_answer",
            f"# {var} = ...",
            "from course.quiz.variants import backdoor_variant\n"
            f"{var} = ', '.join(sorted(backdoor_variant(STUDENT_ID).correct))",
        )
    )
    cells.append(
        tests_cell(
            VARIANT_ID,
            backdoor_variant("student").points,
            f"from course.quiz.notebook import check_readable\ncheck_readable({VARIANT_ID!r}, {var}, STUDENT_ID)",
            hidden_check(ASSIGNMENT, VARIANT_ID),
        )
    )
    return notebook(cells)
