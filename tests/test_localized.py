"""The course's two-language text, and the rule that every question model holds texts only as such values."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from autograder.items import ItemQuestion
from course.causal.quiz import BackdoorQuestion, backdoor_question
from course.errors import CourseError
from course.localized import EMPTY, LANGS, Localized
from course.quiz.bank import Bank, Option, Question, example_bank


def test_each_language_gives_its_own_text_and_russian_comes_first():
    t = Localized("Верно", "True")
    assert (t("ru"), t("en"), t.get("ru"), t.get("en"), t()) == ("Верно", "True", "Верно", "True", "Верно")
    assert str(t) == "Верно" and f"{t}" == "Верно"
    assert LANGS == ("ru", "en") and [f.name for f in dataclasses.fields(Localized)] == ["ru", "en"]


@pytest.mark.parametrize("lang", ["de", "EN", "", "multilang", None])
def test_an_unknown_language_is_refused_by_name(lang):
    with pytest.raises(CourseError, match=r"unknown language .*'ru' and 'en'"):
        Localized("да", "yes")(lang)


def test_it_is_immutable_hashable_and_checked():
    t = Localized("да", "yes")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.ru = "нет"  # type: ignore[misc]  # the assignment is what the test refuses
    assert {t, Localized("да", "yes")} == {t} and t != Localized("yes", "да")
    with pytest.raises(CourseError, match="'en' part must be text"):
        Localized("да", None)  # type: ignore[arg-type]  # the wrong type is what the test refuses


def test_empty_is_false_and_any_text_is_true():
    assert not EMPTY and not Localized("", "") and Localized("", "only English") and Localized("только", "")
    assert Localized.same("{A, C}") == Localized("{A, C}", "{A, C}")
    assert Localized("  а ", "\tb\n").strip() == Localized("а", "b")


def test_templates_fill_and_join_language_by_language():
    t = Localized("{n} вершин(ы): {z}", "{n} vertices: {z}").format(n=2, z="{A, C}")
    assert t == Localized("2 вершин(ы): {A, C}", "2 vertices: {A, C}")
    assert t + Localized(".", "!") == Localized("2 вершин(ы): {A, C}.", "2 vertices: {A, C}!")
    with pytest.raises(TypeError):
        t + "."  # type: ignore[operator]  # a plain str has no language: refused, not glued to both texts


MODELS = [Question, Option, Bank, BackdoorQuestion, ItemQuestion]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_no_question_model_pairs_ru_and_en_fields(model):
    """A text in two languages is one Localized field, never a *_ru / *_en (or ru / en) pair of fields."""
    names = {f.name for f in dataclasses.fields(model)}
    paired = sorted(n for n in names if n.endswith(("_ru", "_en")) or n in ("ru", "en"))
    assert not paired, f"{model.__name__} has paired language fields {paired}"


def test_the_loaded_models_hold_localized_texts():
    bank = example_bank()
    q = bank["ex_sets"]
    assert isinstance(bank.title, Localized) and isinstance(q.text, Localized) and isinstance(q.mistake, Localized)
    assert all(isinstance(o.text, Localized) and isinstance(o.why, Localized) for o in q.options)
    assert (q.text("en"), q.mistake("ru")) == ("The smallest sets?", "Нужны обе вершины.")
    generated = backdoor_question(seed=3)
    assert isinstance(generated.text, Localized)
    assert all(isinstance(w, Localized) and w.ru and w.en for w in generated.why.values())
    assert ItemQuestion.from_question(q).text == q.text
    assert pickle.loads(pickle.dumps(bank))["ex_sets"] == q  # questions travel to worker processes


def test_answer_messages_and_reading_notes_are_localized_too():
    from course.quiz.normalize import AnswerError, parse_number, read_letters

    with pytest.raises(AnswerError) as info:
        parse_number("1/0")
    assert info.value.message == Localized(
        "'1/0' — не число: деление на ноль (пишите, например, 0.75, 0,75, 3/4 или 2 1/4)",
        "'1/0' is not a number: division by zero (write e.g. 0.75, 0,75, 3/4 or 2 1/4)",
    )
    assert str(info.value) == info.value.text("en") and not hasattr(info.value, "ru")
    copied = pickle.loads(pickle.dumps(info.value))  # a process pool sends it back to the grader
    assert type(copied) is AnswerError and copied.message == info.value.message
    _, notes = read_letters("{B}", "АБ", {"А": {"B"}, "Б": {"C"}})
    assert notes == (
        Localized("Множество вершин {B} прочитано как вариант А.", "The vertex set {B} was read as option А."),
    )


@pytest.mark.parametrize("answer", ["Б", "в, г", "?"])  # wrong, right, unreadable
def test_scoring_refuses_an_unknown_language_whatever_the_answer(answer):
    from course.quiz.scoring import score_answer

    q = example_bank()["ex_sets"]
    assert score_answer(q, answer, lang="en").feedback != score_answer(q, answer, lang="ru").feedback
    with pytest.raises(CourseError, match="unknown language 'de'"):
        score_answer(q, answer, lang="de")
