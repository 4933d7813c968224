"""Property tests: equivalent spellings of one answer always score the same (docs/answers.md).

Each strategy writes a canonical answer (a set of option letters, a true/false
value, an exact decimal number) in a random spelling a student could produce —
case, look-alike letters, full-width forms, separators, order, repetition,
invisible characters, dashes, decimal commas, fractions, mixed numbers, a
sentence's full stop — and the score must equal the canonical spelling's score.
"""

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from course.quiz.bank import load_bank
from course.quiz.normalize import AnswerError, parse_number
from course.quiz.scoring import score_answer

BANK = load_bank(keys=True)
CHOICE = [q for q in BANK if q.kind in ("single", "multiple")]
NUMERIC = [q for q in BANK if q.kind == "numeric"]
TRUEFALSE = [q for q in BANK if q.kind == "truefalse"]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
LATIN_GREEK = {
    "А": ["A", "a", "Α", "α"],
    "В": ["B", "b", "Β", "β"],
    "Е": ["E", "e", "Ε", "ε"],
    "Г": ["Γ", "γ"],
    "Д": ["Δ", "δ"],
}
SEPARATORS = [",", ", ", " ", ";", " ; ", " и ", " and ", "/", "\n", " + ", "、", "，", "\u00a0"]


def _fullwidth(c):
    return chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c


@st.composite
def _invisible(draw, text):
    """``text`` with invisible characters inserted at random places."""
    chars = list(text)
    for _ in range(draw(st.integers(0, 3))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(INVISIBLE)))
    return "".join(chars)


@st.composite
def letter_spellings(draw, q, letters):
    """A spelling of the option letters ``letters`` of question ``q``."""
    tokens = []
    for letter in letters:
        for _ in range(draw(st.integers(1, 2))):  # repetition does not matter
            forms = [letter, letter.lower()] + LATIN_GREEK.get(letter, [])
            form = draw(st.sampled_from(forms))
            if draw(st.booleans()):
                form = "".join(_fullwidth(c) for c in form)
            tokens.append(form)
    tokens = draw(st.permutations(tokens))
    text = tokens[0]
    for token in tokens[1:]:
        text += draw(st.sampled_from(SEPARATORS)) + token
    vertex_question = q.dag is not None
    opening, closing = draw(st.sampled_from([("", ""), ("[", "]"), ("(", ")"), ("{", "}"), ("«", "»")]))
    if opening == "{" and vertex_question:
        opening = closing = ""  # braces around Latin letters are a vertex set there (tested on its own)
    text = opening + text + closing + draw(st.sampled_from(["", ".", " ", ")", "!"]))
    return draw(_invisible(" " * draw(st.integers(0, 2)) + text))


@st.composite
def choice_case(draw):
    q = draw(st.sampled_from(CHOICE))
    size = 1 if q.kind == "single" else draw(st.integers(1, len(q.options)))
    letters = draw(st.permutations(q.letters))[:size]
    return q, sorted(letters), draw(letter_spellings(q, letters))


@SETTINGS
@given(choice_case())
def test_equivalent_spellings_of_option_letters_score_the_same(case):
    q, letters, typed = case
    canonical = score_answer(q, ", ".join(letters))
    assert canonical.valid
    s = score_answer(q, typed)
    assert (s.valid, s.points, s.answer) == (canonical.valid, canonical.points, canonical.answer), typed


@SETTINGS
@given(st.sampled_from([q for q in CHOICE if q.dag]), st.data())
def test_a_vertex_set_in_braces_scores_as_its_option(q, data):
    options = data.draw(
        st.lists(st.sampled_from(q.options), min_size=1, max_size=1 if q.kind == "single" else 7, unique=True)
    )
    parts = []
    for o in options:
        names = data.draw(st.permutations(sorted(o.nodes)))
        names = [data.draw(st.sampled_from([v, v.lower(), _fullwidth(v)])) for v in names]
        parts.append("{" + data.draw(st.sampled_from([",", ", ", " ", ";"])).join(names) + "}")
    typed = data.draw(st.sampled_from([", ", " ", "; ", " и "])).join(parts)
    canonical = score_answer(q, ", ".join(o.letter for o in options))
    s = score_answer(q, data.draw(_invisible(typed)), lang="en")
    assert (s.valid, s.points) == (canonical.valid, canonical.points), typed
    for o in options:
        assert f"read as option {o.letter}" in s.feedback


TRUE_WORDS = ["верно", "правильно", "правда", "истина", "да", "true", "t", "yes", "1", "+"]
FALSE_WORDS = [
    "неверно",
    "не верно",
    "неправильно",
    "не правильно",
    "не правда",
    "ложь",
    "нет",
    "false",
    "f",
    "no",
    "not true",
    "0",
    "-",
    "–",
    "ложно",
]


@st.composite
def truefalse_case(draw):
    value = draw(st.booleans())
    word = draw(st.sampled_from(TRUE_WORDS if value else FALSE_WORDS))
    word = "".join(draw(st.sampled_from([c, c.upper(), c.lower()])) for c in word)
    if draw(st.booleans()):
        word = "".join(_fullwidth(c) for c in word)
    word = word.replace(" ", draw(st.sampled_from([" ", "  ", "\u00a0", " \u200b"])))
    word = draw(st.sampled_from(["", " ", "«", '"'])) + word + draw(st.sampled_from(["", ".", "!", "»", " "]))
    return value, draw(_invisible(word))


@SETTINGS
@given(st.sampled_from(TRUEFALSE), truefalse_case())
def test_equivalent_spellings_of_true_and_false_score_the_same(q, case):
    value, typed = case
    canonical = score_answer(q, value)
    s = score_answer(q, typed)
    assert (s.valid, s.points) == (True, canonical.points), typed


@st.composite
def number_case(draw):
    """An exact decimal value (the key, or near it) and a random spelling of it."""
    q = draw(st.sampled_from(NUMERIC))
    key = Fraction(repr(q.correct))
    step = Fraction(1, draw(st.sampled_from([1, 2, 4, 5, 8, 10, 100, 1000])))
    value = key + step * draw(st.integers(-3, 3))
    sign = "-" if value < 0 else ""
    mag = abs(value)
    whole, frac = divmod(mag, 1)
    # exact decimal digits of mag (denominators are 2^a 5^b)
    digits = 0
    while (mag * 10**digits).denominator != 1:
        digits += 1
    scaled = str(int(mag * 10**digits)).rjust(digits + 1, "0")
    decimal = scaled[:-digits] + "." + scaled[-digits:] if digits else scaled
    forms = [
        decimal,
        decimal.replace(".", ","),
        f"{mag.numerator}/{mag.denominator}",
        f"{int(mag * 10 ** (digits + 2))}e-{digits + 2}",
        decimal + "0" if digits else decimal + ".0",
    ]
    if whole and frac:
        forms.append(f"{int(whole)} {frac.numerator}/{frac.denominator}")
    text = draw(st.sampled_from(forms))
    if draw(st.booleans()):
        text = "".join(_fullwidth(c) for c in text)
    if sign:
        text = draw(st.sampled_from(["-", "−", "–", "—", "‐", "－", "- "])) + text
    elif draw(st.booleans()):
        text = "+" + text
    text = draw(st.sampled_from(["", " ", "\u00a0"])) + text + draw(st.sampled_from(["", ".", " "]))
    return q, value, draw(_invisible(text))


@SETTINGS
@given(number_case())
def test_equivalent_spellings_of_a_number_score_the_same(case):
    q, value, typed = case
    assume(not typed.rstrip().endswith("..") and ".." not in typed)
    canonical = score_answer(q, float(value))
    s = score_answer(q, typed)
    assert (s.valid, s.points, s.answer) == (True, canonical.points, float(value)), typed


@SETTINGS
@given(st.sampled_from(list(BANK)), st.text(max_size=60), st.integers(0, 60), st.sampled_from(INVISIBLE))
def test_an_invisible_character_never_changes_a_score(q, text, at, invisible):
    a, b = score_answer(q, text), score_answer(q, text[:at] + invisible + text[at:])
    assert (a.valid, a.points, a.answer) == (b.valid, b.points, b.answer)


@SETTINGS
@given(
    st.sampled_from(list(BANK)), st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
)
def test_full_width_text_scores_as_its_ascii_form(q, text):
    wide = "".join(_fullwidth(c) for c in text)
    a, b = score_answer(q, text), score_answer(q, wide)
    assert (a.valid, a.points, a.answer) == (b.valid, b.points, b.answer)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(list(BANK)), st.one_of(st.text(max_size=200), st.from_regex(r"[-+0-9eE.,/ ]{0,40}")))
def test_any_text_gets_a_score_never_an_exception(q, text):
    s = score_answer(q, text)
    assert 0 <= s.points <= s.max_points and (s.valid or s.points == 0) and s.feedback


@pytest.mark.parametrize("typed", ["1e" + "9" * 90, "9" * 99 + "e-1000", "1e-1000/1e1000"])
def test_extreme_numbers_are_bounded(typed):
    try:
        parse_number(typed)
    except AnswerError:
        pass
