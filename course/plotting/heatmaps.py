"""Relevance heatmaps: red for positive, blue for negative relevance, white at zero.

Every heatmap is drawn with a diverging colour map whose centre is pinned to
zero (limits ±max|R| of that map), so that the sign is never misread, and the
input is always shown beside it. Figures are built on ``matplotlib.figure.Figure``
(no pyplot state), so they work the same in notebooks, scripts and tests.

* :func:`to_image` -- a sample (64,), (1, 8, 8), (C, H, W) or (H, W) as a 2-D array;
* :func:`heatmap` -- one relevance map on an axes;
* :func:`explain_figure` -- the input and one heatmap side by side;
* :func:`method_grid` -- rows of inputs, one column per method (L26's comparison), on a new or a given Figure;
* :func:`grid_figsize` -- the size of such a grid.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from course.errors import CourseError

__all__ = ["RELEVANCE_CMAP", "to_image", "symmetric_limit", "heatmap", "explain_figure", "grid_figsize",
           "method_grid"]

#: blue (negative) → white (zero) → red (positive); an odd number of colours puts exact white at 0
RELEVANCE_CMAP = LinearSegmentedColormap.from_list(
    "relevance", ["#053061", "#2166ac", "#92c5de", "#ffffff", "#f4a582", "#b2182b", "#67001f"], N=255
)


def to_image(sample) -> np.ndarray:
    """One sample as a 2-D array: (H, W) as is, (C, H, W) summed over channels, a square vector reshaped.

    >>> to_image(np.arange(4.0)).tolist()
    [[0.0, 1.0], [2.0, 3.0]]
    """
    arr = np.asarray(sample, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr.sum(axis=0)
    elif arr.ndim == 1:
        side = int(round(np.sqrt(arr.size)))
        if side * side != arr.size:
            raise CourseError(f"cannot show a vector of length {arr.size} as a square image")
        arr = arr.reshape(side, side)
    if arr.ndim != 2:
        raise CourseError(f"expected one sample of shape (H, W), (C, H, W) or (H*W,), got {np.shape(sample)}")
    return arr


def symmetric_limit(relevance) -> float:
    """The colour limit ``max|R|`` of a map (1.0 for an all-zero map, so that it shows white).

    >>> symmetric_limit([[-3.0, 1.0], [0.5, 2.0]]), symmetric_limit(np.zeros(4))
    (3.0, 1.0)
    """
    limit = float(np.max(np.abs(relevance))) if np.size(relevance) else 0.0
    return limit if limit > 0 and np.isfinite(limit) else 1.0


def heatmap(ax, relevance, title: str | None = None, limit: float | None = None):
    """Draw one relevance map on ``ax``, centred on zero; returns the image artist.

    ``limit`` fixes the colour range ±limit (default: this map's max|R|). A map
    with NaN or inf is refused (it would show as silent blank pixels).

    >>> from matplotlib.figure import Figure
    >>> artist = heatmap(Figure().subplots(), np.array([[-2.0, 0.0], [1.0, 2.0]]), "LRP-ε")
    >>> artist.norm.vmin, artist.norm.vmax
    (-2.0, 2.0)
    """
    img = to_image(relevance)
    if not np.all(np.isfinite(img)):
        name = f"the relevance map {title!r}" if title else "the relevance map"
        raise CourseError(f"{name} contains NaN or inf; check the method's input")
    limit = symmetric_limit(img) if limit is None else float(limit)
    artist = ax.imshow(img, cmap=RELEVANCE_CMAP, norm=TwoSlopeNorm(0.0, -limit, limit), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)
    return artist


def _show_input(ax, sample, title):
    ax.imshow(to_image(sample), cmap="gray_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def explain_figure(image, relevance, title: str, input_title: str = "input") -> Figure:
    """The input and its heatmap side by side, with a colour bar for the relevance.

    >>> fig = explain_figure(np.eye(3), np.eye(3) - 0.5, "gradient")
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['input', 'gradient']
    """
    fig = Figure(figsize=(4.6, 2.2), layout="constrained")
    ax_in, ax_map = fig.subplots(1, 2)
    _show_input(ax_in, image, input_title)
    artist = heatmap(ax_map, relevance, title)
    fig.colorbar(artist, ax=ax_map, shrink=0.8, label="relevance")
    return fig


def grid_figsize(rows: int, methods: int, title: bool = False, cell: float = 1.15) -> tuple[float, float]:
    """The size (inches) :func:`method_grid` gives ``rows`` inputs and ``methods`` heatmap columns.

    Pass it as ``figsize`` when the grid is drawn on a figure made elsewhere (``course.widgets.live_figure``).

    >>> grid_figsize(1, 5, title=True, cell=1.0)
    (6.0, 1.5)
    """
    return (cell * (methods + 1), cell * rows + (0.5 if title else 0.2))


def method_grid(images: Sequence, maps: Mapping[str, np.ndarray], row_titles: Sequence[str] | None = None,
                title: str | None = None, cell: float = 1.15, fig: Figure | None = None) -> Figure:
    """A grid: one row per input, the input first, then one heatmap per method.

    Parameters
    ----------
    images : array (n, ...) or sequence of n samples
    maps : dict method name → relevance array of the same leading length n
        The names become column titles, so put the parameters in them
        (``"LRP-ε (ε=0.25)"``). Each cell is scaled to its own ±max|R|.
    row_titles : one label per row (e.g. "digit 3, target 3"), optional
    fig : an empty Figure to draw on, optional (a live figure's ``draw(fig, ...)`` passes its own; size it with
        :func:`grid_figsize`). Default: a new pyplot-free Figure of ``grid_figsize`` with constrained layout.

    >>> fig = method_grid(np.zeros((2, 4)), {"gradient": np.ones((2, 4)), "LRP-0": -np.ones((2, 4))})
    >>> [ax.get_title() for ax in fig.axes[:3]]
    ['input', 'gradient', 'LRP-0']
    """
    n = len(images)
    if n == 0 or not maps:
        raise CourseError("method_grid needs at least one image and one method")
    for name, values in maps.items():
        if len(values) != n:
            raise CourseError(f"method {name!r} has {len(values)} maps for {n} images")
    if row_titles is not None and len(row_titles) != n:
        raise CourseError(f"row_titles has {len(row_titles)} entries for {n} images")
    if fig is None:
        fig = Figure(figsize=grid_figsize(n, len(maps), bool(title), cell), layout="constrained")
    elif fig.axes:
        raise CourseError(f"method_grid draws on an empty figure; this one already has {len(fig.axes)} axes")
    cols = len(maps) + 1
    axes = np.atleast_2d(fig.subplots(n, cols, squeeze=False))
    for r in range(n):
        _show_input(axes[r, 0], images[r], "input" if r == 0 else None)
        if row_titles is not None:
            axes[r, 0].set_ylabel(row_titles[r], fontsize=7)
        for c, (name, values) in enumerate(maps.items(), start=1):
            heatmap(axes[r, c], values[r], name if r == 0 else None)
    if title:
        fig.suptitle(f"{title}   (red: positive, blue: negative relevance; each map scaled to its own max |R|)",
                     fontsize=9)
    return fig
