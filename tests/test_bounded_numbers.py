"""Numbers from student data: every conversion is bounded in time and memory, out of range is a wrong answer.

A value that left the sandbox (decoded by :mod:`autograder.grading.plaindata`) reaches
three kinds of conversion in the grader: the pipeline's checkers
(the named ones of :mod:`autograder.grading.checkers`), the course specs' ``array_close``/``number_close``
and the quiz's number reader (:func:`course.quiz.normalize.parse_number`). An
answer such as ``10**400`` or ``"1e999999999"`` must score 0 for that one test —
never raise (which would lose the whole submission) and never build a giant
integer (``Fraction("1e999999999")`` would hold the GIL for hours).
Slow cases run in a child interpreter with a generous timeout: an unbounded
conversion does not finish in minutes, a bounded one in milliseconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder.grading.checkers import array_close, as_array, check, number_close
from autograder.grading.model import Part, Probe
from autograder.grading.plaindata import PlainDataError, decode
from course.errors import CourseError
from course.quiz.bank import load_bank
from tests.autograde_support import corpus
from tests.test_collect_files import HONEST, assert_graded_as_written, cohort_fixture, e2e

HUGE = 10**400  # beyond float64 (max ~1.8e308)
#: strings whose exact rational value is astronomically large or small: float() reads them at once
NUMERIC = {q.id for q in load_bank(keys=True) if q.kind == "numeric"}
EXPONENTS = ["1e8000000", "1e999999999", "-1e999999999", "1e-999999999", "0.5e+99999999999999", "1/" + "1" * 4000]


def _in_child(code: str, timeout: float = 30) -> str:
    """Run ``code`` in a fresh interpreter; fail (not hang) when it does not finish within ``timeout``."""
    try:
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"the conversion did not finish in {timeout:g} s (unbounded in the size of the number)")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


# ------------------------------------------------------------------ the quiz's number reader


@pytest.mark.parametrize("text", EXPONENTS)
def test_quiz_reads_any_exponent_in_bounded_time(text):
    """Scored in a child: an unbounded reader (``Fraction("1e999999999")``) would not finish for hours."""
    out = _in_child(f"""
        from course.quiz.bank import load_bank
        from course.quiz.scoring import score_answer
        question = next(q for q in load_bank(keys=True) if q.kind == "numeric")
        print(score_answer(question, {text!r}).points)
    """)
    assert out.strip() == "0.0"


@pytest.mark.parametrize("answer", [HUGE, -HUGE, 10**4000, [HUGE]], ids=["1e400", "-1e400", "1e4000", "list"])
def test_quiz_part_scores_a_number_out_of_range_zero(answer):
    """quiz7's parts grade with score_answer: an int beyond float64 is a wrong answer, not an OverflowError."""
    from autograder.grading import load_assignment

    part = next(p for p in load_assignment("quiz7") if p.grade_id in NUMERIC)
    result = part.grade([answer], student_id="s1")
    assert result.points == 0.0 and result.feedback


# ------------------------------------------------------------------ plain data from the sandbox


def test_decode_keeps_a_big_int_and_reads_any_float_exponent():
    assert decode(json.dumps([HUGE])) == [HUGE]
    assert decode("[1e999999999, -1e999999999, 1e-999999999]") == [np.inf, -np.inf, 0.0]


def test_decode_refuses_an_int_with_too_many_digits_whatever_the_interpreter_limit():
    """json.loads builds ints with int(); its digit limit is a process-wide setting anyone may lift."""
    out = _in_child("""
        import sys
        sys.set_int_max_str_digits(0)  # no limit: int() of a long digit string is quadratic
        from autograder.grading.plaindata import PlainDataError, decode
        try:
            decode("[" + "7" * 5_000_000 + "]")
            print("decoded")
        except PlainDataError as exc:
            print("refused", exc)
    """)
    assert out.startswith("refused") and "digits" in out


def test_decode_refuses_an_overlong_float_literal():
    with pytest.raises(PlainDataError, match="digits"):
        decode("[0." + "3" * 100_000 + "]")


@pytest.mark.parametrize("shape", [[0, HUGE], [0, 2**63], [2**40, 0], [-1]], ids=["1e400", "2**63", "2**40", "-1"])
def test_decode_refuses_an_array_shape_out_of_range(shape):
    """An empty array whose shape NumPy cannot hold is a malformed value, not a ValueError from reshape."""
    message = json.dumps({"__ndarray__": {"dtype": "<f8", "shape": shape, "data": ""}})
    with pytest.raises(PlainDataError, match="shape"):
        decode(message)


# ------------------------------------------------------------------ the pipeline's checkers


@pytest.mark.parametrize("value", [HUGE, [1.0, HUGE], [[HUGE]], -HUGE], ids=["int", "list", "nested", "negative"])
def test_close_checker_scores_zero_for_a_number_out_of_range(value):
    key = [1.0, 2.0] if isinstance(value, list) else 1.0
    result = check("close", value, key)
    assert result.fraction == 0.0 and "out of range" in result.message


def test_close_checker_partial_keeps_the_honest_half():
    key = [np.array([0.0, 0.0, 3.0]), np.array([0.0, 0.0, 0.0, 0.5, 1.0])]
    result = check("close", [[0.0, 0.0, 3.0], [HUGE, 0, 0, 0.5, 1.0]], key, partial=True)
    assert result.fraction == 0.5


@pytest.mark.parametrize("value", [HUGE, [HUGE, 1], "1e999999999"], ids=["int", "list", "str"])
def test_exact_and_set_checkers_do_not_raise(value):
    assert check("exact", value, 3).fraction == 0.0
    assert check("set", value, {"A"}).fraction == 0.0


# ------------------------------------------------------------------ the course specs' checkers


@pytest.mark.parametrize("value", [HUGE, [1.0, HUGE], [[HUGE, 0.0]]], ids=["int", "list", "nested"])
def test_as_array_says_out_of_range(value):
    with pytest.raises(CourseError, match="out of range"):
        as_array(value)


@pytest.mark.parametrize("checker", [array_close(), number_close()])
def test_course_checkers_refuse_with_the_message_part_grade_shows(checker):
    with pytest.raises(CourseError, match="out of range"):  # Part.grade turns it into a failed probe
        checker(HUGE, 1.0, {})


def test_course_part_with_a_huge_value_is_a_wrong_answer_for_that_probe_only():
    part = Part(
        "p",
        2.0,
        (Probe("a", key=lambda ctx: 1.0, check=number_close()), Probe("b", key=lambda ctx: 2.0, check=number_close())),
    )
    result = part.grade([HUGE, 2.0])
    assert result.points == 1.0 and "out of range" in result.feedback


# ------------------------------------------------------------------ graded end to end, warm and cold

NUMBER_CASES = [n for n in corpus() if n.startswith("numbers_")]
graded = cohort_fixture()


@e2e
def test_numbers_cost_only_their_own_tests(graded):
    """numbers_*.toml next to honest submissions: exact points, the honest parts kept, nobody else affected."""
    assert_graded_as_written(graded, HONEST + NUMBER_CASES)


# ------------------------------------------------------------------ the decoder: plain data or PlainDataError


def _json_values():
    from hypothesis import strategies as st

    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=8),
        st.sampled_from(["<f8", "|u1", "__set__", "__dict__", "__ndarray__", "AAAA", "dtype"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(
                st.sampled_from(["__set__", "__dict__", "__ndarray__", "dtype", "shape", "data", "x"]),
                inner,
                max_size=3,
            ),
        ),
        max_leaves=20,
    )


def test_decode_returns_plain_data_or_refuses_whatever_the_message():
    """Random JSON, tag shapes included: decode() never raises anything but PlainDataError."""
    from hypothesis import given, settings

    @settings(max_examples=500, deadline=None)
    @given(_json_values())
    def run(value):
        try:
            decode(json.dumps(value))
        except PlainDataError:
            pass

    run()


def _student_scalars(text_size: int, odd: list[str]):
    """Any plain scalar a student may send: None, bools, integers far beyond float64, any float (inf, nan),
    short texts and the ``odd`` strings."""
    from hypothesis import strategies as st

    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**500), max_value=10**500),
        st.floats(),
        st.text(max_size=text_size),
        st.sampled_from(odd),
    )


def test_every_checker_scores_any_decoded_value_without_raising():
    """Whatever plain value a student sends, each checker returns a fraction in [0, 1] (no exception)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    bank = load_bank(keys=True)
    cases = [
        ("close", [0.0, 1.0], {}),
        ("close", [[0.0], [1.0, 2.0]], {"partial": True}),
        ("exact", 3, {}),
        ("exact", {"a": [1, 2]}, {}),
        ("set", {"A", "B"}, {}),
        ("sets", [{"A"}, {"B", "C"}], {}),
    ]
    kinds = ("numeric", "multiple", "truefalse")
    cases += [("quiz", None, {"question": q.id}) for q in bank if q.kind in kinds][:6]
    values = st.recursive(
        _student_scalars(12, ["1e999999999", "А, Б", "1/0"]),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(max_size=3), inner, max_size=3),
            st.frozensets(st.one_of(st.integers(), st.text(max_size=3)), max_size=3),
        ),
        max_leaves=12,
    )

    @settings(max_examples=300, deadline=None)
    @given(values, st.sampled_from(cases))
    def run(value, case):
        name, key, options = case
        result = check(name, value, key, **options)
        assert 0.0 <= result.fraction <= 1.0

    run()


def test_every_course_part_grades_any_plain_value_without_raising():
    """Each part of every course spec (autograder.grading.assignments): any plain value earns between 0 and its
    points, never an exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from autograder.grading import load_assignment

    parts = [
        part
        for name in ("backdoor", "lrp_rules", "deep_taylor", "pattern_attribution", "quiz7")
        for part in load_assignment(name)
    ]
    values = st.recursive(
        _student_scalars(8, ["1e999999999"]),
        lambda inner: st.lists(inner, max_size=4),
        max_leaves=10,
    )

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(parts), st.data())
    def run(part, data):
        plain = [data.draw(values) for _ in part.probes]
        result = part.grade(plain, student_id="s1")
        assert 0.0 <= result.points <= part.points

    run()
