"""The 2-D toys of the lectures: a decision function over the plane, the data, a point, its gradient and root.

L1's picture (seed item L1): blue (negative) and green (positive) dots, the decision function f shaded
green where f > 0 and blue where f < 0 with the boundary f = 0 as a black line, and, at one point x, the
gradient (red arrow) beside the segment to the nearest root point x̃ on the boundary (black).
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

__all__ = ["GREEN_BLUE", "CLASS_COLORS", "decision_toy"]

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
