"""Item statistics (Moodle definitions), response analysis and the T3 common-mistakes blocks."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.stats

from autograder import items as itemstats
from autograder.report import write_report
from autograder.report.questions import questions_from_data
from autograder.sources import Attempts, Responses, normalise_choice

# T3 question 3 of the course material: "choose the smallest sets", answers В, Г (a report's JSON bank file)
RAW_BANK = {
    "backdoor_2": {
        "text_ru": "Примените backdoor критерий для оценки влияния X на Y. Выберите наименьшие по размеру "
        "множества вершин, необходимых для блокирования всех backdoor-путей",
        "text_en": "Apply the backdoor criterion; choose the smallest sets blocking all backdoor paths",
        "options": {"А": "{B}", "Б": "{D}", "В": "{B, D}", "Г": "{C, D}", "Д": "{A, C}", "Е": "{E}", "Ж": "{A, E}"},
        "correct": ["В", "Г"],
        "explanation": "{B} alone leaves the path through D open.",
    },
    "mdl_two_part": {
        "text_ru": "В двухступенчатом MDL (а именно, L(D, H) = L(D|H) + L(H)) отсутствует компонент, "
        "учитывающий сложность модели H",
        "text_en": "",
        "options": {},
        "correct": ["false"],
        "explanation": "L(H) is that term.",
    },
}
BANK = itemstats.item_questions(questions_from_data(RAW_BANK))


def scored(matrix, item_max):
    m = np.asarray(matrix, dtype=float)
    n = len(m)
    return Attempts.from_rows(
        [f"s{i}" for i in range(n)],
        [None] * n,
        m.sum(axis=1),
        float(np.sum(item_max)),
        questions=[f"q{j + 1}" for j in range(m.shape[1])],
        item_scores=m,
        item_max=item_max,
    )


def test_facility_and_sd_by_hand():
    a = scored([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]], [1, 1, 1])
    stats = itemstats.item_statistics(a)
    assert [s.facility for s in stats] == pytest.approx([75.0, 50.0, 25.0])
    # sample SDs: √(1/4), √(1/3), √(1/4) of a 1-point item, in percent
    assert [s.sd for s in stats] == pytest.approx([50.0, 100 * np.sqrt(1 / 3), 50.0])


def test_discrimination_index_is_correlation_with_the_rest_of_the_test():
    rng = np.random.default_rng(2)
    m = rng.integers(0, 3, size=(30, 4)).astype(float)
    a = scored(m, [2, 2, 2, 2])
    for j, s in enumerate(itemstats.item_statistics(a)):
        rest = m.sum(axis=1) - m[:, j]
        assert s.discrimination_index == pytest.approx(100 * scipy.stats.pearsonr(m[:, j], rest)[0])


def test_discriminative_efficiency_uses_the_largest_attainable_covariance():
    # brute force: the largest covariance over every pairing of the item's scores with the rest scores
    m = np.array([[2, 1, 0], [1, 2, 2], [0, 1, 1], [2, 2, 1], [1, 0, 0], [0, 0, 2]], dtype=float)
    a = scored(m, [2, 2, 2])
    for j, s in enumerate(itemstats.item_statistics(a)):
        x, rest = m[:, j], m.sum(axis=1) - m[:, j]
        cov = np.cov(x, rest)[0, 1]
        cov_max = max(np.cov(x, rest[list(p)])[0, 1] for p in itertools.permutations(range(len(x))))
        assert s.discriminative_efficiency == pytest.approx(100 * cov / cov_max)


def test_an_item_that_good_students_miss_is_dubious():
    # ten students of ability 0..9; q1..q4 are solved from ability 2, 4, 6, 8 on (a Guttman pattern),
    # q5 only by abilities 0..2: it ranks students backwards, so its DE is negative (< 15 %)
    ability = np.arange(10)
    m = np.column_stack([ability >= 2 * j for j in (1, 2, 3, 4)] + [ability <= 2]).astype(float)
    stats = itemstats.item_statistics(scored(m, [1] * 5))
    assert [s.dubious for s in stats] == [False, False, False, False, True]
    assert stats[4].discrimination_index < 0


def responses(rows):
    return Responses(
        np.array([r[0] for r in rows], dtype=object),
        np.array([r[1] for r in rows], dtype=object),
        tuple(normalise_choice(r[2]) for r in rows),
        np.full(len(rows), np.datetime64("NaT", "s")),
    )


# ten answers to backdoor_2: 3 × "В, Г" (right), 4 × "В", 2 × "Б, В", 1 × "Е"; typed the way students type
ANSWERS = (
    [(f"a{i}", "backdoor_2", "в,г") for i in range(3)]
    + [(f"b{i}", "backdoor_2", "B") for i in range(4)]
    + [(f"c{i}", "backdoor_2", "{Б, В}") for i in range(2)]
    + [("d0", "backdoor_2", "E")]
)


def test_response_analysis_counts_each_option():
    r = itemstats.response_analysis(responses(ANSWERS), BANK)["backdoor_2"]
    assert r["responses"] == 10
    got = {o["option"]: (o["count"], o["percent"], o["correct"]) for o in r["options"]}
    assert got["В"] == (9, 90, True) and got["Г"] == (3, 30, True)
    assert got["Б"] == (2, 20, False) and got["Е"] == (1, 10, False) and got["А"] == (0, 0, False)
    assert [o["option"] for o in r["options"]] == list("АБВГДЕЖ")  # the bank's order
    assert r["patterns"][0] == {"answer": "В", "count": 4, "percent": 40, "correct": False}
    assert [o["text"] for o in r["options"]][:3] == ["{B}", "{D}", "{B, D}"]  # the option text beside its letter


def test_common_mistake_block_reads_like_the_course():
    mistakes = itemstats.common_mistakes([], responses(ANSWERS), BANK, threshold=50)
    assert len(mistakes) == 1
    m = mistakes[0]
    assert m["facility"] == pytest.approx(30.0)  # 3 of 10 answers are exactly {В, Г}
    text = "\n".join(itemstats.format_mistake(m, 1))
    assert "«Примените backdoor критерий" in text
    assert "А) {B}  Б) {D}  В) {B, D}  Г) {C, D}  Д) {A, C}  Е) {E}  Ж) {A, E}" in text
    lines = text.splitlines()
    options = "   А) {B}  Б) {D}  В) {B, D}  Г) {C, D}  Д) {A, C}  Е) {E}  Ж) {A, E}"
    assert lines.index("   Правильные ответы: В, Г") > lines.index(options)
    # one line of wrong answers (whole answers as typed, not letter by letter)
    assert "Most common wrong answers: «В» — 4 of 10 (40%), «Б, В» — 2 of 10 (20%), «Е» — 1 of 10 (10%)" in text
    assert "Most chosen wrong options" not in text
    assert "Пояснение: {B} alone leaves the path through D open." in text


def test_true_false_question_prints_words():
    rows = [(f"s{i}", "mdl_two_part", "верно") for i in range(7)] + [
        (f"t{i}", "mdl_two_part", "false") for i in range(3)
    ]
    (m,) = itemstats.common_mistakes([], responses(rows), BANK, threshold=50)
    text = "\n".join(itemstats.format_mistake(m, 1))
    assert "Правильные ответы: неверно" in text
    assert "Most common wrong answers: «верно» — 7 of 10 (70%)" in text
    analysis = itemstats.response_analysis(responses(rows), BANK)["mdl_two_part"]
    assert [(o["option"], o["count"]) for o in analysis["options"]] == [("true", 7), ("false", 3)]
    assert {itemstats.answer_label(o["option"]) for o in analysis["options"]} == {"верно", "неверно"}


def test_the_quiz_banks_question_model_works_too():
    from course.localized import Localized
    from course.quiz.bank import Option, Question

    raw = RAW_BANK["backdoor_2"]
    q = Question(
        "backdoor_2",
        "multiple",
        Localized(raw["text_ru"], ""),
        frozenset("ВГ"),
        options=tuple(Option(letter, Localized.same(text)) for letter, text in raw["options"].items()),
    )
    bank = itemstats.item_questions({"backdoor_2": q})
    (m,) = itemstats.common_mistakes([], responses(ANSWERS), bank, threshold=50)
    assert m["correct"] == ["В", "Г"] and len(m["options"]) == 7


def test_without_a_bank_only_ids_and_numbers_are_shown():
    a = scored([[1, 0], [1, 0], [0, 1], [1, 0]], [1, 1])
    (m,) = itemstats.common_mistakes(itemstats.item_statistics(a), None, None, threshold=50)
    assert m["question"] == "q2" and m["facility"] == pytest.approx(25.0)
    assert itemstats.format_mistake(m, 1) == ["1. **q2** — facility 25.00 %"]


def test_lowest_facility_first_and_threshold_respected():
    a = scored([[1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]], [1, 1, 1])  # facility 75, 25, 25
    found = itemstats.common_mistakes(itemstats.item_statistics(a), threshold=30)
    assert [m["question"] for m in found] == ["q2", "q3"]
    assert itemstats.common_mistakes(itemstats.item_statistics(a), threshold=20) == []


def test_report_contains_the_common_mistakes_section(tmp_path):
    a = Attempts.from_rows(
        [r[0] for r in ANSWERS], ["2024-03-01 10:00"] * 10, [10 if r[2] == "в,г" else 4 for r in ANSWERS], 10
    )
    out = write_report(a, tmp_path / "r", bank=BANK, responses=responses(ANSWERS))
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Some common mistakes" in md and "Правильные ответы: В, Г" in md
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["common_mistakes"][0]["question"] == "backdoor_2"
    assert s["responses"]["backdoor_2"]["responses"] == 10


def test_the_course_quiz_bank_drives_the_t3_blocks(tmp_path, capsys):
    """End to end with course/quiz's own bank file: --questions and --responses on the CLI."""
    from autograder import cli
    from course.quiz.bank import default_bank_path

    grades = tmp_path / "grades.csv"
    answers = tmp_path / "answers.csv"
    # 10 students: 2 answer "В, Г" (right) on t3_backdoor_smallest_sets, 6 answer "В", 2 answer "Г, Д"
    typed = ["в г"] * 2 + ["B"] * 6 + ["{Г,Д}"] * 2
    grades.write_text(
        "student_id,timestamp,score,max_score,t3_backdoor_smallest_sets /1\n"
        + "".join(f"s{i},2024-03-01 1{i % 10}:00,{int(t == 'в г')},1,{int(t == 'в г')}\n" for i, t in enumerate(typed)),
        encoding="utf-8",
    )
    answers.write_text(
        "student_id,question,answer\n"
        + "".join(f's{i},t3_backdoor_smallest_sets,"{t}"\n' for i, t in enumerate(typed)),
        encoding="utf-8",
    )
    code = cli.main(
        [
            "report",
            "--csv",
            str(grades),
            "--out",
            str(tmp_path / "r"),
            "--questions",
            str(default_bank_path()),
            "--responses",
            str(answers),
        ]
    )
    assert code == 0, capsys.readouterr().err
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    section = md[md.index("## Some common mistakes") :]
    assert "1. **t3_backdoor_smallest_sets** — facility 20.00 %" in section  # 2 of 10
    assert "   Правильные ответы: В, Г" in section.splitlines()
    assert "Most chosen wrong options" not in section  # merged into the one line below
    assert "Most common wrong answers: «В» — 6 of 10 (60%), «Г, Д» — 2 of 10 (20%)" in section
    assert "«Примените backdoor критерий" in section


def test_numeric_questions_are_binned_by_typed_value():
    # a typed number has no option letters: its answers are grouped by value, the key (within tolerance) first
    bank = itemstats.item_questions(
        questions_from_data(
            {
                **RAW_BANK,
                "weight": {"text_ru": "w₂ = ?", "kind": "numeric", "options": [], "correct": [-1.0], "tolerance": 0.01},
            }
        )
    )
    typed = ["-1", "-1.0", "−1,005", "2", "2.0", "0.5", "1", "3", "4", "5", "6", "abc", ""]
    rows = [(f"s{i}", "weight", a) for i, a in enumerate(typed)] + [("s1", "backdoor_2", "В")]
    r = Responses(
        np.array([s for s, _, _ in rows], dtype=object),
        np.array([q for _, q, _ in rows], dtype=object),
        tuple(normalise_choice(a) for _, _, a in rows),
        np.full(len(rows), np.datetime64("NaT", "s")),
        raw=tuple(a for _, _, a in rows),
    )
    analysis = itemstats.response_analysis(r, bank)
    w = analysis["weight"]
    assert w["kind"] == "numeric" and w["responses"] == 13
    # by hand: 3 right (−1, −1.0, −1.005 within 0.01); 2 twice; then 0.5, 1, 3, 4, 5 once (5 values shown),
    # 6 goes to "other values"; "abc" is not a number; one empty answer
    assert [(o["option"], o["count"], o["correct"]) for o in w["options"]] == [
        ("-1 ± 0.01", 3, True),
        ("2", 2, False),
        ("0.5", 1, False),
        ("1", 1, False),
        ("3", 1, False),
        ("4", 1, False),
        ("other values (2 distinct)", 2, False),
        ("not a number", 1, False),
        ("(no answer)", 1, False),
    ]
    assert analysis["backdoor_2"]["kind"] == "choice"


def test_questions_come_in_natural_order():
    a = scored([[1, 0, 1, 1]] * 2 + [[0, 1, 0, 1]], [1, 1, 1, 1])
    a = Attempts.from_rows(
        a.student,
        a.timestamp,
        a.score,
        a.max_score,
        questions=["l10", "l2", "l1", "l9"],
        item_scores=a.item_scores,
        item_max=a.item_max,
    )
    rows = [(f"s{i}", q, "В") for i in range(2) for q in ("l10", "l2", "l1")]
    assert list(itemstats.response_analysis(responses(rows))) == ["l1", "l2", "l10"]
    # ties in facility (l10 and l1: 66.7 %) go in natural order too
    found = itemstats.common_mistakes(itemstats.item_statistics(a))
    assert [m["question"] for m in found] == ["l2", "l1", "l10"]


def test_by_default_the_three_hardest_questions_are_the_common_mistakes():
    # facilities by hand: q1 90 %, q2 80 %, q3 70 %, q4 65 %, q5 100 % (nobody wrong: never a "mistake")
    m = np.ones((20, 5))
    m[:2, 0] = 0
    m[:4, 1] = 0
    m[:6, 2] = 0
    m[:7, 3] = 0
    a = scored(m, [1] * 5)
    stats = itemstats.item_statistics(a)
    assert [s.facility for s in stats] == pytest.approx([90, 80, 70, 65, 100])
    assert [x["question"] for x in itemstats.common_mistakes(stats)] == ["q4", "q3", "q2"]
    assert [x["question"] for x in itemstats.common_mistakes(stats, threshold=75)] == ["q4", "q3"]
    assert [x["question"] for x in itemstats.common_mistakes(stats, limit=None)] == ["q4", "q3", "q2", "q1"]
