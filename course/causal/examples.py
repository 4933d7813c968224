"""Textbook causal graphs and the two backdoor questions of the course quiz (SEED_NOTES T3).

Every function returns a fresh ``networkx.DiGraph`` parsed from DAGitty text
(positions included, y grows downwards as on dagitty.net), with the exposure
and the outcome marked. The answers quoted in the docstrings are derived by
hand in ``tests/test_causal_textbook.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from course.causal.graphs import DAG, parse_dag

__all__ = [
    "confounder",
    "mediator",
    "m_bias",
    "butterfly",
    "front_door",
    "primer_fig_3_8",
    "pearl_causality_fig_3_4",
    "descendant_adjustment",
    "t3_question2_graph",
    "t3_question3_graph",
    "T3_QUESTION2_OPTIONS",
    "T3_QUESTION3_OPTIONS",
    "EXAMPLES",
]


def confounder() -> DAG:
    """X ← C → Y, X → Y: adjust for {C}.

    >>> from course.causal import minimal_backdoor_sets
    >>> minimal_backdoor_sets(confounder(), "X", "Y")
    [frozenset({'C'})]
    """
    return parse_dag('dag { X [exposure,pos="0,1"] Y [outcome,pos="2,1"] C [pos="1,0"] C -> X; C -> Y; X -> Y }')


def mediator() -> DAG:
    """X → M → Y: no backdoor path, the empty set is valid and M is a forbidden descendant.

    >>> from course.causal import is_backdoor_set
    >>> is_backdoor_set(mediator(), "X", "Y", set()), is_backdoor_set(mediator(), "X", "Y", {"M"})
    (True, False)
    """
    return parse_dag('dag { X [exposure,pos="0,0"] M [pos="1,0"] Y [outcome,pos="2,0"] X -> M -> Y }')


def m_bias() -> DAG:
    """M-bias: X ← A → M ← B → Y. The empty set is valid; adjusting for the collider M alone opens the path.

    >>> from course.causal import is_backdoor_set
    >>> is_backdoor_set(m_bias(), "X", "Y", set()), is_backdoor_set(m_bias(), "X", "Y", {"M"})
    (True, False)
    """
    return parse_dag("""dag {
        X [exposure,pos="0,2"] Y [outcome,pos="2,2"] A [pos="0,0"] B [pos="2,0"] M [pos="1,1"]
        A -> X; A -> M; B -> M; B -> Y; X -> Y
    }""")


def butterfly() -> DAG:
    """Butterfly bias: M is a confounder and a collider of A and B. Minimal sets {A, M} and {B, M}.

    >>> from course.causal import minimal_backdoor_sets
    >>> [sorted(z) for z in minimal_backdoor_sets(butterfly(), "X", "Y")]
    [['A', 'M'], ['B', 'M']]
    """
    return parse_dag("""dag {
        X [exposure,pos="0,2"] Y [outcome,pos="2,2"] A [pos="0,0"] B [pos="2,0"] M [pos="1,1"]
        A -> X; A -> M; B -> M; B -> Y; M -> X; M -> Y; X -> Y
    }""")


def front_door() -> DAG:
    """Front door: a latent U confounds X and Y, X → M → Y. No backdoor set exists (U cannot be adjusted for).

    >>> from course.causal import minimal_backdoor_sets
    >>> minimal_backdoor_sets(front_door(), "X", "Y")
    []
    """
    return parse_dag("""dag {
        X [exposure,pos="0,1"] M [pos="1,1"] Y [outcome,pos="2,1"] U [latent,pos="1,0"]
        U -> X; U -> Y; X -> M -> Y
    }""")


def primer_fig_3_8() -> DAG:
    """The graph of Pearl, Glymour & Jewell, *Causal Inference in Statistics: A Primer* (2016), Fig. 3.8.

    Study question 3.3.1: the minimal backdoor sets for X → Y are {Z, A}, {Z, B},
    {Z, C}, {Z, D}; for D → Y they are {C}, {Z, A}, {Z, B}, {Z, W}, {Z, X}; for
    {D, W} → Y they are {Z} and {C, X}.


    >>> from course.causal import minimal_backdoor_sets
    >>> [sorted(z) for z in minimal_backdoor_sets(primer_fig_3_8(), "X", "Y")]
    [['A', 'Z'], ['B', 'Z'], ['C', 'Z'], ['D', 'Z']]
    >>> [sorted(z) for z in minimal_backdoor_sets(primer_fig_3_8(), {"D", "W"}, "Y")]
    [['Z'], ['C', 'X']]
    """
    return parse_dag("""dag {
        B [pos="0,0"] C [pos="2,0"] A [pos="0,1"] Z [pos="1,1"] D [pos="2,1"]
        X [exposure,pos="0,2"] W [pos="1,2"] Y [outcome,pos="2,2"]
        B -> A -> X; B -> Z; C -> Z; C -> D -> Y; Z -> X; Z -> Y; X -> W -> Y
    }""")


def pearl_causality_fig_3_4() -> DAG:
    """Pearl, *Causality* (2nd ed., 2009), Fig. 3.4: effect of Xi on Xj.

    Pearl: {X3, X4} and {X4, X5} meet the backdoor criterion, {X4} does not.


    >>> from course.causal import is_backdoor_set
    >>> G = pearl_causality_fig_3_4()
    >>> [is_backdoor_set(G, "Xi", "Xj", z) for z in ({"X3", "X4"}, {"X4", "X5"}, {"X4"})]
    [True, True, False]
    """
    return parse_dag("""dag {
        X1 [pos="0,0"] X2 [pos="2,0"] X3 [pos="0,1"] X4 [pos="1,1"] X5 [pos="2,1"]
        Xi [exposure,pos="0,2"] X6 [pos="1,2"] Xj [outcome,pos="2,2"]
        X1 -> X3 -> Xi; X1 -> X4; X2 -> X4; X2 -> X5 -> Xj; X4 -> Xi; X4 -> Xj; Xi -> X6 -> Xj
    }""")


def descendant_adjustment() -> DAG:
    """A → X → Y, A → Y, X → D: {A, D} is an adjustment set (D is off every causal path) but not a backdoor set.

    >>> from course.causal import is_adjustment_set, is_backdoor_set
    >>> G = descendant_adjustment()
    >>> is_adjustment_set(G, "X", "Y", {"A", "D"}), is_backdoor_set(G, "X", "Y", {"A", "D"})
    (True, False)
    """
    return parse_dag("""dag {
        A [pos="1,0"] X [exposure,pos="0,1"] Y [outcome,pos="2,1"] D [pos="0,2"]
        A -> X; A -> Y; X -> Y; X -> D
    }""")


def t3_question2_graph() -> DAG:
    """Quiz T3, question 2 ("the smallest set"): the only smallest backdoor set is {B} (answer А).

    Backdoor paths X ← A → B → Y and X ← C → B → Y meet at the chain node B; D is a
    mediator (X → D → Y). {A, C} is valid but larger; {B, C}, {A, B, C} are
    valid supersets; {D} and {B, D} contain a descendant of X.


    >>> from course.causal import minimum_backdoor_sets
    >>> minimum_backdoor_sets(t3_question2_graph(), "X", "Y")
    [frozenset({'B'})]
    """
    return parse_dag("""dag {
        A [pos="0,0"] C [pos="2,0"] B [pos="1,1"]
        X [exposure,pos="0,2"] D [pos="1,3"] Y [outcome,pos="2,2"]
        A -> X; A -> B; C -> X; C -> B; B -> Y; X -> Y; X -> D -> Y
    }""")


def t3_question3_graph() -> DAG:
    """Quiz T3, question 3 ("the smallest sets"): the smallest backdoor sets are {B, D} and {C, D} (answers В, Г).

    X ← D → Y can only be blocked by D; X ← B ← C → Y by B or C. A is a collider
    (B → A ← D) and E a mediator (X → E → Y): {A, C} leaves X ← D → Y open, and
    {E}, {A, E} contain a descendant of X.


    >>> from course.causal import minimum_backdoor_sets
    >>> [sorted(z) for z in minimum_backdoor_sets(t3_question3_graph(), "X", "Y")]
    [['B', 'D'], ['C', 'D']]
    """
    return parse_dag("""dag {
        C [pos="1,0"] B [pos="0,1"] A [pos="1,1"] D [pos="2,1"]
        X [exposure,pos="0,2"] E [pos="1,3"] Y [outcome,pos="2,2"]
        C -> B -> X; C -> Y; D -> X; D -> Y; B -> A; D -> A; X -> E -> Y; X -> Y
    }""")


T3_QUESTION2_OPTIONS = {
    "А": frozenset("B"),
    "Б": frozenset("AC"),
    "В": frozenset("BC"),
    "Г": frozenset("ABC"),
    "Д": frozenset("D"),
    "Е": frozenset("BD"),
}
T3_QUESTION3_OPTIONS = {
    "А": frozenset("B"),
    "Б": frozenset("D"),
    "В": frozenset("BD"),
    "Г": frozenset("CD"),
    "Д": frozenset("AC"),
    "Е": frozenset("E"),
    "Ж": frozenset("AE"),
}

EXAMPLES: dict[str, Callable[[], DAG]] = {
    "confounder": confounder,
    "mediator": mediator,
    "m_bias": m_bias,
    "butterfly": butterfly,
    "front_door": front_door,
    "primer_fig_3_8": primer_fig_3_8,
    "pearl_causality_fig_3_4": pearl_causality_fig_3_4,
    "descendant_adjustment": descendant_adjustment,
    "t3_question2": t3_question2_graph,
    "t3_question3": t3_question3_graph,
}
