"""Textbook graphs with answers derived by hand (the reasoning is in each test) or quoted from the source."""

import networkx as nx
import pytest

from course import causal
from course.causal import examples as ex


def sets(*names):
    """sets("ZA", "ZB") -> [frozenset({'Z','A'}), ...] in the package's order."""
    return sorted(
        (frozenset(n) if isinstance(n, str) else frozenset(n) for n in names), key=lambda s: (len(s), sorted(s))
    )


def test_confounder_needs_the_common_cause():
    assert causal.minimal_backdoor_sets(ex.confounder(), "X", "Y") == [frozenset("C")]


def test_mediator_leaves_the_empty_set_and_forbids_the_mediator():
    G = ex.mediator()
    assert causal.minimal_backdoor_sets(G, "X", "Y") == [frozenset()]
    assert causal.minimum_backdoor_sets(G, "X", "Y") == [frozenset()]
    why = causal.explain_backdoor_set(G, "X", "Y", {"M"})
    assert not why and why.descendants == {"M": "X"}


def test_m_bias():
    # only backdoor path X ← A → M ← B → Y; M is a collider, so it is blocked by the empty set.
    G = ex.m_bias()
    assert causal.minimal_backdoor_sets(G, "X", "Y") == [frozenset()]
    assert not causal.is_backdoor_set(G, "X", "Y", {"M"})  # adjusting for M opens it
    assert causal.is_backdoor_set(G, "X", "Y", {"M", "A"})  # ... unless A or B closes it again
    assert causal.is_backdoor_set(G, "X", "Y", {"M", "B"})
    path = causal.explain_backdoor_set(G, "X", "Y", {"M"}).open_path
    assert path.nodes == ("X", "A", "M", "B", "Y")
    assert [s.role for s in path.inner] == ["fork", "collider", "fork"]
    assert "collider M is adjusted for" in path.inner[1].reason


def test_butterfly():
    # paths: X ← M → Y (needs M); X ← A → M → Y, X ← M ← B → Y (blocked by M);
    # X ← A → M ← B → Y is opened by M and closed again by A or B.
    G = ex.butterfly()
    assert causal.minimal_backdoor_sets(G, "X", "Y") == sets("AM", "BM")
    assert causal.minimum_backdoor_sets(G, "X", "Y") == sets("AM", "BM")
    assert not causal.is_backdoor_set(G, "X", "Y", {"M"})


def test_front_door_has_no_backdoor_set_and_no_adjustment_set():
    G = ex.front_door()
    assert causal.minimal_backdoor_sets(G, "X", "Y") == []
    assert causal.minimum_backdoor_sets(G, "X", "Y") == []
    assert causal.minimal_adjustment_sets(G, "X", "Y") == []
    assert causal.minimum_backdoor_size(G, "X", "Y") is None
    # the front-door mediator M is itself separated from Y by X (the second step of the front-door formula)
    assert causal.minimal_backdoor_sets(G, "M", "Y") == [frozenset("X")]


def test_latent_from_argument_equals_latent_attribute():
    G = ex.confounder()
    assert causal.minimal_backdoor_sets(G, "X", "Y", latent={"C"}) == []


def test_bidirected_edge_acts_as_unobserved_confounder():
    G = causal.parse_dag("dag { X -> Y; X <-> Y }")
    assert causal.minimal_backdoor_sets(G, "X", "Y") == []
    G = causal.parse_dag("dag { X -> Y; X <-> C; C -> Y }")  # X ← U → C → Y: C blocks
    assert causal.minimal_backdoor_sets(G, "X", "Y") == [frozenset("C")]


def test_primer_study_question_3_3_1():
    # published solutions (B. Callander, "CIS Primer Question 3.3.1", 2019):
    G = ex.primer_fig_3_8()
    # (a, b) X → Y: Z is a parent of X and must be adjusted; it is a collider on B → Z ← C,
    # so one of A, B, C, D must close X ← A ← B → Z ← C → D → Y again
    assert causal.minimal_backdoor_sets(G, "X", "Y") == sets("AZ", "BZ", "CZ", "DZ")
    assert causal.minimum_backdoor_sets(G, "X", "Y") == sets("AZ", "BZ", "CZ", "DZ")
    # (c) D → Y: {C}, or Z plus one node of D ← C → Z ← B → A → X → W → Y
    assert causal.minimal_backdoor_sets(G, "D", "Y") == sets("C", "AZ", "BZ", "WZ", "XZ")
    assert causal.minimum_backdoor_sets(G, "D", "Y") == [frozenset("C")]
    # (d) {D, W} → Y
    assert causal.minimal_backdoor_sets(G, {"D", "W"}, "Y") == sets("Z", "CX")


def test_pearl_causality_fig_3_4():
    # Pearl: {X3, X4} and {X4, X5} are sufficient, {X4} is not (it opens X3 ← X1 → X4 ← X2 → X5).
    G = ex.pearl_causality_fig_3_4()
    assert causal.is_backdoor_set(G, "Xi", "Xj", {"X3", "X4"})
    assert causal.is_backdoor_set(G, "Xi", "Xj", {"X4", "X5"})
    assert not causal.is_backdoor_set(G, "Xi", "Xj", {"X4"})
    # by hand: X4 is mandatory (Xi ← X4 → Xj) and the collider path it opens needs one of X1, X2, X3, X5
    expected = sets({"X1", "X4"}, {"X2", "X4"}, {"X3", "X4"}, {"X4", "X5"})
    assert causal.minimal_backdoor_sets(G, "Xi", "Xj") == expected
    assert causal.minimum_backdoor_sets(G, "Xi", "Xj") == expected


def test_descendant_off_causal_paths_is_allowed_for_adjustment_only():
    G = ex.descendant_adjustment()
    assert causal.is_adjustment_set(G, "X", "Y", {"A", "D"})
    assert not causal.is_backdoor_set(G, "X", "Y", {"A", "D"})
    assert causal.minimal_adjustment_sets(G, "X", "Y") == causal.minimal_backdoor_sets(G, "X", "Y") == [frozenset("A")]


def test_adjustment_and_backdoor_minimal_sets_differ_for_two_exposures():
    # X1 → A → B → X2 ← A, Y → B: B blocks X2 ← B ← Y but descends from X1, so no backdoor set exists;
    # A and B are off every causal path to Y (Y is no descendant of X), so {A, B} is an adjustment set.
    G = nx.DiGraph([("X1", "A"), ("Y", "B"), ("A", "B"), ("A", "X2"), ("B", "X2")])
    assert causal.minimal_backdoor_sets(G, {"X1", "X2"}, "Y") == []
    assert causal.minimal_adjustment_sets(G, {"X1", "X2"}, "Y") == [frozenset("AB")]


def test_t3_question2_only_b_is_smallest():
    G = ex.t3_question2_graph()
    assert causal.minimum_backdoor_sets(G, "X", "Y") == [frozenset("B")]
    valid = {k for k, z in ex.T3_QUESTION2_OPTIONS.items() if causal.is_backdoor_set(G, "X", "Y", z)}
    # by hand: {B} blocks both paths at the chain node B; {A, C} blocks them at the forks;
    # {D} and {B, D} contain the mediator D
    assert valid == {"А", "Б", "В", "Г"}
    assert min(len(ex.T3_QUESTION2_OPTIONS[k]) for k in valid) == 1


def test_t3_question3_bd_and_cd_are_smallest():
    G = ex.t3_question3_graph()
    assert causal.minimum_backdoor_sets(G, "X", "Y") == sets("BD", "CD")
    verdicts = {k: causal.explain_backdoor_set(G, "X", "Y", z) for k, z in ex.T3_QUESTION3_OPTIONS.items()}
    assert {k for k, v in verdicts.items() if v} == {"В", "Г"}
    assert str(verdicts["А"].open_path) == "X ← D → Y"
    assert str(verdicts["Б"].open_path) == "X ← B ← C → Y"
    assert str(verdicts["Д"].open_path) == "X ← D → Y"
    assert verdicts["Е"].descendants == {"E": "X"} and verdicts["Ж"].descendants == {"E": "X"}


def test_backdoor_paths_of_t3_question3_by_hand():
    G = ex.t3_question3_graph()
    got = {str(p): p.is_open for p in causal.backdoor_paths(G, "X", "Y", {"B", "D"})}
    assert got == {
        "X ← B ← C → Y": False,  # B is a chain node in Z
        "X ← B → A ← D → Y": False,  # collider A not adjusted (and D adjusted)
        "X ← D → Y": False,
        "X ← D → A ← B ← C → Y": False,
    }
    open_without = [str(p) for p in causal.backdoor_paths(G, "X", "Y", only_open=True)]
    assert open_without == ["X ← B ← C → Y", "X ← D → Y"]


@pytest.mark.parametrize("name", sorted(ex.EXAMPLES))
def test_examples_round_trip_through_dagitty(name):
    G = ex.EXAMPLES[name]()
    back = causal.parse_dag(causal.to_dagitty(G))
    assert set(back.edges) == set(G.edges) and dict(back.nodes(data=True)) == dict(G.nodes(data=True))
