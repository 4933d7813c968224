"""Is Z a valid backdoor set, and if not, why not.

Backdoor criterion (Pearl, *Causality*, 2nd ed., Def. 3.3.1, for sets of
exposures as in Pearl, Glymour & Jewell's Primer, §3.3): a set Z satisfies the
backdoor criterion relative to (X, Y) when

1. no member of Z is a descendant of a member of X, and
2. Z d-separates X from Y in ``G_X̲``, the graph with every edge out of X removed
   (equivalently: Z blocks every path that starts with an arrow into X).

Latent nodes can never be members of Z.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from course.causal.graphs import DAG, CausalQuery, Node, NodeSet, NodeSpec, format_set, node_key, prepare_query
from course.causal.paths import BackdoorPath, describe_path, shortest_open_path

__all__ = ["backdoor_graph", "is_backdoor_set", "explain_backdoor_set", "BackdoorExplanation", "backdoor_candidates"]


def backdoor_graph(G: DAG, X: Iterable[Node]) -> DAG:
    """``G_X̲``: a copy of G without the edges that leave a member of X.

    Examples
    --------
    >>> G = nx.DiGraph([("Z", "X"), ("X", "Y"), ("Z", "Y")])
    >>> sorted(backdoor_graph(G, {"X"}).edges)
    [('Z', 'X'), ('Z', 'Y')]
    """
    D: DAG = G.copy()
    D.remove_edges_from([(x, w) for x in X for w in G.successors(x)])
    return D


def backdoor_candidates(q: CausalQuery) -> NodeSet:
    """The nodes a backdoor set may contain: observed, not in Y, not a descendant of X (nor X itself)."""
    return q.observed - q.descendants_of_x() - q.Y


def _descendant_offenders(q: CausalQuery, Z: NodeSet) -> dict[Node, Node]:
    """{z: an exposure x with z a descendant of x} for the members of Z that break condition 1."""
    found: dict[Node, Node] = {}
    for x in sorted(q.X, key=node_key):
        for z in nx.descendants(q.G, x) & Z:
            found.setdefault(z, x)
    return found


def is_backdoor_set(G: DAG, X: NodeSpec, Y: NodeSpec, Z: NodeSpec, *, latent: NodeSpec = None) -> bool:
    """True when ``Z`` satisfies the backdoor criterion relative to (X, Y).

    Uses :func:`networkx.is_d_separator` in the backdoor graph ``G_X̲``.

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { X -> Y; B -> X; B -> Y; U [latent]; U -> X; U -> B }")
    >>> is_backdoor_set(G, "X", "Y", {"B"}), is_backdoor_set(G, "X", "Y", set())
    (True, False)
    """
    q = prepare_query(G, X, Y, latent)
    Z = q.adjustment_set(Z)
    if Z & q.latent or _descendant_offenders(q, Z):
        return False
    return nx.is_d_separator(backdoor_graph(q.G, q.X), set(q.X), set(q.Y), set(Z))


@dataclass(frozen=True)
class BackdoorExplanation:
    """Why ``Z`` is or is not a valid backdoor set; ``bool(explanation)`` is the verdict.

    Attributes
    ----------
    valid : bool
    Z : frozenset
    latent_members : frozenset
        Members of Z that are unobserved.
    descendants : dict
        ``{z: x}``: member z of Z is a descendant of exposure x.
    open_path : BackdoorPath or None
        A backdoor path that Z leaves open, with the role and status of every inner node.
    """

    valid: bool
    Z: NodeSet
    latent_members: NodeSet = frozenset()
    descendants: dict[Node, Node] = field(default_factory=dict)
    open_path: BackdoorPath | None = None

    def __bool__(self) -> bool:
        return self.valid

    @property
    def reasons(self) -> list[str]:
        """One sentence per problem (empty when valid)."""
        out = [
            f"{v} is unobserved (latent) and cannot be adjusted for" for v in sorted(self.latent_members, key=node_key)
        ]
        out += [
            f"{z} is a descendant of the exposure {x}"
            for z, x in sorted(self.descendants.items(), key=lambda kv: node_key(kv[0]))
        ]
        if self.open_path is not None:
            out.append(f"the backdoor path {self.open_path} stays open")
        return out

    def __str__(self) -> str:
        if self.valid:
            return (
                f"{format_set(self.Z)} satisfies the backdoor criterion: no member descends from X "
                "and every backdoor path is blocked"
            )
        text = f"{format_set(self.Z)} is not a valid backdoor set: " + "; ".join(self.reasons) + "."
        if self.open_path is not None:
            text += "\n" + describe_path(self.open_path)
        return text


def explain_backdoor_set(
    G: DAG, X: NodeSpec, Y: NodeSpec, Z: NodeSpec, *, latent: NodeSpec = None
) -> BackdoorExplanation:
    """Check ``Z`` like :func:`is_backdoor_set` and say why it fails.

    The verdict comes from d-separation; an open path is searched for only when
    one exists, among paths whose prefixes are still open and whose nodes are
    ancestors of X, Y or Z (quick on teaching-sized graphs, exponential in the
    worst case).

    Examples
    --------
    >>> from course.causal import parse_dag
    >>> G = parse_dag("dag { X <- A -> B <- C -> Y; X -> M -> Y }")
    >>> print(explain_backdoor_set(G, "X", "Y", {"B", "M"}).reasons[0])
    M is a descendant of the exposure X
    >>> print(explain_backdoor_set(G, "X", "Y", {"B"}).open_path)
    X ← A → B ← C → Y
    """
    q = prepare_query(G, X, Y, latent)
    Z = q.adjustment_set(Z)
    latent_members = Z & q.latent
    offenders = _descendant_offenders(q, Z)
    separated = nx.is_d_separator(backdoor_graph(q.G, q.X), set(q.X), set(q.Y), set(Z))
    # the path search is exponential in the worst case: run it only when some path is known to be open
    path = None if separated and not offenders else shortest_open_path(q, Z)
    valid = not latent_members and not offenders and separated
    return BackdoorExplanation(valid, Z, latent_members, offenders, path)
