"""Student text in feedback notebooks: rendered once, then cleaned to an allow-list, so nothing in it is live.

nbconvert (and so nbgrader's ``generate_feedback`` and formgrader, which open
the same ``autograded/`` notebook) renders markdown with raw HTML passed
through and every link target kept: a student's ``<img src=x onerror=...>`` or
``[x](javascript:...)`` would run in the browser of whoever opens the feedback.
Escaping a grammar we would have to mirror exactly is fragile, so each student
markdown cell is rendered here with nbconvert's own renderer, cleaned by
``bleach`` to an allow-list of tags, attributes and URL schemes (anything else is
shown as text), and stored as one line of HTML inside a ``<div>`` — an HTML
block that the second markdown pass keeps verbatim. Math stays text for
MathJax, which nbconvert loads with its ``Safe`` extension (no ``javascript:``
in ``\\href``). A raw cell — which nbconvert's HTML export copies into the page
as is — becomes its text in a ``<pre>``.

>>> markdown_cell_html("**bold** <img src=x onerror=alert(1)> [c](javascript:alert(2))")
'<div class="xai-student-text"><p><strong>bold</strong> <img src="x"> <a>c</a></p></div>'
>>> raw_cell_html("<script>x</script>")
'<div class="xai-student-text"><pre>&lt;script&gt;x&lt;/script&gt;</pre></div>'
"""

from __future__ import annotations

import html

import bleach

__all__ = ["markdown_cell_html", "raw_cell_html", "TAGS", "ATTRIBUTES", "PROTOCOLS"]

TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "dd",
        "del",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
ATTRIBUTES = {"a": ["href", "title"], "img": ["src", "alt", "title"], "td": ["align"], "th": ["align"]}
#: URL schemes a link or image may have (relative links and #fragments have none and stay)
PROTOCOLS = frozenset({"http", "https", "mailto"})
_WRAP = '<div class="xai-student-text">{}</div>'


def _one_block(fragment: str) -> str:
    # one line: a blank line would end the HTML block and hand the rest back to the markdown parser
    return _WRAP.format(fragment.strip().replace("\r", "&#13;").replace("\n", "&#10;"))


def markdown_cell_html(source: str) -> str:
    """A student's markdown as one safe HTML block (see the module docstring)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    try:
        rendered = markdown2html_mistune(source)
    except Exception:  # noqa: BLE001 - whatever the renderer trips on, the text is still shown, escaped
        return raw_cell_html(source)
    return _one_block(
        bleach.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS, strip=False, strip_comments=True)
    )


def raw_cell_html(source: str) -> str:
    """A student's raw cell (or any text) shown as preformatted text."""
    return _one_block(f"<pre>{html.escape(source, quote=False)}</pre>")
