"""Moodle's own quiz downloads, as Moodle writes them: the "Grades" and the "Responses" report.

Both reports are downloaded from *Quiz → Results* as CSV (UTF-8 with BOM,
comma), TSV or similar; :func:`autograder.readers.text.read_table` finds the
encoding and the separator. The column headers are Moodle's language strings
(mod/quiz/lang/en/quiz.php, quiz_overview, quiz_responses and the Russian
language pack), so both languages are recognised:

=========================  ==============================  =================================
column                     English                         Russian
=========================  ==============================  =================================
identity                   Surname, First name, ID number,  Фамилия, Имя, Индивидуальный
                           Username, Email address          номер, Логин, Адрес электронной
                                                            почты
attempt state              State: Finished / In progress    Состояние: Завершено / В процессе
start / end                Started on, Completed           Тест начат, Завершено
total (score and maximum)  Grade/10.00                     Оценка/10,00
one question               Q. 1 /2.00                      В. 1 /2,00
answer, key (Responses)    Response 1, Right answer 1      Ответ 1, Правильный ответ 1
last row                   Overall average                 Общее среднее
=========================  ==============================  =================================

"-" is a question not answered (no score), "Not yet graded"/"Requires
grading" a score still to come. Only finished attempts are graded; attempts
in progress, overdue or never submitted are left out and counted.

The student is the ID number when the site exports one, else the username,
else the email address, else "Surname First name".
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np

from course.errors import CourseError

from ..timestamps import parse_timestamp, to_datetime64
from .attempts import Attempts, Responses

__all__ = [
    "is_moodle_grades",
    "is_moodle_responses",
    "read_moodle_grades",
    "read_moodle_responses",
    "parse_moodle_date",
]

_SURNAME = ("surname", "last name", "фамилия")
_FIRST = ("first name", "имя")
#: identity columns, most specific first
_IDENTITY = (
    ("id number", "idnumber", "индивидуальный номер", "идентификационный номер"),
    ("username", "логин", "имя пользователя"),
    ("email address", "email", "адрес электронной почты", "электронная почта"),
)
#: Moodle 4 shortened some headers ("Status", "Started", "Duration"); both spellings are read
_STATE = ("state", "состояние", "status", "статус")
_STARTED = ("started on", "started", "тест начат", "начат", "начато")
_COMPLETED = ("completed", "completed on", "завершено", "завершен", "тест завершен")
_FINISHED = {"finished", "завершено", "завершен", "завершена", "завершенные", "завершённые", "завершено."}
_AVERAGE_ROW = re.compile(r"^(overall average|общее среднее|среднее)", re.IGNORECASE)
_NUMBER = r"\d+(?:[.,]\d+)?"
_GRADE = re.compile(rf"^(?:grade|оценка)\s*/\s*(?P<max>{_NUMBER})$", re.IGNORECASE)
_QUESTION = re.compile(rf"^(?P<name>(?:q|в)\.\s*(?P<slot>\d+))\s*/\s*(?P<max>{_NUMBER})$", re.IGNORECASE)
_RESPONSE = re.compile(r"^(?:response|ответ)\s*(?P<slot>\d+)$", re.IGNORECASE)
_RIGHT = re.compile(r"^(?:right answer|правильный ответ)\s*(?P<slot>\d+)$", re.IGNORECASE)
_NOT_ANSWERED = {"-", "", "–", "—"}
#: Moodle's true/false question answers, en and ru
_TRUE_FALSE = {"true", "false", "верно", "неверно", "истина", "ложь"}

_MONTHS = {
    name: k
    for k, names in enumerate(
        (
            ("january", "jan", "января", "январь", "янв"),
            ("february", "feb", "февраля", "февраль", "фев"),
            ("march", "mar", "марта", "март", "мар"),
            ("april", "apr", "апреля", "апрель", "апр"),
            ("may", "мая", "май"),
            ("june", "jun", "июня", "июнь", "июн"),
            ("july", "jul", "июля", "июль", "июл"),
            ("august", "aug", "августа", "август", "авг"),
            ("september", "sep", "sept", "сентября", "сентябрь", "сен"),
            ("october", "oct", "октября", "октябрь", "окт"),
            ("november", "nov", "ноября", "ноябрь", "ноя"),
            ("december", "dec", "декабря", "декабрь", "дек"),
        ),
        1,
    )
    for name in names
}
_DATE = re.compile(
    r"^(?:\w+,\s*)?(?P<d>\d{1,2})\s+(?P<mon>[^\W\d_]+)\.?\s+(?P<y>\d{4})(?:\s*г\.)?,?\s*"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?$"
)


def parse_moodle_date(text: str) -> datetime | None:
    """Moodle's displayed date ("14 March 2024, 10:15 AM", "14 марта 2024, 10:15"); "-" or empty → None.

    >>> parse_moodle_date("14 March 2024, 10:15 PM"), parse_moodle_date("5 марта 2024, 09:05")
    (datetime.datetime(2024, 3, 14, 22, 15), datetime.datetime(2024, 3, 5, 9, 5))
    """
    text = " ".join(text.split())
    if text in _NOT_ANSWERED:
        return None
    m = _DATE.match(text)
    month = _MONTHS.get(m.group("mon").lower()) if m else None
    if month is None:
        return parse_timestamp(text)  # ISO or dd.mm.yyyy, as some sites are configured
    hour = int(m.group("h"))
    if m.group("ampm"):
        hour = hour % 12 + (12 if m.group("ampm").lower() == "pm" else 0)
    return datetime(int(m.group("y")), month, int(m.group("d")), hour, int(m.group("mi")), int(m.group("s") or 0))


def _find(lower: list[str], names) -> int | None:
    return next((lower.index(n) for n in names if n in lower), None)


def _is_moodle(header: list[str]) -> bool:
    lower = [h.strip().lower() for h in header]
    return _find(lower, _SURNAME) is not None and _find(lower, _STATE) is not None


def is_moodle_grades(header: list[str]) -> bool:
    """A Moodle quiz "Grades" download: identity and state columns and a ``Grade/N`` column."""
    return _is_moodle(header) and any(_GRADE.match(h.strip()) for h in header)


def is_moodle_responses(header: list[str]) -> bool:
    """A Moodle quiz "Responses" download: identity and state columns and ``Response n`` columns."""
    return _is_moodle(header) and any(_RESPONSE.match(h.strip()) for h in header)


def _number(text: str) -> float:
    """'7.50', '7,50', '-' → NaN; 'Not yet graded' → NaN."""
    t = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return float("nan")


class _Rows:
    """The rows of a Moodle download that are finished attempts, with their identity and times."""

    def __init__(self, header: list[str], rows: list[list[str]], where: str):
        lower = [h.strip().lower() for h in header]
        self.header, self.where = [h.strip() for h in header], where
        width = len(header)
        surname, first, state = _find(lower, _SURNAME), _find(lower, _FIRST), _find(lower, _STATE)
        ident = [j for names in _IDENTITY if (j := _find(lower, names)) is not None]
        started, completed = _find(lower, _STARTED), _find(lower, _COMPLETED)
        self.rows, self.line, self.student, self.time = [], [], [], []
        self.skipped: dict[str, int] = {}
        for i, raw in enumerate(rows):
            r = raw + [""] * (width - len(raw))
            if _AVERAGE_ROW.match(r[surname].strip()) or (r[0].strip() and _AVERAGE_ROW.match(r[0].strip())):
                continue  # Moodle's "Overall average" row at the end
            st = r[state].strip()
            if st.lower() not in _FINISHED:
                self.skipped[st or "(no state)"] = self.skipped.get(st or "(no state)", 0) + 1
                continue
            who = next((r[j].strip() for j in ident if r[j].strip() not in _NOT_ANSWERED), "")
            if not who:
                who = " ".join(x for x in (r[surname].strip(), r[first].strip() if first is not None else "") if x)
            if not who:
                raise CourseError(
                    f"{where}: row {i + 2}: no surname, ID number, username or email to tell whose attempt it is"
                )
            when = None
            for j in (completed, started):
                if j is not None and r[j].strip() not in _NOT_ANSWERED:
                    try:
                        when = parse_moodle_date(r[j])
                    except ValueError as exc:
                        raise CourseError(f"{where}: row {i + 2}: column {self.header[j]!r}: {exc}") from None
                    break
            self.rows.append(r)
            self.line.append(i + 2)
            self.student.append(who)
            self.time.append(when)

    def skipped_text(self) -> str:
        return "; ".join(f"{n} {state!r} left out" for state, n in sorted(self.skipped.items()))


def read_moodle_grades(header: list[str], rows: list[list[str]], *, where: str, assignment: str | None = None):
    """Attempts from a Moodle "Grades" download (see the module docstring); the grade column gives score and max.

    Finished attempts whose grade is still missing ("Not yet graded") are left out too.
    """
    table = _Rows(header, rows, where)
    grade_col = next(j for j, h in enumerate(table.header) if _GRADE.match(h))
    max_score = _number(_GRADE.match(table.header[grade_col]).group("max"))
    qcols = [(j, _QUESTION.match(h)) for j, h in enumerate(table.header) if _QUESTION.match(h)]
    keep = [k for k, r in enumerate(table.rows) if np.isfinite(_number(r[grade_col]))]
    ungraded = len(table.rows) - len(keep)
    if not keep:
        raise CourseError(
            f"{where}: no finished, graded attempts in this Moodle grades download"
            + (f" ({table.skipped_text()})" if table.skipped else "")
        )
    rows = [table.rows[k] for k in keep]
    questions = [" ".join(m.group("name").split()) for _, m in qcols]
    item_max = [_number(m.group("max")) for _, m in qcols]
    item_scores = [[_number(r[j]) for j, _ in qcols] for r in rows]
    notes = [table.skipped_text()] if table.skipped else []
    if ungraded:
        notes.append(f"{ungraded} not yet graded left out")
    source = f"Moodle grades {Path(where).name}" + (f" ({'; '.join(notes)})" if notes else "")
    return Attempts.from_rows(
        [table.student[k] for k in keep],
        [table.time[k] for k in keep],
        [_number(r[grade_col]) for r in rows],
        max_score,
        questions=questions,
        item_scores=np.array(item_scores, dtype=np.float64).reshape(len(rows), len(qcols)),
        item_max=item_max,
        assignment=assignment,
        source=source,
        where=where,
    )


def read_moodle_responses(header: list[str], rows: list[list[str]], *, where: str, normalise=None):
    """Answers from a Moodle "Responses" download: one row per (attempt, question) with a response.

    A multiple-answer response lists the chosen options separated by "; ", as
    Moodle writes it; the question id is ``Q. n`` or ``В. n`` (as in the grades download)
    and ``Right answer n`` gives the correct set when the bank does not.
    """
    table = _Rows(header, rows, where)
    slots = {int(m.group("slot")): j for j, h in enumerate(table.header) if (m := _RESPONSE.match(h))}
    # the same question ids as the grades download of the same language: "Q. 1" or "В. 1"
    prefix = "В." if any(h.lower().startswith("ответ") for h in table.header) else "Q."
    right = {int(m.group("slot")): j for j, h in enumerate(table.header) if (m := _RIGHT.match(h))}
    student, question, choice, raw, stamps = [], [], [], [], []
    answers: dict[str, frozenset] = {}
    for k, r in enumerate(table.rows):
        for slot, j in sorted(slots.items()):
            text = r[j].strip()
            qid = f"{prefix} {slot}"
            if slot in right and r[right[slot]].strip() not in _NOT_ANSWERED:
                answers.setdefault(qid, _options(r[right[slot]]))
            student.append(table.student[k])
            question.append(qid)
            raw.append("" if text in _NOT_ANSWERED else text)
            choice.append(
                frozenset() if text in _NOT_ANSWERED else (normalise(text) if normalise is not None else _options(text))
            )
            stamps.append(to_datetime64(table.time[k]))
    if not student:
        raise CourseError(
            f"{where}: no finished attempts with responses in this Moodle download"
            + (f" ({table.skipped_text()})" if table.skipped else "")
        )
    return Responses.from_rows(student, question, choice, stamps, raw, right=answers)


def _options(text: str) -> frozenset:
    """Moodle's summary of a response: the chosen options' texts separated by "; "; True/False → "true"/"false".

    >>> sorted(_options("{B}; {A, C}")), _options("Неверно"), _options("True")
    (['{A, C}', '{B}'], frozenset({'false'}), frozenset({'true'}))
    """
    from course.quiz.normalize import AnswerError, parse_truefalse

    text = text.strip()
    if text.lower() in _TRUE_FALSE:
        try:
            return frozenset({"true" if parse_truefalse(text) else "false"})
        except AnswerError:
            pass
    return frozenset(p.strip() for p in text.split("; ") if p.strip())
