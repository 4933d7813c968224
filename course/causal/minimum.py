"""The smallest valid backdoor sets ("choose the smallest set(s)" of the quiz, SEED_NOTES T3).

The smallest size is a minimum vertex cut between X and Y in the moralised
ancestral graph of the backdoor graph, where latent nodes, Y and descendants of
X cannot be cut (one max-flow); all sets of that size are then listed by the
separator branching of :mod:`course.causal.separators`. This replaces trying
sizes 1, 2, … upward over all subsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from course.causal.graphs import DAG, NodeSet, NodeSpec, check_limit, sort_sets
from course.causal.minimal import backdoor_problem
from course.causal.separators import iter_minimum_separators, minimum_separator_size

__all__ = ["iter_minimum_backdoor_sets", "minimum_backdoor_sets", "minimum_backdoor_size"]


def minimum_backdoor_size(G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None) -> int | None:
    """Size of the smallest valid backdoor set, or None when no valid set exists.

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> minimum_backdoor_size(parse_dag("dag { X <- A -> B -> Y; X <- C -> B; X -> Y }"), "X", "Y")
    1
    """
    return minimum_separator_size(backdoor_problem(G, X, Y, latent))


def iter_minimum_backdoor_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> Iterator[NodeSet]:
    """Yield every valid backdoor set of the smallest size, lazily (discovery order)."""
    limit = check_limit(limit)
    return islice(iter_minimum_separators(backdoor_problem(G, X, Y, latent)), limit)


def minimum_backdoor_sets(
    G: DAG, X: NodeSpec, Y: NodeSpec, *, latent: NodeSpec = None, limit: int | None = None
) -> list[NodeSet]:
    """Every valid backdoor set of the smallest size, sorted by names.

    ``[]``: no valid set exists; ``[frozenset()]``: the empty set is valid (and
    then it is the only smallest set).

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { X <- A -> B -> Y; X <- C -> B; X -> Y }")
    >>> minimum_backdoor_sets(G, "X", "Y")
    [frozenset({'B'})]
    """
    return sort_sets(iter_minimum_backdoor_sets(G, X, Y, latent=latent, limit=limit))
