"""Grading spec of ``exercises/deep_taylor``: root points along search directions and the rules they yield (L13–L14).

Keys come from :mod:`course.relevance.taylor` (``search_direction``, ``root_point``,
``taylor_terms``, ``dtd_layer``); which LRP rule each direction reproduces is
decided numerically against the LRP engine (:func:`autograder.grading.assignments.lrp_rules.layer_step`).

Student functions: ``direction(a, w, kind)`` → v; ``root_along(a, w, b, v)`` → ã;
``taylor_terms_at(a, w, b, root)`` → w ⊙ (a − root); ``dtd_step(a, W, b, R, kind)`` → (d,);
variable ``RULE_OF_DIRECTION`` = {"nearest": ..., "origin": ..., "zplus": ...} with values among
"lrp0", "zplus", "w2".
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from autograder.grading.assignments.lrp_rules import LayerArgs, layer_step
from autograder.grading.checkers import STUDENT_CODE, Context, array_close
from autograder.grading.model import AssignmentSpec, Part, Probe, call, fixed_key
from course.relevance import rules
from course.relevance._types import FloatArray
from course.relevance.taylor import dtd_layer, root_point, search_direction, taylor_terms

NAME = "deep_taylor"
#: "Use NumPy only": an answer may not use the course's engine, the grader or another XAI library
FORBIDDEN = ("course.relevance", "autograder", "zennit", "torch", "captum", "innvestigate")
KINDS = ("nearest", "origin", "zplus")
RULES = {"lrp0": rules.Zero(zero_bias=True), "zplus": rules.ZPlus(zero_bias=True), "w2": rules.WSquare(zero_bias=True)}


def _neuron(seed: int, d: int = 4) -> tuple[FloatArray, FloatArray, float]:
    rng = np.random.default_rng(seed)
    a = np.round(rng.uniform(0.1, 2.0, d), 2)
    w = np.round(rng.uniform(-1.0, 1.0, d), 2)
    w[0] = abs(w[0]) + 0.5  # the neuron is on (wᵀa + b > 0) and has a positive weight
    b = round(float(-0.1 * abs(a @ w)), 2)
    return a, w, b


def _layer(seed: int, d: int = 4, k: int = 3) -> LayerArgs:
    rng = np.random.default_rng(seed)
    a = np.round(rng.uniform(0.1, 2.0, d), 2)
    W = np.round(rng.uniform(-1.0, 1.0, (d, k)), 2)
    W[0] = np.abs(W[0]) + 0.2  # every neuron has a positive weight: z⁺ is defined
    R = np.round(rng.uniform(0.2, 1.5, k), 2)
    b = np.round(-0.05 * np.abs(a @ W), 2)
    R = np.where(a @ W + b > 0, R, 0.0)  # R_j = c_j max(0, z_j): an inactive neuron carries no relevance
    return a, W, b, R


_V_MISTAKE = "for 'zplus' keep a_i only where w_i > 0 (v = a ⊙ 1[w > 0])"


def _direction(seed: int, kind: str) -> FloatArray:
    a, w, _ = _neuron(seed)
    return search_direction(a, w, kind)


def _activations(seed: int) -> FloatArray:
    return _neuron(seed)[0]


def _direction_probes(seed: int, drawn: str = "") -> tuple[Probe, ...]:
    return tuple(
        Probe(
            call("direction", *_neuron(seed)[:2], kind),
            key=fixed_key(_direction, seed, kind),
            check=array_close(
                **STUDENT_CODE, mistakes=[(partial(_activations, seed), _V_MISTAKE)] if kind == "zplus" else []
            ),
            label=f"direction(kind={kind!r}){drawn}",
        )
        for kind in KINDS
    )


def _good_neuron(seed: int) -> int:
    """A neuron seed drawn from ``seed`` whose neuron is well on (wᵀa + b ≥ 0.3): its root points exist."""
    rng = np.random.default_rng(seed)
    while True:
        candidate = int(rng.integers(2**62))
        a, w, b = _neuron(candidate)
        if a @ w + b >= 0.3:
            return candidate


def _good_layer(seed: int) -> int:
    """A layer seed drawn from ``seed``: every z⁺_j ≥ 0.2, every neuron carrying relevance has z_j ≥ 0.2."""
    rng = np.random.default_rng(seed)
    while True:
        candidate = int(rng.integers(2**62))
        a, W, b, R = _layer(candidate)
        z, z_plus = a @ W + b, a @ np.maximum(W, 0.0)
        if np.all(z_plus >= 0.2) and np.all((R == 0) | (z >= 0.2)) and np.any(R > 0):
            return candidate


DRAWN = " drawn at grading"

DIRECTION = Part(
    "direction",
    2.0,
    _direction_probes(31),
    "the three search directions of L14",
    fresh=lambda seed: _direction_probes(_good_neuron(seed), DRAWN),
)


def _root(seed: int, kind: str) -> FloatArray:
    return root_point(*_neuron(seed), direction=kind)


def _root_along_plus_v(seed: int, kind: str) -> FloatArray:
    return 2 * _neuron(seed)[0] - _root(seed, kind)


def _root_probes(seeds: tuple[int, ...], drawn: str = "") -> tuple[Probe, ...]:
    return tuple(
        Probe(
            call("root_along", *_neuron(seed), _direction(seed, kind)),
            key=fixed_key(_root, seed, kind),
            check=array_close(
                **STUDENT_CODE,
                mistakes=[(partial(_root_along_plus_v, seed, kind), "you moved along +v: the root is a − t·v")],
            ),
            label=f"root_along with the {kind!r} direction{drawn}",
        )
        for seed, kind in zip(seeds, KINDS)
    )


ROOT = Part(
    "root_along",
    2.0,
    _root_probes((32, 33, 34)),
    "the root point ã = a − t v, t = (wᵀa + b)/(wᵀv)",
    fresh=lambda seed: _root_probes(tuple(_good_neuron(seed + i) for i in range(3)), DRAWN),
)


def _taylor_case(seed: int, kind: str) -> tuple[FloatArray, FloatArray, float, FloatArray]:
    a, w, b = _neuron(seed)
    return a, w, b, root_point(a, w, b, direction=kind)


def _taylor_key(seed: int, kind: str) -> FloatArray:
    return taylor_terms(*_taylor_case(seed, kind)).terms


def _dtd(seed: int, kind: str) -> FloatArray:
    return dtd_layer(*_layer(seed), direction=kind)


def _taylor_probes(cases: tuple[tuple[int, str], ...], drawn: str = "") -> tuple[Probe, ...]:
    return tuple(
        Probe(
            call("taylor_terms_at", *_taylor_case(seed, kind)),
            key=fixed_key(_taylor_key, seed, kind),
            check=array_close(**STUDENT_CODE),
            label=f"taylor_terms_at{drawn}",
        )
        for seed, kind in cases
    )


TAYLOR = Part(
    "taylor_terms_at",
    2.0,
    _taylor_probes(((40, KINDS[0]), (41, KINDS[1]))),
    "first-order Taylor terms at a root",
    fresh=lambda seed: _taylor_probes(((_good_neuron(seed), KINDS[2]), (_good_neuron(seed + 1), KINDS[0])), DRAWN),
)


def _dtd_probes(seed: int, drawn: str = "") -> tuple[Probe, ...]:
    return tuple(
        Probe(
            call("dtd_step", *_layer(seed), kind),
            key=fixed_key(_dtd, seed, kind),
            check=array_close(**STUDENT_CODE),
            label=f"dtd_step(kind={kind!r}){drawn}",
        )
        for kind in KINDS
    )


DTD = Part(
    "dtd_step",
    3.0,
    _dtd_probes(50),
    "a dense layer explained by DTD",
    fresh=lambda seed: _dtd_probes(_good_layer(seed), DRAWN),
)


def rule_of_direction() -> dict[str, str | None]:
    """For each direction, the LRP rule (bias ignored) whose step equals the DTD step, found numerically.

    The table of L14: the nearest root gives w², the origin LRP-0, the z⁺ direction z⁺.

    >>> rule_of_direction()
    {'nearest': 'w2', 'origin': 'lrp0', 'zplus': 'zplus'}
    """
    a, W, b, R = _layer(60)
    found: dict[str, str | None] = {}
    for kind in KINDS:
        dtd = dtd_layer(a, W, b, R, direction=kind)
        matches = [name for name, rule in RULES.items() if np.allclose(layer_step(a, W, b, R, rule), dtd)]
        found[kind] = matches[0] if len(matches) == 1 else None
    return found


def _check_rules(value: Any, key: Any, ctx: Context) -> tuple[float, str]:
    if not isinstance(value, dict):
        return False, "RULE_OF_DIRECTION must be a dict {direction: rule name}"
    wrong = [k for k in KINDS if value.get(k) != key[k]]
    if not wrong:
        return True, ""
    return 1 - len(wrong) / len(KINDS), "not the rule this direction reproduces: " + ", ".join(repr(k) for k in wrong)


RULE_NAMES = Part(
    "rule_of_direction",
    1.0,
    (Probe("RULE_OF_DIRECTION", key=fixed_key(rule_of_direction), check=_check_rules, label="RULE_OF_DIRECTION"),),
    "which rule each direction reproduces",
)

SPEC = AssignmentSpec(
    NAME, (DIRECTION, ROOT, TAYLOR, DTD, RULE_NAMES), notebook="deep_taylor.ipynb", module=__name__, forbidden=FORBIDDEN
)
