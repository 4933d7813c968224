"""Brute-force references for the causal solver tests: every subset, checked with networkx d-separation.

Nothing here uses course.causal's algorithms; the criteria are restated from
their definitions (Pearl's backdoor criterion; Shpitser et al.'s adjustment
criterion by path enumeration).
"""

from itertools import combinations

import networkx as nx
from hypothesis import strategies as st


def descendants_incl(G, nodes):
    out = set(nodes)
    for v in nodes:
        out |= nx.descendants(G, v)
    return out


def bd_valid(G, X, Y, Z, latent):
    """Pearl: Z observed, no descendant of X, d-separates X and Y once the edges out of X are removed."""
    if set(Z) & (set(latent) | descendants_incl(G, X) | set(Y)):
        return False
    D = G.copy()
    D.remove_edges_from([(x, w) for x in X for w in G.successors(x)])
    return nx.is_d_separator(D, set(X), set(Y), set(Z))


def all_subsets(nodes):
    nodes = sorted(nodes, key=str)
    for k in range(len(nodes) + 1):
        for combo in combinations(nodes, k):
            yield frozenset(combo)


def brute_sets(G, X, Y, latent, valid=bd_valid):
    """(all valid sets, minimal ones, minimum ones) among observed nodes other than X and Y."""
    pool = set(G) - set(X) - set(Y) - set(latent)
    good = [Z for Z in all_subsets(pool) if valid(G, X, Y, Z, latent)]
    minimal = [Z for Z in good if not any(W < Z for W in good)]
    minimum = [Z for Z in good if len(Z) == min(map(len, good))] if good else []
    return good, set(minimal), set(minimum)


def _blocked(G, path, Z):
    for a, v, b in zip(path, path[1:], path[2:]):
        collider = G.has_edge(a, v) and G.has_edge(b, v)
        if collider:
            if v not in Z and not (nx.descendants(G, v) & Z):
                return True
        elif v in Z:
            return True
    return False


def proper_paths(G, X, Y):
    """Simple paths in the skeleton from X to Y whose only X node is the first one (inner nodes avoid Y too)."""
    U = G.to_undirected()
    for x in X:
        H = U.subgraph(set(G) - (set(X) - {x}))
        for y in Y:
            for p in nx.all_simple_paths(H, x, y):
                if not set(p[1:-1]) & set(Y):
                    yield p


def _adjustment_oracle(G, X, Y):
    paths = list(proper_paths(G, X, Y))
    causal = [all(G.has_edge(a, b) for a, b in zip(p, p[1:])) for p in paths]
    forbidden = descendants_incl(G, {v for p, c in zip(paths, causal) if c for v in p[1:]})
    non_causal = [p for p, c in zip(paths, causal) if not c]
    return forbidden, non_causal


_CACHE = {}


def adj_valid(G, X, Y, Z, latent):
    """Shpitser, VanderWeele & Robins 2010: Z avoids descendants of non-X nodes on proper causal paths,
    and blocks every proper non-causal path."""
    key = (id(G), tuple(sorted(G.edges)), frozenset(X), frozenset(Y))
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = _adjustment_oracle(G, X, Y)
    forbidden, non_causal = _CACHE[key]
    Z = set(Z)
    if Z & (set(latent) | forbidden):
        return False
    return all(_blocked(G, p, Z) for p in non_causal)


@st.composite
def causal_dags(draw, max_nodes=12, max_x=2, max_y=2, p_edge=0.3):
    """(G, X, Y, latent) with integer nodes in topological order 0..n-1."""
    n = draw(st.integers(3, max_nodes))
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    for j in range(n):
        for i in range(j):
            if draw(st.floats(0, 1)) < p_edge:
                G.add_edge(i, j)
    nodes = list(range(n))
    X = draw(st.sets(st.sampled_from(nodes), min_size=1, max_size=max_x))
    Y = draw(st.sets(st.sampled_from([v for v in nodes if v not in X]), min_size=1, max_size=max_y))
    rest = [v for v in nodes if v not in X | Y]
    latent = draw(st.sets(st.sampled_from(rest), max_size=3)) if rest else set()
    return G, frozenset(X), frozenset(Y), frozenset(latent)
