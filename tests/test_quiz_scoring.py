"""Scoring one answer (course.quiz.scoring): policies, feedback, and that feedback never leaks the key."""

import pytest

from course.quiz.bank import load_bank, parse_bank
from course.quiz.scoring import score_answer

BANK = load_bank()
Q2 = BANK["t3_backdoor_smallest"]  # single, key А
Q3 = BANK["t3_backdoor_smallest_sets"]  # multiple, proportional, key В, Г
MDL = BANK["t3_mdl"]


def _multiple(partial, correct=("А", "Б")):
    opts = [{"letter": x, "ru": x, "en": x} for x in "АБВГ"]
    return parse_bank(
        {
            "question": [
                {
                    "id": "m",
                    "kind": "multiple",
                    "text_ru": "т",
                    "text_en": "t",
                    "points": 2,
                    "partial": partial,
                    "correct": list(correct),
                    "options": opts,
                }
            ]
        }
    )["m"]


@pytest.mark.parametrize("typed", ["В, Г", "гв", "{В,Г}", "b,Γ", "Г В"])
def test_t3_q3_right_answer_in_any_spelling_earns_full_points(typed):
    s = score_answer(Q3, typed)
    assert (s.points, s.valid, s.correct) == (1.0, True, True)
    assert s.feedback == "Верно."


@pytest.mark.parametrize(
    "typed, points",
    [
        # Moodle's rule, by hand: 7 options, |C| = 2 correct (В, Г), |W| = 5 wrong
        ("В", 0.5),  # one of two correct: 1/2
        ("В, Г, А", 0.8),  # two hits, one wrong pick: 2/2 - 1/5
        ("В, А", 0.3),  # 1/2 - 1/5
        ("В, А, Б", 0.1),  # 1/2 - 2/5
        ("В, А, Б, Д", 0.0),  # 1/2 - 3/5 < 0: floored at zero
        ("А, Б, Д", 0.0),  # floored at zero
        ("АБВГДЕЖ", 0.0),  # everything ticked: 1 - 1
    ],
)
def test_proportional_partial_credit(typed, points):
    assert score_answer(Q3, typed).points == pytest.approx(points)


@pytest.mark.parametrize(
    "qid",
    ["l15_dtd_rules", "l10_composite", "l19_signal_methods", "t3_backdoor_smallest_sets", "l8_exact_conservation"],
)
def test_ticking_every_option_scores_zero(qid):
    q = BANK[qid]
    assert score_answer(q, q.letters).points == 0.0


def test_proportional_weights_by_hand_on_a_four_of_six_question():
    q = BANK["l15_dtd_rules"]  # |C| = 4 (А, Б, Д, Е), |W| = 2 (В, Г)
    assert score_answer(q, "А, Б, Д").points == pytest.approx(0.75)
    assert score_answer(q, "А, Б, Д, Е, В").points == pytest.approx(0.5)  # 1 - 1/2
    assert score_answer(q, "А, В").points == pytest.approx(0.0)  # 1/4 - 1/2, floored


def test_proportional_scales_with_points():
    q = _multiple("proportional")
    assert score_answer(q, "А").points == pytest.approx(1.0)  # 2 points × 1/2
    assert score_answer(q, "А, Б").points == pytest.approx(2.0)


def test_all_or_nothing_multiple():
    q = _multiple("all_or_nothing")
    assert score_answer(q, "А").points == 0.0
    assert score_answer(q, "Б А").points == 2.0


def test_single_choice_with_two_letters_earns_nothing_and_says_why():
    s = score_answer(Q2, "А, Б", lang="en")
    assert (s.points, s.valid) == (0.0, False)
    assert "exactly one" in s.feedback


def test_wrong_option_is_named_and_the_usual_mistake_explained_without_the_key():
    s = score_answer(Q2, "Д", lang="en")
    assert s.points == 0.0 and s.valid
    assert "Д" in s.feedback and Q2.mistake.en in s.feedback
    assert "А" not in s.feedback.replace(Q2.mistake.en, "")


def test_missing_correct_options_are_counted_not_named():
    s = score_answer(Q3, "В", lang="en")
    assert "1 missing" in s.feedback and "Г" not in s.feedback


def test_something_that_is_not_an_option_earns_nothing_and_says_why():
    s = score_answer(Q3, "b, g", lang="en")
    assert (s.points, s.valid, s.answer) == (0.0, False, None)
    assert "'g' is not an option" in s.feedback
    s = score_answer(Q2, "Ж")  # a Cyrillic letter this six-option question does not have
    assert s.points == 0.0 and "'Ж'" in s.feedback


@pytest.mark.parametrize(
    "typed, points", [("неверно", 1.0), ("False", 1.0), ("нет", 1.0), ("верно", 0.0), (True, 0.0), ("не знаю", 0.0)]
)
def test_truefalse(typed, points):
    assert score_answer(MDL, typed).points == points


def test_numeric_tolerance_boundaries():
    q = BANK["l22_pattern_component"]  # key 1.5, tolerance 0.01
    assert score_answer(q, "1,5").points == 1.0
    assert score_answer(q, "1.509").points == 1.0
    assert score_answer(q, "3/2").points == 1.0
    assert score_answer(q, "1.52").points == 0.0
    s = score_answer(q, "полтора")
    assert not s.valid and s.points == 0.0


def test_numeric_wrong_answer_feedback_does_not_leak_the_key():
    q = BANK["l8_epsilon_absorbs"]  # key 2.25
    s = score_answer(q, "3", lang="en")
    assert s.points == 0.0 and "2.25" not in s.feedback


def test_every_bank_key_scores_full_points_and_every_wrong_option_less():
    for q in BANK:
        key = q.correct
        answer = ", ".join(sorted(key)) if isinstance(key, frozenset) else key
        assert score_answer(q, answer).correct, q.id
        for o in q.options:
            if o.letter not in key:
                assert score_answer(q, o.letter).points < q.points, (q.id, o.letter)


def test_scoring_something_that_is_not_a_question_is_a_course_error():
    from course.errors import CourseError

    with pytest.raises(CourseError, match="needs a bank Question"):
        score_answer("t3_mdl", "неверно")
