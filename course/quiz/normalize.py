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
   "нет"); in a number, a Cyrillic Е is the exponent's E. A leading label
   is dropped (:func:`course.quiz.folding.drop_label`: "Ответ: Б",
   "мой ответ — неверно", "Answer = 0.8"); in a number also a name and "="
   or "≈" ("R = 0,8") and a sign of "about" ("≈ 0,8", "~0.8", "примерно 0,8").
3. **Separators.** Option letters: white space, punctuation (Unicode
   category P: commas, braces, brackets, ")", ";", "/", "-") and "+", "|"
   separate; so do the words "и" / "and". What remains are tokens; a run of
   letters ("ГВ") is read letter by letter. Any other token — a digit, a
   symbol, a letter that is no option — makes the answer unreadable and the
   message names it (it never silently vanishes). Numbers have a grammar
   (:func:`parse_number`), true/false a vocabulary (:func:`parse_truefalse`).

Where each step lives: steps 0–2 (and :class:`AnswerError`) in :mod:`course.quiz.folding`; the
number grammar and :func:`within_tolerance` in :mod:`course.quiz.numeric`; option letters, vertex
sets and true/false here. Every name is importable from this module, as before.

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

import re
import unicodedata
from collections.abc import Iterable, Mapping
from itertools import islice

from course.localized import Localized
from course.quiz.folding import MAX_ANSWER_CHARS, AnswerError, check_length, drop_label, fold
from course.quiz.numeric import MAX_EXPONENT, MAX_NUMBER_CHARS, REL_SLACK, parse_number, within_tolerance

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
    "A": "А",
    "B": "В",
    "E": "Е",  # Latin
    "Α": "А",
    "Β": "В",
    "Γ": "Г",
    "Δ": "Д",
    "Ε": "Е",  # Greek
}

#: Upper-case Latin letters that look like Cyrillic ones, for words in Russian ("нeт" typed with a Latin e).
_WORD_LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")

_SEPARATOR_WORDS = {"И", "AND"}

_TRUE = {"TRUE", "T", "YES", "Y", "1", "+", "ВЕРНО", "ПРАВДА", "ДА", "ИСТИНА", "ИСТИННО", "ПРАВИЛЬНО"}
_FALSE = {"FALSE", "F", "NO", "N", "0", "-", "НЕВЕРНО", "ЛОЖЬ", "НЕТ", "НЕПРАВДА", "ЛОЖНО", "НЕПРАВИЛЬНО"}
#: "не верно", "не правильно", "not true": a negation word, a space, then a word for "true"
_NEGATIONS = ("НЕ ", "NOT ")

# letter tokens: runs of letters, runs of digits, or one other non-space character
_TOKENS = re.compile(r"[^\W\d_]+|\d+|\S")
_BRACES = re.compile(r"\{([^{}]*)\}")


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
        return check_length(answer)
    if isinstance(answer, Iterable) and not isinstance(answer, (bytes, Mapping)):
        parts = list(islice(answer, MAX_ANSWER_CHARS + 1))
        if all(isinstance(p, str) for p in parts):
            return check_length(",".join(parts))
    raise AnswerError(
        f'expected option letters as text (e.g. "В, Г"), got {type(answer).__name__}',
        f'ожидаются буквы вариантов текстом (например, "В, Г"), получено {type(answer).__name__}',
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
    letters: list[str] = []
    notes: list[Localized] = []

    def replace(match: re.Match) -> str:
        inside = match.group(1)
        nodes = _vertex_set(inside, names)
        if nodes is None or (not nodes and nodes not in by_set):
            return " " + inside + " "  # not a vertex set: option letters between braces
        if nodes not in by_set:
            listing = "; ".join(
                f"{letter}) {_format_set(vertex_sets[letter])}" for letter in options if letter in vertex_sets
            )
            raise AnswerError(
                f"the vertex set {_format_set(nodes)} is none of the options ({listing}); "
                "answer with option letters or with an option's set in braces",
                f"множества вершин {_format_set(nodes)} нет среди вариантов ({listing}); "
                "отвечайте буквами вариантов или множеством варианта в фигурных скобках",
            )
        letter = by_set[nodes]
        letters.append(letter)
        notes.append(
            Localized(
                f"Множество вершин {_format_set(nodes)} прочитано как вариант {letter}.",
                f"The vertex set {_format_set(nodes)} was read as option {letter}.",
            )
        )
        return " "

    return _BRACES.sub(replace, text), letters, tuple(notes)


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
    (frozenset of str, tuple of Localized)
        Cyrillic upper-case letters, each one of ``options``; the reading
        notes, each in Russian and English (none unless a vertex set was read).

    Raises
    ------
    AnswerError
        Empty or over-long answer, a token that is not an option (the message
        names it and lists the options), a vertex set that is no option's.

    Examples
    --------
    >>> letters, notes = read_letters("{A, C}, Г", "АБВГ", {"А": {"B"}, "Б": {"A", "C"}, "Г": {"D"}})
    >>> sorted(letters), [note("en") for note in notes]
    (['Б', 'Г'], ['The vertex set {A, C} was read as option Б.'])
    """
    raw = _as_text(answer)
    text = drop_label(fold(raw))
    braced: list[str] = []
    notes: tuple[Localized, ...] = ()
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


def parse_letters(
    answer: object, options: str = LETTERS, vertex_sets: Mapping[str, frozenset] | None = None
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
    word = drop_label(fold(check_length(answer)))
    word = _EDGES.sub("", word) if len(word) <= _LONGEST_WORD else ""  # no word of the vocabulary is longer
    if re.search("[А-Я]", word):
        word = word.translate(_WORD_LOOKALIKES)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    for negation in _NEGATIONS:
        if word.startswith(negation) and word[len(negation) :] in _TRUE - {"1", "+"}:
            return False
    raise AnswerError(
        f"{answer!r:.60} is neither true nor false: answer «верно»/«неверно» (or True/False)",
        f"{answer!r:.60} — ни «верно», ни «неверно»: ответьте «верно» или «неверно» (или True/False)",
    )
