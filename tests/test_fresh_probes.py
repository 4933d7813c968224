"""Probes drawn at grading: a submission that memorised the published probes' outputs does not earn full points.

The course's grading specs ship with the package, so the inputs of their fixed probes are public. The
"lookup table" below returns the correct output for exactly those inputs (computed here with the engine,
as a student could) and zeros elsewhere: with the fixed probes alone it earns every point; with the
probes drawn at grading (``AssignmentSpec.with_fresh_probes``) it earns only the fixed probes' share.
The instructor's own solutions (the source notebooks' solution cells: code written apart from the engine
that computes the keys) earn full points on every draw.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from autograder.cohort import EXERCISE_MISTAKES
from autograder.grading import load_assignment
from autograder.grading.hidden import evaluate_in_namespace
from autograder.grading.model import AssignmentSpec, derived_seed

ROOT = Path(__file__).resolve().parent.parent
FRESH = {
    "lrp_rules": ("lrp0_step", "lrp_eps_step", "zplus_step", "lrp_mlp", "layer_sums"),
    "deep_taylor": ("direction", "root_along", "taylor_terms_at", "dtd_step"),
    "pattern_attribution": ("filter_for", "pattern_of", "rho_linear", "pattern_attribution"),
    "backdoor": ("path_is_open",),
}


def solution_namespace(assignment: str, mistake: tuple[str, str, str] | None = None) -> dict:
    """The source notebook's setup and solution cells, run: the instructor's implementation; with ``mistake``
    = (solution cell's grade id, text, replacement), that known mistake written into it."""
    nb = json.loads((ROOT / "exercises" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    namespace: dict = {}
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and not meta.get("grade", False):
            source = "".join(cell["source"])
            if mistake and meta.get("grade_id") == mistake[0]:
                assert mistake[1] in source, mistake
                source = source.replace(mistake[1], mistake[2])
            exec(source, namespace)  # noqa: S102 - the course's own notebook
    return namespace


def canonical(value):
    """Arguments as a hashable key: graphs by their edges, arrays and sets as sorted or plain lists."""
    if hasattr(value, "edges") and hasattr(value, "nodes"):
        return ("graph", tuple(sorted(value.edges)))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(value)))
    if isinstance(value, (list, tuple)):
        return tuple(canonical(v) for v in value)
    if isinstance(value, np.ndarray):
        return ("array", repr(value.tolist()))
    return value


def lookup_table(part) -> dict:
    """Functions that return memorised outputs for the part's published probes and zeros for anything else."""
    table: dict = {}
    for probe in part.probes:
        name = probe.expression.split("(", 1)[0]
        args = eval(probe.expression, {name: lambda *a: a})  # noqa: S307 - the spec's own literals
        table.setdefault(name, {})[canonical(args)] = probe.key({"student_id": None})
    cheats = {}
    for name, answers in table.items():

        def cheat(*args, _answers=answers):
            out = _answers.get(canonical(args))
            return out if out is not None else np.zeros(np.shape(args[0]))

        cheats[name] = cheat
    return cheats


@pytest.mark.parametrize("assignment", sorted(FRESH))
def test_every_listed_part_draws_fresh_probes(assignment):
    spec = load_assignment(assignment)
    fresh = spec.with_fresh_probes(12345)
    for gid in FRESH[assignment]:
        assert spec[gid].fresh is not None, gid
        added = fresh[gid].probes[len(spec[gid].probes) :]
        assert added and all("drawn at grading" in p.label for p in added), gid
        assert not set(fresh[gid].expressions[len(spec[gid].probes) :]) & set(spec[gid].expressions)


@pytest.mark.parametrize("assignment", sorted(FRESH))
def test_a_memorised_table_earns_only_the_fixed_probes_share(assignment):
    spec = load_assignment(assignment)
    fresh = spec.with_fresh_probes(2024)
    for gid in FRESH[assignment]:
        namespace = {"np": np, **lookup_table(spec[gid])}
        before = spec[gid].grade(evaluate_in_namespace(spec[gid], namespace))
        assert before.points == before.max_points, gid  # the published probes alone: full marks for the cheat
        after = fresh[gid].grade(evaluate_in_namespace(fresh[gid], namespace))
        n_fixed, n_all = len(spec[gid].probes), len(fresh[gid].probes)
        assert after.points == pytest.approx(before.max_points * n_fixed / n_all), gid
        assert "drawn at grading" in after.feedback


def _solution_passes(assignment: str, seeds) -> None:
    namespace = solution_namespace(assignment)
    spec = load_assignment(assignment)
    for seed in seeds:
        fresh = spec.with_fresh_probes(seed)
        for gid in FRESH[assignment]:
            result = fresh[gid].grade(evaluate_in_namespace(fresh[gid], namespace))
            assert result.points == result.max_points, (seed, gid, result.feedback)


@pytest.mark.parametrize("assignment", sorted(FRESH))
def test_the_instructors_solution_earns_full_points_on_every_draw(assignment):
    _solution_passes(assignment, range(40))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", sorted(FRESH))
def test_the_instructors_solution_on_600_new_random_draws(assignment):
    """New seeds on every run (a failure prints the seed, so the draw can be replayed)."""
    import secrets

    _solution_passes(assignment, [secrets.randbits(63) for _ in range(600)])


def test_the_same_seed_draws_the_same_probes_also_after_pickling():
    spec = load_assignment("lrp_rules")
    a, b = spec.with_fresh_probes(99), spec.with_fresh_probes(99)
    other = spec.with_fresh_probes(100)
    again = pickle.loads(pickle.dumps(a))  # how a spec reaches a Dask worker
    assert isinstance(again, AssignmentSpec) and again.seed == 99
    for part in spec:
        assert a[part.grade_id].expressions == b[part.grade_id].expressions == again[part.grade_id].expressions
        if part.fresh:
            assert a[part.grade_id].expressions != other[part.grade_id].expressions
    with pytest.raises(Exception, match="already has fresh probes"):
        a.with_fresh_probes(1)


def test_derived_seeds_differ_per_part_and_fit_numpy():
    seeds = {derived_seed(7, gid) for gid in FRESH["lrp_rules"]}
    assert len(seeds) == len(FRESH["lrp_rules"]) and all(0 <= s < 2**63 for s in seeds)
    np.random.default_rng(max(seeds))  # a valid seed


MISTAKES = [(a, cell, r, w) for a, cells in EXERCISE_MISTAKES.items() for cell, subs in cells.items() for r, w in subs]


def _mistake_fails(assignment: str, cell: str, right: str, wrong: str, seeds) -> None:
    namespace = solution_namespace(assignment, (cell, right, wrong))
    gid = cell.removesuffix("_solution")
    spec = load_assignment(assignment)
    assert spec[gid].grade(evaluate_in_namespace(spec[gid], namespace)).points == 0
    for seed in seeds:
        part = spec.with_fresh_probes(seed)[gid]
        result = part.grade(evaluate_in_namespace(part, namespace))
        assert result.points == 0, (seed, result.feedback)


@pytest.mark.parametrize("assignment, cell, right, wrong", MISTAKES)
def test_each_known_mistake_fails_the_drawn_probes_as_it_fails_the_published_ones(assignment, cell, right, wrong):
    """The fresh draws are as telling as the fixed probes: no known mistake slips through on some draw."""
    _mistake_fails(assignment, cell, right, wrong, range(150))


@pytest.mark.slow
@pytest.mark.parametrize("assignment, cell, right, wrong", MISTAKES)
def test_each_known_mistake_on_600_new_random_draws(assignment, cell, right, wrong):
    import secrets

    _mistake_fails(assignment, cell, right, wrong, [secrets.randbits(63) for _ in range(600)])
