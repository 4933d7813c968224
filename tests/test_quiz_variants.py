"""Per-student backdoor variants (course.quiz.variants): stable, distinct, keyed by the solver."""

import hashlib
import itertools

import networkx as nx
import pytest

from course.causal import parse_dag
from course.errors import CourseError
from course.quiz.scoring import score_answer
from course.quiz.variants import backdoor_variant, student_seed

STUDENTS = [f"s{i:03d}" for i in range(12)]


def test_seed_is_sha256_of_quiz_and_folded_student_id():
    expected = int.from_bytes(hashlib.sha256(b"quiz7\x00ivanov").digest()[:8], "big") >> 1
    assert student_seed("ivanov") == student_seed(" Ivanov ") == expected


def test_seed_depends_on_the_quiz():
    assert student_seed("ivanov", "quiz7") != student_seed("ivanov", "quiz8")


@pytest.mark.parametrize("bad", ["", "   ", None, 42])
def test_seed_refuses_a_missing_id(bad):
    with pytest.raises(CourseError, match="student id"):
        student_seed(bad)


@pytest.mark.parametrize("points", [0, -1.0, float("nan"), "2"])
def test_variant_refuses_points_that_are_not_positive(points):
    with pytest.raises(CourseError, match="points must be a positive number"):
        backdoor_variant("s001", points=points)


def test_same_student_same_variant_even_without_the_cache():
    a = backdoor_variant("s001")
    backdoor_variant.cache_clear()
    b = backdoor_variant("s001")
    assert a == b and a is not b


def test_students_get_different_graphs():
    dags = {backdoor_variant(s).dag for s in STUDENTS}
    assert len(dags) >= len(STUDENTS) - 1


def _brute_minimum(G, x="X", y="Y"):
    backdoor = G.copy()
    backdoor.remove_edges_from(list(G.out_edges(x)))
    allowed = sorted(set(G) - {x, y} - nx.descendants(G, x))
    for k in range(len(allowed) + 1):
        found = {
            frozenset(z) for z in itertools.combinations(allowed, k) if nx.is_d_separator(backdoor, {x}, {y}, set(z))
        }
        if found:
            return found
    return set()


@pytest.mark.parametrize("student", STUDENTS[:6])
def test_variant_key_is_exactly_the_options_that_are_smallest_sets(student):
    q = backdoor_variant(student)
    smallest = _brute_minimum(parse_dag(q.dag))
    assert {o.letter for o in q.options if o.nodes in smallest} == q.correct
    assert len(q.options) == 7 and len(q.correct) >= 1


@pytest.mark.parametrize("student", STUDENTS[:6])
def test_every_wrong_option_says_why_and_right_answer_scores(student):
    q = backdoor_variant(student)
    assert all(o.why.en for o in q.options if o.letter not in q.correct)
    assert score_answer(q, ",".join(q.correct)).correct
    wrong = next(o for o in q.options if o.letter not in q.correct)
    s = score_answer(q, wrong.letter, lang="en")
    assert s.points == 0 and wrong.why.en in s.feedback
