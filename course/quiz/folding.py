"""Steps 0–2 of reading an answer, shared by every kind: the length limit, Unicode, look-alike folding.

What the student sees on the screen is what is read: NFKC (vulgar fractions spaced out first), invisible
format characters (Unicode category Cf) deleted, upper case, Ё → Е, every dash → "-", fraction slashes →
"/", white space collapsed. :class:`AnswerError` is the one error of the answer reader, in Russian and
English. The per-kind steps are :mod:`course.quiz.normalize` (option letters, true/false) and
:mod:`course.quiz.numeric` (the number grammar); the pipeline as a whole is described there.

>>> fold("  в,\\u200bг ")
'В,Г'
"""

from __future__ import annotations

import re
import unicodedata

from course.errors import CourseError
from course.localized import Localized

__all__ = ["MAX_ANSWER_CHARS", "AnswerError", "fold", "check_length", "drop_label"]

#: Longest answer read at all (characters, before normalisation); longer text is refused unread.
MAX_ANSWER_CHARS = 1000

# Invisible format characters (Unicode category Cf); tests check the list against unicodedata.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d\u058a\u05be\u1806\u2e17\u301c\u30a0"
_SLASHES = "\u2044\u2215\u29f8"
#: one translation table for step 1's deletion and step 2's dash and slash folding
_FOLD_TABLE = {chr(c): "" for a, b in _INVISIBLE_RANGES for c in range(a, b + 1)}
_FOLD_TABLE.update({c: "-" for c in _DASHES})
_FOLD_TABLE.update({c: "/" for c in _SLASHES})
_FOLD_TABLE["Ё"] = "Е"
_FOLD_RE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in _INVISIBLE_RANGES) + _DASHES + _SLASHES + "Ё]")
# Vulgar fractions (½, ⅓, ...) become " 1/2 " before NFKC, so "2½" is 2 1/2 and not 21/2.
_VULGAR = re.compile("[\u00bc-\u00be\u2150-\u215f\u2189]")


class AnswerError(CourseError):
    """An answer that cannot be read; carries the reason in Russian and English.

    ``str(exc)`` is the English message; ``message`` holds both, and :meth:`text` picks a language.
    """

    def __init__(self, en: str, ru: str):
        super().__init__(en)
        self.message = Localized(ru, en)

    def text(self, lang: str = "ru") -> str:
        """The message in ``lang`` ("ru" or "en")."""
        return self.message(lang)

    def __reduce__(self):
        return type(self), (self.message.en, self.message.ru)  # both languages survive pickling (process pools)


def _vulgar(match: re.Match) -> str:
    return " " + unicodedata.normalize("NFKC", match.group()).replace("\u2044", "/") + " "


def fold(text: str) -> str:
    """Steps 1 and 2 of the pipeline, shared by every kind of answer (no per-kind letter folding).

    Unicode NFKC (vulgar fractions spaced out first), invisible characters
    deleted, upper case, Ё → Е, dashes → "-", fraction slashes → "/", white
    space collapsed to single spaces and stripped.

    >>> fold(" Ｆａｌｓｅ "), fold("не\\u200bверно"), fold("–1½")
    ('FALSE', 'НЕВЕРНО', '-1 1/2')
    """
    if _VULGAR.search(text):
        text = _VULGAR.sub(_vulgar, text)
    text = unicodedata.normalize("NFKC", text).upper()
    for char in set(_FOLD_RE.findall(text)):  # str.replace per character present: faster than translate
        text = text.replace(char, _FOLD_TABLE[char])
    return " ".join(text.split())


#: Step 2b: a label before the answer ("Ответ: Б", "мой ответ — неверно", "Answer = 0.8", "вариант Б").
#: Each label word holds a letter that is neither an option letter nor a look-alike of one (О, Т, Р, N, S,
#: C ...), so an answer that was readable without the rule reads the same with it. After the word: a colon
#: or "=", a dash between spaces ("Ответ — 0,8": the dash is typography, not a sign) or a space.
_LABEL = re.compile(
    r"^(?:(?:МОЙ|МОИ|ПРАВИЛЬНЫЙ|ПРАВИЛЬНЫЕ|ИТОГОВЫЙ|ОКОНЧАТЕЛЬНЫЙ|MY|FINAL|CORRECT) )?"
    r"(?:ОТВЕТЫ?|ВАРИАНТЫ?( ОТВЕТА)?|ANSWERS?|OPTIONS?|CHOICES?)"
    r"(?: ?[:=] ?|(?P<dash> - )| )(?=\S)"
)


def drop_label(folded: str, *, number: bool = False, raw: str | None = None) -> str:
    """A folded answer without a leading label such as "ОТВЕТ:" (step 2b); unchanged when it has none.

    Before a number, a hyphen or minus sign between spaces could be a dash or a
    minus ("Ответ - 1"): unless a sign follows it ("Ответ - -1"), that answer
    is refused as ambiguous rather than guessed (the message quotes ``raw``, the
    answer as typed). An em or en dash between spaces in ``raw`` ("Ответ — 0,8")
    is typography and is dropped with the label.

    >>> drop_label("ОТВЕТ: Б"), drop_label("МОЙ ОТВЕТ - НЕВЕРНО"), drop_label("ОТВЕТ -0,5"), drop_label("ОТВЕТ")
    ('Б', 'НЕВЕРНО', '-0,5', 'ОТВЕТ')
    """
    m = _LABEL.match(folded)
    if not m:
        return folded
    rest = folded[m.end() :]
    typographic = raw is not None and re.search(r"\s[\u2013\u2014]\s", raw) is not None  # "Ответ — 0,8"
    if number and m.group("dash") and not typographic and not rest.startswith(("-", "+")):
        shown = raw if raw is not None else folded
        raise AnswerError(
            f"{shown!r:.60}: is the dash a minus sign? write the number alone, e.g. -1 or 1",
            f"{shown!r:.60}: тире — это минус? напишите одно число, например -1 или 1",
        )
    return rest


def check_length(text: str) -> str:
    """``text`` unchanged, or :class:`AnswerError` if it is longer than :data:`MAX_ANSWER_CHARS` (step 0)."""
    if len(text) > MAX_ANSWER_CHARS:
        raise AnswerError(
            f"the answer is too long ({len(text)} characters; at most {MAX_ANSWER_CHARS} are read)",
            f"ответ слишком длинный ({len(text)} символов; читается не более {MAX_ANSWER_CHARS})",
        )
    return text
