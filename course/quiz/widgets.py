"""Self-study quiz inside a lecture notebook (ipywidgets), scored by the same code as the graded quiz.

>>> from course.quiz.bank import example_bank
>>> quiz = QuizWidget([example_bank()["ex_tf"]])
>>> quiz.answer("ex_tf", True)
>>> [s.points for s in quiz.check()]
[1.0]

In a notebook: ``QuizWidget(topics=["L8"]).widget`` (or just ``quiz_widget(...)``)
shows the questions with radio buttons, check boxes or a text field and a
"Проверить / Check" button; the feedback under each question is
:func:`course.quiz.scoring.score_answer`'s -- it never reveals the key.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from course.errors import CourseError
from course.extras import require
from course.localized import Localized, check_lang
from course.quiz.bank import Bank, Question, load_bank
from course.quiz.scoring import Score, read_answer, score_answer

__all__ = ["QuizWidget", "quiz_widget"]

_TF = {"ru": (("верно", True), ("неверно", False)), "en": (("true", True), ("false", False))}
_CHECK = Localized("Проверить", "Check")
_TOTAL = Localized("Итого", "Total")


def _select(questions, topics, bank: Bank) -> list[Question]:
    if questions is None:
        chosen = list(bank)
    else:
        chosen = [bank[q] if isinstance(q, str) else q for q in questions]
    if topics is not None:
        topics = set(topics)
        chosen = [q for q in chosen if topics & set(q.topics)]
    if not chosen:
        raise CourseError("no question selected (check the ids or topics)")
    if not all(isinstance(q, Question) for q in chosen):
        raise CourseError("questions must be bank questions or their ids")
    return chosen


class QuizWidget:
    """A self-study quiz: one input per question, a check button, feedback per question and a total.

    Parameters
    ----------
    questions : iterable of Question or question ids, optional
        Default: the whole bank.
    topics : iterable of str, optional
        Keep only questions on these items of the course material ("L8", "T3", ...).
    lang : "ru" or "en"
    bank : Bank, optional
        Default: the course's bank.
    """

    def __init__(
        self,
        questions: Iterable | None = None,
        topics: Iterable[str] | None = None,
        lang: str = "ru",
        bank: Bank | None = None,
    ):
        self.lang = check_lang(lang)
        W = require("ipywidgets", "lab")
        self.questions = _select(questions, topics, bank or load_bank(keys=True))
        self.inputs: dict[str, object] = {}
        self.feedback: dict[str, object] = {}
        rows = []
        for n, q in enumerate(self.questions, 1):
            self.inputs[q.id] = self._input(q)
            self.feedback[q.id] = W.HTML("")
            text = html.escape(q.text(lang)).replace("\n", "<br>")
            box = self.inputs[q.id]
            box_widget = W.VBox(list(box.values())) if isinstance(box, dict) else box
            head = [W.HTML(f"<b>{n}.</b> {text}")]
            if q.dag:  # the graph drawn, then its DAGitty text (to paste into dagitty.net)
                from course.quiz.figures import question_image

                head += [
                    W.Image(value=question_image(q, "png"), format="png", width=360),
                    W.HTML(f"<pre>{html.escape(q.dag)}</pre>"),
                ]
            rows.append(W.VBox(head + [box_widget, self.feedback[q.id]]))
        self.button = W.Button(description=_CHECK(lang), button_style="primary")
        self.total = W.HTML("")
        self.button.on_click(lambda _: self.check())
        self.widget = W.VBox(rows + [self.button, self.total])

    def _input(self, q: Question):
        W = require("ipywidgets", "lab")
        if q.kind == "truefalse":
            return W.RadioButtons(options=_TF[self.lang], value=None)
        if q.kind == "single":
            return W.RadioButtons(
                options=[(f"{o.letter}) {o.text(self.lang)}", o.letter) for o in q.options], value=None
            )
        if q.kind == "multiple":
            return {
                o.letter: W.Checkbox(description=f"{o.letter}) {o.text(self.lang)}", value=False, indent=False)
                for o in q.options
            }
        return W.Text(placeholder="0,75")

    def answer(self, qid: str, value) -> None:
        """Set the answer of question ``qid`` as a student would (letters as text, a bool, a number)."""
        box = self.inputs.get(qid)
        if box is None:
            raise CourseError(f"this quiz has no question {qid!r}")
        q = next(q for q in self.questions if q.id == qid)
        if isinstance(box, dict):
            chosen = read_answer(q, value)
            for letter, cb in box.items():
                cb.value = letter in chosen
        elif isinstance(box, require("ipywidgets", "lab").Text):
            box.value = str(value)
        elif q.kind == "truefalse":
            box.value = read_answer(q, value)  # "верно", "false", True … (AnswerError when unreadable)
        else:
            (box.value,) = read_answer(q, value)  # the one letter of a single-choice answer, look-alikes folded

    def _value(self, q: Question):
        box = self.inputs[q.id]
        if isinstance(box, dict):
            return ",".join(letter for letter, cb in box.items() if cb.value)
        return box.value

    def check(self) -> list[Score]:
        """Score every answer with :func:`score_answer`, show the feedback and the total; return the scores."""
        scores = [score_answer(q, self._value(q), lang=self.lang) for q in self.questions]
        for s in scores:
            colour = "green" if s.correct else ("darkorange" if s.points > 0 else "firebrick")
            self.feedback[
                s.question_id
            ].value = f'<span style="color:{colour}">{s.points:g}/{s.max_points:g} — {html.escape(s.feedback)}</span>'
        got, most = sum(s.points for s in scores), sum(s.max_points for s in scores)
        self.total.value = f"<b>{_TOTAL(self.lang)}: {got:g} / {most:g} ({100 * got / most:.0f} %)</b>"
        return scores


def quiz_widget(questions: Iterable | None = None, topics: Iterable[str] | None = None, lang: str = "ru"):
    """The widget of :class:`QuizWidget` (to display it as the last expression of a cell)."""
    return QuizWidget(questions, topics, lang).widget
