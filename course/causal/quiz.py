"""Backdoor questions in the style of the course quiz (SEED_NOTES T3), with answer keys computed by the solver.

A question shows a DAG and asks for the smallest set ("smallest") or all the
smallest sets ("smallest_sets") that block every backdoor path from X to Y. The
options are lettered А Б В Г Д Е Ж (Cyrillic, as in the quiz). Wrong options
are built from the classic mistakes and each is checked by the solver:

* ``descendant`` — adjusts for a descendant of X (a mediator);
* ``collider``   — adjusts for a collider (or its descendant) and opens a path;
* ``larger``     — valid, but not of the smallest size (a superset or another minimal set);
* ``open_path``  — leaves a backdoor path open.

>>> q = backdoor_question(seed=3)
>>> q.correct == [k for k, z in q.options.items() if z in set(minimum_backdoor_sets(q.graph, "X", "Y"))]
True
"""

from __future__ import annotations

import numbers
import random
from dataclasses import dataclass, field
from typing import TypeAlias

import networkx as nx

from course.causal.backdoor import explain_backdoor_set
from course.causal.graphs import (
    DAG,
    CausalQuery,
    NodeSet,
    NodeSpec,
    check_dag,
    format_set,
    node_key,
    prepare_query,
    sort_sets,
    to_dagitty,
)
from course.causal.minimal import minimal_backdoor_sets
from course.causal.minimum import minimum_backdoor_sets
from course.causal.paths import iter_backdoor_paths
from course.errors import CourseError
from course.localized import Localized

__all__ = ["BackdoorQuestion", "backdoor_question", "classify_option", "LETTERS"]

# an int or a NumPy integer (NumPy registers its integer types as numbers.Integral)
_Integer: TypeAlias = int | numbers.Integral

LETTERS = "АБВГДЕЖ"
KINDS = {"smallest": 6, "smallest_sets": 7}

_STEM = {
    "smallest": Localized(
        "Примените backdoor критерий для оценки влияния {x} на {y}. Выберите наименьшее по размеру "
        "множество вершин, необходимых для блокирования всех backdoor-путей.",
        "Apply the backdoor criterion to estimate the effect of {x} on {y}. Choose the smallest set "
        "of vertices needed to block all backdoor paths.",
    ),
    "smallest_sets": Localized(
        "Примените backdoor критерий для оценки влияния {x} на {y}. Выберите наименьшие по "
        "размеру множества вершин, необходимых для блокирования всех backdoor-путей.",
        "Apply the backdoor criterion to estimate the effect of {x} on {y}. Choose the smallest "
        "sets of vertices needed to block all backdoor paths.",
    ),
}
_GRAPH = Localized("\nГраф: {edges}.", "\nGraph: {edges}.")
_HIDDEN = Localized(" Ненаблюдаемые вершины: {nodes}.", " Unobserved vertices: {nodes}.")
_WHY = {
    "correct": Localized("допустимо и имеет наименьший размер {k}", "valid and of the smallest size {k}"),
    "larger": Localized(
        "допустимо, но содержит {n} вершин(ы), а наименьшие допустимые множества — {k}",
        "valid, but has {n} vertices while the smallest valid sets have {k}",
    ),
    "descendant": Localized(
        "{z} — потомок {x}: по нему нельзя проводить корректировку",
        "{z} is a descendant of {x}: adjusting for it is not allowed",
    ),
    "collider": Localized(
        "корректировка по {c} открывает backdoor-путь {path}",
        "adjusting for {c} opens the backdoor path {path}",
    ),
    "open_path": Localized("backdoor-путь {path} остаётся открытым", "the backdoor path {path} stays open"),
    "latent": Localized("{z} не наблюдается", "{z} is unobserved"),
}


@dataclass(frozen=True)
class BackdoorQuestion:
    """A multiple-choice backdoor question with its key; ``options`` maps a letter to a set of vertices.

    ``text`` is the stem in both languages; ``why`` maps a letter to the solver's reason for its verdict
    and ``mistakes`` to the kind of mistake (:func:`classify_option`).
    """

    kind: str
    text: Localized
    options: dict[str, NodeSet]
    correct: list[str]
    graph: DAG = field(repr=False)
    dagitty: str = field(repr=False)
    exposure: NodeSpec = "X"
    outcome: NodeSpec = "Y"
    why: dict[str, Localized] = field(default_factory=dict, repr=False)
    mistakes: dict[str, str] = field(default_factory=dict, repr=False)

    def render(self, lang: str = "ru") -> str:
        """The stem followed by one line per option, ``А) {B}``."""
        return self.text(lang) + "\n" + "\n".join(f"{k}) {format_set(z)}" for k, z in self.options.items())


def classify_option(G: DAG, X: NodeSpec, Y: NodeSpec, Z: NodeSpec, *, latent: NodeSpec = None) -> tuple[str, Localized]:
    """Which mistake a candidate set makes: ``(kind, why)``, ``why`` the reason in Russian and English.

    ``kind`` is one of ``correct``, ``larger``, ``descendant``, ``latent``, ``collider``, ``open_path``.

    Examples
    --------
    >>> from course.causal.examples import t3_question3_graph
    >>> classify_option(t3_question3_graph(), "X", "Y", {"A", "C"})[0]
    'collider'
    """
    q = prepare_query(G, X, Y, latent)
    smallest = minimum_backdoor_sets(G, X, Y, latent=latent)
    return _classify(q, len(smallest[0]) if smallest else None, Z)


def _classify(q: CausalQuery, k: int | None, Z: NodeSpec) -> tuple[str, Localized]:
    why = explain_backdoor_set(q.G, q.X, q.Y, Z, latent=q.latent)
    Z = why.Z  # the validated set
    fill: dict[str, object]
    x_text = format_set(q.X) if len(q.X) > 1 else str(next(iter(q.X)))
    if why.valid:
        kind, fill = ("correct" if len(Z) == k else "larger"), {"k": k, "n": len(Z)}
    elif why.latent_members:
        kind, fill = "latent", {"z": ", ".join(map(str, sorted(why.latent_members, key=node_key)))}
    elif why.descendants:
        kind, fill = "descendant", {"z": ", ".join(map(str, sorted(why.descendants, key=node_key))), "x": x_text}
    else:
        # a path opened by adjusting for a collider is the more telling mistake, so look for one first
        paths = iter_backdoor_paths(q.G, q.X, q.Y, Z, latent=q.latent, only_open=True, limit=100)
        path = next((p for p in paths if any(s.role == "collider" for s in p.inner)), why.open_path)
        assert path is not None  # an invalid set with no latent member and no descendant of X leaves a path open
        opened = [s.node for s in path.inner if s.role == "collider"]
        kind = "collider" if opened else "open_path"
        fill = {"path": str(path), "c": ", ".join(map(str, opened))}
    return kind, _WHY[kind].format(**fill)


def _random_graph(rng: random.Random) -> DAG:
    """A small DAG on X, Y and 4–5 lettered vertices, with X → Y."""
    letters = list("ABCDE"[: rng.randint(4, 5)])
    order = letters[:]
    rng.shuffle(order)
    cut = rng.randint(2, len(order) - 1)
    order = order[:cut] + ["X"] + order[cut:] + ["Y"]
    G: DAG = nx.DiGraph()
    G.add_nodes_from(order)
    G.add_edge("X", "Y")
    for j, b in enumerate(order):
        for a in order[:j]:
            if (a, b) != ("X", "Y") and rng.random() < 0.32:
                G.add_edge(a, b)
    G.nodes["X"]["exposure"] = True
    G.nodes["Y"]["outcome"] = True
    return G


def _candidates(G: DAG, q: CausalQuery, smallest: list[NodeSet], rng: random.Random) -> dict[str, list[NodeSet]]:
    """Candidate wrong options grouped by mistake kind."""
    observed = sorted(q.observed - q.X - q.Y, key=node_key)
    pool: set[NodeSet] = set()
    for base in smallest + minimal_backdoor_sets(G, q.X, q.Y, latent=q.latent, limit=20):
        pool.add(base)
        pool.update(base | {v} for v in observed)
        pool.update(base - {v} for v in base)
    pool.update(frozenset([v]) for v in observed)
    pool.update(frozenset(rng.sample(observed, min(2, len(observed)))) for _ in range(6))
    pool = {z for z in pool if z and len(z) <= max(3, len(smallest[0]) + 1)}
    groups: dict[str, list[NodeSet]] = {}
    for z in sort_sets(pool):
        kind = _classify(q, len(smallest[0]), z)[0]
        groups.setdefault(kind, []).append(z)
    return groups


def _pick_options(
    G: DAG, q: CausalQuery, kind: str, smallest: list[NodeSet], rng: random.Random, n_options: int
) -> list[NodeSet]:
    correct = list(smallest) if kind == "smallest_sets" else smallest[:1]
    if kind == "smallest_sets" and len(correct) > 3:
        correct = rng.sample(correct, 3)
    groups = _candidates(G, q, smallest, rng)
    groups.pop("correct", None)
    chosen = list(correct)
    # one of each classic mistake first, then the rest at random
    for mistake in ("descendant", "collider", "larger", "open_path"):
        options = [z for z in groups.get(mistake, []) if z not in chosen]
        if options and len(chosen) < n_options:
            chosen.append(rng.choice(options))
    rest = [z for zs in groups.values() for z in zs if z not in chosen]
    rng.shuffle(rest)
    chosen += rest[: n_options - len(chosen)]
    return chosen


def _draw_graph(rng: random.Random, kind: str, attempts: int = 3000) -> DAG:
    """A random DAG whose smallest backdoor sets suit ``kind`` and that offers every classic mistake."""
    for _ in range(attempts):
        H = _random_graph(rng)
        if not nx.descendants(H, "X") - {"Y"}:  # a mediator gives the "descendant" distractor
            continue
        minimal = minimal_backdoor_sets(H, "X", "Y")  # on a few nodes cheaper than the max-flow route
        smallest = [z for z in minimal if len(z) == len(minimal[0])]
        if not smallest or not smallest[0] or (kind == "smallest") != (len(smallest) == 1):
            continue
        q = prepare_query(H, "X", "Y")
        mistakes = _candidates(H, q, smallest, random.Random(0)).keys()
        if {"descendant", "collider", "larger", "open_path"} <= mistakes:
            return H
    raise CourseError(f"no suitable random graph found in {attempts} attempts")  # pragma: no cover


def backdoor_question(
    G: DAG | None = None,
    X: NodeSpec = None,
    Y: NodeSpec = None,
    *,
    seed: _Integer | str | bytes = 0,
    kind: str = "smallest",
    n_options: _Integer | None = None,
    latent: NodeSpec = None,
) -> BackdoorQuestion:
    """Build a backdoor question from a DAG, or from ``seed`` alone (deterministic per seed).

    Parameters
    ----------
    G : networkx.DiGraph, optional
        The graph; a small random DAG is drawn from ``seed`` when omitted.
    X, Y : node, optional
        Exposure and outcome (default: the marked ``exposure``/``outcome`` nodes, else "X" and "Y").
    seed : int
        Fixes the random graph, the choice of distractors and the option order.
    kind : {"smallest", "smallest_sets"}
        One correct answer (6 options) or all the smallest sets (7 options).
    n_options : int, optional
        At most 7 (the letters А…Ж).

    Returns
    -------
    BackdoorQuestion
        ``correct`` lists exactly the letters whose sets are valid backdoor sets of the smallest size.

    Examples
    --------
    >>> q = backdoor_question(seed=1, kind="smallest_sets")
    >>> len(q.options), len(q.correct) >= 2
    (7, True)
    """
    if kind not in KINDS:
        raise CourseError(f"kind must be 'smallest' or 'smallest_sets', got {kind!r}")
    n_options = KINDS[kind] if n_options is None else n_options
    if not isinstance(n_options, numbers.Integral) or not 3 <= int(n_options) <= len(LETTERS):
        raise CourseError(f"n_options must be an int from 3 to {len(LETTERS)}, got {n_options!r}")
    n_options = int(n_options)
    if isinstance(seed, numbers.Integral):
        seed = int(seed)  # numpy integers too
    elif not isinstance(seed, (str, bytes)):
        raise CourseError(f"seed must be an int or a str, got {type(seed).__name__}")
    rng = random.Random(seed)
    if G is not None:
        check_dag(G)
    if G is None:
        G, X, Y = _draw_graph(rng, kind), "X", "Y"
    else:
        X = X if X is not None else next((v for v, d in G.nodes(data=True) if d.get("exposure")), "X")
        Y = Y if Y is not None else next((v for v, d in G.nodes(data=True) if d.get("outcome")), "Y")
    q = prepare_query(G, X, Y, latent)
    smallest = minimum_backdoor_sets(G, q.X, q.Y, latent=q.latent)
    if not smallest:
        raise CourseError("no valid backdoor set exists in this graph, so the question has no answer")
    if not smallest[0]:
        raise CourseError("the empty set already blocks every backdoor path; pick another graph or X, Y")
    if kind == "smallest" and len(smallest) > 1:
        raise CourseError(f"the graph has {len(smallest)} smallest sets; use kind='smallest_sets'")
    chosen = _pick_options(G, q, kind, smallest, rng, n_options)
    if len(chosen) < 3:
        raise CourseError("the graph is too small to build three distinct options")
    rng.shuffle(chosen)
    options = {LETTERS[i]: z for i, z in enumerate(chosen)}
    correct = sorted(k for k, z in options.items() if z in set(smallest))
    why = {k: _classify(q, len(smallest[0]), z) for k, z in options.items()}
    x_name = ", ".join(map(str, sorted(q.X, key=node_key)))
    y_name = ", ".join(map(str, sorted(q.Y, key=node_key)))
    edges = ", ".join(f"{a} → {b}" for a, b in sorted(G.edges, key=lambda e: (node_key(e[0]), node_key(e[1]))))
    text = _STEM[kind].format(x=x_name, y=y_name) + _GRAPH.format(edges=edges)
    hidden = sorted(q.latent, key=node_key)
    if hidden:
        text += _HIDDEN.format(nodes=", ".join(map(str, hidden)))
    return BackdoorQuestion(
        kind=kind,
        text=text,
        options=options,
        correct=correct,
        graph=G,
        dagitty=to_dagitty(G),
        exposure=X,
        outcome=Y,
        why={k: w[1] for k, w in why.items()},
        mistakes={k: w[0] for k, w in why.items()},
    )
