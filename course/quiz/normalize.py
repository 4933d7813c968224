"""Answers as students type them: option letters, true/false and numbers.

The quiz letters its options with the Cyrillic letters А Б В Г Д Е Ж. Students
answer from whatever keyboard layout is active, so the same answer arrives as
"В, Г", "гв", "{В,Г}", "B; Γ" or "b г". This module turns such text into a
canonical value, or raises :class:`AnswerError` saying why it cannot.

Policy (decided here, relied on by the scorer, the exporter and the tests)
---------------------------------------------------------------------------
* Case does not matter: text is upper-cased first (``str.upper``).
* **Look-alikes are accepted, transliterations are not.** After upper-casing,
  the Latin letters A, B, E and the Greek letters Α, Β, Γ, Δ, Ε are read as the
  Cyrillic А, В, Е, Г, Д they look like (so "b" means "B" means "В").
  Transliterations (b→Б, v→В, g→Г, d→Д, zh→Ж) are refused: the Latin "B" is a
  look-alike of "В" but would transliterate to "Б", so accepting both readings
  would make "b" ambiguous. A letter that is neither an option nor a
  look-alike of one ("g", "Z", "И" on a four-option question) makes the whole
  answer invalid and the message names it.
* Every character that is not a letter is a separator (commas, spaces,
  braces, brackets, ")", ";", "+"); the words "и" / "and" between letters are
  separators too. A run of letters such as "ГВ" is read letter by letter.
* Order and repetition do not matter: the result is a ``frozenset``.

>>> sorted(parse_letters("{b, Γ}", "АБВГ"))
['В', 'Г']
>>> parse_truefalse("Неверно")
False
>>> parse_number("0,75")
0.75
"""
from __future__ import annotations

import math
import re
import unicodedata
from fractions import Fraction
from typing import Iterable

from course.errors import CourseError

__all__ = [
    "LETTERS",
    "LOOKALIKES",
    "AnswerError",
    "parse_letters",
    "parse_truefalse",
    "parse_number",
    "canonical_letter",
]

#: Option letters in order, as the course material letters them.
LETTERS = "АБВГДЕЖ"

#: Upper-case look-alikes of the option letters (Latin and Greek) → Cyrillic.
LOOKALIKES = {
    "A": "А", "B": "В", "E": "Е",              # Latin
    "Α": "А", "Β": "В", "Γ": "Г", "Δ": "Д", "Ε": "Е",  # Greek
}

_SEPARATOR_WORDS = {"И", "AND"}

_TRUE = {"TRUE", "T", "YES", "Y", "1", "ВЕРНО", "ПРАВДА", "ДА", "ИСТИНА", "ИСТИННО", "+"}
_FALSE = {"FALSE", "F", "NO", "N", "0", "НЕВЕРНО", "ЛОЖЬ", "НЕТ", "НЕПРАВДА", "ЛОЖНО", "-"}


class AnswerError(CourseError):
    """An answer that cannot be read; carries the reason in Russian and English.

    ``str(exc)`` is the English message; :meth:`text` picks a language.
    """

    def __init__(self, en: str, ru: str):
        super().__init__(en)
        self.en = en
        self.ru = ru

    def text(self, lang: str = "ru") -> str:
        """The message in ``lang`` ("ru" or "en")."""
        return self.ru if lang == "ru" else self.en


def canonical_letter(char: str) -> str:
    """Map one typed character to its upper-case Cyrillic reading (look-alikes folded).

    >>> canonical_letter("b"), canonical_letter("γ"), canonical_letter("ж")
    ('В', 'Г', 'Ж')
    """
    up = char.upper()
    return LOOKALIKES.get(up, up)


def _as_text(answer: object) -> str:
    if answer is None:
        raise AnswerError("no answer given", "ответ не дан")
    if isinstance(answer, str):
        return answer
    if isinstance(answer, Iterable):
        parts = list(answer)
        if all(isinstance(p, str) for p in parts):
            return ",".join(parts)
    raise AnswerError(
        f"expected option letters as text (e.g. \"В, Г\"), got {type(answer).__name__}",
        f"ожидаются буквы вариантов текстом (например, \"В, Г\"), получено {type(answer).__name__}",
    )


def parse_letters(answer: object, options: str = LETTERS) -> frozenset[str]:
    """Read the option letters of a choice answer.

    Parameters
    ----------
    answer : str or iterable of str
        What the student typed: "В, Г", "гв", "{В,Г}", ["B", "Γ"].
    options : str
        The letters of the question's options, e.g. "АБВГДЕ".

    Returns
    -------
    frozenset of str
        Cyrillic upper-case letters, each one of ``options``.

    Raises
    ------
    AnswerError
        Empty answer, or a letter that is not an option (the message names it
        and lists the options).

    Examples
    --------
    >>> sorted(parse_letters("гв", "АБВГ"))
    ['В', 'Г']
    """
    text = unicodedata.normalize("NFC", _as_text(answer))
    runs = re.findall(r"[^\W\d_]+", text)
    letters: list[str] = []
    for run in runs:
        if run.upper() in _SEPARATOR_WORDS:
            continue
        letters.extend(run)
    if not letters:
        raise AnswerError(
            f"no option letter found in {text!r}; answer with the letters {_listing(options)}",
            f"в ответе {text!r} нет ни одной буквы варианта; отвечайте буквами {_listing(options)}",
        )
    chosen = set()
    for typed in letters:
        letter = canonical_letter(typed)
        if letter not in options:
            raise AnswerError(
                f"{typed!r} is not an option: the options are {_listing(options)} "
                "(Cyrillic letters; the Latin/Greek look-alikes A, B, E, Γ, Δ also count)",
                f"{typed!r} — не вариант ответа: варианты {_listing(options)} "
                "(кириллица; похожие латинские/греческие A, B, E, Γ, Δ тоже принимаются)",
            )
        chosen.add(letter)
    return frozenset(chosen)


def _listing(options: str) -> str:
    return ", ".join(options)


def parse_truefalse(answer: object) -> bool:
    """Read a true/false answer: a bool, or words like "верно", "нет", "False", "1".

    >>> parse_truefalse("  ДА! "), parse_truefalse("f"), parse_truefalse(True)
    (True, False, True)
    """
    if isinstance(answer, bool):
        return answer
    if answer is None:
        raise AnswerError("no answer given", "ответ не дан")
    if isinstance(answer, int) and answer in (0, 1):
        return bool(answer)
    if not isinstance(answer, str):
        raise AnswerError(
            f"expected true/false, got {type(answer).__name__}",
            f"ожидается «верно» или «неверно», получено {type(answer).__name__}",
        )
    word = answer.strip().strip(".!,;:()[]{}\"'«» ").upper().replace("Ё", "Е")
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise AnswerError(
        f"{answer!r} is neither true nor false: answer «верно»/«неверно» (or True/False)",
        f"{answer!r} — ни «верно», ни «неверно»: ответьте «верно» или «неверно» (или True/False)",
    )


def parse_number(answer: object) -> float:
    """Read a numeric answer: "0,75", "−0.5", "3/4", "1e-3", or a number.

    A decimal comma is accepted and spaces are ignored; a comma together with a
    point ("1,000.5") is refused as ambiguous.

    >>> parse_number("3/4"), parse_number("−0,5"), parse_number(2)
    (0.75, -0.5, 2.0)
    """
    if isinstance(answer, bool) or answer is None:
        raise AnswerError("expected a number", "ожидается число")
    if isinstance(answer, (int, float)):
        value = float(answer)
    elif isinstance(answer, str):
        text = answer.strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            value = float(Fraction(text))
        except OverflowError:  # "1e999": a number, but not a finite one
            value = float("inf")
        except (ValueError, ZeroDivisionError):
            raise AnswerError(
                f"{answer!r} is not a number (write e.g. 0.75, 0,75 or 3/4)",
                f"{answer!r} — не число (пишите, например, 0.75, 0,75 или 3/4)",
            ) from None
    else:
        try:
            value = float(answer)  # numpy scalars
        except (TypeError, ValueError):
            raise AnswerError(
                f"expected a number, got {type(answer).__name__}",
                f"ожидается число, получено {type(answer).__name__}",
            ) from None
    if not math.isfinite(value):
        raise AnswerError(f"{answer!r} is not a finite number", f"{answer!r} — не конечное число")
    return value
