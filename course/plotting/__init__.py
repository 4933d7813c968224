"""Matplotlib figures of the course: relevance heatmaps and DAG drawings."""
