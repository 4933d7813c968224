"""Matplotlib figures of the course: relevance heatmaps and DAG drawings."""
from course.plotting.heatmaps import RELEVANCE_CMAP, explain_figure, heatmap, method_grid, to_image  # noqa: F401
from course.plotting.dags import dag_layout, draw_dag  # noqa: F401
