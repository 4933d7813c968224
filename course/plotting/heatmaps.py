"""Relevance heatmaps: red for positive, blue for negative relevance, white at zero.

Every heatmap is drawn with a diverging colour map whose centre is pinned to
zero (limits ±max|R| of that map), so that the sign is never misread, and the
input is always shown beside it. Figures are built on ``matplotlib.figure.Figure``
(no pyplot state), so they work the same in notebooks, scripts and tests.

* :func:`to_image` -- a sample (64,), (1, 8, 8), (C, H, W) or (H, W) as a 2-D array;
* :func:`upsample` -- a small image (an 8×8 digit) enlarged, by nearest neighbour or bilinearly;
* :func:`symmetric_limit` -- the colour limit ±max|R|, or ±a percentile of |R| (robust to a few extreme pixels);
* :func:`heatmap` -- one relevance map on an axes, optionally upsampled with the input's outline drawn over it;
* :func:`explain_figure` -- the input and one heatmap side by side;
* :func:`method_grid` -- rows of inputs, one column per method (L26's comparison), on a new or a given Figure;
* :func:`family_grids` -- the same, split into figures of at most a few methods, one family after another;
* :func:`family_figure` -- those grids stacked in one tall figure (one image file, e.g. for the demo);
* :func:`value_grid` -- tiny maps (two inputs) with their numbers written in the cells;
* :func:`grid_figsize` -- the size of such a grid.

Small inputs (8×8 digits) are hard to read as 64 coloured squares, so a heatmap can be drawn at a larger
size (``size=64``: bilinear upsampling of the map, the values between pixel centres interpolated) with the
outline of the input's ink -- a contour at half of its maximum -- drawn over it (``outline=image``).

One module (~470 lines, kept whole): every figure above is built from the same three pieces -- the
zero-centred colour scale, the upsampled map and the input beside it -- and a change to one of them must
show in every figure of the lectures, the demo and the report at once.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm
from matplotlib.figure import Figure

from course.errors import CourseError

__all__ = [
    "RELEVANCE_CMAP",
    "to_image",
    "upsample",
    "symmetric_limit",
    "draw_outline",
    "heatmap",
    "explain_figure",
    "grid_figsize",
    "method_grid",
    "family_grids",
    "family_figure",
    "value_grid",
    "OUTLINE_COLOR",
]

#: blue (negative) → white (zero) → red (positive); an odd number of colours puts exact white at 0
RELEVANCE_CMAP = LinearSegmentedColormap.from_list(
    "relevance", ["#053061", "#2166ac", "#92c5de", "#ffffff", "#f4a582", "#b2182b", "#67001f"], N=255
)
#: the colour of the input's outline drawn over a heatmap (dark green: visible on red, blue and white)
OUTLINE_COLOR = "#00441b"


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


def upsample(image, size: int = 64, smooth: bool = True) -> np.ndarray:
    """An (H, W) image resampled to (size, size·W/H): bilinear between pixel centres, or nearest neighbour.

    Bilinear interpolation treats each input value as the value at its pixel's centre (edges are held
    constant), so the mean stays close to the input's and no new extremes appear.

    >>> upsample(np.array([[0.0, 1.0]]), size=1, smooth=False).tolist()
    [[0.0, 1.0]]
    >>> upsample(np.array([[0.0, 1.0], [0.0, 1.0]]), size=4)[0].tolist()
    [0.0, 0.25, 0.75, 1.0]
    """
    img = to_image(image)
    h, w = img.shape
    if size < 1:
        raise CourseError(f"upsample needs size >= 1, got {size}")
    rows, cols = size, max(1, int(round(size * w / h)))

    def axis_weights(n_out, n_in):
        centre = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5  # output pixel centres in input pixel units
        if not smooth:
            idx = np.clip(np.floor(centre + 0.5).astype(int), 0, n_in - 1)
            return idx, idx, np.zeros(n_out)
        centre = np.clip(centre, 0, n_in - 1)
        lo = np.floor(centre).astype(int)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, centre - lo

    r0, r1, tr = axis_weights(rows, h)
    c0, c1, tc = axis_weights(cols, w)
    by_rows = img[r0] * (1 - tr)[:, None] + img[r1] * tr[:, None]
    return by_rows[:, c0] * (1 - tc) + by_rows[:, c1] * tc


def symmetric_limit(relevance, percentile: float = 100.0) -> float:
    """The colour limit of a map: ``max|R|``, or the ``percentile`` of |R| (1.0 for an all-zero map).

    A percentile below 100 keeps one extreme pixel from washing out the rest of the map (values
    beyond the limit show in the end colours).

    >>> symmetric_limit([[-3.0, 1.0], [0.5, 2.0]]), symmetric_limit(np.zeros(4))
    (3.0, 1.0)
    >>> symmetric_limit(np.r_[np.ones(199), 100.0], percentile=99)
    1.0
    """
    if not 0 < percentile <= 100:
        raise CourseError(f"percentile must lie in (0, 100], got {percentile}")
    values = np.abs(np.asarray(relevance, dtype=np.float64))
    limit = float(np.percentile(values, percentile)) if values.size else 0.0
    if limit <= 0 and values.size:  # a sparse map whose percentile is 0: fall back to its maximum
        limit = float(values.max())
    return limit if limit > 0 and np.isfinite(limit) else 1.0


def draw_outline(ax, image, size: int | None = None, level: float = 0.5, color: str = OUTLINE_COLOR):
    """The outline of the ink of ``image``: a contour at ``level`` × its maximum, on an imshow axes.

    ``size`` is the side of the heatmap drawn on ``ax`` (None: the image's own pixels). The contour is
    traced on the bilinearly upsampled image, so it is smooth, and placed on the heatmap's pixel grid.
    Returns the contour set (None for an image without ink).

    >>> from matplotlib.figure import Figure
    >>> ax = Figure().subplots()
    >>> _ = ax.imshow(np.zeros((8, 8)))
    >>> draw_outline(ax, np.pad(np.ones((4, 4)), 2)) is not None
    True
    """
    img = to_image(image)
    top = float(np.max(img))
    if not top > float(np.min(img)):
        return None
    fine = upsample(img, size=max(64, size or 0))
    target_h = size if size else img.shape[0]
    scale = target_h / fine.shape[0]
    ys = (np.arange(fine.shape[0]) + 0.5) * scale - 0.5
    xs = (np.arange(fine.shape[1]) + 0.5) * scale - 0.5
    return ax.contour(xs, ys, fine, levels=[np.min(img) + level * (top - np.min(img))], colors=[color], linewidths=1.0)


def heatmap(
    ax,
    relevance,
    title: str | None = None,
    limit: float | None = None,
    outline=None,
    size: int | None = None,
    percentile: float = 100.0,
    scale: str = "symmetric",
    fontsize: float = 9,
):
    """Draw one relevance map on ``ax``; returns the image artist (pass it to ``fig.colorbar``).

    ``scale="symmetric"`` (default): red/white/blue centred on zero, colour range ±``limit`` (default:
    this map's ``percentile`` of |R|, i.e. max|R|). ``scale="range"``: for a map without negative values
    whose values all sit in a narrow band (the DTD w² and z^B maps: most pixels at 50–75 % of the
    maximum), a sequential yellow–red scale stretched from the map's 1st to its 99th percentile -- white is
    then *not* zero, so always add a colour bar. ``size`` draws the map upsampled bilinearly to
    size × size (None: its own pixels); ``outline`` (the input image) draws the outline of its ink over the
    map. A map with NaN or inf is refused (it would show as silent blank pixels).

    >>> from matplotlib.figure import Figure
    >>> artist = heatmap(Figure().subplots(), np.array([[-2.0, 0.0], [1.0, 2.0]]), "LRP-ε")
    >>> artist.norm.vmin, artist.norm.vmax
    (-2.0, 2.0)
    """
    img = to_image(relevance)
    if not np.all(np.isfinite(img)):
        name = f"the relevance map {title!r}" if title else "the relevance map"
        raise CourseError(f"{name} contains NaN or inf; check the method's input")
    shown = upsample(img, size) if size else img
    if scale == "symmetric":
        limit = symmetric_limit(img, percentile) if limit is None else float(limit)
        artist = ax.imshow(shown, cmap=RELEVANCE_CMAP, norm=TwoSlopeNorm(0.0, -limit, limit), interpolation="nearest")
    elif scale == "range":
        low, high = np.percentile(img, [1, 99])
        high = high if high > low else low + 1.0
        artist = ax.imshow(shown, cmap="YlOrRd", vmin=low, vmax=high, interpolation="nearest")
    else:
        raise CourseError(f"scale must be 'symmetric' or 'range', got {scale!r}")
    if outline is not None:
        draw_outline(ax, outline, size)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)
    return artist


def _show_input(ax, sample, title, fontsize=9, cmap="gray_r"):
    ax.imshow(to_image(sample), cmap=cmap, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)


def _display_size(image) -> int | None:
    """Small images (a side of at most 16 pixels) are shown upsampled to 64 × 64, larger ones as they are."""
    return 64 if max(to_image(image).shape) <= 16 else None


def explain_figure(
    image,
    relevance,
    title: str,
    input_title: str = "input",
    outline: bool = True,
    scale: str = "symmetric",
    fig: Figure | None = None,
    extra: float | None = None,
):
    """The input and its heatmap side by side, with a colour bar for the relevance.

    Small inputs are shown upsampled with the outline of the ink over the heatmap. ``extra`` (a width
    ratio) adds a third, empty axes on the right for a plot of your own; then ``(fig, extra_axes)`` is
    returned instead of ``fig``. ``fig``: draw on this empty Figure (a live figure's) instead of a new one.

    >>> fig = explain_figure(np.eye(3), np.eye(3) - 0.5, "gradient")
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['input', 'gradient']
    >>> fig, ax_bars = explain_figure(np.eye(3), np.eye(3), "LRP-0", extra=1.5)
    >>> len(fig.axes)  # input, map, its colour bar, the extra axes
    4
    """
    if fig is None:
        fig = Figure(figsize=(4.6 if extra is None else 4.6 + 2.2 * extra, 2.4), layout="constrained")
    ratios = [1, 1.25] + ([] if extra is None else [extra])
    axes = fig.subplots(1, len(ratios), gridspec_kw={"width_ratios": ratios})
    _show_input(axes[0], image, input_title)
    size = _display_size(image)
    artist = heatmap(axes[1], relevance, title, outline=image if outline else None, size=size, scale=scale)
    fig.colorbar(artist, ax=axes[1], shrink=0.8, label="relevance")
    return fig if extra is None else (fig, axes[2])


def grid_figsize(rows: int, methods: int, title: bool = False, cell: float = 1.6) -> tuple[float, float]:
    """The size (inches) :func:`method_grid` gives ``rows`` inputs and ``methods`` heatmap columns.

    Pass it as ``figsize`` when the grid is drawn on a figure made elsewhere (``course.widgets.live_figure``).

    >>> grid_figsize(1, 5, title=True, cell=1.0)
    (6.0, 1.8)
    """
    return (cell * (methods + 1), cell * rows + (0.8 if title else 0.3))


def method_grid(
    images: Sequence,
    maps: Mapping[str, np.ndarray],
    row_titles: Sequence[str] | None = None,
    title: str | None = None,
    cell: float = 1.6,
    fig: Figure | None = None,
    outline: bool = True,
    scale: str | Mapping[str, str] = "symmetric",
    colorbar: bool = False,
    input_cmap: str = "gray_r",
) -> Figure:
    """A grid: one row per input, the input first, then one heatmap per method.

    Parameters
    ----------
    images : array (n, ...) or sequence of n samples
    maps : dict method name → relevance array of the same leading length n
        The names become column titles, so put the parameters in them
        (``"LRP-ε (ε=0.25)"``). Each cell is scaled to its own ±max|R|. More than about six
        columns get too narrow to read at a notebook's width: use :func:`family_grids`.
    row_titles : one label per row (e.g. "digit 3, target 3"), optional
    cell : the side of one cell in inches
    fig : an empty Figure to draw on, optional (a live figure's ``draw(fig, ...)`` passes its own; size it with
        :func:`grid_figsize`). Default: a new pyplot-free Figure of ``grid_figsize`` with constrained layout.
    outline : draw the outline of each input's ink over its heatmaps (small inputs are also shown upsampled
        to 64 × 64, see :func:`heatmap`)
    scale : "symmetric" or "range" (see :func:`heatmap`), or a dict method name → scale
    colorbar : a colour bar beside every heatmap
    input_cmap : the colour map of the inputs ("gray_r": 0 white, ink black; "gray": 0 black)

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
        size = grid_figsize(n, len(maps), bool(title), cell)
        size = (size[0] * (1.25 if colorbar else 1.0), size[1])
        fig = Figure(figsize=size, layout="constrained")
    elif fig.axes:
        raise CourseError(f"method_grid draws on an empty figure; this one already has {len(fig.axes)} axes")
    scales = dict(scale) if isinstance(scale, Mapping) else {name: scale for name in maps}
    if set(scales) != set(maps):
        raise CourseError(f"scale names {sorted(scales)} but the maps are {sorted(maps)}")
    cols = len(maps) + 1
    axes = np.atleast_2d(fig.subplots(n, cols, squeeze=False))
    for r in range(n):
        _show_input(axes[r, 0], images[r], "input" if r == 0 else None, cmap=input_cmap)
        if row_titles is not None:
            axes[r, 0].set_ylabel(row_titles[r], fontsize=9)
        size = _display_size(images[r])
        for c, (name, values) in enumerate(maps.items(), start=1):
            artist = heatmap(
                axes[r, c],
                values[r],
                name if r == 0 else None,
                outline=images[r] if outline else None,
                size=size,
                scale=scales[name],
            )
            if colorbar:
                fig.colorbar(artist, ax=axes[r, c], shrink=0.85, aspect=12).ax.tick_params(labelsize=7)
    if title:
        kinds = set(scales.values())
        how = {
            frozenset({"symmetric"}): "red: positive, blue: negative relevance; each map scaled to its own max |R|",
            frozenset({"range"}): "each map stretched over its own range, see its colour bar",
        }.get(
            frozenset(kinds),
            "red/blue maps: scaled to their own max |R|, white = 0; yellow–red maps: stretched "
            "over their own range, see the colour bars",
        )
        legend = f"({how}" + ("; green line: outline of the input's ink)" if outline else ")")
        width_in = fig.get_figwidth() if isinstance(fig, Figure) else fig.bbox.width / fig.figure.dpi  # a SubFigure
        width = max(30, int(width_in * 14))  # about 14 characters of 9-point text per inch
        lines = -(-len(legend) // width)
        fig.suptitle(title + "\n" + textwrap.fill(legend, -(-len(legend) // lines) + 6), fontsize=9)  # even lines
    return fig


def family_grids(
    images: Sequence,
    maps: Mapping[str, np.ndarray],
    families: Mapping[str, Sequence[str]],
    max_methods: int = 6,
    title: str = "",
    **grid_options,
) -> list[Figure]:
    """:func:`method_grid` split into readable figures: one per family of methods, at most ``max_methods`` each.

    ``families`` maps a family's name (the figure's title) to the names of its methods, in order; a family
    with more than ``max_methods`` methods is split into parts "(1/2)", "(2/2)". Every method of ``maps``
    must belong to exactly one family, so that none is silently left out.

    >>> maps = {k: np.zeros((1, 4)) for k in "abc"}
    >>> figs = family_grids(np.zeros((1, 4)), maps, {"first": ["a", "b"], "second": ["c"]}, max_methods=1)
    >>> [f.get_suptitle().splitlines()[0] for f in figs]
    ['first (1/2)', 'first (2/2)', 'second']
    """
    return [
        method_grid(images, part, title=f"{title}{name}", **grid_options)
        for name, part in _family_parts(maps, families, max_methods)
    ]


def _family_parts(maps, families, max_methods):
    """``[(part title, {method: maps})]``: each family in chunks of at most ``max_methods``; checks the families."""
    if max_methods < 1:
        raise CourseError(f"max_methods must be at least 1, got {max_methods}")
    listed = [name for members in families.values() for name in members]
    unknown = sorted(set(listed) - set(maps))
    missing = [name for name in maps if name not in listed]
    twice = sorted({name for name in listed if listed.count(name) > 1})
    if unknown or missing or twice:
        raise CourseError(
            f"families must list every method exactly once: unknown {unknown}, missing {missing}, listed twice {twice}"
        )
    parts = []
    for family, members in families.items():
        chunks = [list(members[i : i + max_methods]) for i in range(0, len(members), max_methods)]
        for k, chunk in enumerate(chunks, start=1):
            name = family if len(chunks) == 1 else f"{family} ({k}/{len(chunks)})"
            parts.append((name, {m: maps[m] for m in chunk}))
    return parts


def family_figure(
    images: Sequence,
    maps: Mapping[str, np.ndarray],
    families: Mapping[str, Sequence[str]],
    max_methods: int = 6,
    title: str = "",
    cell: float = 1.4,
    **grid_options,
) -> Figure:
    """The grids of :func:`family_grids` stacked in one Figure, each family part a titled section.

    >>> maps = {k: np.zeros((1, 4)) for k in "abc"}
    >>> fig = family_figure(np.zeros((1, 4)), maps, {"first": ["a", "b"], "second": ["c"]}, max_methods=1)
    >>> [sub.get_suptitle().splitlines()[0] for sub in fig.subfigs]
    ['first (1/2)', 'first (2/2)', 'second']
    """
    parts = _family_parts(maps, families, max_methods)
    n = len(images)
    widest = max(len(part) for _, part in parts)
    heights = [grid_figsize(n, len(part), True, cell)[1] for _, part in parts]
    fig = Figure(
        figsize=(grid_figsize(n, widest, True, cell)[0], sum(heights) + (0.4 if title else 0)), layout="constrained"
    )
    subfigs = fig.subfigures(len(parts), 1, height_ratios=heights, squeeze=False)[:, 0]
    for sub, (name, part) in zip(subfigs, parts):
        method_grid(images, part, title=name, cell=cell, fig=sub, **grid_options)
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def value_grid(
    inputs, maps: Mapping[str, np.ndarray], row_titles: Sequence[str], title: str = "", input_limit: float = 3.0
) -> Figure:
    """One row per sample: the input and one heatmap per method, each a 1 × d strip with its numbers written in.

    For toys with a handful of inputs (PatternNet's 2-D toy, L19), where the numbers say more than colours.
    Every map has its own symmetric scale; text turns white on dark cells; a value that rounds to 0.00
    is written 0 (no "-0.00").

    >>> fig = value_grid(np.array([[1.0, -1.0]]), {"w": np.array([[0.5, -0.001]])}, ["y = 1"])
    >>> [t.get_text() for t in fig.axes[1].texts]
    ['+0.50', '0']
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    cols = len(maps) + 1
    fig = Figure(figsize=(1.7 * cols, 1.0 * len(inputs) + 0.7), layout="constrained")
    axes = fig.subplots(len(inputs), cols, squeeze=False)
    for r, x in enumerate(inputs):
        panels = [("input x", x)] + [(name, np.asarray(values)[r]) for name, values in maps.items()]
        for c, (name, values) in enumerate(panels):
            ax = axes[r, c]
            if c == 0:
                ax.imshow(values[None], cmap="gray_r", vmin=-input_limit, vmax=input_limit)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_ylabel(row_titles[r], fontsize=9)
            else:
                heatmap(ax, values[None])
            scale = input_limit if c == 0 else symmetric_limit(values)
            for j, v in enumerate(values):
                text = f"{v:+.2f}"
                ax.text(
                    j,
                    0,
                    "0" if float(text) == 0 else text,
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if abs(v) > 0.6 * scale else "black",
                )
            if r == 0:
                ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
