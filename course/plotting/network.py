"""A small network drawn with its relevance: nodes coloured by R, edges by the message R_{i←k} they carry.

For L5's three-layer example (seed items L5, L6): every node shows its activation and relevance, every edge
the message sent down it; red is positive, blue negative, a dotted grey edge carries nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from course.plotting.heatmaps import RELEVANCE_CMAP

__all__ = ["message_network"]


def message_network(ax, positions: Mapping, nodes: Mapping, edges: Sequence, total, title: str = ""):
    """Draw nodes ``{n: (text, relevance)}`` at ``positions`` ``{n: (x, y)}`` and ``edges`` ``[(lo, hi, message)]``.

    An edge may carry a fourth entry, where along it (0..1) its label goes (default 0.5): labels of edges
    that cross can be put at different points so that they do not overlap.

    Node colour: relevance / ``total`` on the relevance colour map; edge colour and width: the message
    relative to the largest |message|; the message is written on the edge (``str(message)``, so exact
    fractions stay exact).

    >>> from fractions import Fraction
    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> message_network(ax, {1: (0, 0), 2: (1, 0)}, {1: ("in", Fraction(3)), 2: ("out", Fraction(3))},
    ...                 [(1, 2, Fraction(3))], total=Fraction(3))
    >>> sorted(t.get_text() for t in ax.texts)
    ['3', 'in', 'out']
    """
    biggest = max((abs(float(e[2])) for e in edges), default=1.0) or 1.0
    for lo, hi, m, *where in edges:
        (x0, y0), (x1, y1) = positions[lo], positions[hi]
        t = where[0] if where else 0.5
        color = RELEVANCE_CMAP(0.5 + 0.5 * float(m) / biggest) if m != 0 else "0.6"
        ax.plot(
            [x0, x1], [y0, y1], color=color, lw=1 + 3 * abs(float(m)) / biggest, ls="-" if m != 0 else ":", zorder=1
        )
        ax.text(
            x0 + t * (x1 - x0),
            y0 + t * (y1 - y0),
            str(m),
            fontsize=9,
            ha="center",
            va="center",
            bbox=dict(boxstyle="round,pad=0.1", fc="w", ec="none"),
            zorder=3,
        )
    for n, (x, y) in positions.items():
        text, rel = nodes[n]
        shade = 0.5 + 0.5 * float(rel) / float(total)
        ax.scatter([x], [y], s=3000, c=[RELEVANCE_CMAP(shade)], edgecolors="k", zorder=2)
        ax.text(
            x, y, text, ha="center", va="center", fontsize=8, zorder=4, color="w" if abs(shade - 0.5) > 0.35 else "k"
        )
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    ax.set_xlim(min(xs) - 0.4, max(xs) + 0.4)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
