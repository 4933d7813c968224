"""Grading and reporting for the xai-course nbgrader course."""
