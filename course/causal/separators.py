"""Minimal and minimum separators of X and Y among allowed nodes — the engine behind the set finders.

Both backdoor sets and adjustment sets are *d-separators* of X and Y in a
modified DAG D (the backdoor graph, or the proper backdoor graph) restricted to
allowed nodes R. Two facts turn this into an undirected problem:

* Z d-separates X and Y in D iff Z separates them in the moral graph of the
  ancestral set An(X ∪ Y ∪ Z) (Lauritzen et al., Networks 20, 1990).
* Z ∩ An(X ∪ Y) is a d-separator whenever Z is (Tian, Paz & Pearl, "Finding
  minimal d-separators", 1998), so every minimal separator lies in An(X ∪ Y) and
  the moral graph M = (D[An(X ∪ Y)])ᵐ is fixed. Minimal (minimum) d-separators
  in R are then exactly the minimal (minimum) vertex separators of X and Y in M
  using only vertices of R ∩ An(X ∪ Y).

M receives a source ``s`` joined to X and a sink ``t`` joined to Y. A minimal
s–t separator Z is determined by the component C of s in M − Z (Z = N(C)).
Listing is a backtracking in the manner of Takata (Discrete Appl. Math. 158,
2010) and of ListMinSep in van der Zander, Liśkiewicz & Textor (Artif. Intell.
270, 2019): a branch fixes vertices S that must be in C and T that must not be; the
separator *closest to S* has the smallest C of all solutions of the branch, so
either it is the only one or some member v of it lies in C of the others —
branch on v ∈ C versus v ∉ C. Every branch is checked before it is entered, so
the delay between two answers is O(n) closest-separator computations.

For the separators of smallest size, the closest separator is the minimum
vertex cut with the smallest source side (one max-flow on the split graph:
each allowed vertex becomes an arc of capacity 1, every other arc is
uncuttable); the same branching lists all of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from typing import TypeAlias

import networkx as nx

from course.causal.graphs import DAG, Node, NodeSet, node_key

__all__ = [
    "SeparationProblem",
    "separation_problem",
    "iter_minimal_separators",
    "iter_minimum_separators",
    "minimum_separator_size",
]


class _Terminal:
    """The source/sink added to the moral graph (never equal to a user node)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


Adjacency: TypeAlias = Mapping[Node, Set[Node]]
# a separator Z and the component C of the source it cuts off (None: no separator in the branch)
_Found: TypeAlias = tuple[NodeSet, NodeSet] | None


@dataclass(frozen=True)
class SeparationProblem:
    """Undirected vertex-separation problem: separate ``s`` from ``t`` in ``adj`` with vertices of ``cuttable``."""

    adj: Adjacency
    s: Node
    t: Node
    cuttable: NodeSet


def separation_problem(D: DAG, X: Iterable[Node], Y: Iterable[Node], allowed: Iterable[Node]) -> SeparationProblem:
    """Moralise the ancestral graph of X ∪ Y in ``D`` and add the terminals.

    ``allowed`` is cut down to An(X ∪ Y), where every minimal separator lies.

    >>> D = nx.DiGraph([("A", "X"), ("A", "B"), ("B", "Y"), ("Y", "W")])   # X ← A → B → Y → W
    >>> p = separation_problem(D, {"X"}, {"Y"}, {"A", "B", "W"})
    >>> sorted(p.cuttable), sorted(map(str, p.adj[p.s]))
    (['A', 'B'], ['X'])
    """
    keep = set(X) | set(Y)
    for v in list(keep):
        keep |= nx.ancestors(D, v)
    M = nx.moral_graph(D.subgraph(keep))
    s, t = _Terminal("<source>"), _Terminal("<sink>")
    M.add_edges_from((s, x) for x in X)
    M.add_edges_from((y, t) for y in Y)
    adj = {v: set(M[v]) for v in M}
    return SeparationProblem(adj, s, t, frozenset(allowed) & frozenset(keep))


def _component(adj: Adjacency, start: Iterable[Node], removed: Set[Node]) -> set[Node]:
    """Vertices reachable from ``start`` (a set) without entering ``removed``."""
    seen = set(start)
    queue = deque(start)
    while queue:
        v = queue.popleft()
        for w in adj[v]:
            if w not in seen and w not in removed:
                seen.add(w)
                queue.append(w)
    return seen


def _closest_minimal(p: SeparationProblem, S: NodeSet) -> _Found:
    """The minimal separator closest to S and its source component, or None when S cannot be separated from t."""
    adj, cut = p.adj, p.cuttable
    # grow S through vertices that cannot be cut: they must lie in the source component
    inside = set(S)
    queue = deque(S)
    boundary: set[Node] = set()
    while queue:
        v = queue.popleft()
        for w in adj[v]:
            if w in inside:
                continue
            if w in cut and w not in S:
                boundary.add(w)
            else:
                inside.add(w)
                queue.append(w)
    if p.t in inside:
        return None
    far = _component(adj, [p.t], inside | boundary)
    Z = frozenset(z for z in boundary if adj[z] & far)
    return Z, frozenset(_component(adj, [p.s], Z))


def _split(v: Node, side: int) -> tuple[int, Node]:
    return (side, v)


# an arc of the residual network and the capacity to restore (None: the arc was added, remove it)
_Undo: TypeAlias = tuple[tuple[int, Node], tuple[int, Node], float | None]


class _CutFinder:
    """Minimum vertex cuts on the split graph of a problem; the residual network is built once and reused."""

    def __init__(self, p: SeparationProblem) -> None:
        self.p = p
        F: nx.DiGraph[tuple[int, Node]] = nx.DiGraph()
        for v, nbrs in p.adj.items():
            if v in p.cuttable:
                F.add_edge(_split(v, 0), _split(v, 1), capacity=1)
            else:
                F.add_edge(_split(v, 0), _split(v, 1))
            F.add_edges_from((_split(v, 1), _split(w, 0)) for w in nbrs)
        self.F = F
        self.R: nx.DiGraph[tuple[int, Node]] = nx.algorithms.flow.build_residual_network(F, "capacity")
        self.source, self.sink = _split(p.s, 0), _split(p.t, 1)

    def _open_arc(self, u: tuple[int, Node], w: tuple[int, Node], undo: list[_Undo]) -> None:
        """Make u → w uncuttable in the residual network, remembering how to undo it."""
        R, inf = self.R, self.R.graph["inf"]
        if R.has_edge(u, w):
            undo.append((u, w, R[u][w]["capacity"]))
        else:
            R.add_edge(u, w)
            R.add_edge(w, u, capacity=0)
            undo.append((u, w, None))
        R[u][w]["capacity"] = inf

    def closest(self, S: NodeSet, T: NodeSet, size: int | None) -> _Found:
        """The minimum cut with the smallest source side such that S ⊆ C and T ∩ C = ∅,
        or None if it exceeds ``size``."""
        p, R = self.p, self.R
        undo: list[_Undo] = []
        for v in S:
            if v is not p.s:
                self._open_arc(_split(v, 0), _split(v, 1), undo)
                self._open_arc(self.source, _split(v, 0), undo)
        for v in T:
            if v is not p.t:
                self._open_arc(_split(v, 1), self.sink, undo)
        try:
            cutoff = None if size is None else size + 1
            nx.algorithms.flow.edmonds_karp(self.F, self.source, self.sink, residual=R, cutoff=cutoff)
            if size is not None and R.graph["flow_value"] > size:
                return None
            reach = self._reachable()
        except nx.NetworkXUnbounded:
            return None
        finally:
            for u, w, capacity in reversed(undo):
                if capacity is None:
                    R.remove_edge(u, w)
                    R.remove_edge(w, u)
                else:
                    R[u][w]["capacity"] = capacity
        Z = frozenset(v for v in p.cuttable if _split(v, 0) in reach and _split(v, 1) not in reach)
        return Z, frozenset(_component(p.adj, [p.s], Z))

    def _reachable(self) -> set[tuple[int, Node]]:
        # networkx's minimum_cut returns the largest source side; the closest cut is what the source reaches
        R = self.R
        reach = {self.source}
        stack = [self.source]
        while stack:
            u = stack.pop()
            for w, arc in R[u].items():
                if w not in reach and arc["flow"] < arc["capacity"]:
                    reach.add(w)
                    stack.append(w)
        return reach


def _branch(p: SeparationProblem, closest: Callable[[NodeSet, NodeSet], _Found]) -> Iterator[NodeSet]:
    """Yield every separator found by ``closest(S, T)`` branching (see the module docstring)."""
    first = closest(frozenset([p.s]), frozenset([p.t]))
    if first is None:
        return
    stack = [(frozenset([p.t]), first)]
    while stack:
        T, (Z, C) = stack.pop()
        children: list[tuple[NodeSet, tuple[NodeSet, NodeSet]]] = []
        for v in sorted(Z - T, key=node_key):
            found = closest(C | {v}, T)
            if found is not None and not (found[1] & T):
                children.append((T, found))
            T = T | {v}
        stack.extend(reversed(children))
        yield Z


def iter_minimal_separators(p: SeparationProblem) -> Iterator[NodeSet]:
    """Every inclusion-minimal s–t separator made of cuttable vertices, with polynomial delay.

    >>> D = nx.DiGraph([("A", "X"), ("A", "B"), ("B", "Y"), ("C", "X"), ("C", "Y")])
    >>> p = separation_problem(D, {"X"}, {"Y"}, {"A", "B", "C"})   # paths X–A–B–Y and X–C–Y
    >>> sorted(sorted(z) for z in iter_minimal_separators(p))
    [['A', 'C'], ['B', 'C']]
    """
    return _branch(p, lambda S, T: _closest_minimal(p, S))


def minimum_separator_size(p: SeparationProblem) -> int | None:
    """Size of the smallest s–t separator made of cuttable vertices, or None if there is none.

    >>> D = nx.DiGraph([("A", "X"), ("A", "Y"), ("U", "X"), ("U", "Y")])
    >>> minimum_separator_size(separation_problem(D, {"X"}, {"Y"}, {"A", "U"}))
    2
    >>> minimum_separator_size(separation_problem(D, {"X"}, {"Y"}, {"A"})) is None   # U cannot be cut
    True
    """
    found = _CutFinder(p).closest(frozenset([p.s]), frozenset([p.t]), None)
    return None if found is None else len(found[0])


def iter_minimum_separators(p: SeparationProblem) -> Iterator[NodeSet]:
    """Every s–t separator of the smallest size made of cuttable vertices.

    >>> D = nx.DiGraph([("A", "X"), ("A", "B"), ("B", "Y"), ("C", "X"), ("C", "B")])
    >>> p = separation_problem(D, {"X"}, {"Y"}, {"A", "B", "C"})   # minimal: {B} and {A, C}
    >>> [sorted(z) for z in iter_minimum_separators(p)]
    [['B']]
    """
    finder = _CutFinder(p)
    first = finder.closest(frozenset([p.s]), frozenset([p.t]), None)
    if first is None:
        return iter(())
    size = len(first[0])
    return _branch(p, lambda S, T: finder.closest(S, T, size))
