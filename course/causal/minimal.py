"""All minimal backdoor sets: valid sets none of whose proper subsets is valid.

Valid backdoor sets are the d-separators of X and Y in the backdoor graph
``G_X̲`` that avoid latent nodes, Y and the descendants of X, so the minimal ones
are listed with polynomial delay by the separator branching of
:mod:`course.causal.separators` (van der Zander, Liśkiewicz & Textor,
"Separators and adjustment sets in causal graphs", Artif. Intell. 270, 2019).
No subset of the nodes is ever tried, so graphs with exponentially many answers
still give their first answers at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import networkx as nx

from course.causal.backdoor import backdoor_candidates, backdoor_graph
from course.causal.graphs import DAG, NodeSet, NodeSpec, check_limit, prepare_query, sort_sets
from course.causal.separators import SeparationProblem, iter_minimal_separators, separation_problem

__all__ = ["iter_minimal_backdoor_sets", "minimal_backdoor_sets", "find_minimal_backdoor_set", "backdoor_problem"]


def backdoor_problem(G: DAG, X: NodeSpec, Y: NodeSpec, latent: NodeSpec = None) -> SeparationProblem:
    """The separation problem whose separators are the valid backdoor sets in An(X ∪ Y)."""
    q = prepare_query(G, X, Y, latent)
    return separation_problem(backdoor_graph(q.G, q.X), q.X, q.Y, backdoor_candidates(q))


def iter_minimal_backdoor_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> Iterator[NodeSet]:
    """Yield the minimal valid backdoor sets one by one (polynomial delay; order: discovery order).

    Parameters
    ----------
    G : networkx.DiGraph
    X, Y : node or set of nodes
    latent : iterable, optional
        Unobserved nodes besides those with ``latent=True``.
    limit : int, optional
        Stop after this many sets.

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { X <- A -> B -> Y; X <- C -> B; X -> Y }")
    >>> sorted(sorted(z) for z in iter_minimal_backdoor_sets(G, "X", "Y"))
    [['A', 'C'], ['B']]
    """
    limit = check_limit(limit)
    return islice(iter_minimal_separators(backdoor_problem(G, X, Y, latent)), limit)


def minimal_backdoor_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> list[NodeSet]:
    """Every minimal valid backdoor set, sorted by size then names.

    ``[]`` means no valid set exists; ``[frozenset()]`` means adjusting for
    nothing is valid. With ``limit`` the first ``limit`` sets found are returned
    (sorted), not necessarily the smallest ones.

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> minimal_backdoor_sets(parse_dag("dag { X -> Y; U [latent]; U -> X; U -> Y }"), "X", "Y")
    []
    >>> minimal_backdoor_sets(parse_dag("dag { X -> Y <- C }"), "X", "Y")
    [frozenset()]
    """
    return sort_sets(iter_minimal_backdoor_sets(G, X, Y, latent=latent, limit=limit))


def find_minimal_backdoor_set(G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None) -> NodeSet | None:
    """One minimal valid backdoor set in linear time (networkx's ``find_minimal_d_separator``), or None.

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> sorted(find_minimal_backdoor_set(parse_dag("dag { X <- A -> Y; X -> Y }"), "X", "Y"))
    ['A']
    """
    q = prepare_query(G, X, Y, latent)
    found = nx.find_minimal_d_separator(
        backdoor_graph(q.G, q.X), set(q.X), set(q.Y), restricted=set(backdoor_candidates(q))
    )
    return None if found is None else frozenset(found)
