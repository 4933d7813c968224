"""The backdoor exercise's answers typed as students type them: the same set earns the same points however written.

Each row is the Python value a student assigns and the points a fair instructor gives, worked out by hand on
G1 and G2 (the exercise's graphs; G1's minimal sets include {A, Z}, G2's smallest sets are {C, K} and {C, L}).
"""

from __future__ import annotations

import pytest

from autograder.grading import load_assignment
from autograder.grading.hidden import evaluate_in_namespace

SPEC = load_assignment("backdoor")


def points(variable: str, gid: str, source: str) -> float:
    namespace: dict = {}
    exec(f"{variable} = {source}", namespace)  # noqa: S102 - the rows below
    part = SPEC[gid]
    return part.grade(evaluate_in_namespace(part, namespace)).points


@pytest.mark.parametrize(
    "source, expected",
    [
        ('{"A", "Z"}', 2.0),
        ('["Z", "A"]', 2.0),
        ('("A", "Z")', 2.0),
        ('frozenset("AZ")', 2.0),
        ('{"a", "z"}', 2.0),  # the graph's vertices are upper case; case is ignored, as in the quiz
        ('"A, Z"', 2.0),
        ('"{A, Z}"', 2.0),
        ('"a z"', 2.0),
        ('"A; Z"', 2.0),
        ('{"A", "Z", "B"}', 1.0),  # valid, not minimal: half
        ('"W"', 0.0),  # a descendant of X
        ('"AZ"', 0.0),  # no vertex is called AZ: the feedback names it
        ('{"A": 1}', 0.0),
        ("42", 0.0),
    ],
)
def test_set_g1_spellings(source, expected):
    assert points("SET_G1", "set_g1", source) == expected


@pytest.mark.parametrize(
    "source, expected",
    [
        ('[{"C", "K"}, {"C", "L"}]', 2.0),
        ('[["c", "k"], ["c", "l"]]', 2.0),
        ('["C, K", "{C, L}"]', 2.0),
        ('[{"C", "K"}]', 1.0),  # one of the two
        ('"C, K"', 0.0),  # one text for the whole list: give a list of sets
    ],
)
def test_smallest_g2_spellings(source, expected):
    assert points("SMALLEST_G2", "smallest_g2", source) == expected


def test_paths_typed_as_text_or_lists_score_alike():
    as_lists = (
        '[["X", "Z", "Y"], ["X", "A", "B", "Z", "Y"], ["X", "Z", "C", "D", "Y"], ["X", "A", "B", "Z", "C", "D", "Y"]]'
    )
    as_text = '["X <- Z -> Y", "X ← A ← B → Z → Y", "x - z - c - d - y", "X A B Z C D Y"]'
    assert points("PATHS_G1", "paths_g1", as_lists) == points("PATHS_G1", "paths_g1", as_text) == 2.0
    assert points("PATHS_G1", "paths_g1", '["X Z Y"]') == 0.5  # one of the four
