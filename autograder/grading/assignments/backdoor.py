"""Grading spec of ``exercises/backdoor``: backdoor paths and minimal backdoor sets, graded by the solver.

Any valid answer earns the points: a set is checked with
:func:`course.causal.minimal_backdoor_sets` (every minimal set, not one the
author had in mind), and the feedback for an invalid set comes from
:func:`course.causal.explain_backdoor_set` -- it names the student's own
offending vertex or one backdoor path their set leaves open, never a valid set.

Student answers: ``path_is_open(G, path, Z)`` → bool; ``PATHS_G1`` (list of
paths, each a list of vertex names from X to Y); ``SET_G1``, ``SET_G2`` (a
minimal backdoor set each); ``SMALLEST_G2`` (list of all smallest sets).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from autograder.grading.checkers import Checker, Context
from autograder.grading.model import AssignmentSpec, Part, Probe, fixed_key, literal
from course.causal import backdoor_paths, explain_backdoor_set, minimal_backdoor_sets, minimum_backdoor_sets, parse_dag
from course.causal.query import DAG, Node, NodeSet

T = TypeVar("T")

NAME = "backdoor"
#: "Work the answers out by hand": not with the course's solver or the grader; parse_dag reads the graphs
FORBIDDEN = ("course.causal", "autograder")
ALLOWED = ("course.causal.parse_dag", "course.causal.graphs.parse_dag")

#: Pearl, Glymour & Jewell, Causal Inference in Statistics: A Primer (2016), Fig. 3.8 (vertex names changed).
G1_DAG = "dag { X [exposure]; Y [outcome]; B -> A -> X; B -> Z; C -> Z; C -> D -> Y; Z -> X; Z -> Y; X -> W -> Y }"
#: Two confounding paths, an M-structure (collider M) and a mediator F.
G2_DAG = (
    "dag { X [exposure]; Y [outcome]; A -> X; A -> M; B -> M; B -> Y; C -> X; C -> Y; D -> C; "
    "K -> X; K -> L; L -> Y; X -> F; F -> Y }"
)


def _graph(dag: str) -> DAG:
    return parse_dag(dag)


def _backdoor_paths(dag: str) -> list[list[Node]]:
    return [list(p.nodes) for p in backdoor_paths(_graph(dag), "X", "Y")]


def _minimal_sets(dag: str) -> list[NodeSet]:
    return minimal_backdoor_sets(_graph(dag), "X", "Y")


def _smallest_sets(dag: str) -> list[NodeSet]:
    return minimum_backdoor_sets(_graph(dag), "X", "Y")


def _path_key(path: Sequence[str], Z: Iterable[str], dag: str = G1_DAG) -> bool:
    for p in backdoor_paths(_graph(dag), "X", "Y", Z):
        if list(p.nodes) == list(path):
            return p.is_open
    raise AssertionError(f"{path} is not a backdoor path of {dag}")


def _check_bool(value: Any, key: Any, ctx: Context) -> tuple[bool, str]:
    if type(value) is not bool:
        return False, f"return True or False, got {value!r:.40}"
    return value == key, "wrong verdict for this path and adjustment set"


#: (path, Z): a fork, a chain, a collider alone, a collider opened by adjusting for it
OPEN_CASES: tuple[tuple[list[str], list[str]], ...] = (
    (["X", "Z", "Y"], []),
    (["X", "Z", "Y"], ["Z"]),
    (["X", "A", "B", "Z", "Y"], ["A"]),
    (["X", "Z", "C", "D", "Y"], []),
    (["X", "A", "B", "Z", "C", "D", "Y"], ["Z"]),
    (["X", "A", "B", "Z", "C", "D", "Y"], ["Z", "A"]),
)


def _open_probe(path: list[str], Z: list[str], dag: str = G1_DAG, drawn: str = "") -> Probe:
    return Probe(
        f"path_is_open(__import__('course.causal', fromlist=['parse_dag']).parse_dag({dag!r}), "
        f"{literal(path)}, {literal(set(Z))})",
        key=fixed_key(_path_key, path, Z, dag),
        check=_check_bool,
        label=f"path {' - '.join(path)} given {{{', '.join(Z)}}}{drawn}",
    )


def _random_dag(rng: np.random.Generator) -> str:
    """A DAG on X, Y and 4-6 other vertices: each pair in a random order joined with probability 0.4."""
    inner = [str(v) for v in rng.choice(list("ABCDEFGHKLM"), size=int(rng.integers(4, 7)), replace=False)]
    order = [str(v) for v in rng.permutation(inner + ["X"])]
    order.insert(int(rng.integers(order.index("X") + 1, len(order) + 1)), "Y")  # Y after X
    edges = [f"{u} -> {v}" for i, u in enumerate(order) for v in order[i + 1 :] if rng.random() < 0.4]
    return "dag { X [exposure]; Y [outcome]; " + "; ".join(edges) + " }"


def _has_collider(G: DAG, path: list[str]) -> bool:
    return any(G.has_edge(u, v) and G.has_edge(w, v) for u, v, w in zip(path, path[1:], path[2:]))


def _fresh_open(seed: int) -> tuple[Probe, ...]:
    """Four (path, Z) cases on a DAG drawn from ``seed``: two open and two blocked backdoor paths, at least
    three different paths among them and one with a collider."""
    rng = np.random.default_rng(seed)
    while True:
        dag = _random_dag(rng)
        G = _graph(dag)
        inner = sorted(set(G) - {"X", "Y"})
        found: dict[bool, list[tuple[list[str], list[str]]]] = {True: [], False: []}
        for _ in range(12):
            Z = sorted(str(v) for v in inner if rng.random() < 0.35)
            for p in backdoor_paths(G, "X", "Y", Z, limit=20):
                case = ([str(v) for v in p.nodes], Z)
                if case not in found[p.is_open] and all(case[0] != c[0] for c in found[p.is_open]):
                    found[p.is_open].append(case)  # one case per path and verdict
        picked = found[True][:2] + found[False][:2]
        paths = {tuple(path) for path, _ in picked}
        if len(picked) == 4 and len(paths) >= 3 and any(_has_collider(G, list(path)) for path in paths):
            order = rng.permutation(len(picked))
            return tuple(_open_probe(picked[i][0], picked[i][1], dag, " (a DAG drawn at grading)") for i in order)


OPEN = Part(
    "path_is_open",
    2.0,
    tuple(_open_probe(path, Z) for path, Z in OPEN_CASES),
    "is a path open given Z",
    fresh=_fresh_open,
)


#: between vertex names typed as text: spaces, commas, semicolons, braces, brackets, dashes and arrows
_SEPARATORS = re.compile(r"[\s,;{}()\[\]<>\-–—−→←↔|/]+")


def _names(value: Any, dag: str) -> list[str] | None:
    """Vertex names as typed: a list/tuple/set of names or one text ("A, Z", "{a, z}", "X ← Z → Y").

    A name is matched to the graph's own spelling, ignoring case, as the quiz reads vertex sets; a name
    that is no vertex stays as typed, so the feedback names it. Anything else gives None.

    >>> _names("{a, z}", G1_DAG), _names(["X", "z", "Y"], G1_DAG), _names("X ← Z → Y", G1_DAG), _names(3, G1_DAG)
    (['A', 'Z'], ['X', 'Z', 'Y'], ['X', 'Z', 'Y'], None)
    """
    if isinstance(value, str):
        items: list[Any] = [s for s in _SEPARATORS.split(value) if s]
    elif isinstance(value, list):  # lists, tuples and sets all arrive as lists of plain data
        items = value
    else:
        return None
    if not all(isinstance(v, str) for v in items):
        return None
    spelling = {str(v).casefold(): str(v) for v in _graph(dag)}
    return [spelling.get(v.strip().casefold(), v.strip()) for v in items]


def _as_paths(value: Any, dag: str = G1_DAG) -> set[tuple[str, ...]] | None:
    if not isinstance(value, list):
        return None
    paths = [_names(p, dag) for p in value]
    if any(p is None for p in paths):
        return None
    return {tuple(p) for p in paths if p is not None}


def _score_collection(
    given: set[T], expected: set[T], wrong_note: Callable[[set[T]], str], missing_what: str
) -> tuple[float, str]:
    """(right − wrong) / expected, at least 0, with a note on the wrong and the missing members."""
    wrong, missing = given - expected, len(expected - given)
    notes = []
    if wrong:
        notes.append(wrong_note(wrong))
    if missing:
        notes.append(f"{missing} {missing_what} missing")
    return max(0.0, (len(given & expected) - len(wrong)) / len(expected)), "; ".join(notes)


def _check_paths(value: Any, key: Any, ctx: Context) -> tuple[float, str]:
    paths = _as_paths(value)
    if paths is None:
        return False, "give a list of paths, each a list of vertex names such as ['X', 'Z', 'Y']"
    expected = {tuple(p) for p in key}
    return _score_collection(
        paths,
        expected,
        lambda wrong: "not backdoor paths from X to Y: " + "; ".join(" - ".join(p) for p in sorted(wrong)),
        "backdoor path(s)",
    )


def _variable_part(grade_id: str, variable: str, key: Callable[[Context], Any], check: Checker, title: str) -> Part:
    """A 2-point part on the value of one variable the student's notebook defines."""
    return Part(grade_id, 2.0, (Probe(variable, key=key, check=check, label=variable),), title)


PATHS = _variable_part(
    "paths_g1", "PATHS_G1", fixed_key(_backdoor_paths, G1_DAG), _check_paths, "all backdoor paths of G1"
)


def _as_set(value: Any, dag: str) -> frozenset[str] | None:
    names = _names(value, dag)
    return None if names is None else frozenset(names)


def check_minimal_set(dag: str) -> Checker:
    """Checker: the value is one of the minimal backdoor sets of ``dag`` (X → Y); half credit if valid, not minimal.

    >>> dag = "dag { X <- A -> B -> Y; X -> Y }"
    >>> check, key = check_minimal_set(dag), minimal_backdoor_sets(parse_dag(dag), "X", "Y")   # {A} and {B}
    >>> check(["B"], key, {}), check(["A", "B"], key, {})[0], check([], key, {})[1]
    ((True, ''), 0.5, 'the backdoor path X ← A → B → Y stays open')
    """

    def check(value: Any, key: Any, ctx: Context) -> tuple[float, str]:
        Z = _as_set(value, dag)
        if Z is None:
            return False, "give a set of vertex names, e.g. {'A', 'B'}"
        if Z in set(key):
            return True, ""
        G = _graph(dag)
        unknown = sorted(Z - set(G))
        if unknown:
            return False, f"not vertices of the graph: {', '.join(unknown)}"
        why = explain_backdoor_set(G, "X", "Y", Z)
        if why.valid:
            return 0.5, "valid, but not minimal: a proper subset also blocks every backdoor path"
        return False, "; ".join(why.reasons)

    return check


SET_G1 = _variable_part(
    "set_g1", "SET_G1", fixed_key(_minimal_sets, G1_DAG), check_minimal_set(G1_DAG), "a minimal backdoor set of G1"
)

SET_G2 = _variable_part(
    "set_g2", "SET_G2", fixed_key(_minimal_sets, G2_DAG), check_minimal_set(G2_DAG), "a minimal backdoor set of G2"
)


def _check_smallest(value: Any, key: Any, ctx: Context) -> tuple[float, str]:
    sets = [_as_set(v, G2_DAG) for v in value] if isinstance(value, list) else [None]
    if any(z is None for z in sets):
        return False, "give a list of sets of vertex names"
    given: set[NodeSet] = {z for z in sets if z is not None}  # all of them, checked above
    expected: set[NodeSet] = set(key)
    return _score_collection(
        given,
        expected,
        lambda wrong: (
            f"{len(wrong)} of your sets are not smallest valid sets (sizes {sorted({len(z) for z in wrong})})"
        ),
        "smallest set(s)",
    )


SMALLEST = _variable_part(
    "smallest_g2",
    "SMALLEST_G2",
    fixed_key(_smallest_sets, G2_DAG),
    _check_smallest,
    "every smallest backdoor set of G2",
)

SPEC = AssignmentSpec(
    NAME,
    (OPEN, PATHS, SET_G1, SET_G2, SMALLEST),
    notebook="backdoor.ipynb",
    module=__name__,
    forbidden=FORBIDDEN,
    allowed=ALLOWED,
)
