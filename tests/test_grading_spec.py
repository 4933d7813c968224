"""Grading specs (autograder.grading): the grader-side route on plain values, feedback, and plain-data conversion."""

import sys
import types

import numpy as np
import pytest

from autograder.grading import evaluate_in_namespace, raised, to_plain
from autograder.grading import load_assignment as load_spec
from autograder.grading.assignments.backdoor import G1_DAG, G2_DAG
from course.causal import is_backdoor_set, parse_dag
from course.errors import CourseError
from course.nbgrader_setup import ASSIGNMENTS


def _grade(assignment, grade_id, namespace, student_id=None):
    part = load_spec(assignment)[grade_id]
    return part.grade(evaluate_in_namespace(part, namespace), student_id=student_id)


# ---------------------------------------------------------------- plain data


class Always:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "value",
    [
        Always(),
        np.array([Always()]),
        [1, Always()],
        {"a": Always()},
        {1: 2},
        type("S", (str,), {"__eq__": lambda s, o: True})("x"),
    ],
)
def test_objects_with_behaviour_never_leave_the_kernel(value):
    with pytest.raises(CourseError):
        to_plain(value)


def test_plain_values_round_trip():
    assert to_plain([np.float64(1.5), (2, "a"), {3, 1}]) == [1.5, [2, "a"], [1, 3]]
    arr = np.arange(3.0)
    out = to_plain(arr)
    assert out is not arr and np.array_equal(out, arr)


def test_every_assignment_spec_loads_and_unknown_ones_are_refused(monkeypatch):
    for name in ASSIGNMENTS:
        assert load_spec(name).total_points > 0
    with pytest.raises(CourseError, match="no grading spec"):
        load_spec("nope")
    with pytest.raises(CourseError, match="no graded part"):
        load_spec("lrp_rules")["nope"]
    helper = types.ModuleType("autograder.grading.assignments.helper")  # a module of the package, no SPEC
    with monkeypatch.context() as m:
        m.setitem(sys.modules, helper.__name__, helper)
        with pytest.raises(CourseError, match="is not an assignment"):
            load_spec("helper")
    with pytest.raises(CourseError, match="not an assignment name"):
        load_spec(7)


def test_grade_values_wants_a_list_of_values():
    from autograder.grading import grade_values

    with pytest.raises(CourseError, match="one plain value per probe"):
        grade_values("backdoor", "set_g1", None)
    with pytest.raises(CourseError, match="has 1 probes, got 2 values"):
        grade_values("backdoor", "set_g1", [["A"], ["Z"]])


# ---------------------------------------------------------------- lrp_rules


def lrp0_ok(a, W, b, R):
    z = a @ W + b
    return a * (W @ (R / z))


def lrp0_no_bias(a, W, b, R):
    z = a @ W
    return a * (W @ (R / z))


def test_lrp0_right_answer_full_points():
    r = _grade("lrp_rules", "lrp0_step", {"lrp0_step": lrp0_ok})
    assert (r.points, r.feedback) == (2.0, "correct")


def test_lrp0_known_mistake_named_without_the_key():
    r = _grade("lrp_rules", "lrp0_step", {"lrp0_step": lrp0_no_bias})
    assert r.points == 0 and "bias" in r.feedback


def test_half_right_earns_half():
    # right on the 3x2 probe only: wrong whenever the layer has more than 2 outputs
    def half(a, W, b, R):
        return lrp0_ok(a, W, b, R) if W.shape[1] == 2 else np.zeros(len(a))

    r = _grade("lrp_rules", "lrp0_step", {"lrp0_step": half})
    assert r.points == 1.0 and "5×4" in r.feedback


def test_wrong_shape_and_exception_are_explained():
    r = _grade("lrp_rules", "lrp0_step", {"lrp0_step": lambda a, W, b, R: np.outer(a, R)})
    assert r.points == 0 and "expected shape" in r.feedback
    r = _grade("lrp_rules", "lrp0_step", {})
    assert r.points == 0 and "NameError" in r.feedback


def test_epsilon_without_sign_is_diagnosed():
    def eps_plus(a, W, b, R, eps):
        z = a @ W + b
        return a * (W @ (R / (z + eps)))

    r = _grade("lrp_rules", "lrp_eps_step", {"lrp_eps_step": eps_plus})
    assert r.points == 0 and "sign" in r.feedback


def test_a_raised_value_from_the_pipeline_fails_the_probe():
    part = load_spec("lrp_rules")["lrp0_step"]
    r = part.grade([raised(ValueError("boom"))] * len(part.probes))
    assert r.points == 0 and "ValueError: boom" in r.feedback


# ---------------------------------------------------------------- backdoor: any valid answer


@pytest.mark.parametrize("answer", [["A", "Z"], ["B", "Z"], ["C", "Z"], ["D", "Z"]])
def test_every_minimal_set_of_g1_earns_full_points(answer):
    assert is_backdoor_set(parse_dag(G1_DAG), "X", "Y", set(answer))  # checked independently of the spec
    assert load_spec("backdoor")["set_g1"].grade([sorted(answer)]).points == 2.0


def test_valid_but_not_minimal_earns_half_and_invalid_names_the_problem():
    part = load_spec("backdoor")["set_g1"]
    assert part.grade([["A", "B", "Z"]]).points == 1.0
    r = part.grade([["W", "Z"]])
    assert r.points == 0 and "W is a descendant of the exposure X" in r.feedback
    r = part.grade([["Z"]])
    assert r.points == 0 and "stays open" in r.feedback
    assert part.grade([["Q"]]).feedback.startswith("SET_G1: not vertices of the graph: Q")


def test_smallest_sets_partial_credit():
    part = load_spec("backdoor")["smallest_g2"]
    assert is_backdoor_set(parse_dag(G2_DAG), "X", "Y", {"C", "L"})
    assert part.grade([[["C", "K"], ["C", "L"]]]).points == 2.0
    assert part.grade([[["C", "K"]]]).points == 1.0
    assert part.grade([[["C", "K"], ["C", "D", "K"]]]).points == 0.0


def test_paths_graded_as_a_set_in_any_order():
    part = load_spec("backdoor")["paths_g1"]
    key = [["X", "Z", "Y"], ["X", "A", "B", "Z", "Y"], ["X", "Z", "C", "D", "Y"], ["X", "A", "B", "Z", "C", "D", "Y"]]
    assert part.grade([key[::-1]]).points == 2.0
    r = part.grade([key[:3] + [["X", "W", "Y"]]])
    assert r.points == pytest.approx(2.0 * (3 - 1) / 4)
    assert "X - W - Y" in r.feedback and "1 backdoor path" in r.feedback


# ---------------------------------------------------------------- quiz7


def test_quiz_part_scores_typed_answers():
    spec = load_spec("quiz7")
    assert spec["t3_backdoor_smallest_sets"].grade(["b, Γ"]).points == 1.0
    assert spec["t3_backdoor_smallest_sets"].grade(["В"]).points == 0.5
    assert spec["t3_mdl"].grade(["верно"]).points == 0.0


def test_variant_key_is_recomputed_from_the_student_id():
    from course.quiz.variants import backdoor_variant

    part = load_spec("quiz7")["variant_backdoor"]
    mine = ", ".join(sorted(backdoor_variant("s001").correct))
    assert part.grade([mine], student_id="s001").points == 1.0
    r = part.grade([mine], student_id=None)
    assert r.points == 0 and "student id" in r.feedback


def test_external_grader_route_agrees_with_the_in_kernel_route():
    from autograder.grading import grade_values

    part = load_spec("lrp_rules")["lrp0_step"]
    namespace = {"lrp0_step": lrp0_no_bias}
    values = to_plain(eval(part.list_expression, namespace))  # one expression for the whole part
    assert grade_values("lrp_rules", "lrp0_step", values) == _grade("lrp_rules", "lrp0_step", namespace)
