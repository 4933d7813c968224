"""method_grid draws on a figure it is given (a live figure's), sized by grid_figsize."""

import struct

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from course.errors import CourseError
from course.plotting.heatmaps import grid_figsize, method_grid
from course.widgets import render_png

MAPS = {"gradient": np.ones((2, 16)), "LRP-0": -np.ones((2, 16))}


def test_grid_figsize_by_hand():
    # 2 rows, 2 methods + the input column, 1.6 in per cell; 0.3 in margin, 0.8 with a two-line title
    assert grid_figsize(2, 2) == pytest.approx((3 * 1.6, 2 * 1.6 + 0.3))
    assert grid_figsize(1, 5, title=True, cell=1.0) == (6.0, 1.8)


def test_default_figure_has_the_grid_size():
    fig = method_grid(np.zeros((2, 16)), MAPS, title="t")
    assert tuple(fig.get_size_inches()) == pytest.approx((4.8, 4.0))


def test_draws_on_the_given_figure_and_keeps_its_size():
    fig = Figure(figsize=(7.0, 3.0))
    before = plt.get_fignums()
    out = method_grid(np.zeros((2, 16)), MAPS, row_titles=["a", "b"], fig=fig)
    assert out is fig
    assert len(fig.axes) == 2 * 3
    assert [ax.get_title() for ax in fig.axes[:3]] == ["input", "gradient", "LRP-0"]
    assert tuple(fig.get_size_inches()) == (7.0, 3.0)
    assert plt.get_fignums() == before  # pyplot never sees it


def test_refuses_a_figure_that_already_has_axes():
    fig = Figure()
    fig.subplots()
    with pytest.raises(CourseError, match="empty figure"):
        method_grid(np.zeros((2, 16)), MAPS, fig=fig)


def test_a_live_figure_render_of_a_grid_has_the_grid_pixel_size():
    def draw(fig, index):
        method_grid(np.zeros((1, 16)), {k: v[index : index + 1] for k, v in MAPS.items()}, title="row", fig=fig)

    png, caption = render_png(draw, figsize=grid_figsize(1, 2, title=True, cell=1.0), dpi=100, index=1)
    # PNG header: width and height follow the 16-byte signature + IHDR chunk header; 3.0 x 1.8 in at 100 dpi
    assert struct.unpack(">II", png[16:24]) == (300, 180)
    assert caption is None
