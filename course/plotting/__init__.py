"""Matplotlib figures of the course: relevance heatmaps, DAG drawings, and the lectures' figures."""

from course.plotting.dags import dag_layout, draw_dag  # noqa: F401 (re-exports)
from course.plotting.heatmaps import (  # noqa: F401 (re-exports)
    RELEVANCE_CMAP,
    explain_figure,
    family_grids,
    heatmap,
    method_grid,
    to_image,
    upsample,
)
from course.plotting.numbers import fmt, fmt_array  # noqa: F401 (re-exports)
