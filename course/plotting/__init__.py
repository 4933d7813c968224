"""Matplotlib figures of the course: relevance heatmaps and DAG drawings."""
from course.plotting.dags import dag_layout, draw_dag  # noqa: F401
