"""course.widgets: pyplot-free renders, live redraw wiring, errors a notebook author can act on."""

import struct

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

import course.widgets as cw
from course.errors import CourseError


def png_size(png: bytes):
    # PNG layout: 8-byte signature, then the IHDR chunk: length, b"IHDR", width, height (big-endian)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def two_panels(fig, slope, label="$L(D\\mid H)$"):
    left, right = fig.subplots(1, 2)
    left.plot([0, 1], [0, slope], label=label)
    left.legend()
    right.set_title(label)
    return f"slope {slope}"


def test_render_has_the_requested_pixel_size_and_caption():
    png, caption = cw.render_png(two_panels, figsize=(6, 2.5), dpi=80, slope=2)
    assert png_size(png) == (480, 200)  # 6·80 × 2.5·80
    assert caption == "slope 2"


def test_render_never_registers_a_pyplot_figure():
    before = plt.get_fignums()
    cw.render_png(two_panels, slope=1)
    assert plt.get_fignums() == before


class FakeHandle:
    def __init__(self, obj):
        self.shown = [obj]

    def update(self, obj, raw=False):
        self.shown.append(obj)


@pytest.fixture
def fake_display(monkeypatch):
    calls = []

    def display(obj, raw=False, display_id=None):
        calls.append(obj)
        return FakeHandle(obj) if display_id else None

    monkeypatch.setattr("IPython.display.display", display)
    return calls


def test_show_displays_controls_then_figure_then_caption(fake_display):
    slider = widgets.FloatSlider(value=1.0, min=0, max=5)
    live = cw.live_figure(two_panels, {"slope": slider}, figsize=(4, 2), dpi=50)
    box, image, caption = fake_display
    assert box is live.box and slider in box.children[0].children
    assert png_size(image.data) == (200, 100)
    assert caption == {"text/plain": "slope 1.0"}


def test_moving_a_control_redraws_figure_and_caption(fake_display):
    slider = widgets.FloatSlider(value=1.0, min=0, max=5)
    live = cw.live_figure(two_panels, {"slope": slider}, figsize=(4, 2), dpi=50)
    slider.value = 3.0
    assert live.redraws == 1
    images, captions = live._image.shown, live._caption.shown
    assert len(images) == 2 and images[1].data != images[0].data
    assert captions[-1] == {"text/plain": "slope 3.0"}


def test_a_failing_redraw_is_shown_in_the_caption_and_keeps_the_figure(fake_display):
    def fragile(fig, k):
        if k > 2:
            raise ValueError("k too large for this toy")
        fig.subplots().plot([0, k])

    slider = widgets.IntSlider(value=1, min=0, max=5)
    live = cw.live_figure(fragile, {"k": slider}, figsize=(3, 2), dpi=40)
    slider.value = 4
    assert len(live._image.shown) == 1
    assert "k too large for this toy" in live._caption.shown[-1]["text/plain"]


def test_a_failing_first_render_raises(fake_display):
    def broken(fig, k):
        raise ValueError("broken from the start")

    with pytest.raises(ValueError, match="broken from the start"):
        cw.live_figure(broken, {"k": widgets.IntSlider()})


@pytest.mark.parametrize(
    "draw, controls, rows, message",
    [
        ("not callable", {"k": widgets.IntSlider()}, None, "draw must be a function"),
        (two_panels, {}, None, "non-empty dict"),
        (two_panels, {"slope": widgets.Button()}, None, "not value widgets"),
        (two_panels, {"gradient": widgets.IntSlider()}, None, "no parameters"),
        (two_panels, {"slope": widgets.IntSlider(), "label": widgets.Text()}, [["slope"]], "leaves out"),
    ],
)
def test_bad_setup_raises_course_error(draw, controls, rows, message):
    with pytest.raises(CourseError, match=message):
        cw.LiveFigure(draw, controls, rows=rows)
