"""The quiz's answer keys live apart from its questions: loading with and without them, the private keys file
(XAI_COURSE_QUIZ_KEYS), validation of the merged bank, and a clear error wherever keys are needed but absent."""

import os
import shutil
import tomllib
from pathlib import Path

import pytest

from autograder.grading.quiz_notebook import build_quiz_notebook
from course.errors import CourseError
from course.quiz.bank import KEYS_ENV, NO_KEYS, default_bank_path, default_keys_path, load_bank, merge_keys, parse_bank
from course.quiz.export import to_gift, to_moodle_xml, write_export
from course.quiz.notebook import check_readable
from course.quiz.scoring import score_answer

QUIZ_CORPUS = Path(__file__).parent / "fixtures" / "adversarial" / "quiz7"
KEYS_FILE = Path(__file__).resolve().parent.parent / "exercises" / "quiz7" / "keys_quiz7.toml"


@pytest.fixture
def no_keys(monkeypatch, tmp_path):
    """The course's bank as seen where its keys file is missing (XAI_COURSE_QUIZ_KEYS names no file)."""
    monkeypatch.setenv(KEYS_ENV, str(tmp_path / "absent.toml"))
    return load_bank()


def _small(tmp_path, bank_text: str, keys_text: str | None = None) -> Path:
    """A bank file ``bank_small.toml`` and (optionally) its keys file ``keys_small.toml`` beside it."""
    path = tmp_path / "bank_small.toml"
    path.write_text(bank_text, encoding="utf-8")
    if keys_text is not None:
        (tmp_path / "keys_small.toml").write_text(keys_text, encoding="utf-8")
    return path


SMALL = """
[meta]
id = "small"
[[question]]
id = "q1"
kind = "single"
text_ru = "Вопрос"
text_en = "Question"
  [[question.options]]
  letter = "А"
  ru = "да"
  en = "yes"
  [[question.options]]
  letter = "Б"
  ru = "нет"
  en = "no"
"""
SMALL_KEYS = """
[meta]
id = "small"
[[question]]
id = "q1"
correct = ["Б"]
mistake_ru = "Нет."
mistake_en = "No."
  [[question.options]]
  letter = "А"
  why_ru = "А — ловушка"
  why_en = "A is a trap"
"""


# ------------------------------------------------------------------ the course's files


def test_the_bank_file_holds_no_answer_and_the_keys_file_holds_nothing_else(monkeypatch):
    bank = tomllib.loads(default_bank_path().read_text(encoding="utf-8"))
    for q in bank["question"]:
        assert not {"correct", "mistake_ru", "mistake_en"} & set(q), q["id"]
        for o in q.get("options", []):
            assert not {"why_ru", "why_en"} & set(o), (q["id"], o["letter"])
    keys = tomllib.loads(KEYS_FILE.read_text(encoding="utf-8"))
    assert keys["meta"]["id"] == bank["meta"]["id"] == "quiz7"
    assert [k["id"] for k in keys["question"]] == [q["id"] for q in bank["question"]]
    for k in keys["question"]:
        assert set(k) <= {"id", "correct", "mistake_ru", "mistake_en", "options"}, k["id"]
    monkeypatch.delenv(KEYS_ENV, raising=False)
    assert default_keys_path() == KEYS_FILE


def test_default_load_merges_the_keys():
    bank = load_bank()
    assert bank.has_keys and all(q.has_key and q.mistake.ru and q.mistake.en for q in bank)
    assert bank["t3_mdl"].correct is False  # SEED_NOTES T3: L(H) is the complexity term, the statement is false
    assert sorted(bank["t3_backdoor_smallest_sets"].correct) == ["В", "Г"]


# ------------------------------------------------------------------ without keys


def test_keys_false_loads_every_question_without_its_key():
    full, bare = load_bank(), load_bank(keys=False)
    assert not bare.has_keys and "keys=False" in bare.keys_note
    assert [q.id for q in bare] == [q.id for q in full]
    for a, b in zip(full, bare):
        assert (b.correct, b.mistake.ru, b.mistake.en) == (None, "", "")
        assert (b.text.ru, b.letters, b.points, b.kind, b.tolerance) == (
            a.text.ru,
            a.letters,
            a.points,
            a.kind,
            a.tolerance,
        )
        assert all(o.why.ru == o.why.en == "" for o in b.options)


def test_a_missing_keys_file_leaves_check_readable_working(no_keys):
    assert not no_keys.has_keys and "absent.toml" in no_keys.keys_note
    check_readable("t3_mdl", "верно")
    check_readable("t3_backdoor_smallest_sets", "в, Г")
    check_readable("l1_saliency", "б")
    with pytest.raises(AssertionError):
        check_readable("t3_mdl", "может быть")
    with pytest.raises(AssertionError):
        check_readable("t3_backdoor_smallest", "А, Б")  # single choice


def test_scoring_without_keys_is_a_clear_error_not_a_zero(no_keys):
    for answer in ("верно", "неверно"):
        with pytest.raises(CourseError, match=NO_KEYS):
            score_answer(no_keys["t3_mdl"], answer)
    with pytest.raises(CourseError, match=NO_KEYS):
        load_bank(keys=True)


def test_exports_solutions_and_grading_ask_for_the_keys(no_keys):
    for make in (
        lambda: to_moodle_xml(no_keys),
        lambda: to_gift(no_keys),
        lambda: build_quiz_notebook(no_keys),
        lambda: build_quiz_notebook(),
    ):
        with pytest.raises(CourseError, match=NO_KEYS):
            make()
    with pytest.raises(CourseError, match=NO_KEYS):
        write_export(no_keys, "/nonexistent-never-written")

    from autograder import report
    from autograder.grading import checkers

    checkers._quiz_bank.cache_clear()
    try:
        with pytest.raises(CourseError, match=NO_KEYS):
            checkers.check("quiz", "неверно", None, question="t3_mdl")
    finally:
        checkers._quiz_bank.cache_clear()
    with pytest.raises(CourseError, match=NO_KEYS):
        report.load_bank(default_bank_path())


def test_an_empty_keys_file_is_what_the_sandbox_shows(tmp_path):
    empty = tmp_path / "keys.toml"
    empty.write_text("")
    bank = load_bank(keys_path=empty)
    assert not bank.has_keys and "empty" in bank.keys_note
    with pytest.raises(CourseError, match=NO_KEYS):
        load_bank(keys=True, keys_path=empty)


# ------------------------------------------------------------------ the private keys file


def test_the_environment_variable_points_at_a_private_keys_file(monkeypatch, tmp_path):
    private = tmp_path / "private" / "keys.toml"
    private.parent.mkdir()
    text = KEYS_FILE.read_text(encoding="utf-8")
    assert text.count("correct = false") >= 1
    # the instructor's private copy says "true" for t3_mdl (the first question of the file)
    private.write_text(text.replace("correct = false", "correct = true", 1), encoding="utf-8")
    monkeypatch.setenv(KEYS_ENV, str(private))
    assert default_keys_path() == private
    bank = load_bank()
    assert bank["t3_mdl"].correct is True
    assert score_answer(bank["t3_mdl"], "верно").points == 1.0
    # an explicit bank path of the course's bank follows the variable too (the report passes the path)
    assert load_bank(default_bank_path())["t3_mdl"].correct is True


def test_without_the_variable_or_a_course_directory_the_error_names_both(monkeypatch):
    import course.nbgrader_setup

    def nowhere(start=None):
        raise CourseError("no nbgrader course found")

    monkeypatch.delenv(KEYS_ENV, raising=False)
    monkeypatch.setattr(course.nbgrader_setup, "course_root", nowhere)
    assert default_keys_path() is None
    assert not load_bank().has_keys  # students' side: the questions load, without keys
    with pytest.raises(CourseError, match=NO_KEYS) as caught:
        load_bank(keys=True)
    assert KEYS_ENV in str(caught.value) and "nbgrader course directory" in str(caught.value)
    assert "exercises/quiz7/keys_quiz7.toml" in str(caught.value)


def test_the_grader_uses_the_keys_of_the_course_it_grades(monkeypatch, tmp_path):
    """``xai-course autograde --course DIR``: DIR's exercises/quiz7/keys_quiz7.toml, unless the variable names
    a file."""
    from autograder.grading.keys import course_keys

    monkeypatch.delenv(KEYS_ENV, raising=False)
    source = tmp_path / "course" / "exercises"
    (source / "quiz7").mkdir(parents=True)
    theirs = source / "quiz7" / "keys_quiz7.toml"
    theirs.write_text(
        KEYS_FILE.read_text(encoding="utf-8").replace("correct = false", "correct = true", 1), encoding="utf-8"
    )
    with course_keys(source) as used:
        assert used == theirs and default_keys_path() == theirs
        assert load_bank()["t3_mdl"].correct is True
    assert os.environ.get(KEYS_ENV) is None and load_bank()["t3_mdl"].correct is False
    monkeypatch.setenv(KEYS_ENV, str(KEYS_FILE))
    with course_keys(source) as used:  # an instructor's private file wins
        assert used is None and load_bank()["t3_mdl"].correct is False
    with course_keys(tmp_path / "elsewhere") as used:
        assert used is None


def test_the_variable_does_not_apply_to_another_bank(monkeypatch, tmp_path):
    monkeypatch.setenv(KEYS_ENV, str(KEYS_FILE))
    path = _small(tmp_path, SMALL, SMALL_KEYS)
    assert default_keys_path(path) == tmp_path / "keys_small.toml"
    assert load_bank(path)["q1"].correct == frozenset({"Б"})


def test_a_small_bank_and_its_keys_file_merge(tmp_path):
    q = load_bank(_small(tmp_path, SMALL, SMALL_KEYS))["q1"]
    assert q.correct == frozenset({"Б"}) and q.mistake.en == "No." and q.option("А").why.en == "A is a trap"
    assert score_answer(q, "а", lang="en").feedback.startswith("Options that are not correct: А. А: A is a trap.")
    other = tmp_path / "other.toml"
    other.write_text(SMALL, encoding="utf-8")
    assert default_keys_path(other) == tmp_path / "other.keys.toml"
    shutil.copy(tmp_path / "keys_small.toml", tmp_path / "other.keys.toml")
    assert load_bank(other).has_keys


# ------------------------------------------------------------------ validation of the merged bank


@pytest.mark.parametrize(
    "keys, message",
    [
        (SMALL_KEYS.replace('correct = ["Б"]', 'correct = ["В"]'), "'В' is not an option"),
        (SMALL_KEYS.replace('correct = ["Б"]', 'correct = ["Б", "Б"]'), "lists a letter twice"),
        (SMALL_KEYS.replace('correct = ["Б"]', "correct = []"), "no correct answer"),
        (SMALL_KEYS.replace('correct = ["Б"]\n', ""), "no correct answer"),
        (SMALL_KEYS.replace('id = "q1"', 'id = "q2"'), "not in the bank"),
        (SMALL_KEYS.replace('id = "small"', 'id = "quiz7"'), "keys of bank 'quiz7'"),
        (SMALL_KEYS.replace('mistake_en = "No."', 'text_en = "Spoiler"'), "not a key field"),
        (SMALL_KEYS.replace('letter = "А"', 'letter = "Д"'), "option 'Д'"),
        ("[[question]\n", "not valid TOML"),
    ],
)
def test_bad_keys_are_course_errors(tmp_path, keys, message):
    path = _small(tmp_path, SMALL, keys)
    with pytest.raises(CourseError, match=message):
        load_bank(path)


def test_a_key_given_twice_is_an_error(tmp_path):
    inline = SMALL.replace('text_en = "Question"', 'text_en = "Question"\ncorrect = ["А"]')
    with pytest.raises(CourseError, match="both in the bank and in the keys file"):
        load_bank(_small(tmp_path, inline, SMALL_KEYS))


def test_inline_keys_still_work_and_keys_false_drops_them(tmp_path):
    inline = SMALL.replace('text_en = "Question"', 'text_en = "Question"\ncorrect = ["А"]')
    path = _small(tmp_path, inline)
    assert load_bank(path)["q1"].correct == frozenset({"А"}) and load_bank(path, keys=True).has_keys
    assert load_bank(path, keys=False)["q1"].correct is None


def test_merge_keys_leaves_its_input_alone():
    bank = tomllib.loads(SMALL)
    merged = merge_keys(bank, tomllib.loads(SMALL_KEYS))
    assert "correct" not in bank["question"][0] and "why_en" not in bank["question"][0]["options"][0]
    assert parse_bank(merged)["q1"].has_key


# ------------------------------------------------------------------ the adversarial submission is a real threat


def test_the_key_reading_submission_would_earn_full_marks_where_keys_are_readable():
    """tests/fixtures/adversarial/quiz7/read_keys.toml run in this process (keys readable): every cheat works,
    so its 0 inside the sandbox (tests/test_autograde_adversarial.py) comes from hiding the keys."""
    case = tomllib.loads((QUIZ_CORPUS / "read_keys.toml").read_text(encoding="utf-8"))
    bank = load_bank(keys=True)
    assert set(case["answers"]) == {f"{qid}_answer" for qid in case["expected"]}
    for cell, source in case["answers"].items():
        qid = cell[: -len("_answer")]
        namespace: dict = {}
        exec(compile(source, cell, "exec"), namespace)
        score = score_answer(bank[qid], namespace[f"answer_{qid}"])
        assert score.points == score.max_points, (qid, namespace[f"answer_{qid}"])


# ------------------------------------------------------------------ the sandbox hides the keys


def _masked(args: list[str]) -> set[str]:
    return {args[i + 2] for i in range(len(args) - 2) if args[i : i + 2] == ["--ro-bind", "/dev/null"]}


def test_the_keys_are_not_in_the_package_and_the_sandbox_shows_none(monkeypatch, tmp_path):
    import os

    import course.quiz
    from autograder.sandbox import Limits, Sandbox, _python_paths, quiz_keys_paths

    assert not [p.name for p in Path(course.quiz.__file__).parent.glob("*.toml") if not p.name.startswith("bank_")]
    monkeypatch.delenv(KEYS_ENV, raising=False)
    real = os.path.realpath(KEYS_FILE)
    assert real in quiz_keys_paths()
    mounted = _python_paths()
    masked = _masked(Sandbox(Limits())._bwrap_args(uid=None, files_dir=None))
    assert real in masked or not any(real.startswith(m.rstrip("/") + "/") for m in mounted)
    # a keys file left inside the mounted package (here: named by the variable) is overlaid with an empty file
    inside = os.path.join(os.path.dirname(os.path.realpath(course.quiz.__file__)), "keys_private.toml")
    monkeypatch.setenv(KEYS_ENV, inside)
    assert inside in quiz_keys_paths()
    assert inside in _masked(Sandbox(Limits())._bwrap_args(uid=None, files_dir=None))
    # a private keys file named by the variable is listed too (masked when it lies under a mounted tree)
    monkeypatch.setenv(KEYS_ENV, str(tmp_path / "private.toml"))
    assert os.path.realpath(tmp_path / "private.toml") in quiz_keys_paths()
