"""Causal graphs: DAGitty syntax in and out, validation, latent nodes.

A causal graph is a ``networkx.DiGraph`` whose nodes may carry the boolean
attributes ``latent``, ``exposure``, ``outcome`` and ``adjusted`` (DAGitty's
node attributes) and ``pos`` (a pair of floats). A bidirected edge ``a <-> b``
(an unobserved common cause) is stored as a latent node with edges into ``a``
and ``b``; that node carries ``bidirected=(a, b)`` so that :func:`to_dagitty`
writes it back as ``a <-> b``.

DAGitty's graph syntax is described in Textor et al., "Robust causal inference
using directed acyclic graphs: the R package 'dagitty'", Int. J. Epidemiol.
45(6), 2016, and at https://www.dagitty.net/manual-3.x.pdf.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import networkx as nx

from course.errors import CourseError

__all__ = [
    "parse_dag",
    "to_dagitty",
    "CausalQuery",
    "prepare_query",
    "node_key",
    "sort_sets",
    "check_dag",
    "check_limit",
    "Node",
    "NodeSet",
    "NodeSpec",
    "DAG",
]

# the types the package's signatures use (networkx's convention: a node is any hashable value)
Node: TypeAlias = Hashable
NodeSet: TypeAlias = frozenset[Hashable]
NodeSpec: TypeAlias = "Hashable | Iterable[Hashable] | None"  # one node, a collection of nodes, or None
DAG: TypeAlias = "nx.DiGraph[Any]"  # Any, not Hashable: a caller's DiGraph[str] is accepted as it is

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


# ----------------------------------------------------------------------------- ordering


def node_key(node: Node) -> tuple[int, Any, str]:
    """Sort key for nodes of any hashable type: numbers first, then by text."""
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return (0, node, "")
    return (1, 0, str(node))


def sort_sets(sets: Iterable[Iterable[Node]]) -> list[NodeSet]:
    """Sort sets by size, then by their sorted node names (the order of every list this package returns)."""
    unique = {frozenset(s) for s in sets}
    return sorted(unique, key=lambda s: (len(s), [node_key(v) for v in sorted(s, key=node_key)]))


def format_set(nodes: Iterable[Node]) -> str:
    """``{A, B}`` with sorted names; ``{}`` for the empty set."""
    return "{" + ", ".join(str(v) for v in sorted(nodes, key=node_key)) + "}"


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


# ----------------------------------------------------------------------------- validation


def check_dag(G: object) -> None:
    """Raise :class:`CourseError` unless ``G`` is a directed acyclic ``networkx.DiGraph`` (names a cycle)."""
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise CourseError(
            f"expected a networkx.DiGraph, got {type(G).__name__}; "
            "build one with nx.DiGraph(edges) or parse_dag('dag { ... }')"
        )
    if nx.is_directed_acyclic_graph(G):
        return
    cycle = nx.find_cycle(G)
    names = [str(u) for u, _ in cycle] + [str(cycle[0][0])]
    raise CourseError("the graph has a directed cycle " + " -> ".join(names) + "; a causal DAG must be acyclic")


def _is_node(G: DAG, value: object) -> bool:
    try:
        return value in G
    except TypeError:
        return False


def _as_node_set(G: DAG, value: object, role: str, allow_empty: bool) -> NodeSet:
    if _is_node(G, value) and not isinstance(value, (set, list)):
        nodes = [value]  # a tuple or frozenset that is itself a node, as in networkx
    elif value is None:
        nodes = []
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        nodes = list(value)  # a set, list, tuple, generator or dict view of nodes
    else:
        try:
            hash(value)
        except TypeError:
            raise CourseError(f"{role} must be a node or a set of nodes, got {type(value).__name__}") from None
        nodes = [value]
    for node in nodes:
        try:
            known = node in G
        except TypeError:
            raise CourseError(f"{role} contains {node!r}, which is not a valid node (unhashable)") from None
        if not known:
            listing = ", ".join(str(v) for v in sorted(G.nodes, key=node_key)[:20])
            raise CourseError(f"unknown node {node!r} in {role}; the graph has nodes {listing}")
    if not nodes and not allow_empty:
        raise CourseError(f"{role} is empty; give at least one node")
    return frozenset(nodes)


@dataclass(frozen=True)
class CausalQuery:
    """A validated question about the effect of ``X`` on ``Y`` in ``G``."""

    G: DAG
    X: NodeSet
    Y: NodeSet
    latent: NodeSet

    @property
    def observed(self) -> NodeSet:
        """Nodes that may be adjusted for (everything not latent)."""
        return frozenset(self.G.nodes) - self.latent

    def descendants_of_x(self) -> NodeSet:
        """De(X) in G, X included."""
        result = set(self.X)
        for x in self.X:
            result |= nx.descendants(self.G, x)
        return frozenset(result)

    def adjustment_set(self, Z: NodeSpec, role: str = "Z") -> NodeSet:
        """Validate a candidate set: known nodes, disjoint from X and Y."""
        nodes = _as_node_set(self.G, Z, role, allow_empty=True)
        clash = nodes & (self.X | self.Y)
        if clash:
            raise CourseError(
                f"{role} contains {format_set(clash)}, which is the exposure or the outcome; "
                "an adjustment set is chosen among the other nodes"
            )
        return nodes


def prepare_query(G: DAG, X: NodeSpec, Y: NodeSpec, latent: NodeSpec = None) -> CausalQuery:
    """Validate the graph, the exposures ``X``, the outcomes ``Y`` and the latent nodes.

    ``X``/``Y`` may be a node or a set/list/tuple of nodes; ``None`` takes the
    nodes marked ``exposure``/``outcome`` (as in a pasted DAGitty graph).
    """
    check_dag(G)
    if X is None:
        X = [v for v, d in G.nodes(data=True) if d.get("exposure")]
    if Y is None:
        Y = [v for v, d in G.nodes(data=True) if d.get("outcome")]
    xs = _as_node_set(G, X, "X (the exposure)", allow_empty=False)
    ys = _as_node_set(G, Y, "Y (the outcome)", allow_empty=False)
    both = xs & ys
    if both:
        raise CourseError(
            f"X and Y overlap in {format_set(both)}; the exposure and the outcome must be different nodes"
        )
    hidden = {v for v, d in G.nodes(data=True) if d.get("latent")}
    hidden |= _as_node_set(G, latent, "latent", allow_empty=True)
    for role, nodes in (("X (the exposure)", xs), ("Y (the outcome)", ys)):
        if nodes & hidden:
            raise CourseError(
                f"{role} contains the latent node(s) {format_set(nodes & hidden)}; "
                "an unobserved variable cannot be an exposure or an outcome"
            )
    return CausalQuery(G, xs, ys, frozenset(hidden))


def check_limit(limit: object, name: str = "limit") -> int | None:
    """Return ``limit`` as an int (or None); raise :class:`CourseError` unless it is None or a non-negative integer.

    >>> check_limit(None), check_limit(3)
    (None, 3)
    """
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 0:
        raise CourseError(f"{name} must be a non-negative int or None, got {limit!r}")
    return int(limit)
