"""The question bank a report reads (``--questions``): texts, options and correct answers per question."""
from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

from course.errors import CourseError

__all__ = ["load_bank"]


def load_bank(path: str | os.PathLike) -> dict:
    """Question metadata for the report: ``question_id → dict``.

    A TOML file goes through the course's quiz-bank loader
    (``course.quiz.bank.load_bank``, which validates it); a JSON file holds
    either a list ``{"questions": [{id, text_ru, text_en, options, correct,
    explanation}, …]}`` or an object keyed by question id.
    """
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"{path}: no such question bank file")
    try:
        from course.quiz.bank import load_bank as loader
    except ImportError:
        loader = None
    if loader is not None and path.suffix == ".toml":
        data = loader(path, keys=True)  # validated with its keys by the quiz package; raises CourseError itself
    else:
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (ValueError, OSError) as exc:
            raise CourseError(f"{path}: cannot read the question bank ({exc})") from None
    for key in ("questions", "question"):
        if isinstance(data, Mapping) and key in data:
            data = data[key]
    if isinstance(data, Mapping):
        return dict(data)
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise CourseError(f"{path}: expected a list of questions or an object keyed by question id, "
                          f"got {type(data).__name__}")
    bank = {}
    for q in data:
        qid = q.get("id") if isinstance(q, Mapping) else getattr(q, "id", None)
        if qid is None:
            raise CourseError(f"{path}: a question has no id")
        bank[str(qid)] = q
    return bank
