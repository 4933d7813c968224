"""DAGitty syntax in and out, and every validation message of course.causal."""

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import causal
from course.errors import CourseError
from tests.causal_oracle import causal_dags


def test_parse_reads_nodes_edges_and_attributes():
    G = causal.parse_dag("""dag {
        bb="0,0,1,1"
        X [exposure,pos="0.5,1"]
        Y [outcome]
        U [latent]
        A [adjusted]
        X -> Y; U -> {X Y}
        A -> X <- B
        a <-> b
    }""")
    assert G.graph["bb"] == "0,0,1,1"
    assert G.nodes["X"] == {"exposure": True, "pos": (0.5, 1.0)}
    assert G.nodes["Y"]["outcome"] and G.nodes["U"]["latent"] and G.nodes["A"]["adjusted"]
    assert set(G.edges) >= {("X", "Y"), ("U", "X"), ("U", "Y"), ("A", "X"), ("B", "X")}
    hidden = [v for v, d in G.nodes(data=True) if d.get("bidirected")]
    assert hidden == ["U(a,b)"]
    assert set(G.successors("U(a,b)")) == {"a", "b"} and G.nodes["U(a,b)"]["latent"]


def test_parse_accepts_text_without_the_dag_header_and_quoted_names():
    G = causal.parse_dag('"smoking status" -> cancer; cancer <- age')
    assert set(G.edges) == {("smoking status", "cancer"), ("age", "cancer")}


def test_repeated_bidirected_edge_gives_one_latent_node():
    G = causal.parse_dag("dag { a <-> b; b <-> a }")
    assert len(G) == 3


def test_exposure_and_outcome_default_to_the_marked_nodes():
    G = causal.parse_dag("dag { X [exposure]; Y [outcome]; X -> Y; C -> X; C -> Y }")
    assert causal.minimal_backdoor_sets(G, None, None) == [frozenset({"C"})]


@settings(max_examples=60, deadline=None)
@given(causal_dags())
def test_to_dagitty_round_trips(case):
    G, X, Y, latent = case
    H = nx.relabel_nodes(G, {v: f"v{v}" for v in G})
    for v in latent:
        H.nodes[f"v{v}"]["latent"] = True
    for v in X:
        H.nodes[f"v{v}"]["exposure"] = True
    back = causal.parse_dag(causal.to_dagitty(H))
    assert set(back.edges) == set(H.edges) and set(back.nodes) == set(H.nodes)
    assert dict(back.nodes(data=True)) == dict(H.nodes(data=True))


def test_bidirected_edges_and_positions_round_trip():
    text = 'dag {\nX [exposure,pos="1,2.5"]\nY\nX -> Y\nX <-> Y\n}'
    G = causal.parse_dag(text)
    assert causal.to_dagitty(G) == text
    assert causal.to_dagitty(causal.parse_dag(causal.to_dagitty(G))) == text


@pytest.mark.parametrize(
    "text, message",
    [
        ("dag { A -> B -> C -> A }", "directed cycle A -> B -> C -> A"),
        ("dag { A -- B }", "is not allowed in a DAG"),
        ("pdag { A -> B }", "only 'dag { ... }'"),
        ("dag { A -> B ", "expected '}'"),
        ("dag { A [colour=red] }", "unknown attribute 'colour'"),
        ('dag { A [pos="1"] }', 'expected pos="x,y"'),
        ("dag { A -> ; }", "expected 'name'"),
        ("dag { A } B", "after the closing"),
        ("dag { A ^ B }", "cannot read"),
    ],
)
def test_parse_errors_say_what_is_wrong(text, message):
    with pytest.raises(CourseError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        causal.parse_dag(text)


def test_parse_rejects_non_text():
    with pytest.raises(CourseError, match="expects the DAGitty text as a str"):
        causal.parse_dag(42)


G0 = nx.DiGraph([("A", "X"), ("A", "Y"), ("X", "Y")])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: causal.minimal_backdoor_sets(nx.DiGraph([(1, 2), (2, 1)]), 1, 2), "directed cycle"),
        (lambda: causal.minimal_backdoor_sets(nx.Graph([(1, 2)]), 1, 2), "expected a networkx.DiGraph"),
        (lambda: causal.minimal_backdoor_sets(G0, "Q", "Y"), "unknown node 'Q' in X"),
        (lambda: causal.minimal_backdoor_sets(G0, "X", ["Y", "W"]), "unknown node 'W' in Y"),
        (lambda: causal.minimal_backdoor_sets(G0, "X", "X"), "X and Y overlap in {X}"),
        (lambda: causal.minimal_backdoor_sets(G0, {"X", "A"}, {"A", "Y"}), "overlap in {A}"),
        (lambda: causal.minimal_backdoor_sets(G0, "X", "Y", latent={"X"}), "latent node"),
        (lambda: causal.minimal_backdoor_sets(G0, "X", "Y", latent={"B"}), "unknown node 'B' in latent"),
        (lambda: causal.minimal_backdoor_sets(G0, set(), "Y"), "X \\(the exposure\\) is empty"),
        (lambda: causal.minimal_backdoor_sets(G0, None, "Y"), "is empty"),
        (lambda: causal.minimal_backdoor_sets(G0, {"X": 1}, "Y"), "must be a node or a set of nodes"),
        (lambda: causal.minimal_backdoor_sets(G0, [["X"]], "Y"), r"unknown node \['X'\] in X"),
        (lambda: causal.minimal_backdoor_sets(G0, "X", "Y", limit=-1), "limit must be"),
        (lambda: causal.minimum_backdoor_sets(G0, "X", "Y", limit=1.5), "limit must be"),
        (lambda: causal.is_backdoor_set(G0, "X", "Y", {"X"}), "is the exposure or the outcome"),
        (lambda: causal.is_backdoor_set(G0, "X", "Y", {"Z"}), "unknown node 'Z' in Z"),
        (lambda: causal.backdoor_paths(G0, "X", "Y", {"Y"}), "is the exposure or the outcome"),
        (lambda: causal.backdoor_paths(G0, "X", "Y", limit=-1), "limit must be"),
        (lambda: causal.iter_backdoor_paths(G0, "X", "Y", limit="2"), "limit must be"),
        (lambda: causal.is_backdoor_set(G0, "X", "Y", "AX"), "unknown node 'AX' in Z"),
        (lambda: causal.to_dagitty("dag {}"), "expected a networkx.DiGraph"),
    ],
)
def test_validation_messages(call, message):
    with pytest.raises(CourseError, match=message):
        call()


def test_course_error_is_a_value_error():
    with pytest.raises(ValueError):
        causal.is_backdoor_set(G0, "X", "nope", set())


def test_tuple_nodes_are_nodes_not_sets():
    G = nx.DiGraph([(("c", 1), ("x", 1)), (("c", 1), ("y", 1)), (("x", 1), ("y", 1))])
    assert causal.minimal_backdoor_sets(G, ("x", 1), ("y", 1)) == [frozenset({("c", 1)})]
    assert causal.minimal_backdoor_sets(G, [("x", 1)], {("y", 1)}) == [frozenset({("c", 1)})]


def test_node_sets_may_be_any_iterable_and_limits_any_integer():
    # G0: X <- A -> Y, X -> Y; the only minimal set is {A} (one fork to block)
    import numpy as np

    assert causal.is_backdoor_set(G0, "X", "Y", (v for v in ["A"]))
    assert causal.is_backdoor_set(G0, "X", "Y", {"A": None}.keys())
    assert causal.minimal_backdoor_sets(G0, "X", "Y", limit=np.int64(1)) == [frozenset({"A"})]
    assert len(causal.backdoor_paths(G0, "X", "Y", limit=np.int32(0))) == 0


def test_quoted_names_keep_cyrillic_and_escapes():
    G = causal.parse_dag('dag { "Пол возраст" -> "доход"; "a\\\\b" -> "c\\"d" }')
    assert set(G.edges) == {("Пол возраст", "доход"), ("a\\b", 'c"d')}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8).filter(lambda s: s.strip()), min_size=2, max_size=4, unique=True))
def test_any_text_names_round_trip_through_dagitty(names):
    G = nx.DiGraph(list(zip(names, names[1:])))
    assert set(causal.parse_dag(causal.to_dagitty(G)).edges) == set(G.edges)
