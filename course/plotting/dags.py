"""Draw a causal DAG with its backdoor paths: open paths red, blocked paths green, in a stable layout.

Conventions: the exposure X is blue, the outcome Y orange, adjusted nodes grey
squares, latent nodes white with a dashed outline (their out-edges dashed).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import networkx as nx
from matplotlib.lines import Line2D

from course.causal.graphs import check_limit, node_key, prepare_query
from course.causal.paths import iter_backdoor_paths

__all__ = ["dag_layout", "draw_dag", "COLORS"]

COLORS = {
    "exposure": "#1f77b4",
    "outcome": "#ff7f0e",
    "adjusted": "#9e9e9e",
    "node": "#ffffff",
    "open": "#d62728",
    "blocked": "#2ca02c",
    "edge": "#555555",
}


def dag_layout(G: nx.DiGraph) -> dict:
    """Node positions: the ``pos`` attributes when every node has one (DAGitty's y points down; the
    latent node of a bidirected edge goes beside the middle of its two ends), otherwise one row per
    topological generation, nodes in each row sorted by name.

    Examples
    --------
    >>> pos = dag_layout(nx.DiGraph([("A", "B"), ("B", "C")]))
    >>> pos["A"][1] > pos["B"][1] > pos["C"][1]
    True
    """
    hidden = {v: G.nodes[v]["bidirected"] for v in G if G.nodes[v].get("bidirected") and G.nodes[v].get("pos") is None}
    if len(G) > len(hidden) and all(G.nodes[v].get("pos") is not None for v in G if v not in hidden):
        pos = {v: (float(G.nodes[v]["pos"][0]), -float(G.nodes[v]["pos"][1])) for v in G if v not in hidden}
        for u, (a, b) in hidden.items():
            # the unobserved common cause of a <-> b sits beside the middle of a–b, off the straight line
            (xa, ya), (xb, yb) = pos[a], pos[b]
            dx, dy = -0.25 * (yb - ya), 0.25 * (xb - xa)
            if dy < 0 or (dy == 0 and dx < 0):  # always the upper (or left) side
                dx, dy = -dx, -dy
            pos[u] = ((xa + xb) / 2 + dx, (ya + yb) / 2 + dy)
        return pos
    pos = {}
    layers = [sorted(layer, key=node_key) for layer in nx.topological_generations(G)]
    for depth, layer in enumerate(layers):
        for i, v in enumerate(layer):
            pos[v] = (i - (len(layer) - 1) / 2, -float(depth))
    return pos


def _path_edges(path):
    """The directed edges of a BackdoorPath."""
    pairs = zip(path.nodes, path.nodes[1:], path.forward)
    return {(a, b) if fwd else (b, a) for a, b, fwd in pairs}


def draw_dag(G, X=None, Y=None, Z=(), *, latent=None, ax=None, show_paths=True, max_paths=200, title=None):
    """Draw ``G`` with the backdoor paths from X to Y marked open (red) or blocked (green) given ``Z``.

    Parameters
    ----------
    G : networkx.DiGraph
    X, Y : node or set of nodes, optional
        Default: the nodes marked ``exposure``/``outcome``.
    Z : iterable of nodes
        The adjustment set (drawn as grey squares).
    latent : iterable of nodes, optional
    ax : matplotlib Axes, optional
    show_paths : bool
        Colour the edges of backdoor paths.
    max_paths : int
        At most this many paths are listed (listing is exponential on large graphs).
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from course.causal.examples import m_bias
    >>> ax = draw_dag(m_bias(), Z={"M"})
    >>> ax.get_title()
    'open backdoor paths given {M}: 1'
    """
    max_paths = check_limit(max_paths, "max_paths")
    q = prepare_query(G, X, Y, latent)
    Z = q.adjustment_set(Z)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    pos = dag_layout(G)
    colour = {}
    paths = list(iter_backdoor_paths(G, q.X, q.Y, Z, latent=q.latent, limit=max_paths)) if show_paths else []
    for path in paths:
        for e in _path_edges(path):
            if path.is_open or colour.get(e) != COLORS["open"]:
                colour[e] = COLORS["open"] if path.is_open else COLORS["blocked"]
    edges = sorted(G.edges, key=lambda e: (node_key(e[0]), node_key(e[1])))
    for e in edges:
        nx.draw_networkx_edges(
            G,
            pos,
            edgelist=[e],
            ax=ax,
            edge_color=colour.get(e, COLORS["edge"]),
            width=2.5 if e in colour else 1.2,
            arrowsize=15,
            node_size=900,
            style="dashed" if e[0] in q.latent else "solid",
        )
    groups = [
        (sorted(q.X, key=node_key), COLORS["exposure"], "o", "solid"),
        (sorted(q.Y, key=node_key), COLORS["outcome"], "o", "solid"),
        (sorted(Z, key=node_key), COLORS["adjusted"], "s", "solid"),
        (sorted(q.latent - Z, key=node_key), COLORS["node"], "o", "dashed"),
        (sorted(set(G) - q.X - q.Y - Z - q.latent, key=node_key), COLORS["node"], "o", "solid"),
    ]
    for nodes, fill, shape, line in groups:
        if nodes:
            drawn = nx.draw_networkx_nodes(
                G,
                pos,
                nodelist=nodes,
                ax=ax,
                node_color=fill,
                node_shape=shape,
                node_size=900,
                edgecolors="black",
                linewidths=1.5,
            )
            drawn.set_linestyle(line)
    labels = {v: "U" if G.nodes[v].get("bidirected") else str(v) for v in G}
    nx.draw_networkx_labels(G, pos, labels=labels, ax=ax, font_size=10)
    n_open = sum(path.is_open for path in paths)
    ax.set_title(
        title
        if title is not None
        else "open backdoor paths given {" + ", ".join(map(str, sorted(Z, key=node_key))) + f"}}: {n_open}"
    )
    legend = [
        Line2D([], [], marker="o", ls="", color=COLORS["exposure"], label="exposure"),
        Line2D([], [], marker="o", ls="", color=COLORS["outcome"], label="outcome"),
        Line2D([], [], marker="s", ls="", color=COLORS["adjusted"], label="adjusted"),
    ]
    if q.latent:
        legend.append(Line2D([], [], marker="o", ls="", mfc="white", mec="black", label="latent"))
    if paths:
        legend += [
            Line2D([], [], color=COLORS["open"], lw=2.5, label="open path"),
            Line2D([], [], color=COLORS["blocked"], lw=2.5, label="blocked path"),
        ]
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8, frameon=False)
    ax.set_axis_off()
    ax.margins(0.15)
    return ax
