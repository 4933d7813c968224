"""``report.html``: one self-contained page, the charts embedded as base64 PNG ``data:`` URIs."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping

from .blocks import report_blocks

__all__ = ["render_html"]

_CSS = (
    "body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #bbb;padding:.2rem .5rem;"
    "text-align:left}th{background:#eee}img{max-width:100%}pre{white-space:pre-wrap;font-family:inherit}"
)


def _inline_md(text: str) -> str:
    """Escape, then turn **bold** and *italic* of our own lines into tags."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"(?<![\w*])\*(\S.*?\S|\S)\*(?![\w*])", r"<em>\1</em>", text)


_MD_IMAGE = re.compile(r"^(\s*)!\[(.*)\]\((\S+)\)$")


def _md_line_html(line: str, charts: Mapping[str, bytes]) -> str:
    """One line of a Markdown block: an image of ours is embedded, the rest is inline Markdown."""
    m = _MD_IMAGE.match(line)
    if m and m.group(3) in charts:
        return f'{m.group(1)}<img alt="{html.escape(m.group(2))}" src="{_data_uri(charts[m.group(3)])}">'
    return _inline_md(line)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(summary: dict, charts: Mapping[str, bytes]) -> str:
    """One self-contained HTML page: the charts are embedded as base64 PNG ``data:`` URIs."""
    body = []
    for kind, *a in report_blocks(summary, set(charts)):
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(a[0])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_inline_md(a[0])}</p>")
        elif kind == "lines":
            body.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in a[0]) + "</ul>")
        elif kind == "img":
            body.append(f'<p><img alt="{html.escape(a[1])}" src="{_data_uri(charts[a[0]])}"></p>')
        elif kind == "table":
            header, rows = a
            body.append(
                "<table><tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in header)
                + "</tr>"
                + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
                + "</table>"
            )
        elif kind == "md":
            body.append("<pre>" + "\n".join(_md_line_html(x, charts) for x in a[0]) + "</pre>")
    title = html.escape(summary.get("assignment") or "Quiz report")
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
