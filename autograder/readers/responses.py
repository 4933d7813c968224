"""Which options each student chose, for the response analysis of :mod:`autograder.items`.

Answers come from a long CSV (``student_id, question, answer``), from
Moodle's quiz "Responses" download (recognised by its header,
:mod:`autograder.readers.moodle`) or from autograded notebooks laid out as
nbgrader does (``root/STUDENT/ASSIGNMENT/*.ipynb``).
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from course.errors import CourseError

from ..timestamps import TIME_UNIT, timestamp_column, timestamp_file
from .attempts import Responses
from .moodle import is_moodle_responses, read_moodle_responses
from .text import read_table

__all__ = ["normalise_choice", "read_responses_csv", "read_responses_notebooks"]


def normalise_choice(text) -> frozenset:
    """A typed answer → the set of option letters chosen (Cyrillic), or {"true"}/{"false"}.

    Reads answers with the quiz's own normaliser (:mod:`course.quiz.normalize`):
    look-alike Latin/Greek letters, any case, order and separators. A true/false
    word is tried first; an answer that is neither gives the empty set (no
    valid answer).

    >>> sorted(normalise_choice("{B, г}"))
    ['В', 'Г']
    >>> normalise_choice("Неверно"), normalise_choice("???")
    (frozenset({'false'}), frozenset())
    """
    from course.quiz.normalize import AnswerError, parse_letters, parse_truefalse

    if text is None:
        return frozenset()
    if isinstance(text, (bool, str)):
        try:
            return frozenset({"true" if parse_truefalse(text) else "false"})
        except AnswerError:
            pass
    try:
        return parse_letters(text, "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ")
    except AnswerError:
        return frozenset()


def read_responses_csv(path: str | os.PathLike, *, normalise: Callable = normalise_choice) -> Responses:
    """Answers in long form: columns ``student_id, question, answer`` and optional ``timestamp``.

    ``answer`` is what the student typed ("В, Г", "b", "неверно"); ``normalise``
    turns it into a set of option letters.
    """
    where = str(path)
    header, rows = read_table(path)
    if is_moodle_responses(header):
        return read_moodle_responses(header, rows, where=where)
    lower = [h.lower() for h in header]
    need = {
        "student_id": ("student_id", "student"),
        "question": ("question", "question_id"),
        "answer": ("answer", "response", "choice"),
    }
    col = {}
    for key, names in need.items():
        found = [lower.index(n) for n in names if n in lower]
        if not found:
            raise CourseError(f"{where}: missing column {key} (found: {', '.join(header)})")
        col[key] = found[0]
    line = list(range(2, len(rows) + 2))
    for i, r in enumerate(rows):
        if len(r) <= max(col.values()):
            raise CourseError(f"{where}: row {line[i]} has {len(r)} fields, the header has {len(header)}")
    ts = (
        timestamp_column(
            [r[lower.index("timestamp")] if len(r) > lower.index("timestamp") else "" for r in rows],
            where=where,
            rows=line,
        )
        if "timestamp" in lower
        else np.full(len(rows), np.datetime64("NaT"), dtype=TIME_UNIT)
    )
    return Responses(
        np.array([r[col["student_id"]].strip() for r in rows], dtype=object),
        np.array([r[col["question"]].strip() for r in rows], dtype=object),
        tuple(normalise(r[col["answer"]]) for r in rows),
        ts,
        raw=tuple(r[col["answer"]].strip() for r in rows),
    )


def _answer_from_source(source: str):
    """The answer a cell holds: the literal assigned in ``ANSWER = "В, Г"`` or else the cell's text."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in reversed(tree.body):
            value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Expr)) else None
            if value is not None:
                try:
                    return ast.literal_eval(value)
                except (ValueError, SyntaxError, TypeError):
                    continue
    lines = [ln for ln in source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return " ".join(lines)


def read_responses_notebooks(
    root: str | os.PathLike,
    assignment: str,
    *,
    questions: Iterable[str] | None = None,
    normalise: Callable = normalise_choice,
) -> Responses:
    """Answers read from autograded notebooks laid out as nbgrader does: ``root/STUDENT/ASSIGNMENT/*.ipynb``.

    A cell is an answer when its metadata names a question: ``xai_course.question``
    if present, else nbgrader's ``grade_id`` of a solution cell. The answer is
    the literal the cell assigns (``ANSWER = "В, Г"``) or the cell's text.
    With ``questions`` given, other cells are ignored.
    """
    root = Path(root)
    wanted = set(questions) if questions is not None else None
    notebooks = sorted(root.glob(f"*/{assignment}/*.ipynb"))
    if not notebooks:
        raise CourseError(
            f"{root}: no notebooks for assignment {assignment!r} (expected {root}/STUDENT/{assignment}/*.ipynb)"
        )
    student, question, choice, raw, stamps = [], [], [], [], []
    for nb_path in notebooks:
        try:
            nb = json.loads(nb_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CourseError(f"{nb_path}: not a readable notebook ({exc})") from None
        cells = nb.get("cells") if isinstance(nb, dict) else None
        if not isinstance(cells, list):
            raise CourseError(f"{nb_path}: not a notebook (no list of cells)")
        stamp = timestamp_file(nb_path.parent / "timestamp.txt")
        for cell in cells:
            # a student can edit metadata by hand: anything of the wrong type is "not an answer cell"
            meta = _dict(cell.get("metadata")) if isinstance(cell, dict) else {}
            qid = _dict(meta.get("xai_course")).get("question")
            nbg = _dict(meta.get("nbgrader"))
            if qid is None and nbg.get("solution"):
                qid = nbg.get("grade_id")
            if not isinstance(qid, str) or (wanted is not None and qid not in wanted):
                continue
            src = cell.get("source", "")
            src = "".join(s for s in src if isinstance(s, str)) if isinstance(src, list) else src
            if not isinstance(src, str):
                continue
            answer = _answer_from_source(src)
            student.append(nb_path.parent.parent.name)
            question.append(qid)
            choice.append(normalise(answer))
            raw.append("" if answer is None or answer is Ellipsis else str(answer))  # `ANSWER = ...`: none
            stamps.append(stamp)
    return Responses.from_rows(student, question, choice, stamps, raw)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}
