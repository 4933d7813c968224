"""Answers as students type them: option letters, true/false and numbers.

The quiz letters its options with the Cyrillic letters А Б В Г Д Е Ж. Students
answer from whatever keyboard layout, input method or copy-paste source is at
hand, so the same answer arrives as "В, Г", "гв", "{В,Г}", "B; Γ", "Ｂ, Г" or
"b г". This module turns such text into a canonical value, or raises
:class:`AnswerError` saying why it cannot. ``docs/answers.md`` is the
instructor's table of how answers are read, with examples; the tests
(``tests/test_quiz_spellings.py``) hold every row of it.

The pipeline (one for every kind of answer)
-------------------------------------------
0. **Length limit.** Text longer than :data:`MAX_ANSWER_CHARS` characters is
   refused at once ("too long"), before any other work.
1. **Unicode.** Vulgar fractions are spaced out ("2½" → "2 1/2"), then NFKC
   (full-width "Ｂ" → "B", "０，５" → "0,5", no-break and thin spaces → " ",
   ligatures and super-/subscripts → plain characters); then every invisible
   format character (Unicode category Cf: zero-width space, zero-width
   joiners, soft hyphen, byte-order mark, direction marks) is deleted —
   what the student sees on the screen is what is read.
2. **Look-alike folding** (:func:`fold`): upper case; Ё → Е; every dash
   (hyphen, en dash, em dash, minus sign, ...) → "-"; fraction and division
   slashes → "/"; runs of white space → one space. Then per kind: in option
   letters the Latin A, B, E and Greek Α, Β, Γ, Δ, Ε are the Cyrillic А, В,
   Е, Г, Д they look like (:data:`LOOKALIKES`); in a Russian word, Latin
   look-alikes of Cyrillic letters are Cyrillic ("нeт" with a Latin e is
   "нет"); in a number, a Cyrillic Е is the exponent's E.
3. **Separators.** Option letters: white space, punctuation (Unicode
   category P: commas, braces, brackets, ")", ";", "/", "-") and "+", "|"
   separate; so do the words "и" / "and". What remains are tokens; a run of
   letters ("ГВ") is read letter by letter. Any other token — a digit, a
   symbol, a letter that is no option — makes the answer unreadable and the
   message names it (it never silently vanishes). Numbers have a grammar
   (:func:`parse_number`), true/false a vocabulary (:func:`parse_truefalse`).

Backdoor questions (options that stand for vertex sets, ``vertex_sets``): a
set in braces whose members are all vertex names, ``{B}`` or ``{A, C}``, is a
set of vertices (Latin letters; case is ignored), read as the option whose set
it is, and the reading is reported in the feedback; a bare letter is always
an option letter (Latin "B" is the option В).

>>> sorted(parse_letters("{b, Γ}", "АБВГ"))
['В', 'Г']
>>> parse_truefalse("не верно")
False
>>> parse_number("2 1/4"), parse_number("–0,5"), parse_number("2,25.")
(2.25, -0.5, 2.25)
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from fractions import Fraction
from itertools import islice

from course.errors import CourseError

__all__ = [
    "LETTERS",
    "LOOKALIKES",
    "MAX_ANSWER_CHARS",
    "MAX_NUMBER_CHARS",
    "MAX_EXPONENT",
    "REL_SLACK",
    "AnswerError",
    "fold",
    "read_letters",
    "parse_letters",
    "parse_truefalse",
    "parse_number",
    "within_tolerance",
    "canonical_letter",
]

#: Option letters in order, as the course material letters them.
LETTERS = "АБВГДЕЖ"

#: Upper-case look-alikes of the option letters (Latin and Greek) → Cyrillic.
LOOKALIKES = {
    "A": "А", "B": "В", "E": "Е",              # Latin
    "Α": "А", "Β": "В", "Γ": "Г", "Δ": "Д", "Ε": "Е",  # Greek
}

#: Upper-case Latin letters that look like Cyrillic ones, for words in Russian ("нeт" typed with a Latin e).
_WORD_LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")

#: Longest answer read at all (characters, before normalisation); longer text is refused unread.
MAX_ANSWER_CHARS = 1000
#: Longest numeric answer (characters, after normalisation).
MAX_NUMBER_CHARS = 100
#: Largest decimal exponent a number may carry ("1e1000"); beyond it the answer is refused, not computed.
MAX_EXPONENT = 1000
#: Relative slack of tolerance comparisons (see :func:`within_tolerance`).
REL_SLACK = 1e-9

_SEPARATOR_WORDS = {"И", "AND"}

_TRUE = {"TRUE", "T", "YES", "Y", "1", "+", "ВЕРНО", "ПРАВДА", "ДА", "ИСТИНА", "ИСТИННО", "ПРАВИЛЬНО"}
_FALSE = {"FALSE", "F", "NO", "N", "0", "-", "НЕВЕРНО", "ЛОЖЬ", "НЕТ", "НЕПРАВДА", "ЛОЖНО", "НЕПРАВИЛЬНО"}
#: "не верно", "не правильно", "not true": a negation word, a space, then a word for "true"
_NEGATIONS = ("НЕ ", "NOT ")

# Invisible format characters (Unicode category Cf); tests check the list against unicodedata.
_INVISIBLE_RANGES = ((0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
                     (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
                     (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
                     (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
                     (0xE0001, 0xE0001), (0xE0020, 0xE007F))
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
# letter tokens: runs of letters, runs of digits, or one other non-space character
_TOKENS = re.compile(r"[^\W\d_]+|\d+|\S")
_BRACES = re.compile(r"\{([^{}]*)\}")


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
    for char in set(_FOLD_RE.findall(text)):           # str.replace per character present: faster than translate
        text = text.replace(char, _FOLD_TABLE[char])
    return " ".join(text.split())


def _check_length(text: str) -> str:
    if len(text) > MAX_ANSWER_CHARS:
        raise AnswerError(
            f"the answer is too long ({len(text)} characters; at most {MAX_ANSWER_CHARS} are read)",
            f"ответ слишком длинный ({len(text)} символов; читается не более {MAX_ANSWER_CHARS})",
        )
    return text


def _as_text(answer: object) -> str:
    if answer is None:
        raise AnswerError("no answer given", "ответ не дан")
    if isinstance(answer, str):
        return _check_length(answer)
    if isinstance(answer, Iterable) and not isinstance(answer, (bytes, Mapping)):
        parts = list(islice(answer, MAX_ANSWER_CHARS + 1))
        if all(isinstance(p, str) for p in parts):
            return _check_length(",".join(parts))
    raise AnswerError(
        f"expected option letters as text (e.g. \"В, Г\"), got {type(answer).__name__}",
        f"ожидаются буквы вариантов текстом (например, \"В, Г\"), получено {type(answer).__name__}",
    )


def _listing(options: str) -> str:
    return ", ".join(options)


def _is_separator(char: str) -> bool:
    return char in "+|" or unicodedata.category(char).startswith("P")


def _not_an_option(typed: str, options: str) -> AnswerError:
    return AnswerError(
        f"{typed!r} is not an option: the options are {_listing(options)} "
        "(Cyrillic letters; the Latin/Greek look-alikes A, B, E, Γ, Δ also count)",
        f"{typed!r} — не вариант ответа: варианты {_listing(options)} "
        "(кириллица; похожие латинские/греческие A, B, E, Γ, Δ тоже принимаются)",
    )


def _format_set(nodes) -> str:
    return "{" + ", ".join(sorted(nodes)) + "}"


def _vertex_set(inside: str, names: Mapping[str, str]):
    """The vertex set written between braces, or None when some member is not a vertex name."""
    members = [t for t in re.split(r"[\s,;]+", inside) if t]
    if not all(t in names for t in members):
        return None
    return frozenset(names[t] for t in members)


def _read_vertex_sets(text: str, vertex_sets: Mapping[str, frozenset], options: str):
    """Replace each braced vertex set by its option letter; return the text, the letters and the notes."""
    names = {}
    for nodes in vertex_sets.values():
        for v in nodes:
            names[fold(str(v))] = str(v)
    by_set = {frozenset(nodes): letter for letter, nodes in vertex_sets.items()}
    letters, notes_en, notes_ru = [], [], []

    def replace(match: re.Match) -> str:
        inside = match.group(1)
        nodes = _vertex_set(inside, names)
        if nodes is None or (not nodes and nodes not in by_set):
            return " " + inside + " "      # not a vertex set: option letters between braces
        if nodes not in by_set:
            listing = "; ".join(f"{letter}) {_format_set(vertex_sets[letter])}" for letter in options
                                if letter in vertex_sets)
            raise AnswerError(
                f"the vertex set {_format_set(nodes)} is none of the options ({listing}); "
                "answer with option letters or with an option's set in braces",
                f"множества вершин {_format_set(nodes)} нет среди вариантов ({listing}); "
                "отвечайте буквами вариантов или множеством варианта в фигурных скобках",
            )
        letter = by_set[nodes]
        letters.append(letter)
        notes_en.append(f"The vertex set {_format_set(nodes)} was read as option {letter}.")
        notes_ru.append(f"Множество вершин {_format_set(nodes)} прочитано как вариант {letter}.")
        return " "

    return _BRACES.sub(replace, text), letters, (tuple(notes_ru), tuple(notes_en))


def read_letters(answer: object, options: str = LETTERS, vertex_sets: Mapping[str, frozenset] | None = None):
    """Read a choice answer: the chosen option letters and notes on how the answer was read.

    Parameters
    ----------
    answer : str or iterable of str
        What the student typed: "В, Г", "гв", "{В,Г}", ["B", "Γ"].
    options : str
        The letters of the question's options, e.g. "АБВГДЕ".
    vertex_sets : mapping letter → vertex set, optional
        For backdoor questions: the set each option stands for; then "{B}"
        and "{A, C}" (sets in braces) are read as the option whose set it is.

    Returns
    -------
    (frozenset of str, (tuple of str, tuple of str))
        Cyrillic upper-case letters, each one of ``options``; the reading
        notes in Russian and in English (empty unless a vertex set was read).

    Raises
    ------
    AnswerError
        Empty or over-long answer, a token that is not an option (the message
        names it and lists the options), a vertex set that is no option's.

    Examples
    --------
    >>> letters, (ru, en) = read_letters("{A, C}, Г", "АБВГ", {"А": {"B"}, "Б": {"A", "C"}, "Г": {"D"}})
    >>> sorted(letters), en
    (['Б', 'Г'], ('The vertex set {A, C} was read as option Б.',))
    """
    raw = _as_text(answer)
    text = fold(raw)
    braced, notes = [], ((), ())
    if vertex_sets and "{" in text:
        text, braced, notes = _read_vertex_sets(text, vertex_sets, options)
    chosen = set(braced)
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token.isalpha():
            if token in _SEPARATOR_WORDS:
                continue
            for typed in token:
                letter = LOOKALIKES.get(typed, typed)
                if letter not in options:
                    raise _not_an_option(_original(typed, raw), options)
                chosen.add(letter)
        elif not (len(token) == 1 and _is_separator(token)):
            raise _not_an_option(token, options)
    if not chosen:
        raise AnswerError(
            f"no option letter found in {raw!r:.60}; answer with the letters {_listing(options)}",
            f"в ответе {raw!r:.60} нет ни одной буквы варианта; отвечайте буквами {_listing(options)}",
        )
    return frozenset(chosen), notes


def _original(folded: str, raw: str) -> str:
    """The character as the student typed it (lower case, full width ...), for messages."""
    for char in raw:
        if char == folded or char.upper() == folded:
            return char
    return folded


def parse_letters(answer: object, options: str = LETTERS, vertex_sets: Mapping[str, frozenset] | None = None
                  ) -> frozenset[str]:
    """Read the option letters of a choice answer (:func:`read_letters` without the notes).

    >>> sorted(parse_letters("гв", "АБВГ"))
    ['В', 'Г']
    """
    return read_letters(answer, options, vertex_sets)[0]


_EDGES = re.compile(r"^[^\w+\-]+|[^\w+\-]+$")
_LONGEST_WORD = 40


def parse_truefalse(answer: object) -> bool:
    """Read a true/false answer: a bool, or words like "верно", "не верно", "нет", "False", "1".

    After the common pipeline (:func:`fold`), punctuation at either end is
    dropped, Latin look-alikes inside a Cyrillic word are read as Cyrillic,
    and "не"/"not" before a word for "true" makes it false.

    >>> parse_truefalse("  ДА! "), parse_truefalse("f"), parse_truefalse(True), parse_truefalse("неправильно")
    (True, False, True, False)
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
    word = fold(_check_length(answer))
    word = _EDGES.sub("", word) if len(word) <= _LONGEST_WORD else ""   # no word of the vocabulary is longer
    if re.search("[А-Я]", word):
        word = word.translate(_WORD_LOOKALIKES)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    for negation in _NEGATIONS:
        if word.startswith(negation) and word[len(negation):] in _TRUE - {"1", "+"}:
            return False
    raise AnswerError(
        f"{answer!r:.60} is neither true nor false: answer «верно»/«неверно» (or True/False)",
        f"{answer!r:.60} — ни «верно», ни «неверно»: ответьте «верно» или «неверно» (или True/False)",
    )


_DEC = r"(?:(?:[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:[.,][0-9]*)?|[.,][0-9]+)(?:E[+-]?[0-9]+)?"
_MIXED = re.compile(r"(?P<sign>[+-])? ?(?P<whole>[0-9]+) (?P<num>[1-9][0-9]*) ?/ ?(?P<den>[1-9][0-9]*)")
_PLAIN = re.compile(rf"(?P<sign>[+-])? ?(?P<p>{_DEC})(?: ?/ ?(?P<q>{_DEC}))?")
_UNICODE_DIGIT = re.compile(r"[^\x00-\x7f]")


def _not_a_number(answer, why_en: str = "", why_ru: str = "") -> AnswerError:
    return AnswerError(
        f"{answer!r:.60} is not a number{why_en} (write e.g. 0.75, 0,75, 3/4 or 2 1/4)",
        f"{answer!r:.60} — не число{why_ru} (пишите, например, 0.75, 0,75, 3/4 или 2 1/4)",
    )


def _decimal(text: str, answer) -> Fraction:
    """An exact fraction of one decimal literal of the grammar, with its exponent bounded."""
    text = text.replace(" ", "").replace(",", ".")
    mantissa, _, exponent = text.partition("E")
    exp = int(exponent) if exponent else 0   # at most MAX_NUMBER_CHARS digits: cheap
    if abs(exp) > MAX_EXPONENT:
        raise _not_a_number(answer, f": the exponent is beyond ±{MAX_EXPONENT}",
                            f": показатель степени больше ±{MAX_EXPONENT}")
    value = Fraction(mantissa if mantissa not in (".", "") else "0")
    return value * Fraction(10) ** exp


def parse_number(answer: object) -> float:
    """Read a numeric answer: "0,75", "−0.5", "–1", "3/4", "2 1/4", "1e-3", "1 000", "2,25." or a number.

    Grammar (after the pipeline of :func:`fold`): an optional sign, then a
    mixed number ``W N/D`` (a whole number, a space, a proper fraction), a
    fraction ``P/Q`` of two decimals, or one decimal. A decimal has a point
    *or* a comma as its decimal separator, may group thousands with spaces
    ("12 345,5"), and may carry an exponent ``e±k`` with |k| ≤
    :data:`MAX_EXPONENT`. One full stop at the end is a sentence's and is
    dropped. At most :data:`MAX_NUMBER_CHARS` characters. The value is
    computed exactly (a fraction) and then rounded to a float; anything else
    is "not a number", a value beyond the float range is "out of range: not a finite number".

    >>> parse_number("3/4"), parse_number("−0,5"), parse_number(2), parse_number("12 345,5")
    (0.75, -0.5, 2.0, 12345.5)
    """
    if isinstance(answer, bool) or answer is None:
        raise AnswerError("expected a number", "ожидается число")
    if isinstance(answer, (int, float)):
        try:
            value = float(answer)
        except OverflowError:   # an int beyond the float range
            value = math.inf
    elif isinstance(answer, str):
        value = _parse_number_text(answer)
    else:
        try:
            value = float(answer)  # type: ignore[arg-type]  # numpy scalars; anything else: TypeError, below
        except (TypeError, ValueError):
            raise AnswerError(
                f"expected a number, got {type(answer).__name__}",
                f"ожидается число, получено {type(answer).__name__}",
            ) from None
    if not math.isfinite(value):
        if math.isnan(value):
            raise AnswerError(f"{answer!r:.60} is not a number", f"{answer!r:.60} — не число")
        digits = int(answer.bit_length() * math.log10(2)) + 1 if isinstance(answer, int) else 0
        en, ru = ((f"an integer of {digits} digits", f"целое число из {digits} цифр") if digits
                  else (repr(answer)[:60],) * 2)
        raise AnswerError(f"{en} is out of range: not a finite number (beyond ±1.8e308)",
                          f"{ru} — вне диапазона (out of range): не конечное число (больше ±1.8e308)")
    return value


def _parse_number_text(answer: str) -> float:
    text = fold(_check_length(answer)).replace("Е", "E")       # a Cyrillic Е as the exponent's E
    if len(text) > MAX_NUMBER_CHARS:
        raise _not_a_number(answer, f": longer than {MAX_NUMBER_CHARS} characters",
                            f": длиннее {MAX_NUMBER_CHARS} символов")
    if _UNICODE_DIGIT.search(text):                              # other scripts' digits → 0–9
        text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    if len(text) > 1 and text.endswith(".") and text[-2].isdigit():
        text = text[:-1]                                         # "2,25." — a sentence's full stop
    m = _MIXED.fullmatch(text)
    if m and int(m["num"]) < int(m["den"]):
        value = int(m["whole"]) + Fraction(int(m["num"]), int(m["den"]))
    else:
        m = _PLAIN.fullmatch(text)
        if not m:
            raise _not_a_number(answer)
        value = _decimal(m["p"], answer)
        if m["q"] is not None:
            q = _decimal(m["q"], answer)
            if q == 0:
                raise _not_a_number(answer, ": division by zero", ": деление на ноль")
            value /= q
    if m["sign"] == "-":
        value = -value
    try:
        return float(value)
    except OverflowError:   # "1e999": a number, but not a finite float
        return math.inf


def within_tolerance(value: float, key: float, tolerance: float) -> bool:
    """|value − key| ≤ tolerance, with a relative slack of :data:`REL_SLACK` (one part in 10⁹ of the larger).

    Decimal answers and keys are binary floats, so |0.801 − 0.8| computes to
    0.0010000000000000009, just above a tolerance of 0.001; the slack
    (REL_SLACK · max(|key|, |value|, tolerance)) absorbs such rounding (about
    10⁻¹⁶ relative) and nothing a student could mean.

    >>> within_tolerance(0.801, 0.8, 0.001), abs(0.801 - 0.8) <= 0.001, within_tolerance(0.802, 0.8, 0.001)
    (True, False, False)
    """
    slack = REL_SLACK * max(abs(key), abs(value), tolerance)
    return abs(value - key) <= tolerance + slack
