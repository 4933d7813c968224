"""The lecture figure helpers: grids split into readable figures, symmetric colour limits, the digit outline,
upsampling, and the printed-number format (expected values worked out by hand in each test)."""

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from course.errors import CourseError
from course.plotting import fmt, fmt_array
from course.plotting.heatmaps import family_grids, heatmap, method_grid, symmetric_limit, upsample

DIGIT = np.zeros((8, 8))
DIGIT[2:6, 3:5] = 1.0  # a bar of ink, 4 rows x 2 columns


def maps_named(names, n=2):
    rng = np.random.default_rng(0)
    return {name: rng.normal(size=(n, 64)) for name in names}


def titled(ax):
    return ax.get_title() != ""


def test_22_methods_split_into_figures_of_at_most_six_by_family():
    names = [f"m{i}" for i in range(22)]
    families = {"functions": names[:4], "signals": names[4:7], "LRP rules": names[7:14], "rest": names[14:]}
    figs = family_grids(np.zeros((2, 64)), maps_named(names), families, max_methods=6)
    # 4 | 3 | 7 -> 6 + 1 | 8 -> 6 + 2 methods: six figures, each row = the input + its methods
    assert [len(f.axes) // 2 - 1 for f in figs] == [4, 3, 6, 1, 6, 2]
    assert [f.get_suptitle().splitlines()[0] for f in figs] == [
        "functions",
        "signals",
        "LRP rules (1/2)",
        "LRP rules (2/2)",
        "rest (1/2)",
        "rest (2/2)",
    ]
    for fig in figs:
        cols = len(fig.axes) // 2
        first_row, second_row = fig.axes[:cols], fig.axes[cols:]
        assert [ax.get_title() for ax in first_row][0] == "input"
        assert all(titled(ax) for ax in first_row) and not any(titled(ax) for ax in second_row)
    shown = [ax.get_title() for f in figs for ax in f.axes if titled(ax) and ax.get_title() != "input"]
    assert shown == names  # every method once, in the families' order


def test_family_grids_refuses_a_method_left_out_or_listed_twice():
    maps = maps_named(["a", "b", "c"])
    with pytest.raises(CourseError, match=r"missing \['c'\]"):
        family_grids(np.zeros((2, 64)), maps, {"x": ["a", "b"]})
    with pytest.raises(CourseError, match=r"listed twice \['a'\]"):
        family_grids(np.zeros((2, 64)), maps, {"x": ["a", "b"], "y": ["a", "c"]})


def test_cells_are_large_enough_to_read():
    fig = method_grid(np.zeros((2, 64)), maps_named(["a", "b", "c", "d", "e", "f"]))
    width, height = fig.get_size_inches()
    assert width / 7 >= 1.5 and height / 2 >= 1.5  # at least 1.5 in per cell


def test_colour_limits_are_symmetric_around_zero():
    relevance = np.array([[-1.0, 0.5], [3.0, 0.0]])
    artist = heatmap(Figure().subplots(), relevance)
    assert (artist.norm.vmin, artist.norm.vcenter, artist.norm.vmax) == (-3.0, 0.0, 3.0)
    fig = method_grid(np.zeros((2, 64)), {"m": np.stack([np.linspace(-1, 4, 64), np.linspace(-2, 0, 64)])})
    limits = [(im.norm.vmin, im.norm.vmax) for ax in fig.axes[1::2] for im in ax.get_images()]
    assert limits == [(-4.0, 4.0), (-2.0, 2.0)]  # each map its own ±max|R|


def test_robust_limit_is_a_percentile_of_the_absolute_values():
    values = np.r_[-np.ones(199), 100.0]  # one extreme pixel among 199 of magnitude 1
    assert symmetric_limit(values) == 100.0
    assert symmetric_limit(values, percentile=99) == pytest.approx(1.0)
    assert symmetric_limit(np.r_[np.zeros(199), -5.0], percentile=50) == 5.0  # sparse map: falls back to the max
    with pytest.raises(CourseError, match="percentile"):
        symmetric_limit(values, percentile=0)


def test_range_scale_stretches_a_positive_map_and_symmetric_stays_default():
    positive = 0.5 + 0.01 * np.arange(64.0)  # 0.50 .. 1.13, all positive
    artist = heatmap(Figure().subplots(), positive, scale="range")
    assert artist.norm.vmin == pytest.approx(np.percentile(positive, 1))
    assert artist.norm.vmax == pytest.approx(np.percentile(positive, 99))
    with pytest.raises(CourseError, match="scale"):
        heatmap(Figure().subplots(), positive, scale="log")


def test_digit_outline_is_a_contour_around_the_ink():
    ax = Figure().subplots()
    heatmap(ax, np.ones(64), outline=DIGIT, size=64)
    contours = [c for c in ax.get_children() if isinstance(c, (ContourSet, LineCollection))]
    assert len(contours) == 1
    (level,) = contours[0].levels
    assert level == 0.5  # half of the ink's maximum
    # the contour encloses the bar: in the 64 x 64 display the bar covers rows 16..47 and columns 24..39
    points = np.concatenate([p.vertices for p in contours[0].get_paths()])
    assert 14 < points[:, 1].min() < 18 and 46 < points[:, 1].max() < 50
    assert 22 < points[:, 0].min() < 26 and 38 < points[:, 0].max() < 42


def test_grid_draws_the_outline_on_every_heatmap_but_not_on_the_input():
    fig = method_grid(DIGIT.reshape(1, 64), {"a": np.ones((1, 64)), "b": -np.ones((1, 64))})
    has_contour = [any(isinstance(c, ContourSet) for c in ax.get_children()) for ax in fig.axes]
    assert has_contour == [False, True, True]
    assert [im.get_array().shape for im in fig.axes[1].get_images()] == [(64, 64)]  # 8x8 shown at 64x64
    plain = method_grid(DIGIT.reshape(1, 64), {"a": np.ones((1, 64))}, outline=False)
    assert not any(isinstance(c, ContourSet) for ax in plain.axes for c in ax.get_children())


def test_upsample_by_hand():
    img = np.array([[0.0, 2.0], [4.0, 6.0]])
    assert upsample(img, size=4, smooth=False).tolist() == [[0, 0, 2, 2], [0, 0, 2, 2], [4, 4, 6, 6], [4, 4, 6, 6]]
    # bilinear: output centres at -0.25, 0.25, 0.75, 1.25 input pixels, clipped to [0, 1]
    assert upsample(img, size=4)[0].tolist() == [0.0, 0.5, 1.5, 2.0]
    assert upsample(img, size=4)[:, 0].tolist() == [0.0, 1.0, 3.0, 4.0]
    big = upsample(np.random.default_rng(1).uniform(size=(8, 8)), size=64)
    assert big.shape == (64, 64)


def test_printed_numbers_have_fixed_significant_digits_and_a_plain_zero():
    assert fmt(-7.77e-16) == "-7.77e-16"  # noise stays visible unless a tolerance is given ...
    assert fmt(-7.77e-16, zero=1e-12) == "0"  # ... and then prints as 0
    assert fmt(0.0) == fmt(-0.0) == "0"
    assert fmt(29.532245436545974) == "29.5"
    assert fmt(0.000123456) == "0.000123"
    assert fmt(12345678.9, digits=2) == "1.2e7" and fmt(123456.7, digits=2) == "120000"
    assert fmt(1.0, sign=True) == "+1" and fmt(-1.0, sign=True) == "-1"
    assert fmt_array(np.array([[1.23456, 0.0], [-2e-17, 100.0]]), zero=1e-12) == "[1.23, 0, 0, 100]"
    with pytest.raises(CourseError, match="digits"):
        fmt(1.0, digits=0)


def test_every_course_method_has_a_family_of_at_most_six():
    from course.demo_relevance import all_methods, method_families
    from course.relevance import models

    methods = all_methods(models.load("digits_mlp"), patterns=None)  # patterns are only read when explaining
    families = method_families(methods)
    assert "" not in families, "a method without a family"
    assert sorted(n for names in families.values() for n in names) == sorted(m.name for m in methods)
    assert max(len(names) for names in families.values()) <= 6


def test_charts_colour_by_sign_and_mark_the_reference():
    from matplotlib.colors import to_hex

    from course.plotting.charts import NEGATIVE, POSITIVE, curve_panels, score_panels, signed_bars

    ax = Figure().subplots()
    bars = signed_bars(ax, ["x₁", "x₂", "x₃"], {"a": [1.0, -2.0, 0.0], "b": [-1.0, 1.0, 1.0]})
    assert [[to_hex(p.get_facecolor()) for p in b] for b in bars] == [
        [POSITIVE, NEGATIVE, POSITIVE],
        [NEGATIVE, POSITIVE, POSITIVE],
    ]
    with pytest.raises(CourseError, match="2 values for 3 labels"):
        signed_bars(ax, ["x₁", "x₂", "x₃"], {"c": [1.0, 2.0]})
    fig = Figure()
    axes = curve_panels(
        fig,
        {"p": {"m": ([0, 1], [1, 0]), "random": ([0, 1], [1, 1])}, "q": {"m": ([0], [0])}},
        reference="random",
        ncols=2,
    )
    assert [ax.get_title() for ax in axes] == ["p", "q"]
    assert [(line.get_linestyle(), to_hex(line.get_color())) for line in axes[0].get_lines()][1] == ("--", "#000000")
    # 3 methods, reference 1 ± 0.5: only scores above 2 are red
    axes = score_panels(
        Figure(), {"s": {"a": 2.5, "b": 2.0, "c": 0.0}}, {"s": (1.0, 0.5)}, order=["a", "b", "c"], ncols=1
    )
    assert [to_hex(p.get_facecolor()) for p in axes[0].patches[:3]] == [POSITIVE, "#999999", "#999999"]


def test_family_figure_stacks_one_titled_section_per_family_part():
    from course.plotting.heatmaps import family_figure

    names = [f"m{i}" for i in range(8)]
    fig = family_figure(
        np.zeros((3, 64)), maps_named(names, n=3), {"A": names[:7], "B": names[7:]}, max_methods=6, title="demo"
    )
    assert [sub.get_suptitle().splitlines()[0] for sub in fig.subfigs] == ["A (1/2)", "A (2/2)", "B"]
    assert [len(sub.axes) for sub in fig.subfigs] == [3 * 7, 3 * 2, 3 * 2]  # 3 rows x (input + methods)
    assert fig.get_suptitle() == "demo"
