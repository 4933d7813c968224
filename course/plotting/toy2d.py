"""The 2-D toys of the lectures: a decision function over the plane, the data, a point, its gradient and root;
one ReLU neuron of two inputs with the root points of Deep Taylor's search directions.

L1's picture (seed item L1): blue (negative) and green (positive) dots, the decision function f shaded
green where f > 0 and blue where f < 0 with the boundary f = 0 as a black line, and, at one point x, the
gradient (red arrow) beside the segment to the nearest root point x̃ on the boundary (black).
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.patches import Rectangle

__all__ = ["GREEN_BLUE", "CLASS_COLORS", "decision_toy", "neuron_roots"]

#: blue (f < 0) → white (f = 0) → green (f > 0)
GREEN_BLUE = LinearSegmentedColormap.from_list("blue_green", ["#2166ac", "#d1e5f0", "#ffffff", "#c7e9c0", "#1b7837"])
CLASS_COLORS = ("#2166ac", "#1b7837")  # class 0 blue, class 1 green


def decision_toy(ax, grid_x, grid_y, values, points, labels, x=None, root=None, arrow=None, title: str = ""):
    """Shade ``values`` = f on the grid (clipped at its 95th percentile of |f|), draw f = 0 and the points.

    ``x``, ``root`` and ``arrow`` (a direction, drawn with length 0.5 from ``x``) mark one explained point,
    its root point and its gradient; each is optional.

    >>> from matplotlib.figure import Figure
    >>> gx, gy = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
    >>> ax = Figure().subplots()
    >>> decision_toy(ax, gx, gy, gx, np.array([[-0.5, 0.0], [0.5, 0.0]]), np.array([0, 1]), x=np.array([0.5, 0.0]),
    ...              root=np.zeros(2), arrow=np.array([1.0, 0.0]))
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['blue (class 0)', 'green (class 1)', 'x', 'nearest root x̃']
    """
    lim = float(np.percentile(np.abs(values), 95)) or 1.0
    ax.contourf(grid_x, grid_y, np.clip(values, -lim, lim), levels=21, cmap=GREEN_BLUE, norm=TwoSlopeNorm(0, -lim, lim))
    ax.contour(grid_x, grid_y, values, levels=[0], colors="k", linewidths=1)
    for cls, name in ((0, "blue (class 0)"), (1, "green (class 1)")):
        ax.scatter(*points[labels == cls].T, s=12, c=CLASS_COLORS[cls], edgecolor="w", linewidth=0.3, label=name)
    if x is not None and arrow is not None:
        ax.annotate("", xy=x + 0.5 * arrow / np.linalg.norm(arrow), xytext=x,
                    arrowprops=dict(arrowstyle="-|>", color="#b2182b", lw=2))
    if x is not None and root is not None:
        ax.plot(*np.stack([x, root]).T, "k-", lw=1.5)
    if x is not None:
        ax.plot(*x, "k*", ms=12, label="x")
    if root is not None:
        ax.plot(*root, "ko", mfc="w", ms=7, label="nearest root x̃")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(np.min(grid_x), np.max(grid_x))
    ax.set_ylim(np.min(grid_y), np.max(grid_y))
    ax.set_aspect("equal")
    ax.legend(loc="lower left", fontsize=8)


def neuron_roots(ax, w, b, a, roots, styles, box=None, title: str = "", extent=(-0.8, 1.8)):
    """A ReLU neuron max(0, wᵀa + b) of two inputs (L13, L14): its output as grey contours, its zero line,
    the domain a ≥ 0 (green), the point a (star) and one arrow a → root point per search direction.

    ``roots`` maps a direction to ``(root, relevances, inside)``; ``styles`` maps it to ``(colour, label)``.
    A root outside the domain is drawn as a cross. ``box`` = (l, h) draws the z^B box dashed.

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> neuron_roots(ax, np.array([1.0, 1.0]), -0.5, np.array([1.0, 0.5]),
    ...              {"origin": (np.array([0.5, 0.25]), np.array([0.5, 0.5]), True)}, {"origin": ("k", "origin")})
    >>> ax.get_legend().get_texts()[-1].get_text()
    'origin: R = (+0.50, +0.50)'
    """
    g = np.linspace(extent[0], extent[1], 261)
    A1, A2 = np.meshgrid(g, g)
    z = w[0] * A1 + w[1] * A2 + b
    ax.contourf(A1, A2, np.maximum(0, z), levels=12, cmap="Greys", alpha=0.5)
    ax.contour(A1, A2, z, levels=[0], colors="k", linewidths=1.5)
    ax.add_patch(Rectangle((0, 0), extent[1], extent[1], color="#a6dba0", alpha=0.25, zorder=0, label="domain a ≥ 0"))
    ax.axhline(0, color="k", lw=0.6)
    ax.axvline(0, color="k", lw=0.6)
    if box is not None:
        ax.add_patch(Rectangle((box[0], box[0]), box[1] - box[0], box[1] - box[0], fill=False, ls="--", ec="#e08214"))
    ax.plot(*a, "k*", ms=13, zorder=5)
    for d, (r, R, inside) in roots.items():
        color, label = styles[d]
        ax.annotate("", xy=r, xytext=a, arrowprops=dict(arrowstyle="-|>", color=color, lw=1.8))
        ax.plot(*r, "o" if inside else "X", color=color, ms=9, mec="k", zorder=6,
                label=f"{label}: R = ({R[0]:+.2f}, {R[1]:+.2f})" + ("" if inside else "  OUTSIDE"))
    ax.set_xlim(g[0], g[-1])
    ax.set_ylim(g[0], g[-1])
    ax.set_aspect("equal")
    ax.set_xlabel("a₁")
    ax.set_ylabel("a₂")
    ax.set_title(f"{title} w = ({w[0]:+.1f}, {w[1]:+.1f}), b = {b:+.1f}, a = ({a[0]:.1f}, {a[1]:.1f}), "
                 f"R_j = max(0, wᵀa + b) = {max(0.0, float(w @ a + b)):.2f}", fontsize=9)
    ax.legend(fontsize=7.5, loc="lower left")
