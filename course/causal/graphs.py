"""Causal graphs: DAGitty syntax in and out, latent nodes and bidirected edges.

A causal graph is a ``networkx.DiGraph`` whose nodes may carry the boolean
attributes ``latent``, ``exposure``, ``outcome`` and ``adjusted`` (DAGitty's
node attributes) and ``pos`` (a pair of floats). A bidirected edge ``a <-> b``
(an unobserved common cause) is stored as a latent node with edges into ``a``
and ``b``; that node carries ``bidirected=(a, b)`` so that :func:`to_dagitty`
writes it back as ``a <-> b``.

DAGitty's graph syntax is described in Textor et al., "Robust causal inference
using directed acyclic graphs: the R package 'dagitty'", Int. J. Epidemiol.
45(6), 2016, and at https://www.dagitty.net/manual-3.x.pdf.

The node types, the package's ordering of nodes and sets, and the validation of a graph and a query
(:func:`check_dag`, :func:`prepare_query`) are :mod:`course.causal.query`, re-exported here under their
old import path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TypeAlias

import networkx as nx

from course.causal import query
from course.causal.query import *  # noqa: F403 -- the moved names keep their import path course.causal.graphs
from course.causal.query import DAG, Node, check_dag, node_key
from course.errors import CourseError

__all__ = ["parse_dag", "to_dagitty"]
__all__ += query.__all__

NODE_FLAGS = ("latent", "exposure", "outcome", "adjusted")
_FLAG_ALIASES = {
    "latent": "latent",
    "unobserved": "latent",
    "exposure": "exposure",
    "outcome": "outcome",
    "adjusted": "adjusted",
}
# attributes DAGitty writes that carry no causal meaning here
_IGNORED_ATTRIBUTES = {"selected", "beta"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*|//[^\n]*)
  | (?P<arrow><->|->|<-|--|@->|<-@|@-@|--@|@--)
  | (?P<quoted>"(?:[^"\\]|\\.)*")
  | (?P<name>[\w.]+)
  | (?P<punct>[{}\[\],;=])
""",
    re.VERBOSE,
)
_SIMPLE_NAME = re.compile(r"[^\W\d][\w.]*\Z")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


# ----------------------------------------------------------------------------- parsing


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            line = text.count("\n", 0, pos) + 1
            raise CourseError(f"DAGitty syntax: cannot read {text[pos : pos + 12]!r} on line {line}")
        pos = match.end()
        kind = match.lastgroup
        if kind is None or kind == "space":
            continue
        value = match.group()
        if kind == "quoted":
            # a backslash keeps the next character as it is (\" and \\, as to_dagitty writes them)
            yield "name", _ESCAPE.sub(r"\1", value[1:-1])
        else:
            yield kind, value


_Token: TypeAlias = tuple[str, str] | tuple[None, None]  # (None, None): the end of the text


class _Reader:
    def __init__(self, text: str) -> None:
        self.items: list[tuple[str, str]] = list(_tokens(text))
        self.i = 0

    def peek(self, offset: int = 0) -> _Token:
        j = self.i + offset
        return self.items[j] if j < len(self.items) else (None, None)

    def take(self, kind: str | None = None, value: str | None = None) -> str:
        tok_kind, text = self.peek()
        if text is None or (kind and tok_kind != kind) or (value and text != value):
            want = value or kind or "more input"
            got = "the end of the text" if text is None else repr(text)
            raise CourseError(f"DAGitty syntax: expected {want!r} but found {got}")
        self.i += 1
        return text


def _read_group(reader: _Reader) -> list[str]:
    if reader.peek() == ("punct", "{"):
        reader.take()
        names = []
        while reader.peek() != ("punct", "}"):
            names.append(reader.take("name"))
            if reader.peek() == ("punct", ","):
                reader.take()
        reader.take("punct", "}")
        return names
    return [reader.take("name")]


def _read_attributes(reader: _Reader) -> dict[str, str | bool]:
    attrs: dict[str, str | bool] = {}
    if reader.peek() != ("punct", "["):
        return attrs
    reader.take()
    while reader.peek() != ("punct", "]"):
        key = reader.take("name")
        value: str | bool = True
        if reader.peek() == ("punct", "="):
            reader.take()
            value = reader.take("name")
        attrs[key] = value
        if reader.peek() == ("punct", ","):
            reader.take()
    reader.take("punct", "]")
    return attrs


def _apply_node_attributes(G: DAG, node: Node, attrs: Mapping[str, str | bool]) -> None:
    for key, value in attrs.items():
        if key in _FLAG_ALIASES:
            G.nodes[node][_FLAG_ALIASES[key]] = True
        elif key == "pos":
            try:
                x, y = (float(part) for part in str(value).split(","))
            except ValueError:
                raise CourseError(f'DAGitty syntax: node {node!r} has pos={value!r}; expected pos="x,y"') from None
            G.nodes[node]["pos"] = (x, y)
        elif key not in _IGNORED_ATTRIBUTES:
            raise CourseError(
                f"DAGitty syntax: unknown attribute {key!r} on node {node!r}; known: "
                "latent, exposure, outcome, adjusted, pos"
            )


def _bidirected_name(G: DAG, a: Node, b: Node) -> str:
    name = f"U({a},{b})"
    while name in G:
        name += "'"
    return name


def _add_edge(G: DAG, a: Node, arrow: str, b: Node) -> None:
    if arrow == "->":
        G.add_edge(a, b)
    elif arrow == "<-":
        G.add_edge(b, a)
    elif arrow == "<->":
        pair = tuple(sorted((a, b), key=node_key))
        if not any(G.nodes[u].get("bidirected") == pair for u in G.predecessors(a)):
            u = _bidirected_name(G, *pair)
            G.add_node(u, latent=True, bidirected=pair)
            G.add_edge(u, a)
            G.add_edge(u, b)
    else:
        raise CourseError(
            f"DAGitty syntax: edge {a} {arrow} {b} is not allowed in a DAG; "
            "use ->, <- or <-> (an unobserved common cause)"
        )


def parse_dag(text: str) -> DAG:
    """Read a graph written in DAGitty's syntax (paste it from dagitty.net).

    Parameters
    ----------
    text : str
        For example ``"dag { X -> Y; B -> X; B -> Y; U [latent]; U -> X; a <-> b }"``.
        Statements are separated by newlines or ``;``; ``A -> {B C}`` and chains
        ``A -> B <- C`` are allowed; node attributes ``[latent]``, ``[exposure]``,
        ``[outcome]``, ``[adjusted]``, ``[pos="x,y"]``.

    Returns
    -------
    networkx.DiGraph
        Bidirected edges become latent nodes named ``U(a,b)``.

    Raises
    ------
    CourseError
        On a syntax error, an unsupported edge type (``--``) or a directed cycle.

    Examples
    --------
    >>> G = parse_dag("dag { X -> Y; B -> X; B -> Y; U [latent]; U -> X; U -> Y }")
    >>> sorted(G.predecessors("X")), G.nodes["U"]["latent"]
    (['B', 'U'], True)
    """
    if not isinstance(text, str):
        raise CourseError(f"parse_dag expects the DAGitty text as a str, got {type(text).__name__}")
    reader = _Reader(text)
    G: DAG = nx.DiGraph()
    if reader.peek()[0] == "name" and reader.peek(1) == ("punct", "{"):
        kind = reader.take().lower()
        if kind != "dag":
            raise CourseError(f"DAGitty syntax: only 'dag {{ ... }}' graphs are supported, not {kind!r}")
    closing = reader.peek() == ("punct", "{")
    if closing:
        reader.take()
    while reader.peek()[0] is not None and reader.peek() != ("punct", "}"):
        if reader.peek() == ("punct", ";"):
            reader.take()
            continue
        if reader.peek()[0] == "name" and reader.peek(1) == ("punct", "="):
            key = reader.take()
            reader.take()
            G.graph[key] = reader.take("name")
            continue
        group = _read_group(reader)
        for node in group:
            G.add_node(node)
        attrs = _read_attributes(reader)
        for node in group:
            _apply_node_attributes(G, node, attrs)
        while reader.peek()[0] == "arrow":
            arrow = reader.take()
            nxt = _read_group(reader)
            for a in group:
                for b in nxt:
                    G.add_node(b)
                    _add_edge(G, a, arrow, b)
            _read_attributes(reader)  # edge attributes such as [beta=0.3] carry no causal meaning
            group = nxt
    if closing:
        reader.take("punct", "}")
    if reader.peek()[0] is not None:
        raise CourseError(f"DAGitty syntax: unexpected {reader.peek()[1]!r} after the closing '}}'")
    check_dag(G)
    return G


# ----------------------------------------------------------------------------- writing


def _quote(node: Node) -> str:
    text = str(node)
    return text if _SIMPLE_NAME.match(text) else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dagitty(G: DAG) -> str:
    """Write ``G`` in DAGitty's syntax (inverse of :func:`parse_dag`).

    Examples
    --------
    >>> print(to_dagitty(parse_dag("dag { U [latent]; U -> X -> Y }")))
    dag {
    U [latent]
    X
    Y
    U -> X
    X -> Y
    }
    """
    check_dag(G)
    lines = ["dag {"]
    for key in sorted(G.graph):
        lines.append(f"{_quote(key)}={_quote(G.graph[key])}")
    hidden = {u for u, data in G.nodes(data=True) if data.get("bidirected")}
    for node in sorted(G.nodes, key=node_key):
        if node in hidden:
            continue
        data = G.nodes[node]
        attrs = [flag for flag in NODE_FLAGS if data.get(flag)]
        if data.get("pos") is not None:
            x, y = data["pos"]
            attrs.append(f'pos="{x:g},{y:g}"')
        lines.append(_quote(node) + (f" [{','.join(attrs)}]" if attrs else ""))
    for a, b in sorted(G.edges, key=lambda e: (node_key(e[0]), node_key(e[1]))):
        if a not in hidden:
            lines.append(f"{_quote(a)} -> {_quote(b)}")
    for u in sorted(hidden, key=node_key):
        a, b = G.nodes[u]["bidirected"]
        lines.append(f"{_quote(a)} <-> {_quote(b)}")
    lines.append("}")
    return "\n".join(lines)
