"""The engine demo and the heatmap helpers: files written, every method present, colours signed correctly."""

import numpy as np
import pytest

from autograder.cli import main as cli_main
from course.demo_relevance import all_methods, run
from course.errors import CourseError
from course.plotting import explain_figure, heatmap, method_grid
from course.plotting.heatmaps import RELEVANCE_CMAP, to_image
from course.relevance import models
from course.relevance.pattern import fit_patterns

EVERY_METHOD = [
    "gradient",
    "gradient × input",
    "SmoothGrad",
    "Integrated Gradients",
    "DeconvNet",
    "Guided Backprop",
    "LRP-0",
    "LRP-ε",
    "LRP-γ",
    "LRP-αβ",
    "LRP-z⁺",
    "flat in",
    "w² in",
    "z^B in",
    "EpsilonGammaBox",
    "EpsilonPlusFlat",
    "EpsilonAlpha2Beta1",
    "lecture composite",
    "Deep Taylor",
    "PatternNet",
    "PatternAttribution",
]


def test_the_demo_lists_every_method_of_the_course():
    model = models.load("digits_mlp")
    names = [m.name for m in all_methods(model, fit_patterns(model, np.random.default_rng(0).uniform(size=(50, 64))))]
    for wanted in EVERY_METHOD:
        assert any(name.startswith(wanted) for name in names), wanted


def test_run_writes_the_figure_and_a_table_with_every_method(tmp_path):
    result = run(tmp_path, classes=(1, 4), model_names=("digits_mlp",), log=None)
    png = tmp_path / "relevance_digits_mlp.png"
    assert result["figures"] == [png] and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (tmp_path / "conservation.md").read_text(encoding="utf-8")
    for wanted in EVERY_METHOD:
        assert f"| {wanted}" in table, wanted
    # Deep Taylor with zero-bias z⁺ above z^B conserves the (positive) target logit of these confident digits
    row = next(line for line in table.splitlines() if line.startswith("| Deep Taylor"))
    assert "| 100.0% |" in row
    maps = result["maps"]["digits_mlp"]
    assert all(r.shape == (2, 64) and np.all(np.isfinite(r)) for r in maps.values())


@pytest.mark.slow
def test_the_cli_engine_demo_runs_both_models(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["demo", "--engine-only"]) == 0
    assert {p.name for p in (tmp_path / "demo_output").iterdir()} == {
        "relevance_digits_mlp.png",
        "relevance_digits_cnn.png",
        "conservation.md",
    }
    assert "conservation table" in capsys.readouterr().out


def test_the_demo_refuses_a_non_digit_before_writing_anything(tmp_path):
    with pytest.raises(CourseError, match="digits 0..9"):
        run(tmp_path / "out", classes=(2, 12), log=None)
    assert not (tmp_path / "out").exists()


def test_heatmap_colours_are_signed_and_centred_on_white():
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    artist = heatmap(ax, np.array([[-2.0, 0.0], [1.0, 2.0]]), "m")
    white, red, blue = artist.to_rgba(0.0), artist.to_rgba(2.0), artist.to_rgba(-2.0)
    np.testing.assert_allclose(white[:3], 1.0)  # zero is white
    assert red[0] > 0.3 and red[0] > 2 * red[2]  # positive is red
    assert blue[2] > 0.3 and blue[2] > 2 * blue[0]  # negative is blue
    assert artist.norm.vmin == -2.0 and artist.norm.vmax == 2.0  # symmetric limits: ±max|R|
    np.testing.assert_allclose(RELEVANCE_CMAP(0.5)[:3], 1.0)


def test_a_map_with_nan_is_refused_by_name():
    from matplotlib.figure import Figure

    with pytest.raises(CourseError, match="relevance map 'LRP-0' contains NaN"):
        heatmap(Figure().subplots(), np.array([[np.nan, 1.0], [0.0, 1.0]]), "LRP-0")


def test_an_all_zero_map_is_white_not_an_error():
    from matplotlib.figure import Figure

    artist = heatmap(Figure().subplots(), np.zeros((3, 3)))
    np.testing.assert_allclose(artist.to_rgba(0.0)[:3], 1.0)


def test_grid_layout_and_titles():
    fig = method_grid(
        np.zeros((3, 1, 4, 4)),
        {"a (p=1)": np.ones((3, 1, 4, 4)), "b": -np.ones((3, 1, 4, 4))},
        row_titles=["x", "y", "z"],
        title="demo",
    )
    assert len(fig.axes) == 9
    assert [ax.get_title() for ax in fig.axes[:3]] == ["input", "a (p=1)", "b"]
    assert fig.axes[3].get_ylabel() == "y"
    fig = explain_figure(np.zeros(64), np.ones(64), "LRP-ε (ε=0.25)")
    assert fig.axes[1].get_title() == "LRP-ε (ε=0.25)"


def test_to_image_and_grid_validation():
    np.testing.assert_array_equal(to_image(np.ones((3, 2, 2))), np.full((2, 2), 3.0))  # channels summed
    with pytest.raises(CourseError, match="square"):
        to_image(np.ones(5))
    with pytest.raises(CourseError, match="2 maps for 3 images"):
        method_grid(np.zeros((3, 4)), {"m": np.zeros((2, 4))})
    with pytest.raises(CourseError, match="at least one"):
        method_grid(np.zeros((3, 4)), {})
