"""The 2-D toys of the lectures: a decision function over the plane, the data, a point, its gradient and root;
one ReLU neuron of two inputs with the root points of Deep Taylor's search directions; and the signal +
distractor toy of PatternNet (L17–L23): a cloud of 2-D samples with named directions drawn as arrows.

L1's picture (seed item L1): blue (negative) and green (positive) dots, the decision function f shaded
green where f > 0 and blue where f < 0 with the boundary f = 0 as a black line, and, at one point x, the
gradient (red arrow) beside the segment to the nearest root point x̃ on the boundary (black).
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.patches import Rectangle

__all__ = ["GREEN_BLUE", "CLASS_COLORS", "decision_toy", "neuron_roots", "direction_plot"]

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
        ax.annotate(
            "",
            xy=x + 0.5 * arrow / np.linalg.norm(arrow),
            xytext=x,
            arrowprops=dict(arrowstyle="-|>", color="#b2182b", lw=2),
        )
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
        ax.plot(
            *r,
            "o" if inside else "X",
            color=color,
            ms=9,
            mec="k",
            zorder=6,
            label=f"{label}: R = ({R[0]:+.2f}, {R[1]:+.2f})" + ("" if inside else "  OUTSIDE"),
        )
    ax.set_xlim(g[0], g[-1])
    ax.set_ylim(g[0], g[-1])
    ax.set_aspect("equal")
    ax.set_xlabel("a₁")
    ax.set_ylabel("a₂")
    ax.set_title(
        f"{title} w = ({w[0]:+.1f}, {w[1]:+.1f}), b = {b:+.1f}, a = ({a[0]:.1f}, {a[1]:.1f}), "
        f"R_j = max(0, wᵀa + b) = {max(0.0, float(w @ a + b)):.2f}",
        fontsize=9,
    )
    ax.legend(fontsize=7.5, loc="lower left")


def direction_plot(
    ax, points, color_by=None, arrows=(), filter_w=None, lim=(-4.5, 4.5), title: str = "", background=None, groups=None
):
    """A 2-D sample cloud with named directions as arrows from the origin (L17's filter versus pattern).

    ``color_by``: one value per point (y), shown red > 0 / blue < 0; or ``groups`` ``{label: (mask, colour)}``
    for a few named subsets. ``background``: points drawn grey underneath (e.g. x under the estimated signal).
    ``arrows``: ``(name, vector, colour)`` or ``(name, vector, colour, (dx, dy))`` -- the shift moves the label
    off its neighbours. ``filter_w`` draws the line wᵀx = 0 dashed. ``lim``: both axes' limits.

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> direction_plot(ax, np.eye(2), color_by=[1.0, -1.0], arrows=[("w", np.array([1.0, -1.0]), "k")],
    ...                filter_w=np.array([1.0, -1.0]))
    >>> [t.get_text() for t in ax.texts if t.get_text()]  # the arrow itself is an empty annotation
    ['w']
    """
    from course.plotting.heatmaps import RELEVANCE_CMAP

    points = np.asarray(points, dtype=np.float64)
    if background is not None:
        ax.scatter(*np.asarray(background).T, s=4, color="0.8", label="x")
    if groups:
        for label, (mask, colour) in groups.items():
            ax.scatter(*points[mask].T, s=3, color=colour, alpha=0.3, label=label)
    elif color_by is not None:
        top = float(np.max(np.abs(color_by))) or 1.0
        ax.scatter(
            *points.T,
            c=color_by,
            cmap=RELEVANCE_CMAP,
            vmin=-top,
            vmax=top,
            s=5,
            alpha=0.6,
            label="ŝ = S(x)" if background is not None else None,
        )
    else:
        ax.scatter(*points.T, s=5, color="0.5", alpha=0.6)
    for name, vec, colour, *shift in arrows:
        ax.annotate("", xy=vec, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color=colour, lw=2.2))
        ax.text(
            *(1.12 * np.asarray(vec) + (shift[0] if shift else 0)),
            name,
            color=colour,
            fontsize=10,
            ha="center",
            va="center",
            bbox=dict(facecolor="white", alpha=0.7, lw=0, pad=1),
        )
    if filter_w is not None:
        t = np.linspace(-10, 10, 2)  # the points the model maps to y = 0
        perp = np.array([-filter_w[1], filter_w[0]]) / np.linalg.norm(filter_w)
        ax.plot(t * perp[0], t * perp[1], color="0.4", ls="--", lw=1, label="wᵀx = 0")
    ax.set_xlim(*lim)
    ax.set_ylim(*lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
