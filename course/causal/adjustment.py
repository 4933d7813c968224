"""The generalised adjustment criterion (Shpitser, VanderWeele & Robins, UAI 2010).

Z is an *adjustment set* for (X, Y) — P(y | do(x)) = Σ_z P(y | x, z) P(z) in
every model compatible with G — iff

1. no member of Z is a descendant of a node W ∉ X on a proper causal path from X to Y, and
2. Z blocks every proper non-causal path from X to Y.

In the constructive form of van der Zander, Liśkiewicz & Textor (UAI 2014;
Artif. Intell. 270, 2019, Thm. 4.4): with PCP(X, Y) = (De_{G_X̄}(X) \\ X) ∩
An_{G_X̲}(Y) the nodes on proper causal paths, Z is an adjustment set iff Z
avoids X ∪ Y ∪ De(PCP) and d-separates X and Y in the *proper backdoor graph*
(G without the edges x → w, x ∈ X, w ∈ PCP).

Every backdoor set is an adjustment set; the converse fails when a descendant
of X off every causal path (say X → D with D not an ancestor of Y) helps to block
a path — DAGitty lists adjustment sets, so its answers can differ from backdoor sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice

import networkx as nx

from course.causal.graphs import DAG, CausalQuery, Node, NodeSet, NodeSpec, check_limit, prepare_query, sort_sets
from course.causal.separators import (
    SeparationProblem,
    iter_minimal_separators,
    iter_minimum_separators,
    separation_problem,
)

__all__ = [
    "proper_causal_nodes",
    "proper_backdoor_graph",
    "is_adjustment_set",
    "iter_minimal_adjustment_sets",
    "minimal_adjustment_sets",
    "iter_minimum_adjustment_sets",
    "minimum_adjustment_sets",
]


def _reach(G: DAG, start: Iterable[Node], step: Callable[[Node], Iterator[Node]], blocked: NodeSet) -> set[Node]:
    """Nodes reachable from ``start`` by ``step`` (successors/predecessors) without passing through ``blocked``."""
    seen: set[Node] = set()
    stack = list(start)
    while stack:
        v = stack.pop()
        for w in step(v):
            if w not in seen and w not in blocked:
                seen.add(w)
                stack.append(w)
    return seen


def proper_causal_nodes(q: CausalQuery) -> NodeSet:
    """PCP(X, Y): nodes other than X on a directed path from X to Y that meets X only at its start."""
    below = _reach(q.G, q.X, q.G.successors, q.X)  # De in G_X̄, without X
    above = _reach(q.G, q.Y, q.G.predecessors, q.X) | q.Y  # An in G_X̲
    return frozenset(below & above)


def proper_backdoor_graph(q: CausalQuery) -> DAG:
    """G without the first edge x → w of every proper causal path."""
    pcp = proper_causal_nodes(q)
    D: DAG = q.G.copy()
    D.remove_edges_from([(x, w) for x in q.X for w in q.G.successors(x) if w in pcp])
    return D


def _forbidden(q: CausalQuery) -> NodeSet:
    pcp = proper_causal_nodes(q)
    out = set(pcp) | set(q.X)
    for v in pcp:
        out |= nx.descendants(q.G, v)
    return frozenset(out)


def _adjustment_problem(G: DAG, X: NodeSpec, Y: NodeSpec, latent: NodeSpec) -> SeparationProblem:
    q = prepare_query(G, X, Y, latent)
    allowed = q.observed - q.Y - _forbidden(q)
    return separation_problem(proper_backdoor_graph(q), q.X, q.Y, allowed)


def is_adjustment_set(G: DAG, X: NodeSpec, Y: NodeSpec, Z: NodeSpec, *, latent: NodeSpec = None) -> bool:
    """True when Z satisfies the generalised adjustment criterion relative to (X, Y).

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { X -> Y; X -> D; U1 [latent]; U2 [latent]; U1 -> X; U1 -> D; U2 -> D; U2 -> Y }")
    >>> is_adjustment_set(G, "X", "Y", set()), is_adjustment_set(G, "X", "Y", {"D"})
    (True, False)
    """
    q = prepare_query(G, X, Y, latent)
    Z = q.adjustment_set(Z)
    if Z & (q.latent | _forbidden(q)):
        return False
    return nx.is_d_separator(proper_backdoor_graph(q), set(q.X), set(q.Y), set(Z))


def iter_minimal_adjustment_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> Iterator[NodeSet]:
    """Yield every minimal adjustment set (polynomial delay, discovery order)."""
    limit = check_limit(limit)
    return islice(iter_minimal_separators(_adjustment_problem(G, X, Y, latent)), limit)


def minimal_adjustment_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> list[NodeSet]:
    """Every minimal adjustment set, sorted by size then names (``[]``: none exists).

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { X -> Y; X -> D; A -> D; A -> Y; U [latent]; U -> X; U -> D }")
    >>> minimal_adjustment_sets(G, "X", "Y")
    [frozenset()]
    """
    return sort_sets(iter_minimal_adjustment_sets(G, X, Y, latent=latent, limit=limit))


def iter_minimum_adjustment_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> Iterator[NodeSet]:
    """Yield every adjustment set of the smallest size, lazily (discovery order)."""
    limit = check_limit(limit)
    return islice(iter_minimum_separators(_adjustment_problem(G, X, Y, latent)), limit)


def minimum_adjustment_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> list[NodeSet]:
    """Every adjustment set of the smallest size, sorted by names.

    Examples
    --------
    >>> from course.causal.examples import butterfly
    >>> [sorted(z) for z in minimum_adjustment_sets(butterfly(), "X", "Y")]
    [['A', 'M'], ['B', 'M']]
    """
    return sort_sets(iter_minimum_adjustment_sets(G, X, Y, latent=latent, limit=limit))
