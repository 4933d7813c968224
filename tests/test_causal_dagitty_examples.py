"""DAGitty's own example graphs (jtextor/dagitty, gui/js/example-dags.js), with answers derived by hand.

The M-bias and Didelez et al. graphs are DAGitty text as published (bounding box, positions, edge attributes,
[selected]); the others were stored in DAGitty's old edge-list format ("A E Z" = A → E, A → Z) and are
transcribed here into the current syntax.
"""

import pytest

from course import causal

M_BIAS = (
    'dag { \nbb="-3,-0.5,2,1.2"D [outcome,pos="1,1"] E [exposure,pos="-2,1"] Z [pos="-0.5,0.5"] '
    'D <-> Z [pos="1,-1"] E -> D E <-> Z [pos="-2,-1"] }'
)

DIDELEZ_2010 = """
dag {
Age [adjusted,pos="-1.973,-0.123"]
HRT [exposure,pos="-0.536,-0.016"]
Occ [pos="-1.645,0.432"]
S [selected,pos="0.925,-0.500"]
Smo [pos="-0.879,0.441"]
TCI [outcome,pos="0.488,0.090"]
Thist [pos="-0.569,1.027"]
Age -> HRT
Age -> Occ
Age -> S [pos="-0.945,-0.571"]
Age -> TCI [pos="-0.264,-0.456"]
HRT -> TCI
Occ -> Smo
Occ -> Thist
Smo -> HRT
Smo -> TCI
TCI -> S
Thist -> TCI
}"""


def from_edge_list(lines, exposure, outcome):
    """DAGitty's old format: each line is a node followed by its children."""
    text = "dag {\n" + f"{exposure} [exposure]\n{outcome} [outcome]\n"
    for line in lines.strip().splitlines():
        first, *children = line.split()
        text += "".join(f"{first} -> {c}\n" for c in children) or f"{first}\n"
    return causal.parse_dag(text + "}")


def test_m_bias_as_published_with_bidirected_edges():
    G = causal.parse_dag(M_BIAS)
    assert G.graph["bb"] == "-3,-0.5,2,1.2"
    # E ← U → Z ← U' → D: Z is a collider, so nothing needs adjusting and adjusting for Z opens the path
    assert causal.minimal_backdoor_sets(G, None, None) == [frozenset()]
    assert not causal.is_backdoor_set(G, "E", "D", {"Z"})
    assert causal.to_dagitty(causal.parse_dag(causal.to_dagitty(G))) == causal.to_dagitty(G)


def test_didelez_2010():
    G = causal.parse_dag(DIDELEZ_2010)
    assert G.nodes["Age"]["adjusted"] and G.has_edge("TCI", "S")
    # HRT ← Age → TCI needs Age, HRT ← Smo → TCI needs Smo; with both, every path through Occ or Thist
    # passes Age or Smo as a non-collider; S is a descendant of the outcome (collider Age → S ← TCI)
    assert causal.minimal_backdoor_sets(G, "HRT", "TCI") == [frozenset({"Age", "Smo"})]


def test_extended_confounding_triangle():
    G = from_edge_list("E D\nA E Z\nB D Z\nZ E D", "E", "D")
    # the butterfly: Z is needed (E ← Z → D) and opens E ← A → Z ← B → D, closed again by A or B
    assert causal.minimal_backdoor_sets(G, "E", "D") == [frozenset("AZ"), frozenset("BZ")]


def test_small_model_with_mediator():
    G = from_edge_list("Z X I\nX I Y\nI Y", "X", "Y")
    # X ← Z → I → Y: I is a mediator (X → I), so Z is the only choice
    assert causal.minimal_backdoor_sets(G, "X", "Y") == [frozenset("Z")]


def test_many_variables_but_few_paths():
    lines = (
        "1 E\n"
        + "".join(f"{i} {i - 1}\n" for i in range(2, 7))
        + "7 6 E\n8 7 D\n"
        + "".join(f"{i} {i - 1}\n" for i in range(9, 15))
        + "15 14 D\nE D"
    )
    G = from_edge_list(lines, "E", "D")
    # every backdoor path enters E from 7 (directly or down 7 → 6 → … → 1 → E) and then meets 8 (7 ← 8),
    # both as non-colliders; without 7 or 8 the path E ← 7 ← 8 → D stays open
    assert causal.minimal_backdoor_sets(G, "E", "D") == [frozenset({"7"}), frozenset({"8"})]
    assert causal.minimum_backdoor_sets(G, "E", "D") == [frozenset({"7"}), frozenset({"8"})]


def test_schipf_2010():
    G = from_edge_list("A S PA WC U TT\nS TT T2DM\nWC TT U T2DM\nU TT T2DM\nPA WC T2DM", "TT", "T2DM")
    # S, WC and U are parents of both TT and T2DM, so each is needed; TT ← A → PA → T2DM needs A or PA
    assert causal.minimal_backdoor_sets(G, "TT", "T2DM") == [
        frozenset({"A", "S", "U", "WC"}),
        frozenset({"PA", "S", "U", "WC"}),
    ]


def test_acid_de_campos_1996():
    G = from_edge_list(
        """x4 x5
x5 x7 x11
x6 x7 x14
x7 x9
x8 x14 x15
x9 x10
x10 x12 x15
x11 x12
x12 x13
x13
x14 x16
x16 x17
x17
x18
x1 x4 x3
x2 x3
x15 x17 x18
x3 x6 x5""",
        "x3",
        "x15",
    )
    # the only open backdoor path is x3 ← x1 → x4 → x5 → x7 → x9 → x10 → x15 and x5, x7, … descend from x3;
    # x3 ← x1 → x4 → x5 → x11 → x12 ← x10 → x15 is blocked by the collider x12
    assert causal.minimal_backdoor_sets(G, "x3", "x15") == [frozenset({"x1"}), frozenset({"x4"})]


def test_van_kampen_2014():
    G = from_edge_list(
        """AFF ALN APA CDR
AIS AFF EGC SUS
ALN APA DET FTW PER SUS
CDR DET
EGC HOS
FTW DET EGC
SAN ALN AFF AIS APA CDR
SUS EGC FTW HOS
PER DET""",
        "SUS",
        "EGC",
    )
    # SUS has the parents AIS and ALN; SUS ← AIS → EGC needs AIS, SUS ← ALN → FTW → EGC needs ALN (FTW descends
    # from SUS); every backdoor path starts through one of them as a non-collider
    assert causal.minimal_backdoor_sets(G, "SUS", "EGC") == [frozenset({"AIS", "ALN"})]
    assert causal.minimal_adjustment_sets(G, "SUS", "EGC") == [frozenset({"AIS", "ALN"})]


@pytest.mark.parametrize("text", [M_BIAS, DIDELEZ_2010])
def test_published_text_round_trips(text):
    G = causal.parse_dag(text)
    H = causal.parse_dag(causal.to_dagitty(G))
    assert set(H.edges) == set(G.edges) and dict(H.nodes(data=True)) == dict(G.nodes(data=True))
