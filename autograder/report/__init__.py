"""The instructor's quiz report: ``report.md``, ``report.html``, ``summary.json`` and PNG charts.

Summary first, then renderers: :mod:`~autograder.report.summary` computes every
number once into the dict ``summary.json`` holds; :mod:`~autograder.report.blocks`
lays it out as headings, paragraphs and tables, which
:mod:`~autograder.report.markdown` and :mod:`~autograder.report.html_page`
render; :mod:`~autograder.report.charts` draws the PNGs;
:mod:`~autograder.report.writer` writes the folder (temporary directory, then
one rename; only a folder the report wrote is replaced);
:mod:`~autograder.report.questions` reads the question bank a report is given.
The command line is :mod:`autograder.report_cli`.
"""

from __future__ import annotations

from .charts import CHARTS, make_charts
from .html_page import render_html
from .markdown import render_markdown
from .questions import load_bank
from .summary import build_summary, render_json
from .writer import REPORT_MARKER, write_report

__all__ = [
    "build_summary",
    "write_report",
    "render_markdown",
    "render_html",
    "render_json",
    "make_charts",
    "load_bank",
    "CHARTS",
    "REPORT_MARKER",
]
