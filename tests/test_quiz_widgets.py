"""The self-study quiz widget (course.quiz.widgets) scores exactly like the graded quiz."""

import pytest

from course.errors import CourseError
from course.quiz.bank import load_bank
from course.quiz.scoring import score_answer
from course.quiz.variants import backdoor_variant
from course.quiz.widgets import QuizWidget, quiz_widget

BANK = load_bank()


def test_unanswered_quiz_scores_zero_and_says_why():
    quiz = QuizWidget(topics=["T3"])
    scores = quiz.check()
    assert [s.question_id for s in scores] == ["t3_mdl", "t3_backdoor_smallest", "t3_backdoor_smallest_sets"]
    assert sum(s.points for s in scores) == 0
    assert "0 / 3" in quiz.total.value


def test_clicking_the_button_scores_like_score_answer():
    quiz = QuizWidget(["t3_mdl", "t3_backdoor_smallest", "t3_backdoor_smallest_sets", "l8_epsilon_absorbs"])
    answers = {
        "t3_mdl": False,
        "t3_backdoor_smallest": "А",
        "t3_backdoor_smallest_sets": "В",
        "l8_epsilon_absorbs": "2,25",
    }
    for qid, value in answers.items():
        quiz.answer(qid, value)
    quiz.button.click()
    expected = sum(score_answer(BANK[q], v).points for q, v in answers.items())
    assert expected == 3.5  # the multiple-choice answer has one of two correct options
    assert "3.5 / 4" in quiz.total.value
    assert "0.5/1" in quiz.feedback["t3_backdoor_smallest_sets"].value


def test_checkboxes_follow_typed_letters():
    quiz = QuizWidget(["t3_backdoor_smallest_sets"])
    quiz.answer("t3_backdoor_smallest_sets", "b, Γ")
    assert [cb.value for cb in quiz.inputs["t3_backdoor_smallest_sets"].values()] == [
        False,
        False,
        True,
        True,
        False,
        False,
        False,
    ]
    assert quiz.check()[0].correct


def test_radio_answers_are_read_like_typed_ones_and_unreadable_ones_refused():
    quiz = QuizWidget(["t3_mdl", "t3_backdoor_smallest"])
    quiz.answer("t3_mdl", "Неверно")
    quiz.answer("t3_backdoor_smallest", "a")  # Latin a: the look-alike of А, the key
    assert [s.correct for s in quiz.check()] == [True, True]
    with pytest.raises(CourseError, match="not an option"):
        quiz.answer("t3_backdoor_smallest", "Z")
    with pytest.raises(CourseError):
        quiz.answer("t3_mdl", "может быть")


def test_a_student_variant_works_in_the_widget():
    q = backdoor_variant("s042")
    quiz = QuizWidget([q])
    quiz.answer(q.id, ", ".join(q.correct))
    assert quiz.check()[0].correct


def test_english_and_bad_selection():
    w = quiz_widget(["l2_root_point"], lang="en")
    assert "Check" in [c.description for c in w.children if hasattr(c, "description")]
    with pytest.raises(CourseError, match="no question selected"):
        QuizWidget(topics=["L99"])
    with pytest.raises(CourseError, match="lang"):
        QuizWidget(lang="de")


def test_a_backdoor_question_shows_the_drawing_of_its_graph():
    import ipywidgets as W

    from course.quiz.widgets import QuizWidget

    quiz = QuizWidget(["t3_backdoor_smallest", "t3_mdl"])
    images = [w for row in quiz.widget.children[:2] for w in getattr(row, "children", ()) if isinstance(w, W.Image)]
    assert len(images) == 1 and images[0].value[:4] == b"\x89PNG"
