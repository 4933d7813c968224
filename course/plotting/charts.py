"""Small charts of the lectures: signed bars, curves against a reference, scores against a random floor, sweeps.

Every function draws on axes or a ``matplotlib.figure.Figure`` it is given (never pyplot), so the same
code serves a static figure and a live one (``course.widgets.live_figure``). Colours follow the heatmaps:
red positive, blue negative.

* :func:`signed_bars` -- values per dimension, red if ≥ 0 and blue if < 0, grouped when there are several series;
* :func:`budget_bars` -- where a total went (horizontal signed bars) with the total as a dashed line;
* :func:`draw_curves` -- several curves on one axes, a dashed black reference curve;
* :func:`curve_panels` -- one panel per setting, several curves each, a dashed black reference curve;
* :func:`score_panels` -- horizontal bars per setting, coloured where a score beats a reference mean + 2 sd;
* :func:`proportional_scatter` -- y against x with the line y = c·x through the origin (c the median ratio);
* :func:`sweep` -- a parameter sweep: series on the left axis, more on a twin right axis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from course.errors import CourseError

__all__ = [
    "POSITIVE",
    "NEGATIVE",
    "signed_colors",
    "signed_bars",
    "budget_bars",
    "draw_curves",
    "curve_panels",
    "score_panels",
    "sweep",
    "proportional_scatter",
]

POSITIVE, NEGATIVE = "#b2182b", "#2166ac"  # the red and blue of the relevance colour map
_HATCHES = [None, "..", "//", "xx", "\\\\"]


def signed_colors(values) -> list[str]:
    """Red for values ≥ 0, blue for negative ones.

    >>> signed_colors([1.0, -2.0, 0.0])
    ['#b2182b', '#2166ac', '#b2182b']
    """
    return [POSITIVE if v >= 0 else NEGATIVE for v in np.ravel(values)]


def signed_bars(
    ax,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    title: str = "",
    ylabel: str = "",
    legend: bool = True,
    fontsize: float = 9,
):
    """Bars per label, red ≥ 0 / blue < 0; several series side by side, told apart by hatching.

    ``series`` maps a legend entry to one value per label. Returns the list of bar containers.

    >>> from matplotlib.figure import Figure
    >>> bars = signed_bars(Figure().subplots(), ["x₁", "x₂"], {"R": [1.0, -0.5]})
    >>> [b.get_facecolor()[0] > b.get_facecolor()[2] for b in bars[0]]  # red first, blue second
    [True, False]
    """
    if not series:
        raise CourseError("signed_bars needs at least one series")
    n = len(series)
    width = 0.8 / n
    containers = []
    for k, (name, values) in enumerate(series.items()):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(labels),):
            raise CourseError(f"series {name!r} has {values.size} values for {len(labels)} labels")
        offset = (k - (n - 1) / 2) * width
        containers.append(
            ax.bar(
                np.arange(len(labels)) + offset,
                values,
                width,
                color=signed_colors(values),
                edgecolor="k",
                hatch=_HATCHES[k % len(_HATCHES)] if n > 1 else None,
                label=name,
            )
        )
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(np.arange(len(labels)), labels)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=fontsize)
    if legend and n > 1:
        ax.legend(fontsize=8)
    return containers


def budget_bars(ax, parts: Mapping[str, float], total: float, title: str = "", fontsize: float = 9):
    """Horizontal bars ``{part: value}`` (red ≥ 0, blue < 0) and a dashed line at ``total`` they add up to.

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> budget_bars(ax, {"input": 2.5, "biases": 0.5}, 3.0)
    >>> ax.get_lines()[0].get_xdata()[0]
    3.0
    """
    ax.barh(list(parts), list(parts.values()), color=signed_colors(list(parts.values())), edgecolor="k")
    ax.axvline(total, color="k", ls="--", lw=1)
    ax.axvline(0, color="k", lw=0.5)
    if title:
        ax.set_title(title, fontsize=fontsize)


def draw_curves(
    ax,
    curves: Mapping[str, tuple],
    reference: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    title: str = "",
    legend: bool = True,
):
    """Curves ``{label: (x, y)}`` on ``ax``; the ``reference`` curve dashed black and thicker.

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> draw_curves(ax, {"m": ([0, 1], [2, 1]), "random": ([0, 1], [2, 2])}, reference="random")
    >>> [line.get_linestyle() for line in ax.get_lines()]
    ['-', '--']
    """
    for label, (x, y) in curves.items():
        ref = label == reference
        ax.plot(x, y, label=label, lw=2.2 if ref else 1.4, ls="--" if ref else "-", color="k" if ref else None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(fontsize=8)


def curve_panels(
    fig,
    panels: Mapping[str, Mapping[str, tuple]],
    reference: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    legend_panel: int | None = -1,
    ncols: int | None = None,
):
    """One axes per panel with its curves ``{label: (x, y)}``; the ``reference`` curve dashed black.

    Returns the axes. ``ncols`` (default: all panels in one row) wraps the panels into rows. The legend goes
    into panel ``legend_panel``, or with None under all panels (the curves must be the same in every panel).

    >>> from matplotlib.figure import Figure
    >>> axes = curve_panels(Figure(), {"a": {"m": ([0, 1], [2, 1]), "random": ([0, 1], [2, 2])}}, reference="random")
    >>> [line.get_linestyle() for line in axes[0].get_lines()]
    ['-', '--']
    """
    ncols = ncols or len(panels)
    nrows = -(-len(panels) // ncols)
    axes = np.ravel(fig.subplots(nrows, ncols, squeeze=False))
    for ax, (title, curves) in zip(axes, panels.items()):
        draw_curves(ax, curves, reference, xlabel=xlabel, title=title, legend=False)
    for ax in axes[::ncols]:
        ax.set_ylabel(ylabel)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    if legend_panel is None:  # one legend for all panels, under them (needs a constrained-layout figure)
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3, fontsize=8)
    else:
        axes[legend_panel if legend_panel >= 0 else len(panels) + legend_panel].legend(fontsize=8)
    return axes[: len(panels)]


def score_panels(
    fig,
    panels: Mapping[str, Mapping[str, float]],
    reference: Mapping[str, tuple[float, float]],
    order: Sequence[str],
    xlabel: str = "",
    reference_label: str = "random order",
    ncols: int = 2,
):
    """Horizontal bars of a score per method, one panel per setting, against a reference mean ± sd band.

    A bar is red when the score exceeds the reference mean + 2 sd, grey otherwise. ``order`` fixes the
    methods' order (bottom to top) in every panel. Returns the axes.

    >>> from matplotlib.figure import Figure
    >>> axes = score_panels(Figure(), {"s": {"a": 5.0, "b": 1.0}}, {"s": (1.0, 0.5)}, order=["a", "b"])
    >>> [p.get_facecolor()[:3] == (0.6, 0.6, 0.6) for p in axes[0].patches[:2]]  # a > 1 + 2·0.5: red; b: grey
    [False, True]
    """
    nrows = -(-len(panels) // ncols)
    axes = np.ravel(fig.subplots(nrows, ncols, squeeze=False, sharey=True))
    for ax, (title, scores) in zip(axes, panels.items()):
        mean, sd = reference[title]
        values = [scores[k] for k in order]
        ax.barh(range(len(order)), values, color=[POSITIVE if v > mean + 2 * sd else "0.6" for v in values])
        ax.axvspan(mean - sd, mean + sd, color=NEGATIVE, alpha=0.2)
        ax.axvline(mean, color=NEGATIVE, lw=1.5, label=f"{reference_label} (mean ± sd)")
        ax.set_yticks(range(len(order)), [k.replace("\n", " ") for k in order], fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8, loc="lower right")
    return axes[: len(panels)]


def sweep(
    ax,
    x,
    left: Mapping[str, Sequence[float]],
    right: Mapping[str, Sequence[float]] | None = None,
    xlabel: str = "",
    left_label: str = "",
    right_label: str = "",
    title: str = "",
    log_x: bool = False,
    legend_loc: str = "best",
):
    """A parameter sweep: ``left`` series on ``ax`` (solid, coloured), ``right`` on a twin axis (dashed black).

    Returns the twin axes (None without ``right``). ``log_x`` uses a symmetric log scale (x may contain 0).
    One legend holds both axes' series; it sits on the twin axes, so that no curve is drawn over it.

    >>> from matplotlib.figure import Figure
    >>> twin = sweep(Figure().subplots(), [0, 1, 2], {"a": [1, 2, 3]}, {"b": [3, 2, 1]})
    >>> twin.get_lines()[0].get_linestyle()
    '--'
    """
    markers = "osD^v"
    colors = [POSITIVE, NEGATIVE, "#1b7837", "#762a83"]
    for k, (label, y) in enumerate(left.items()):
        ax.plot(x, y, markers[k % 5] + "-", color=colors[k % 4], label=label)
    if log_x:
        ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(left_label)
    if title:
        ax.set_title(title, fontsize=10)
    twin = None
    if right:
        twin = ax.twinx()
        for k, (label, y) in enumerate(right.items()):
            twin.plot(x, y, "^s"[k % 2] + "--", color="k", label=label)
        twin.set_ylabel(right_label)
    handles = ax.get_legend_handles_labels()
    if twin is not None:
        more = twin.get_legend_handles_labels()
        handles = (handles[0] + more[0], handles[1] + more[1])
    (twin or ax).legend(*handles, fontsize=8, loc=legend_loc, framealpha=0.9)
    return twin


def proportional_scatter(ax, x, y, xlabel: str = "", ylabel: str = "", title: str = ""):
    """Points (x, y) with x > 0 and the line y = c·x, c the median of y / x; returns c (NaN without points).

    For L12's claim that z⁺ relevance is R_j = a_j c_j with c_j roughly constant: the closer the points
    lie to the line, the more constant c_j.

    >>> from matplotlib.figure import Figure
    >>> float(proportional_scatter(Figure().subplots(), [1.0, 2.0, 0.0], [2.0, 4.2, 5.0]))
    2.05
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    on = x > 0
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if not on.any():
        ax.set_title(title + "\n(never active)", fontsize=9)
        return np.nan
    c = float(np.median(y[on] / x[on]))
    ax.scatter(x[on], y[on], s=10, c=POSITIVE, alpha=0.7)
    top = x[on].max() * 1.05
    ax.plot([0, top], [0, c * top], "k--", lw=1, label=f"R = {c:.3g}·a")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return c
