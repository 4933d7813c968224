"""Drawings of the quiz's backdoor graphs: in the notebook, beside a variant's text, inside the Moodle export.

Every drawing is :func:`course.plotting.draw_dag` of the question's DAG with
the exposure and the outcome marked, and without the backdoor paths coloured
or counted — the picture must not answer the question. Figures are built on a
plain :class:`matplotlib.figure.Figure` (no pyplot state, no GUI backend), so
they render the same in a kernel, a CLI and a grader.

>>> from course.quiz.bank import load_bank
>>> png = question_image(load_bank(keys=False)["t3_backdoor_smallest"], "png")
>>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

from course.errors import CourseError
from course.quiz.bank import Question

__all__ = [
    "DagDrawing",
    "question_figure",
    "question_image",
    "write_question_image",
    "circle_layout",
    "safe_name",
    "FORMATS",
]

FORMATS = ("png", "svg")


def question_figure(q: Question, size: tuple[float, float] = (4.5, 3.6)):
    """A matplotlib Figure of ``q``'s DAG (exposure blue, outcome orange, no path colouring).

    In a notebook cell, a returned Figure as the last expression is displayed.
    """
    if q.dag is None:
        raise CourseError(f"question {q.id!r} has no DAG to draw")
    from matplotlib.figure import Figure

    from course.causal.graphs import parse_dag
    from course.plotting import draw_dag

    G = parse_dag(q.dag)
    if any(G.nodes[v].get("pos") is None for v in G):
        for v, xy in circle_layout(G, q.exposure, q.outcome).items():
            G.nodes[v]["pos"] = (xy[0], -xy[1])  # dag_layout reads DAGitty's pos, whose y points down
    fig = Figure(figsize=size)
    ax = fig.subplots()
    draw_dag(
        G,
        q.exposure,
        q.outcome,
        ax=ax,
        show_paths=False,
        title=f"{q.exposure} → {q.outcome}: exposure {q.exposure}, outcome {q.outcome}",
    )
    ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def circle_layout(G, exposure, outcome) -> dict:
    """Positions on a circle: X on the left, Y on the right, the other nodes shared equally between the upper and
    the lower arc — first those that are not descendants of X, then X's descendants, each group in topological
    order, so confounders go on top and mediators below. No three points of a circle are
    collinear, so no straight edge passes through a node it does not join (a layered layout can hide an edge
    behind a node and suggest a path that is not there).

    >>> import networkx as nx
    >>> pos = circle_layout(nx.DiGraph([("C", "X"), ("C", "Y"), ("X", "M"), ("M", "Y")]), "X", "Y")
    >>> pos["X"], pos["Y"], pos["C"][1] > 0 > pos["M"][1]
    ((-1.0, 0.0), (1.0, 0.0), True)
    """
    import math

    import networkx as nx

    from course.causal.graphs import node_key

    order = {v: i for i, v in enumerate(nx.lexicographical_topological_sort(G, key=node_key))}
    below = nx.descendants(G, exposure)
    others = sorted((v for v in G if v not in (exposure, outcome)), key=lambda v: (v in below, order[v]))
    half = (len(others) + 1) // 2  # the arcs get equal shares, the upper one first
    upper, lower = others[:half], others[half:]
    pos = {exposure: (-1.0, 0.0), outcome: (1.0, 0.0)}
    for arc, sign in ((upper, 1), (lower, -1)):
        for i, v in enumerate(arc, 1):
            angle = math.pi * (1 - i / (len(arc) + 1))  # from the left (π) to the right (0)
            pos[v] = (round(math.cos(angle), 12), round(sign * math.sin(angle), 12))
    return pos


def question_image(q: Question, fmt: str = "png", dpi: int = 110) -> bytes:
    """The drawing of ``q``'s DAG as PNG or SVG bytes (SVG without a date and with stable ids: equal graphs give
    equal files). Drawings are kept per graph and format: a notebook, an export or a grader that shows the same
    question again gets the same bytes without drawing it again."""
    if fmt not in FORMATS:
        raise CourseError(f"unknown image format {fmt!r}; use one of {', '.join(FORMATS)}")
    if q.dag is None:
        raise CourseError(f"question {q.id!r} has no DAG to draw")
    return _image(q, (q.dag, q.exposure, q.outcome, fmt, dpi))


_IMAGES: dict[tuple, bytes] = {}
_MAX_IMAGES = 256


def _image(q: Question, key: tuple) -> bytes:
    if key not in _IMAGES:
        if len(_IMAGES) >= _MAX_IMAGES:
            _IMAGES.clear()
        _IMAGES[key] = _render(q, key[3], key[4])
    return _IMAGES[key]


def zygote_warm_up() -> None:
    """Draw the bank's fixed backdoor questions once (the grader's warm-started kernels call this before any
    student's run, so each run shows them without drawing them again). The bank is read without its keys."""
    from course.quiz.bank import load_bank

    for q in load_bank(keys=False).questions:
        if q.dag is not None:
            question_image(q, "png")


def _render(q: Question, fmt: str, dpi: int) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {}
    with matplotlib.rc_context({"svg.hashsalt": "xai-course"}):  # stable element ids in the SVG
        question_figure(q).savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    return buf.getvalue()


class DagDrawing:
    """The drawing of a question's DAG as a notebook shows it: a cell whose last expression is one displays the PNG.

    (A bare matplotlib Figure made without pyplot has no rich display in a kernel; this object carries its own.)

    >>> from course.quiz.variants import backdoor_variant
    >>> DagDrawing(backdoor_variant("ivanov"))._repr_png_()[:4] == b"\\x89PNG"
    True
    """

    def __init__(self, question: Question):
        if question.dag is None:
            raise CourseError(f"question {question.id!r} has no DAG to draw")
        self.question = question

    def figure(self):
        """A new matplotlib Figure of the drawing."""
        return question_figure(self.question)

    def _repr_png_(self) -> bytes:
        return question_image(self.question, "png")

    def __repr__(self) -> str:
        return f"<DAG of question {self.question.id}: {self.question.exposure} → {self.question.outcome}>"


def safe_name(text: str) -> str:
    """``text`` as a file name: letters, digits, '.', '_' and '-' kept, anything else '_'.

    >>> safe_name("Иванов И.И./s01")
    'Иванов_И.И._s01'
    """
    name = re.sub(r"[^\w.\-]", "_", text.strip())
    return name.lstrip(".") or "_"


def write_question_image(q: Question, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write the drawing of ``q`` to ``path`` (format from the suffix, .png or .svg); replace a file only with force.

    Written under a temporary name and renamed, so a failure leaves no half-written file.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CourseError(f"{path}: the figure must be a .png or .svg file")
    if path.exists() and not force:
        raise CourseError(f"{path} already exists; pass force=True to replace it")
    data = question_image(q, fmt)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        raise CourseError(f"{path}: cannot write the figure ({exc.strerror})") from None
    return path
