"""ipywidgets explorers for the lecture notebooks: a figure redrawn live from slider values.

Why not ``ipywidgets.interactive_output`` with pyplot: JupyterLab >= 4.4 sends widget messages over
kernel subshells (setting ``commsOverSubshells``), and ipykernel >= 7 handles them on a thread of
their own. Every comm message fires IPython's ``post_execute`` event on that thread, and the inline
backend then flushes — renders — every open pyplot figure, while the callback may be building one on
the main thread. Matplotlib is not thread-safe: the race shows up as a mathtext ``ParseException``,
a blank figure or a dead kernel (matplotlib/ipympl#610). :func:`live_figure` therefore draws on a
``matplotlib.figure.Figure`` that pyplot never sees, renders it to PNG under one process-wide lock, and
replaces the cell's own image through a display id. The first render is an ordinary ``image/png``
output, so a notebook run without a widget front end (nbclient, nbconvert) still holds the figure.
"""

from __future__ import annotations

import inspect
import io
import threading
import traceback
from collections.abc import Callable

from course.errors import CourseError
from course.extras import require

__all__ = ["render_png", "LiveFigure", "live_figure"]

# one lock for every render of this module: the mathtext parser and font caches are process-global
_RENDER_LOCK = threading.RLock()


def render_png(draw: Callable, figsize=(10.0, 4.0), dpi: int = 100, **values):
    """Draw ``draw(fig, **values)`` on a fresh pyplot-free Figure; return ``(png_bytes, caption)``.

    ``draw`` may return a short text (a caption shown under the figure) or None.

    Examples
    --------
    >>> def line(fig, slope):
    ...     fig.subplots().plot([0, 1], [0, slope])
    ...     return f"slope {slope}"
    >>> png, caption = render_png(line, slope=2.0)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", caption
    (True, 'slope 2.0')
    """
    from matplotlib.figure import Figure

    with _RENDER_LOCK:
        fig = Figure(figsize=figsize, dpi=dpi, layout="tight")
        caption = draw(fig, **values)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
    return buffer.getvalue(), None if caption is None else str(caption)


class LiveFigure:
    """Controls, a figure and a caption; every change of a control value redraws the figure.

    Create it with :func:`live_figure`. ``redraw()`` can also be called by hand (tests do).
    """

    def __init__(self, draw: Callable, controls: dict, figsize=(10.0, 4.0), dpi: int = 100, rows=None):
        widgets = require("ipywidgets", "lab")

        if not callable(draw):
            raise CourseError(f"draw must be a function draw(fig, **values), got {draw!r}")
        if not isinstance(controls, dict) or not controls:
            raise CourseError("controls must be a non-empty dict {parameter name: widget}")
        bad = [name for name, w in controls.items() if not isinstance(w, widgets.ValueWidget)]
        if bad:
            raise CourseError(f"controls {bad} are not value widgets (sliders, dropdowns, ...)")
        params = inspect.signature(draw).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        unknown = [name for name in controls if name not in params]
        if unknown and not takes_any:
            raise CourseError(f"draw has no parameters {unknown}; its signature is {inspect.signature(draw)}")
        rows = rows if rows is not None else [list(controls)[i : i + 3] for i in range(0, len(controls), 3)]
        missing = set(controls) - {name for row in rows for name in row}
        if missing:
            raise CourseError(f"rows leaves out the controls {sorted(missing)}")
        self.draw, self.controls, self.figsize, self.dpi = draw, controls, figsize, dpi
        self.box = widgets.VBox([widgets.HBox([controls[name] for name in row]) for row in rows])
        self.redraws = 0
        self._image = self._caption = None

    def values(self) -> dict:
        return {name: w.value for name, w in self.controls.items()}

    def _outputs(self):
        Image = require("IPython.display", "lab").Image

        png, caption = render_png(self.draw, self.figsize, self.dpi, **self.values())
        return Image(data=png, format="png"), caption or ""

    def show(self) -> LiveFigure:
        """Display controls, the first (static) render and its caption; a failing first render raises."""
        display = require("IPython.display", "lab").display

        image, caption = self._outputs()
        display(self.box)
        self._image = display(image, display_id=True)
        self._caption = display({"text/plain": caption}, raw=True, display_id=True)
        for widget in self.controls.values():
            widget.observe(self.redraw, names="value")
        return self

    def redraw(self, change=None) -> None:
        """Render with the current control values and replace the displayed figure and caption."""
        try:
            image, caption = self._outputs()
        except Exception:  # shown under the figure: an observer's traceback would only reach the server log
            image, caption = None, "error while redrawing:\n" + traceback.format_exc(limit=-3)
        self.redraws += 1
        if self._image is not None and image is not None:
            self._image.update(image)
        if self._caption is not None:
            self._caption.update({"text/plain": caption}, raw=True)


def live_figure(draw: Callable, controls: dict, figsize=(10.0, 4.0), dpi: int = 100, rows=None) -> LiveFigure:
    """Show ``controls`` and the figure ``draw(fig, **values)``; redraw it whenever a value changes.

    Parameters
    ----------
    draw : function ``draw(fig, **values)`` drawing on a ``matplotlib.figure.Figure`` (use
        ``fig.subplots(...)``, never pyplot); may return a caption string.
    controls : dict ``{parameter name: ipywidgets value widget}``
    figsize, dpi : size of the rendered PNG
    rows : optional list of rows of control names (default: three per row)

    Returns
    -------
    LiveFigure, already displayed.

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> def line(fig, slope):
    ...     fig.subplots().plot([0, 1], [0, slope])
    >>> live = LiveFigure(line, {"slope": widgets.FloatSlider(value=1.0)})
    >>> live.values()
    {'slope': 1.0}
    """
    return LiveFigure(draw, controls, figsize, dpi, rows).show()
