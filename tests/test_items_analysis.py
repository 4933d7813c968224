"""Item statistics (Moodle definitions), response analysis and the T3 common-mistakes blocks."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.stats

from autograder import items as itemstats
from autograder.report import write_report
from autograder.sources import Attempts, Responses, normalise_choice

# T3 question 3 of the course material: "choose the smallest sets", answers В, Г
BANK = {
    "backdoor_2": {
        "text_ru": "Примените backdoor критерий для оценки влияния X на Y. Выберите наименьшие по размеру "
                   "множества вершин, необходимых для блокирования всех backdoor-путей",
        "text_en": "Apply the backdoor criterion; choose the smallest sets blocking all backdoor paths",
        "options": {"А": "{B}", "Б": "{D}", "В": "{B, D}", "Г": "{C, D}", "Д": "{A, C}", "Е": "{E}",
                    "Ж": "{A, E}"},
        "correct": ["В", "Г"],
        "explanation": "{B} alone leaves the path through D open.",
    },
    "mdl_two_part": {
        "text_ru": "В двухступенчатом MDL (а именно, L(D, H) = L(D|H) + L(H)) отсутствует компонент, "
                   "учитывающий сложность модели H",
        "text_en": "", "options": {}, "correct": ["false"], "explanation": "L(H) is that term.",
    },
}


def scored(matrix, item_max):
    m = np.asarray(matrix, dtype=float)
    n = len(m)
    return Attempts.from_rows([f"s{i}" for i in range(n)], [None] * n, m.sum(axis=1), float(np.sum(item_max)),
                              questions=[f"q{j + 1}" for j in range(m.shape[1])], item_scores=m, item_max=item_max)


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
    return Responses(np.array([r[0] for r in rows], dtype=object), np.array([r[1] for r in rows], dtype=object),
                     tuple(normalise_choice(r[2]) for r in rows), np.full(len(rows), np.datetime64("NaT", "s")))


# ten answers to backdoor_2: 3 × "В, Г" (right), 4 × "В", 2 × "Б, В", 1 × "Е"; typed the way students type
ANSWERS = ([(f"a{i}", "backdoor_2", "в,г") for i in range(3)] + [(f"b{i}", "backdoor_2", "B") for i in range(4)]
           + [(f"c{i}", "backdoor_2", "{Б, В}") for i in range(2)] + [("d0", "backdoor_2", "E")])


def test_response_analysis_counts_each_option():
    r = itemstats.response_analysis(responses(ANSWERS), BANK)["backdoor_2"]
    assert r["responses"] == 10
    got = {o["option"]: (o["count"], o["percent"], o["correct"]) for o in r["options"]}
    assert got["В"] == (9, 90, True) and got["Г"] == (3, 30, True)
    assert got["Б"] == (2, 20, False) and got["Е"] == (1, 10, False) and got["А"] == (0, 0, False)
    assert [o["option"] for o in r["options"]] == list("АБВГДЕЖ")  # the bank's order
    assert r["patterns"][0] == {"answer": "В", "count": 4, "percent": 40}


def test_common_mistake_block_reads_like_the_course():
    mistakes = itemstats.common_mistakes([], responses(ANSWERS), BANK, threshold=50)
    assert len(mistakes) == 1
    m = mistakes[0]
    assert m["facility"] == pytest.approx(30.0)  # 3 of 10 answers are exactly {В, Г}
    assert [w["option"] for w in m["wrong_choices"]] == ["Б", "Е"]
    text = "\n".join(itemstats.format_mistake(m, 1))
    assert "«Примените backdoor критерий" in text
    assert "А) {B}  Б) {D}  В) {B, D}  Г) {C, D}  Д) {A, C}  Е) {E}  Ж) {A, E}" in text
    lines = text.splitlines()
    assert lines.index("   Правильные ответы: В, Г") > lines.index("   А) {B}  Б) {D}  В) {B, D}  Г) {C, D}  Д) {A, C}  "
                                                              "Е) {E}  Ж) {A, E}")
    assert "Б — 2 of 10 (20%), Е — 1 of 10 (10%)" in text
    assert "Пояснение: {B} alone leaves the path through D open." in text


def test_true_false_question_prints_words():
    rows = [(f"s{i}", "mdl_two_part", "верно") for i in range(7)] + [(f"t{i}", "mdl_two_part", "false") for i in
                                                                     range(3)]
    (m,) = itemstats.common_mistakes([], responses(rows), BANK, threshold=50)
    text = "\n".join(itemstats.format_mistake(m, 1))
    assert "Правильные ответы: неверно" in text
    assert "Most chosen wrong options: верно — 7 of 10 (70%)" in text


@dataclass
class Question:  # the bank protocol with attributes instead of keys
    text_ru: str
    options: dict
    correct: list
    text_en: str = ""
    explanation: str = ""
    extra: dict = field(default_factory=dict)


def test_bank_objects_with_attributes_work_too():
    bank = {"backdoor_2": Question(BANK["backdoor_2"]["text_ru"], BANK["backdoor_2"]["options"], ["В", "Г"])}
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
    a = Attempts.from_rows([r[0] for r in ANSWERS], ["2024-03-01 10:00"] * 10,
                           [10 if r[2] == "в,г" else 4 for r in ANSWERS], 10)
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
    grades.write_text("student_id,timestamp,score,max_score,t3_backdoor_smallest_sets /1\n" + "".join(
        f"s{i},2024-03-01 1{i % 10}:00,{int(t == 'в г')},1,{int(t == 'в г')}\n" for i, t in enumerate(typed)),
        encoding="utf-8")
    answers.write_text("student_id,question,answer\n" + "".join(
        f"s{i},t3_backdoor_smallest_sets,\"{t}\"\n" for i, t in enumerate(typed)), encoding="utf-8")
    code = cli.main(["report", "--csv", str(grades), "--out", str(tmp_path / "r"),
                     "--questions", str(default_bank_path()), "--responses", str(answers)])
    assert code == 0, capsys.readouterr().err
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    section = md[md.index("## Some common mistakes"):]
    assert "1. **t3_backdoor_smallest_sets** — facility 20.00 %" in section  # 2 of 10
    assert "   Правильные ответы: В, Г" in section.splitlines()
    # wrong options: В is right, so the wrong ones are Д (2 of 10)
    assert "Most chosen wrong options: Д — 2 of 10 (20%)" in section
    assert "Most common wrong answers: «В» — 6 of 10 (60%), «Г, Д» — 2 of 10 (20%)" in section
    assert "«Примените backdoor критерий" in section


def test_numeric_questions_have_no_option_table():
    # a typed number has no option letters: counting "options" would show the key as chosen by 0 % of students
    bank = {**BANK, "weight": {"text_ru": "w₂ = ?", "kind": "numeric", "options": [], "correct": [-1.0]}}
    rows = [("s1", "weight", "-1"), ("s2", "weight", "-1.0"), ("s1", "backdoor_2", "В")]
    r = Responses(np.array([s for s, _, _ in rows], dtype=object), np.array([q for _, q, _ in rows], dtype=object),
                  tuple(normalise_choice(a) for _, _, a in rows), np.full(len(rows), np.datetime64("NaT", "s")))
    analysis = itemstats.response_analysis(r, bank)
    assert "weight" not in analysis and analysis["backdoor_2"]["responses"] == 1


def test_numeric_questions_get_no_facility_from_letter_matching():
    bank = {"weight": {"kind": "numeric", "options": [], "correct": [-1.0]}}
    r = Responses(np.array(["s1"], dtype=object), np.array(["weight"], dtype=object), (normalise_choice("-1"),),
                  np.full(1, np.datetime64("NaT", "s")))
    assert itemstats.facility_from_responses(r, bank) == {}
