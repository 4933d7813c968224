"""Drawings of the quiz's backdoor graphs: notebook, `xai-course quiz variant`, Moodle XML (course.quiz.figures)."""

import base64
import io
import math
import xml.etree.ElementTree as ET

import matplotlib.image
import pytest
from matplotlib.patches import FancyArrowPatch

from autograder.grading.quiz_notebook import build_quiz_notebook
from course.causal.graphs import parse_dag
from course.errors import CourseError
from course.plotting.dags import COLORS
from course.quiz.bank import load_bank
from course.quiz.export import to_moodle_xml
from course.quiz.figures import DagDrawing, question_figure, question_image, write_question_image
from course.quiz.notebook import one_line_dag
from course.quiz.variants import backdoor_variant

BANK = load_bank(keys=True)
DAG_QUESTIONS = [q for q in BANK if q.dag] + [backdoor_variant(s) for s in ("ivanov", "petrova", "s001")]


def _arrows(fig):
    return [p for p in fig.axes[0].patches if isinstance(p, FancyArrowPatch)]


@pytest.mark.parametrize("q", DAG_QUESTIONS, ids=lambda q: q.id + ":" + q.dag[-30:].replace("\n", " "))
def test_the_drawing_has_every_vertex_and_edge_and_no_answer_hints(q):
    G = parse_dag(q.dag)
    fig = question_figure(q)
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert labels == set(G.nodes)
    arrows = _arrows(fig)
    assert len(arrows) == G.number_of_edges()
    colours = {tuple(round(c, 3) for c in a.get_edgecolor()[:3]) for a in arrows}
    grey = tuple(round(int(COLORS["edge"][i : i + 2], 16) / 255, 3) for i in (1, 3, 5))
    assert colours == {grey}  # no path is coloured open or blocked
    assert "open" not in ax.get_title() and "backdoor" not in ax.get_title()


def _segment_distance(p, a, b):
    (px, py), (ax_, ay), (bx, by) = p, a, b
    dx, dy = bx - ax_, by - ay
    t = max(0.0, min(1.0, ((px - ax_) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - ax_ - t * dx, py - ay - t * dy)


@pytest.mark.parametrize("student", [f"s{i:03d}" for i in range(24)] + ["ivanov"])
def test_no_edge_passes_behind_a_vertex_it_does_not_join(student):
    """A layered layout drew C → B straight through A for 'ivanov' (it read as C – A → B); on the circle no edge
    comes within a node's radius (in screen pixels) of a vertex it does not join."""
    q = backdoor_variant(student)
    G = parse_dag(q.dag)
    fig = question_figure(q)
    fig.canvas.draw()
    ax = fig.axes[0]
    by_label = {t.get_text(): ax.transData.transform(t.get_position()) for t in ax.texts}
    radius = math.sqrt(900) / 2 * fig.dpi / 72  # draw_dag's node_size=900 (points²)
    for u, v in G.edges:
        for w in G.nodes:
            if w not in (u, v):
                assert _segment_distance(by_label[w], by_label[u], by_label[v]) > radius, (student, u, v, w)


def test_images_are_png_and_svg_and_the_svg_is_reproducible():
    q = BANK["t3_backdoor_smallest_sets"]
    png = question_image(q, "png")
    assert matplotlib.image.imread(io.BytesIO(png)).shape[0] > 200
    svg = question_image(q, "svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg and svg == question_image(q, "svg")
    with pytest.raises(CourseError, match="unknown image format 'gif'"):
        question_image(q, "gif")
    with pytest.raises(CourseError, match="has no DAG"):
        question_figure(BANK["t3_mdl"])


def test_moodle_xml_embeds_the_drawing_of_each_backdoor_question():
    root = ET.fromstring(to_moodle_xml(BANK).encode("utf-8"))
    questions = {q.find("name/text").text: q for q in root.findall("question") if q.get("type") != "category"}
    for q in BANK:
        files = questions[q.id].findall("questiontext/file")
        if not q.dag:
            assert files == []
            continue
        (f,) = files
        assert (f.get("name"), f.get("path"), f.get("encoding")) == (f"{q.id}.png", "/", "base64")
        assert f'src="@@PLUGINFILE@@/{q.id}.png"' in questions[q.id].find("questiontext/text").text
        png = base64.b64decode(f.text, validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and matplotlib.image.imread(io.BytesIO(png)).ndim == 3


def test_the_notebook_draws_every_backdoor_question_and_the_variant():
    nb = build_quiz_notebook(BANK)
    sources = [c.source for c in nb.cells]
    for q in BANK:
        if q.dag:
            text = next(
                i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == f"{q.id}_text"
            )
            assert sources[text + 1].endswith(f"draw_question({q.id!r})")
            assert nb.cells[text + 1].metadata["nbgrader"]["locked"] is True
    assert any(s.endswith("show_variant(STUDENT_ID)") for s in sources)


def test_draw_question_and_show_variant_return_a_drawing_a_notebook_displays(capsys):
    from course.quiz.notebook import draw_question, show_variant

    drawing = draw_question("t3_backdoor_smallest")
    assert isinstance(drawing, DagDrawing) and drawing._repr_png_()[:4] == b"\x89PNG"
    shown = show_variant("ivanov")
    out = capsys.readouterr().out
    assert isinstance(shown, DagDrawing) and out.count("dag {") == 1  # the DAGitty text once, on one line
    assert show_variant("ivanov", draw=False) is None


def test_one_line_dag_keeps_the_graph():
    q = backdoor_variant("ivanov")
    a, b = parse_dag(one_line_dag(q.dag)), parse_dag(q.dag)
    assert set(a.edges) == set(b.edges) and dict(a.nodes(data=True)) == dict(b.nodes(data=True))


def test_cli_variant_writes_the_figure_beside_the_text_and_never_overwrites(tmp_path, monkeypatch, capsys):
    from autograder.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["quiz", "variant", "ivanov"]) == 0
    out = capsys.readouterr().out
    assert "А) " in out and out.rstrip().endswith("figure: variant_ivanov.svg")
    svg = (tmp_path / "variant_ivanov.svg").read_bytes()
    assert svg == question_image(backdoor_variant("ivanov"), "svg")
    assert main(["quiz", "variant", "ivanov"]) == 2  # refused before printing anything
    captured = capsys.readouterr()
    assert captured.out == "" and "already exists; pass --force to replace it (or --no-figure)" in captured.err
    assert main(["quiz", "variant", "ivanov", "--force", "--figure", "out/v.png"]) == 0
    assert (tmp_path / "out" / "v.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["quiz", "variant", "petrova", "--no-figure"]) == 0
    assert "figure:" not in capsys.readouterr().out and not (tmp_path / "variant_petrova.svg").exists()
    assert main(["quiz", "variant", "x", "--figure", "v.gif"]) == 2


def test_write_question_image_refuses_a_file_it_would_overwrite(tmp_path):
    q = backdoor_variant("ivanov")
    path = tmp_path / "mine.png"
    path.write_bytes(b"mine")
    with pytest.raises(CourseError, match="already exists; pass force=True"):  # Python's name in Python
        write_question_image(q, path)
    assert path.read_bytes() == b"mine"


def test_a_drawing_is_drawn_once_per_graph_and_format(monkeypatch):
    from course.quiz import figures
    from course.quiz.variants import backdoor_variant

    drawn = []
    real = figures._render
    monkeypatch.setattr(figures, "_render", lambda q, fmt, dpi: drawn.append((q.id, fmt)) or real(q, fmt, dpi))
    monkeypatch.setattr(figures, "_IMAGES", {})
    q = backdoor_variant("cache-check")
    first = figures.question_image(q, "png")
    assert figures.question_image(q, "png") == first and drawn == [(q.id, "png")]
    figures.question_image(q, "svg")
    assert drawn == [(q.id, "png"), (q.id, "svg")]
    other = backdoor_variant("cache-check-2")
    if other.dag != q.dag:  # another graph is another drawing
        assert figures.question_image(other, "png") != first and len(drawn) == 3


def test_the_zygote_warm_up_draws_the_fixed_questions_without_keys(monkeypatch):
    from course.quiz import figures, notebook
    from course.quiz.bank import load_bank

    monkeypatch.setattr(figures, "_IMAGES", {})
    notebook.zygote_warm_up()
    fixed = {q.dag for q in load_bank(keys=False).questions if q.dag is not None}
    assert fixed and {key[0] for key in figures._IMAGES} == fixed
