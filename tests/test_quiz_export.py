"""Moodle XML and GIFT export of the bank (course.quiz.export), read back independently."""

import html
import re
import xml.etree.ElementTree as ET

import pytest

from course.errors import CourseError
from course.quiz.bank import load_bank
from course.quiz.export import to_gift, to_moodle_xml, write_export

BANK = load_bank()


@pytest.fixture(scope="module")
def moodle():
    return ET.fromstring(to_moodle_xml(BANK).encode("utf-8"))


def _questions(root):
    return {q.find("name/text").text: q for q in root.findall("question") if q.get("type") != "category"}


def test_xml_has_a_category_and_every_question(moodle):
    assert moodle.tag == "quiz"
    assert moodle.find("question[@type='category']/category/text").text == "$course$/top/quiz7"
    assert list(_questions(moodle)) == [q.id for q in BANK]


def test_xml_types_and_grades(moodle):
    expected_type = {
        "truefalse": "truefalse",
        "single": "multichoice",
        "multiple": "multichoice",
        "numeric": "numerical",
    }
    for q in BANK:
        el = _questions(moodle)[q.id]
        assert el.get("type") == expected_type[q.kind]
        assert float(el.find("defaultgrade").text) == q.points
        assert q.text.ru in html.unescape(el.find("questiontext/text").text)


def test_xml_truefalse_key(moodle):
    el = _questions(moodle)["t3_mdl"]
    fractions = {a.find("text").text: a.get("fraction") for a in el.findall("answer")}
    assert fractions == {"true": "0", "false": "100"}  # the MDL statement is false


def test_xml_multiple_choice_weights_match_the_proportional_policy(moodle):
    el = _questions(moodle)["t3_backdoor_smallest_sets"]
    assert el.find("single").text == "false"
    weights = {a.find("text").text.split(")")[0]: float(a.get("fraction")) for a in el.findall("answer")}
    # two correct options (В, Г): +50 % each; five wrong ones: −100/5 = −20 % each
    assert weights == {"А": -20, "Б": -20, "В": 50, "Г": 50, "Д": -20, "Е": -20, "Ж": -20}
    texts = [a.find("text").text for a in el.findall("answer")]
    assert texts[2] == "В) {B, D}"
    assert "dag {" in el.find("questiontext/text").text


def test_xml_single_choice_and_numeric(moodle):
    q2 = _questions(moodle)["t3_backdoor_smallest"]
    assert q2.find("single").text == "true"
    assert [a.get("fraction") for a in q2.findall("answer")] == ["100", "0", "0", "0", "0", "0"]
    num = _questions(moodle)["l8_epsilon_absorbs"]
    ans = num.find("answer")
    got = (float(ans.find("text").text), float(ans.find("tolerance").text), ans.get("fraction"))
    assert got == (2.25, 0.001, "100")


def test_xml_three_correct_options_get_a_third_each_two_wrong_a_half(moodle):
    el = _questions(moodle)["l19_signal_methods"]
    weights = sorted(float(a.get("fraction")) for a in el.findall("answer"))
    assert weights == [-50, -50, 33.33333, 33.33333, 33.33333]  # three correct, two wrong


def test_multilang_xml_holds_both_languages():
    root = ET.fromstring(to_moodle_xml(BANK, lang="multilang").encode("utf-8"))
    text = _questions(root)["t3_mdl"].find("questiontext/text").text
    assert 'lang="ru"' in text and 'lang="en"' in text and "two-part MDL" in text


def test_unknown_language_is_refused():
    with pytest.raises(CourseError, match="unknown export language 'de'"):
        to_gift(BANK, lang="de")


# ---- GIFT, read back with a small reader written from the format's description


def _unescape(s):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), s)


def _split_unescaped(s, chars):
    """Split s at unescaped characters in chars, keeping the separator with the piece after it."""
    pieces, cur, i = [], "", 0
    while i < len(s):
        if s[i] == "\\":
            cur += s[i : i + 2]
            i += 2
            continue
        if s[i] in chars:
            pieces.append(cur)
            cur = s[i]
        else:
            cur += s[i]
        i += 1
    pieces.append(cur)
    return pieces


def _read_gift(text):
    out = {}
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln and not ln.startswith("//") and not ln.startswith("$CATEGORY")]
        if not lines:
            continue
        body = "\n".join(lines)
        m = re.match(r"::(\w+)::\s*(.*)$", body, re.S)
        assert m, body
        qid, rest = m.groups()
        opens = [i for i, c in enumerate(rest) if c == "{" and (i == 0 or rest[i - 1] != "\\")]
        closes = [i for i, c in enumerate(rest) if c == "}" and (i == 0 or rest[i - 1] != "\\")]
        assert len(opens) == len(closes) == 1, f"{qid}: unbalanced answer braces"
        stem, answer = rest[: opens[0]].strip(), rest[opens[0] + 1 : closes[0]]
        answer, _, general = answer.partition("####")
        out[qid] = (_unescape(stem), answer.strip(), _unescape(general.strip()))
    return out


def test_gift_round_trip():
    parsed = _read_gift(to_gift(BANK))
    assert list(parsed) == [q.id for q in BANK]
    for q in BANK:
        stem, answer, general = parsed[q.id]
        assert stem.startswith(q.text.ru), q.id
        assert general == q.mistake.ru
        if q.kind == "truefalse":
            assert answer == ("TRUE" if q.correct else "FALSE")
        elif q.kind == "numeric":
            value, tol = answer.lstrip("#").split(":")
            assert (float(value), float(tol)) == (q.correct, q.tolerance)
        else:
            items = [p.strip() for p in _split_unescaped(answer, "=~") if p.strip()]
            assert len(items) == len(q.options)
            for item, o in zip(items, q.options):
                if q.kind == "single":
                    assert item[0] == ("=" if o.letter in q.correct else "~")
                    label = item[1:]
                else:
                    w, label = re.match(r"~%(-?[\d.]+)%(.*)", item, re.S).groups()
                    assert (float(w) > 0) == (o.letter in q.correct)
                assert _unescape(label) == f"{o.letter}) {o.text.ru}"


def test_gift_escapes_braces_in_set_options():
    gift = to_gift(BANK)
    assert r"В) \{B, D\}" in gift and "В) {B, D}" not in gift


def test_write_export(tmp_path):
    paths = write_export(BANK, tmp_path / "moodle")
    ET.parse(paths["moodle_xml"])
    assert paths["gift"].read_text(encoding="utf-8").count("::") == 2 * len(BANK)


def test_cli_check_and_export(tmp_path, capsys):
    from autograder.cli import main

    assert main(["quiz", "check"]) == 0
    assert "quiz7: " in capsys.readouterr().out
    assert main(["quiz", "export", "--out", str(tmp_path), "--lang", "multilang"]) == 0
    ET.parse(tmp_path / "quiz7.xml")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[question]]\nid = "q"\nkind = "essay"\ntext_ru = "т"\ntext_en = "t"\ncorrect = true\n', encoding="utf-8"
    )
    assert main(["quiz", "check", "--bank", str(bad)]) == 2
    assert "unknown kind 'essay'" in capsys.readouterr().err


def test_export_does_not_overwrite_without_force(tmp_path, capsys):
    from autograder.cli import main

    xml = tmp_path / "quiz7.xml"
    xml.write_text("mine", encoding="utf-8")
    assert main(["quiz", "export", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err
    assert xml.read_text(encoding="utf-8") == "mine" and not (tmp_path / "quiz7.gift.txt").exists()
    assert main(["quiz", "export", "--out", str(tmp_path), "--force"]) == 0
    ET.parse(xml)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quiz7.gift.txt", "quiz7.xml"]  # no temporary files left


def test_export_into_a_file_is_a_course_error(tmp_path):
    (tmp_path / "f").write_text("", encoding="utf-8")
    with pytest.raises(CourseError, match="is not a directory"):
        write_export(BANK, tmp_path / "f")


def test_moodle_scores_every_choice_from_the_exported_fractions_as_the_course_does(moodle):
    """Moodle's multichoice grade is the sum of the ticked answers' fractions, floored at 0 and capped at 100 %;
    read back from the XML, it agrees with score_answer on every subset of options of every multiple question."""
    from itertools import combinations

    from course.quiz.scoring import score_answer

    for q in BANK:
        if q.kind != "multiple":
            continue
        el = _questions(moodle)[q.id]
        fractions = {a.find("text").text.split(")")[0]: float(a.get("fraction")) for a in el.findall("answer")}
        for k in range(1, len(q.options) + 1):
            for ticked in combinations(q.letters, k):
                moodle_grade = min(100.0, max(0.0, sum(fractions[t] for t in ticked))) / 100 * q.points
                ours = score_answer(q, ", ".join(ticked)).points
                if q.partial == "proportional":
                    assert ours == pytest.approx(moodle_grade, abs=1e-6), (q.id, ticked)


# Moodle's grade options (question_bank::fraction_options_full(), in percent): an imported answer whose fraction
# is not one of them is refused by Moodle's importers ("matchgrades" = error, the default).
MOODLE_GRADES = {
    100,
    90,
    83.33333,
    80,
    75,
    70,
    66.66667,
    60,
    50,
    40,
    33.33333,
    30,
    25,
    20,
    16.66667,
    14.28571,
    12.5,
    11.11111,
    10,
    5,
    0,
}


def test_every_exported_fraction_is_a_grade_moodle_accepts(moodle):
    from course.quiz.export import option_fractions
    from course.quiz.variants import backdoor_variant

    for q in BANK:
        for a in _questions(moodle)[q.id].findall("answer"):
            assert abs(float(a.get("fraction"))) in MOODLE_GRADES, (q.id, a.get("fraction"))
    for student in (f"s{i:03d}" for i in range(60)):  # every shape of |C|, |W| the variants make
        for f in option_fractions(backdoor_variant(student)).values():
            assert float(f"{abs(f):.5f}".rstrip("0").rstrip(".")) in MOODLE_GRADES
