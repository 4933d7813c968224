"""The answer normaliser: answers as students type them (course.quiz.normalize)."""

import pytest

from course.quiz.normalize import AnswerError, parse_letters, parse_number, parse_truefalse

SIX = "АБВГДЕ"
SEVEN = "АБВГДЕЖ"

# (typed answer, options, expected letters). Latin/Greek look-alikes, any case, any separators, any order.
SPELLINGS = [
    ("В, Г", SEVEN, "ВГ"),
    ("Г, В", SEVEN, "ВГ"),
    ("гв", SEVEN, "ВГ"),
    ("ВГ", SEVEN, "ВГ"),
    ("{В,Г}", SEVEN, "ВГ"),
    ("[в; г]", SEVEN, "ВГ"),
    ("В и Г", SEVEN, "ВГ"),
    ("B and Γ", SEVEN, "ВГ"),  # Latin B, Greek capital gamma
    ("b, γ", SEVEN, "ВГ"),  # lower-case look-alikes
    ("B,Г", SEVEN, "ВГ"),
    ("В) Г)", SEVEN, "ВГ"),
    ("В.Г.", SEVEN, "ВГ"),
    ("  в / г  ", SEVEN, "ВГ"),
    ("В-Г", SEVEN, "ВГ"),
    ("В\nГ", SEVEN, "ВГ"),
    ("В,В,Г", SEVEN, "ВГ"),  # repetition does not matter
    ("{B, D}".replace("D", "Δ"), SEVEN, "ВД"),  # Greek capital delta
    ("вд", SEVEN, "ВД"),
    ("А", SIX, "А"),
    ("A", SIX, "А"),  # Latin A
    ("a", SIX, "А"),
    ("Α", SIX, "А"),  # Greek capital alpha
    ("α)", SIX, "А"),
    ("е", SIX, "Е"),
    ("E", SIX, "Е"),  # Latin E
    ("ε", SIX, "Е"),  # Greek epsilon
    ("Ж", SEVEN, "Ж"),
    ("ж.", SEVEN, "Ж"),
    ("б", SIX, "Б"),
    ("АБВГДЕЖ", SEVEN, SEVEN),
    ("ж е д г в б а", SEVEN, SEVEN),
    (["В", "Г"], SEVEN, "ВГ"),  # a list of letters, as a widget returns it
    (("b", "g".replace("g", "Γ")), SEVEN, "ВГ"),
    ("{A,E}", SEVEN, "АЕ"),
]


@pytest.mark.parametrize("typed, options, expected", SPELLINGS)
def test_spelling_reads_as_the_same_letters(typed, options, expected):
    assert parse_letters(typed, options) == frozenset(expected)


def test_table_has_at_least_thirty_spellings():
    assert len(SPELLINGS) >= 30


# (typed, options, the character the message must name)
NOT_OPTIONS = [
    ("b,g", SEVEN, "'g'"),  # transliteration of Г is refused: Latin g is not a look-alike
    ("v", SEVEN, "'v'"),  # transliteration of В
    ("zh", SEVEN, "'z'"),  # transliteration of Ж
    ("Ж", SIX, "'Ж'"),  # a real letter, but this question has six options
    ("Ответ: О", SEVEN, "'О'"),  # the label is dropped; the letter after it is no option
    ("Отв: В", SEVEN, "'О'"),  # not a label word
    ("В, З", SEVEN, "'З'"),
    ("D", SEVEN, "'D'"),  # Latin D is not a look-alike of Д
]


@pytest.mark.parametrize("typed, options, culprit", NOT_OPTIONS)
def test_a_letter_that_is_not_an_option_is_refused_and_named(typed, options, culprit):
    with pytest.raises(AnswerError) as info:
        parse_letters(typed, options)
    assert culprit in str(info.value)
    assert culprit in info.value.text("ru")
    assert "А, Б" in str(info.value)  # the message lists the options


@pytest.mark.parametrize("typed", ["", "   ", "{}", "1, 2", None])
def test_an_answer_without_letters_is_refused(typed):
    with pytest.raises(AnswerError):
        parse_letters(typed, SEVEN)


def test_a_number_is_not_a_letter_answer():
    with pytest.raises(AnswerError, match="expected option letters"):
        parse_letters(3, SEVEN)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("неверно", False),
        ("Неверно.", False),
        ("НЕТ", False),
        ("ложь", False),
        ("false", False),
        ("F", False),
        ("0", False),
        (False, False),
        (0, False),
        ("верно", True),
        ("Да!", True),
        ("правда", True),
        ("True", True),
        ("t", True),
        ("1", True),
        (True, True),
    ],
)
def test_truefalse_words(typed, expected):
    assert parse_truefalse(typed) is expected


@pytest.mark.parametrize("typed", ["может быть", "", "2", 2, None, "В"])
def test_truefalse_refuses_other_words(typed):
    with pytest.raises(AnswerError):
        parse_truefalse(typed)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("0.75", 0.75),
        ("0,75", 0.75),
        (" 3/4 ", 0.75),
        ("−0,5", -0.5),
        ("-1", -1.0),
        ("1e-3", 0.001),
        (2, 2.0),
        (2.25, 2.25),
        ("1 000", 1000.0),
    ],
)
def test_numbers(typed, expected):
    assert parse_number(typed) == pytest.approx(expected, abs=0)


@pytest.mark.parametrize("typed", ["1,000.5", "1,2,3", "abc", "1/0", "nan", "inf", "1e999", "-1e999", True, None, ""])
def test_numbers_refuse_ambiguous_or_non_finite(typed):
    with pytest.raises(AnswerError):
        parse_number(typed)


def test_every_invisible_format_character_is_deleted():
    """The pipeline's list of invisible characters is checked against Unicode's own category Cf."""
    import sys
    import unicodedata

    from course.quiz.normalize import fold

    cf = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert len(cf) > 150
    kept = [f"U+{ord(c):04X}" for c in cf if fold("В" + c + "Г") != "ВГ"]
    assert kept == []


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("2 1/4", 2.25),
        ("-2 1/4", -2.25),
        ("2½", 2.5),
        ("½", 0.5),
        ("–1", -1.0),
        ("2,25.", 2.25),
        ("2\u200b,25", 2.25),
        ("２，２５", 2.25),
        ("12 345,5", 12345.5),
        ("1e-1000", 0.0),
        ("٣", 3.0),
    ],
)
def test_numbers_as_typed(typed, expected):
    assert parse_number(typed) == expected


@pytest.mark.parametrize(
    "typed, message",
    [
        ("1e100000000", "exponent is beyond"),
        ("1" * 101, "longer than 100"),
        ("1" * 1001, "too long"),
        ("2 25", "is not a number"),
        ("1/0", "division by zero"),
        ("1e999", "not a finite number"),
        (10**400, "not a finite number"),
    ],
)
def test_numbers_refused_with_a_reason(typed, message):
    with pytest.raises(AnswerError, match=message):
        parse_number(typed)
