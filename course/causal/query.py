"""The validated question every solver starts from: node types, ordering, and the checks of G, X, Y and Z.

A causal graph is a ``networkx.DiGraph`` (DAGitty syntax in and out is :mod:`course.causal.graphs`).
:func:`prepare_query` checks it once -- acyclic, X and Y known, disjoint and observed -- and returns a
:class:`CausalQuery` that the backdoor, path and adjustment modules read; :func:`node_key`,
:func:`sort_sets` and :func:`format_set` give every list and message of the package one order.

>>> import networkx as nx
>>> q = prepare_query(nx.DiGraph([("B", "X"), ("B", "Y"), ("X", "Y")]), "X", "Y")
>>> sorted(q.observed), format_set(q.descendants_of_x())
(['B', 'X', 'Y'], '{X, Y}')
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import networkx as nx

from course.errors import CourseError

__all__ = [
    "CausalQuery",
    "prepare_query",
    "node_key",
    "sort_sets",
    "format_set",
    "check_dag",
    "check_limit",
    "Node",
    "NodeSet",
    "NodeSpec",
    "DAG",
]

# the types the package's signatures use (networkx's convention: a node is any hashable value)
Node: TypeAlias = Hashable
NodeSet: TypeAlias = frozenset[Hashable]
NodeSpec: TypeAlias = "Hashable | Iterable[Hashable] | None"  # one node, a collection of nodes, or None
DAG: TypeAlias = "nx.DiGraph[Any]"  # Any, not Hashable: a caller's DiGraph[str] is accepted as it is


# ----------------------------------------------------------------------------- ordering


def node_key(node: Node) -> tuple[int, Any, str]:
    """Sort key for nodes of any hashable type: numbers first, then by text."""
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return (0, node, "")
    return (1, 0, str(node))


def sort_sets(sets: Iterable[Iterable[Node]]) -> list[NodeSet]:
    """Sort sets by size, then by their sorted node names (the order of every list this package returns)."""
    unique = {frozenset(s) for s in sets}
    return sorted(unique, key=lambda s: (len(s), [node_key(v) for v in sorted(s, key=node_key)]))


def format_set(nodes: Iterable[Node]) -> str:
    """``{A, B}`` with sorted names; ``{}`` for the empty set."""
    return "{" + ", ".join(str(v) for v in sorted(nodes, key=node_key)) + "}"


# ----------------------------------------------------------------------------- validation


def check_dag(G: object) -> None:
    """Raise :class:`CourseError` unless ``G`` is a directed acyclic ``networkx.DiGraph`` (names a cycle)."""
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise CourseError(
            f"expected a networkx.DiGraph, got {type(G).__name__}; "
            "build one with nx.DiGraph(edges) or parse_dag('dag { ... }')"
        )
    if nx.is_directed_acyclic_graph(G):
        return
    cycle = nx.find_cycle(G)
    names = [str(u) for u, _ in cycle] + [str(cycle[0][0])]
    raise CourseError("the graph has a directed cycle " + " -> ".join(names) + "; a causal DAG must be acyclic")


def _is_node(G: DAG, value: object) -> bool:
    try:
        return value in G
    except TypeError:
        return False


def _as_node_set(G: DAG, value: object, role: str, allow_empty: bool) -> NodeSet:
    if _is_node(G, value) and not isinstance(value, (set, list)):
        nodes = [value]  # a tuple or frozenset that is itself a node, as in networkx
    elif value is None:
        nodes = []
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        nodes = list(value)  # a set, list, tuple, generator or dict view of nodes
    else:
        try:
            hash(value)
        except TypeError:
            raise CourseError(f"{role} must be a node or a set of nodes, got {type(value).__name__}") from None
        nodes = [value]
    for node in nodes:
        try:
            known = node in G
        except TypeError:
            raise CourseError(f"{role} contains {node!r}, which is not a valid node (unhashable)") from None
        if not known:
            listing = ", ".join(str(v) for v in sorted(G.nodes, key=node_key)[:20])
            raise CourseError(f"unknown node {node!r} in {role}; the graph has nodes {listing}")
    if not nodes and not allow_empty:
        raise CourseError(f"{role} is empty; give at least one node")
    return frozenset(nodes)


@dataclass(frozen=True)
class CausalQuery:
    """A validated question about the effect of ``X`` on ``Y`` in ``G``."""

    G: DAG
    X: NodeSet
    Y: NodeSet
    latent: NodeSet

    @property
    def observed(self) -> NodeSet:
        """Nodes that may be adjusted for (everything not latent)."""
        return frozenset(self.G.nodes) - self.latent

    def descendants_of_x(self) -> NodeSet:
        """De(X) in G, X included."""
        result = set(self.X)
        for x in self.X:
            result |= nx.descendants(self.G, x)
        return frozenset(result)

    def adjustment_set(self, Z: NodeSpec, role: str = "Z") -> NodeSet:
        """Validate a candidate set: known nodes, disjoint from X and Y."""
        nodes = _as_node_set(self.G, Z, role, allow_empty=True)
        clash = nodes & (self.X | self.Y)
        if clash:
            raise CourseError(
                f"{role} contains {format_set(clash)}, which is the exposure or the outcome; "
                "an adjustment set is chosen among the other nodes"
            )
        return nodes


def prepare_query(G: DAG, X: NodeSpec, Y: NodeSpec, latent: NodeSpec = None) -> CausalQuery:
    """Validate the graph, the exposures ``X``, the outcomes ``Y`` and the latent nodes.

    ``X``/``Y`` may be a node or a set/list/tuple of nodes; ``None`` takes the
    nodes marked ``exposure``/``outcome`` (as in a pasted DAGitty graph).
    """
    check_dag(G)
    if X is None:
        X = [v for v, d in G.nodes(data=True) if d.get("exposure")]
    if Y is None:
        Y = [v for v, d in G.nodes(data=True) if d.get("outcome")]
    xs = _as_node_set(G, X, "X (the exposure)", allow_empty=False)
    ys = _as_node_set(G, Y, "Y (the outcome)", allow_empty=False)
    both = xs & ys
    if both:
        raise CourseError(
            f"X and Y overlap in {format_set(both)}; the exposure and the outcome must be different nodes"
        )
    hidden = {v for v, d in G.nodes(data=True) if d.get("latent")}
    hidden |= _as_node_set(G, latent, "latent", allow_empty=True)
    for role, nodes in (("X (the exposure)", xs), ("Y (the outcome)", ys)):
        if nodes & hidden:
            raise CourseError(
                f"{role} contains the latent node(s) {format_set(nodes & hidden)}; "
                "an unobserved variable cannot be an exposure or an outcome"
            )
    return CausalQuery(G, xs, ys, frozenset(hidden))


def check_limit(limit: object, name: str = "limit") -> int | None:
    """Return ``limit`` as an int (or None); raise :class:`CourseError` unless it is None or a non-negative integer.

    >>> check_limit(None), check_limit(3)
    (None, 3)
    """
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 0:
        raise CourseError(f"{name} must be a non-negative int or None, got {limit!r}")
    return int(limit)
