"""Numeric answers: the number grammar of the quiz and the tolerance comparison.

A number as students type it -- "0,75", "−0.5", "3/4", "2 1/4", "1e-3", "12 345,5", "2,25." -- is read
after the shared steps of :func:`course.quiz.folding.fold` by a small grammar and computed exactly (a
fraction) before it is rounded to a float; :func:`within_tolerance` compares it with the key. The
instructor's table of spellings is ``docs/answers.md``; the pipeline is described in :mod:`course.quiz.normalize`.

>>> parse_number("2 1/4"), within_tolerance(parse_number("0,801"), 0.8, 0.001)
(2.25, True)
"""

from __future__ import annotations

import math
import re
import unicodedata
from fractions import Fraction

from course.localized import EMPTY, Localized
from course.quiz.folding import AnswerError, check_length, drop_label, fold

__all__ = ["MAX_NUMBER_CHARS", "MAX_EXPONENT", "REL_SLACK", "parse_number", "within_tolerance"]

#: Longest numeric answer (characters, after normalisation).
MAX_NUMBER_CHARS = 100
#: Largest decimal exponent a number may carry ("1e1000"); beyond it the answer is refused, not computed.
MAX_EXPONENT = 1000
#: Relative slack of tolerance comparisons (see :func:`within_tolerance`).
REL_SLACK = 1e-9


_DEC = r"(?:(?:[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)(?:[.,][0-9]*)?|[.,][0-9]+)(?:E[+-]?[0-9]+)?"
_MIXED = re.compile(r"(?P<sign>[+-])? ?(?P<whole>[0-9]+) (?P<num>[1-9][0-9]*) ?/ ?(?P<den>[1-9][0-9]*)")
_PLAIN = re.compile(rf"(?P<sign>[+-])? ?(?P<p>{_DEC})(?: ?/ ?(?P<q>{_DEC}))?")
_UNICODE_DIGIT = re.compile(r"[^\x00-\x7f]")


#: before a number: a name and "=" or "≈" ("R = 0,8", "ε≈2.25"), then a sign or word for "about" ("≈ 0,8")
_NAME = re.compile(r"^[^\W\d][\w']{0,15} ?[=≈] ?(?=\S)")
_ABOUT = re.compile(r"^(?:≈|~|∼|≃|ПРИМЕРНО|ОКОЛО|ABOUT|APPROX\.?|APPROXIMATELY) ?(?=\S)")


def _drop_name(text: str) -> str:
    """ "R = 0,8" → "0,8"; "≈ 0,8" → "0,8" (the tolerance decides how close is close enough)."""
    text = _NAME.sub("", text, count=1)
    return _ABOUT.sub("", text, count=1)


def _not_a_number(answer, why: Localized = EMPTY) -> AnswerError:
    return AnswerError(
        f"{answer!r:.60} is not a number{why.en} (write e.g. 0.75, 0,75, 3/4 or 2 1/4)",
        f"{answer!r:.60} — не число{why.ru} (пишите, например, 0.75, 0,75, 3/4 или 2 1/4)",
    )


def _decimal(text: str, answer) -> Fraction:
    """An exact fraction of one decimal literal of the grammar, with its exponent bounded."""
    text = text.replace(" ", "").replace(",", ".")
    mantissa, _, exponent = text.partition("E")
    exp = int(exponent) if exponent else 0  # at most MAX_NUMBER_CHARS digits: cheap
    if abs(exp) > MAX_EXPONENT:
        raise _not_a_number(
            answer,
            Localized(f": показатель степени больше ±{MAX_EXPONENT}", f": the exponent is beyond ±{MAX_EXPONENT}"),
        )
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
        except OverflowError:  # an int beyond the float range
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
        en, ru = (
            (f"an integer of {digits} digits", f"целое число из {digits} цифр") if digits else (repr(answer)[:60],) * 2
        )
        raise AnswerError(
            f"{en} is out of range: not a finite number (beyond ±1.8e308)",
            f"{ru} — вне диапазона (out of range): не конечное число (больше ±1.8e308)",
        )
    return value


def _parse_number_text(answer: str) -> float:
    text = _drop_name(drop_label(fold(check_length(answer)), number=True, raw=answer)).replace(
        "Е", "E"
    )  # a Cyrillic Е: the exponent's E
    if len(text) > MAX_NUMBER_CHARS:
        raise _not_a_number(
            answer, Localized(f": длиннее {MAX_NUMBER_CHARS} символов", f": longer than {MAX_NUMBER_CHARS} characters")
        )
    if _UNICODE_DIGIT.search(text):  # other scripts' digits → 0–9
        text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    if len(text) > 1 and text.endswith(".") and text[-2].isdigit():
        text = text[:-1]  # "2,25." — a sentence's full stop
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
                raise _not_a_number(answer, Localized(": деление на ноль", ": division by zero"))
            value /= q
    if m["sign"] == "-":
        value = -value
    try:
        return float(value)
    except OverflowError:  # "1e999": a number, but not a finite float
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
