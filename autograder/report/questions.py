"""The question bank a report is given (``--questions``), as the quiz's one question model.

A TOML file is a quiz bank and goes through ``course.quiz.bank.load_bank``
(validated, with its answer keys). A JSON file is the report's lighter format —
``{"questions": [{id, kind, text_ru, text_en, options, correct, explanation, …}]}``
or an object keyed by question id, every field optional — and
:func:`questions_from_data` turns each entry into the same
``course.quiz.bank.Question``. The report then shows each question through
:class:`autograder.items.ItemQuestion`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from course.errors import CourseError
from course.localized import Localized
from course.quiz.bank import Option, Question
from course.quiz.bank import load_bank as load_quiz_bank
from course.quiz.normalize import LETTERS  # the quiz's option letters, given to a plain list of option texts

__all__ = ["load_bank", "questions_from_data"]

_TRUE_FALSE = {"true": True, "false": False, "верно": True, "неверно": False}


def load_bank(path: str | os.PathLike) -> dict[str, Question]:
    """question id -> ``course.quiz.bank.Question`` of a TOML quiz bank or a JSON bank file (see the module).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bank.json"
    >>> _ = p.write_text('{"q1": {"options": {"А": "да", "Б": "нет"}, "correct": ["А"]}}', encoding="utf-8")
    >>> q = load_bank(p)["q1"]
    >>> q.kind, sorted(q.correct), [o.text.ru for o in q.options]
    ('single', ['А'], ['да', 'нет'])
    """
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"{path}: no such question bank file")
    if path.suffix != ".json":  # a quiz bank: validated with its keys by the quiz package (raises CourseError)
        return {q.id: q for q in load_quiz_bank(path, keys=True)}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise CourseError(f"{path}: cannot read the question bank ({exc})") from None
    return questions_from_data(data, where=str(path))


def questions_from_data(data, *, where: str = "question bank") -> dict[str, Question]:
    """A JSON bank's data (a list of questions or an object keyed by id) -> question id -> ``Question``."""
    for key in ("questions", "question"):
        if isinstance(data, Mapping) and key in data:
            data = data[key]
    if isinstance(data, Mapping):
        entries = [(str(qid), entry) for qid, entry in data.items()]
    elif isinstance(data, list):
        entries = []
        for entry in data:
            qid = entry.get("id") if isinstance(entry, Mapping) else None
            if qid is None:
                raise CourseError(f"{where}: a question has no id")
            entries.append((str(qid), entry))
    else:
        raise CourseError(
            f"{where}: expected a list of questions or an object keyed by question id, got {type(data).__name__}"
        )
    return {qid: _question(qid, entry, f"{where}: question {qid!r}") for qid, entry in entries}


def _question(qid: str, entry, where: str) -> Question:
    if not isinstance(entry, Mapping):
        raise CourseError(f"{where}: expected an object of fields, got {type(entry).__name__}")
    options = _options(entry.get("options") or [], where)
    correct = _correct(entry.get("correct"), where)
    kind = entry.get("kind") or (
        "truefalse"
        if isinstance(correct, bool)
        else "numeric"
        if isinstance(correct, float)
        else "multiple"
        if correct is not None and len(correct) > 1
        else "single"
    )
    try:
        tolerance = float(entry.get("tolerance") or 0.0)
    except (TypeError, ValueError):
        raise CourseError(f"{where}: tolerance must be a number, not {entry.get('tolerance')!r}") from None
    texts = {k: entry.get(k) or "" for k in ("text_ru", "text_en", "explanation", "mistake_ru", "mistake_en")}
    for k, v in texts.items():
        if not isinstance(v, str):
            raise CourseError(f"{where}: {k} must be text, not {type(v).__name__}")
    return Question(
        id=qid,
        kind=str(kind),
        text=Localized(texts["text_ru"], texts["text_en"]),
        correct=correct,
        options=options,
        tolerance=tolerance,
        mistake=Localized(texts["explanation"] or texts["mistake_ru"], texts["mistake_en"]),
        dag=entry.get("dag"),
        exposure=entry.get("exposure"),
        outcome=entry.get("outcome"),
    )


def _options(raw, where: str) -> tuple[Option, ...]:
    """Options as a mapping letter -> text, a list of texts, of [letter, text] pairs or of {letter, ru, en, nodes}."""
    if isinstance(raw, Mapping):
        return tuple(Option(str(k), Localized.same(str(v))) for k, v in raw.items())
    if not isinstance(raw, (list, tuple)):
        raise CourseError(f"{where}: options must be a list or an object letter -> text, not {type(raw).__name__}")
    out = []
    for i, o in enumerate(raw):
        if isinstance(o, Mapping) and "letter" in o:
            ru = str(o.get("ru", o.get("text", "")))
            nodes = o.get("nodes")
            out.append(
                Option(
                    str(o["letter"]),
                    Localized(ru, str(o.get("en", ru))),
                    frozenset(map(str, nodes)) if nodes is not None else None,
                )
            )
        elif isinstance(o, (list, tuple)) and len(o) == 2:
            out.append(Option(str(o[0]), Localized.same(str(o[1]))))
        elif isinstance(o, str) and i < len(LETTERS):
            out.append(Option(LETTERS[i], Localized.same(o)))
        else:
            raise CourseError(
                f"{where}: option {i + 1} is neither a text (at most {len(LETTERS)}), a [letter, "
                "text] pair nor an object with a letter"
            )
    return tuple(out)


def _correct(raw, where: str):
    """The key as the quiz model holds it: a bool, a float or a frozenset of letters (None: not given)."""
    if raw is None:
        return None
    if isinstance(raw, (bool, int, float, str)):
        raw = [raw]
    if not isinstance(raw, list):
        raise CourseError(f"{where}: correct must be letters, true/false or a number, not {type(raw).__name__}")
    if len(raw) == 1 and isinstance(raw[0], bool):
        return raw[0]
    if len(raw) == 1 and isinstance(raw[0], (int, float)):
        return float(raw[0])
    if len(raw) == 1 and str(raw[0]).strip().lower() in _TRUE_FALSE:
        return _TRUE_FALSE[str(raw[0]).strip().lower()]
    if not all(isinstance(c, str) for c in raw):
        raise CourseError(f"{where}: correct must be option letters, true/false or one number: {raw!r}")
    return frozenset(c.strip() for c in raw)
