"""Backdoor paths and why each of their nodes is open or blocked.

A *backdoor path* from X to Y is a path (no repeated node) in the skeleton of the
DAG that starts with an arrow *into* a member of X and whose inner nodes are
neither in X nor in Y (Pearl, Glymour & Jewell, *Causal Inference in Statistics:
A Primer*, 2016, §3.3). Given a set Z, an inner node ``v`` blocks the path when

* ``v`` is a non-collider (chain ``→ v →`` or fork ``← v →``) and ``v ∈ Z``, or
* ``v`` is a collider (``→ v ←``) and neither ``v`` nor any descendant of ``v`` is in Z

(Pearl, *Causality*, 2nd ed., Def. 1.2.3). A path with no blocking node is open.

Listing paths takes exponential time in general: use these functions for
teaching-sized graphs; the set-finding functions never enumerate paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import networkx as nx

from course.causal.graphs import (
    DAG,
    CausalQuery,
    Node,
    NodeSet,
    NodeSpec,
    check_limit,
    format_set,
    node_key,
    prepare_query,
)

__all__ = ["NodeOnPath", "BackdoorPath", "backdoor_paths", "iter_backdoor_paths"]


@dataclass(frozen=True)
class NodeOnPath:
    """One inner node of a path: its role there and whether it lets the path through given Z."""

    node: Node
    role: str  # "chain", "fork" or "collider"
    open: bool
    reason: str


@dataclass(frozen=True)
class BackdoorPath:
    """A path X … Y; ``forward[i]`` is True when the i-th edge points from ``nodes[i]`` to ``nodes[i+1]``."""

    nodes: tuple[Node, ...]
    forward: tuple[bool, ...]
    inner: tuple[NodeOnPath, ...]  # for nodes[1:-1]

    @property
    def is_open(self) -> bool:
        """True when no inner node blocks the path."""
        return all(step.open for step in self.inner)

    @property
    def blocking(self) -> tuple[Node, ...]:
        """The inner nodes that block the path."""
        return tuple(step.node for step in self.inner if not step.open)

    def __str__(self) -> str:
        parts = [str(self.nodes[0])]
        for node, fwd in zip(self.nodes[1:], self.forward):
            parts.append("→" if fwd else "←")
            parts.append(str(node))
        return " ".join(parts)


def _describe(node: Node, role: str, in_z: bool, witness: Node | None) -> NodeOnPath:
    if role == "collider":
        if in_z:
            return NodeOnPath(node, role, True, f"collider {node} is adjusted for, which opens the path")
        if witness is not None:
            return NodeOnPath(
                node,
                role,
                True,
                f"collider {node} has the descendant {witness} in the adjustment set, which opens the path",
            )
        return NodeOnPath(node, role, False, f"collider {node} is not adjusted for (nor any descendant), so it blocks")
    kind = "fork" if role == "fork" else "chain node"
    if in_z:
        return NodeOnPath(node, role, False, f"{kind} {node} is adjusted for, so it blocks")
    return NodeOnPath(node, role, True, f"{kind} {node} is not adjusted for, so it lets the path through")


class _PathJudge:
    """Classifies inner nodes of paths given a fixed adjustment set Z."""

    def __init__(self, G: DAG, Z: Iterable[Node]) -> None:
        self.G = G
        self.Z = frozenset(Z)
        self._witness: dict[Node, Node | None] = {}

    def witness(self, node: Node) -> Node | None:
        """A member of Z that is a descendant of ``node`` (None if there is none)."""
        if node not in self._witness:
            found = sorted(nx.descendants(self.G, node) & self.Z, key=node_key)
            self._witness[node] = found[0] if found else None
        return self._witness[node]

    def step(self, node: Node, into_from_left: bool, out_to_right: bool) -> NodeOnPath:
        """``into_from_left``: the edge from the previous node points into ``node``;
        ``out_to_right``: the next edge leaves it."""
        if into_from_left and not out_to_right:
            role = "collider"
        elif not into_from_left and out_to_right:
            role = "fork"
        else:
            role = "chain"
        in_z = node in self.Z
        witness = self.witness(node) if role == "collider" and not in_z else None
        return _describe(node, role, in_z, witness)


def _search(q: CausalQuery, judge: _PathJudge, only_open: bool) -> Iterator[BackdoorPath]:
    """Depth-first search over backdoor paths; with ``only_open`` it prunes prefixes that are already blocked
    and stays inside An(X ∪ Y ∪ Z), which holds every node of an open path."""
    G = q.G
    stop = q.X | q.Y
    if only_open:
        keep = set(stop | judge.Z)
        for v in stop | judge.Z:
            keep |= nx.ancestors(G, v)
        G = G.subgraph(keep)
    for x in sorted(q.X, key=node_key):
        for first in sorted(G.predecessors(x), key=node_key):
            # state: nodes, forward flags, judged inner nodes
            stack: list[tuple[tuple[Node, ...], tuple[bool, ...], tuple[NodeOnPath, ...]]]
            stack = [((x, first), (False,), ())]
            while stack:
                nodes, forward, inner = stack.pop()
                last = nodes[-1]
                if last in q.Y:
                    yield BackdoorPath(nodes, forward, inner)
                    continue
                if last in stop:
                    continue
                seen = set(nodes)
                into_last = forward[-1]
                steps = [(w, True) for w in G.successors(last)] + [(w, False) for w in G.predecessors(last)]
                children = []
                for w, fwd in steps:
                    if w in seen:
                        continue
                    judged = judge.step(last, into_last, fwd)
                    if only_open and not judged.open:
                        continue
                    children.append((nodes + (w,), forward + (fwd,), inner + (judged,)))
                children.sort(key=lambda c: node_key(c[0][-1]), reverse=True)
                stack.extend(children)


def iter_backdoor_paths(
    G: DAG,
    X: NodeSpec,
    Y: NodeSpec,
    Z: NodeSpec = (),
    *,
    latent: NodeSpec = None,
    only_open: bool = False,
    limit: int | None = None,
) -> Iterator[BackdoorPath]:
    """Yield every backdoor path from X to Y as a :class:`BackdoorPath`, judged given ``Z``.

    Parameters
    ----------
    G : networkx.DiGraph
    X, Y : node or set of nodes
    Z : iterable of nodes, optional
        The adjustment set the open/blocked status refers to.
    latent : iterable of nodes, optional
        Extra unobserved nodes (besides nodes with ``latent=True``).
    only_open : bool
        Yield only the open paths (prunes the search early).
    limit : int, optional
        Stop after this many paths.

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { Z -> X -> Y; Z -> Y }")
    >>> [str(p) for p in iter_backdoor_paths(G, "X", "Y")]
    ['X ← Z → Y']
    """
    limit = check_limit(limit)
    q = prepare_query(G, X, Y, latent)
    Z = q.adjustment_set(Z)
    return islice(_search(q, _PathJudge(q.G, Z), only_open), limit)


def backdoor_paths(
    G: DAG,
    X: NodeSpec,
    Y: NodeSpec,
    Z: NodeSpec = (),
    *,
    latent: NodeSpec = None,
    only_open: bool = False,
    limit: int | None = None,
) -> list[BackdoorPath]:
    """Every backdoor path from X to Y with its open/blocked status given ``Z`` (see :func:`iter_backdoor_paths`).

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { X <- A -> B <- C -> Y; X -> Y }")
    >>> [(str(p), p.is_open) for p in backdoor_paths(G, "X", "Y", {"B"})]
    [('X ← A → B ← C → Y', True)]
    """
    return list(iter_backdoor_paths(G, X, Y, Z, latent=latent, only_open=only_open, limit=limit))


def shortest_open_path(q: CausalQuery, Z: NodeSet, scan: int = 100) -> BackdoorPath | None:
    """The shortest of the first ``scan`` open backdoor paths given Z, or None (used by the explanation)."""
    found = list(islice(_search(q, _PathJudge(q.G, Z), only_open=True), scan))
    return min(found, key=lambda path: len(path.nodes)) if found else None


def describe_path(path: BackdoorPath) -> str:
    """Multi-line text: the path, then one line per inner node."""
    state = "open" if path.is_open else "blocked by " + format_set(path.blocking)
    lines = [f"{path}  ({state})"]
    lines += [f"  - {step.reason}" for step in path.inner]
    return "\n".join(lines)
