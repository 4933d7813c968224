"""DAG drawings: stable layout, path colours taken from the path statuses, node styles."""

import matplotlib
import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import networkx as nx
import pytest

from course.causal import examples as ex
from course.errors import CourseError
from course.plotting import dag_layout, draw_dag
from course.plotting.dags import COLORS

matplotlib.use("Agg")  # pyplot picks its backend at the first figure, so this may follow the imports


def edge_colours(ax):
    """{(x0, y0, x1, y1) rounded: hex colour} of the drawn arrows."""
    out = {}
    for patch in ax.patches:
        if hasattr(patch, "get_posA_posB") or hasattr(patch, "_posA_posB"):
            (x0, y0), (x1, y1) = patch._posA_posB
            out[tuple(round(c, 3) for c in (x0, y0, x1, y1))] = mcolors.to_hex(patch.get_edgecolor())
    return out


def test_layout_without_positions_puts_parents_above_children_and_is_repeatable():
    G = nx.DiGraph([(3, 1), (1, 2), (3, 2), (0, 2)])
    pos = dag_layout(G)
    assert pos == dag_layout(G.copy())
    assert all(pos[a][1] > pos[b][1] for a, b in G.edges)


def test_layout_uses_dagitty_positions_with_y_pointing_down():
    pos = dag_layout(ex.m_bias())
    assert pos["A"] == (0.0, -0.0) and pos["X"] == (0.0, -2.0)


def test_open_and_blocked_paths_are_coloured():
    G = ex.m_bias()  # given {M} the only backdoor path is open
    ax = draw_dag(G, Z={"M"})
    pos = dag_layout(G)
    colours = edge_colours(ax)
    assert len(colours) == G.number_of_edges()
    ax_blocked = draw_dag(G, Z=set(), ax=plt.figure().gca())
    colours_blocked = edge_colours(ax_blocked)
    a, x = pos["A"], pos["X"]
    key = tuple(round(c, 3) for c in (*a, *x))
    assert colours[key] == COLORS["open"] and colours_blocked[key] == COLORS["blocked"]
    causal_edge = tuple(round(c, 3) for c in (*pos["X"], *pos["Y"]))
    assert colours[causal_edge] == COLORS["edge"]  # X → Y is not a backdoor path
    plt.close("all")


def test_title_counts_open_paths_and_latent_nodes_are_dashed(tmp_path):
    ax = draw_dag(ex.front_door())
    assert ax.get_title() == "open backdoor paths given {}: 1"
    dashed = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    assert len(dashed) == 1  # only the latent node U
    ax.figure.savefig(tmp_path / "front_door.png")
    assert (tmp_path / "front_door.png").stat().st_size > 1000
    plt.close("all")


def test_draw_validates_like_the_solver():
    with pytest.raises(CourseError, match="unknown node 'Q'"):
        draw_dag(ex.m_bias(), Z={"Q"})
    with pytest.raises(CourseError, match="max_paths must be"):
        draw_dag(ex.m_bias(), max_paths=-1)


def test_bidirected_latent_node_sits_beside_its_two_ends():
    from course.causal import parse_dag

    G = parse_dag('dag { X [exposure,pos="0,0"] Y [outcome,pos="2,0"] X -> Y X <-> Y }')
    pos = dag_layout(G)
    # midpoint (1, 0) moved off the line X–Y by a quarter of its length
    assert pos["U(X,Y)"] == (1.0, 0.5)
    ax = draw_dag(G)
    assert "U" in [t.get_text() for t in ax.texts]
    plt.close("all")
