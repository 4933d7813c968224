"""``report.md``: the report's blocks as Markdown, charts referenced as the PNG files beside it."""

from __future__ import annotations

from .blocks import report_blocks
from .charts import CHARTS

__all__ = ["render_markdown"]


def render_markdown(summary: dict, charts: set[str] | None = None) -> str:
    """The report as Markdown (charts referenced as the PNG files beside it; default: the three charts)."""
    md = []
    for kind, *a in report_blocks(summary, set(CHARTS) if charts is None else charts):
        if kind == "h1":
            md += [f"# {a[0]}", ""]
        elif kind == "h2":
            md += [f"## {a[0]}", ""]
        elif kind == "p":
            md += [a[0], ""]
        elif kind == "lines":
            md += [f"- {line}" for line in a[0]] + [""]
        elif kind == "img":
            md += [f"![{a[1]}]({a[0]})", ""]
        elif kind == "table":
            header, rows = a
            md += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            md += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows] + [""]
        elif kind == "md":
            md += a[0] + [""]
    return "\n".join(md)
