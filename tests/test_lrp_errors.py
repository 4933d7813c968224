"""Every refusal of section 5: a CourseError with an actionable message, raised before any computation."""

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import Conv2d, Dense, Flatten, ReLU, Sequential, composites, lrp, lrp_layers, rules


class CountingReLU(ReLU):
    """A ReLU that counts its forward calls, to prove that validation happens before any computation."""

    calls = 0

    def forward(self, x):
        CountingReLU.calls += 1
        return super().forward(x)


@pytest.fixture
def net():
    CountingReLU.calls = 0
    return Sequential([Dense(np.ones((2, 3))), CountingReLU(), Dense(np.ones((3, 2)))])


X = np.array([[0.5, 0.25]])


@pytest.mark.parametrize(
    "x,target,rule,message",
    [
        (np.array([[np.nan, 0.0]]), 0, rules.Epsilon(), "NaN or inf"),
        (np.array([[np.inf, 0.0]]), 0, rules.Epsilon(), "NaN or inf"),
        (X, 2, rules.Epsilon(), "outside the 2 classes"),
        (X, -1, rules.Epsilon(), "outside the 2 classes"),
        (X, [0, 1], rules.Epsilon(), "one per sample"),
        (X, 0.5, rules.Epsilon(), "target must be an int"),
        (X, 0, rules.ZBox(0.0, 0.4), "outside [low, high]"),
        (X, 0, composites.EpsilonGammaBox(0.3, 1.0), "outside [low, high]"),
        (X, 0, "epsilonn", "unknown rule name 'epsilonn'"),
        (X, 0, "zbox", "needs the input bounds"),
        (X, 0, "epsilon_gamma_box", "needs the input bounds"),
        (X, 0, [rules.Epsilon()], "got 1 rules for 2 Dense/Conv2d layers"),
        (X, 0, [rules.Epsilon()] * 3, "got 3 rules for 2 Dense/Conv2d layers"),
        (X, 0, rules.Epsilon, "not the class"),
        (X, 0, 0.25, "expected an LRP rule"),
        (X, 0, composites.by_type({Conv2d: rules.Gamma()}), "matches no Dense/Conv2d layer"),
        (X, 0, composites.by_index({0: rules.Gamma()}), "gives no rule to layer 2"),
        (X, 0, composites.by_type({Dense: rules.Norm()}), "Norm rule is for parameter-free layers"),
        (np.ones((1, 3)), 0, rules.Epsilon(), "layer 0 Dense(2→3) expects input of shape (batch, 2), got (1, 3)"),
    ],
)
def test_refused_before_any_computation(net, x, target, rule, message):
    with pytest.raises(CourseError, match=_escaped(message)):
        lrp(net, x, rule, target)
    assert CountingReLU.calls == 0


def _escaped(message):
    import re

    return re.escape(message)


def test_zbox_on_a_hidden_layer_checks_that_layers_input():
    net = Sequential([Dense(np.ones((2, 3)), np.ones(3)), ReLU(), Dense(np.ones((3, 2)))])
    with pytest.raises(CourseError, match=r"on layer 2 Dense\(3→2\): its input lies outside"):
        lrp(net, X, [rules.Epsilon(), rules.ZBox(0.0, 1.0)], 0)  # hidden activations are 1.75 > 1


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: rules.Epsilon(-0.1), "Epsilon epsilon must be ≥ 0"),
        (lambda: rules.Epsilon(float("nan")), "must be a finite real number"),
        (lambda: rules.Gamma(-0.25), "Gamma gamma must be ≥ 0"),
        (lambda: rules.Gamma("big"), "must be a finite real number"),
        (lambda: rules.Zero(stabilizer=-1.0), "Zero stabilizer must be ≥ 0"),
        (lambda: rules.ZPlus(stabilizer=-1e-6), "ZPlus stabilizer must be ≥ 0"),
        (lambda: rules.AlphaBeta(2, 0.5), "alpha - beta = 1"),
        (lambda: rules.AlphaBeta(-1, -2), "AlphaBeta alpha must be ≥ 0"),
        (lambda: rules.Flat(stabilizer=True), "must be a finite real number"),
        (lambda: rules.WSquare(zero_bias="yes"), "zero_bias must be True or False"),
        (lambda: rules.ZBox(1.0, 0.0), "low ≤ high"),
        (lambda: rules.ZBox(0.0, np.inf), "finite numbers"),
        (lambda: rules.ZBox(np.zeros(2), np.ones(3)), "do not broadcast"),
        (lambda: composites.by_index({"top": rules.Zero()}), "by_index keys are ints or slices"),
        (lambda: composites.by_type({0: rules.Zero()}), "by_type keys are layer types"),
        (lambda: composites.LayerMapComposite([(Dense, "nonsense")]), "unknown rule name"),
        (lambda: composites.LayerMapComposite([("Dense", rules.Zero())]), "composite matcher must be a layer type"),
        (lambda: composites.LayerMapComposite([(Dense, 3)]), "maps layers to rule instances"),
        (lambda: composites.EpsilonGammaBox(0.0, 1.0, gamma=-1), "Gamma gamma must be ≥ 0"),
    ],
)
def test_bad_rule_parameters(make, message):
    with pytest.raises(CourseError, match=_escaped(message)):
        make()


def test_zbox_bounds_that_do_not_fit_the_input():
    net = Sequential([Flatten(), Dense(np.ones((4, 1)))])
    with pytest.raises(CourseError, match="do not broadcast to the layer input"):
        lrp(net, np.zeros((1, 4)), rules.ZBox(np.zeros(3), np.ones(3)), 0)


def test_model_must_be_sequential():
    with pytest.raises(CourseError, match="must be a course.relevance.Sequential"):
        lrp([Dense(np.ones((2, 2)))], X, rules.Zero(), 0)


def test_course_error_is_a_value_error(net):
    with pytest.raises(ValueError):
        lrp_layers(net, X, "nope", 0)


def test_no_silent_nans_when_every_denominator_is_zero():
    # all-zero weights and input: every z is 0; the stabiliser (sign(0) = +1) keeps the result finite
    net = Sequential([Dense(np.zeros((2, 2))), ReLU(), Dense(np.zeros((2, 2)))])
    for rule in (
        rules.Zero(),
        rules.Gamma(),
        rules.AlphaBeta(),
        rules.ZPlus(),
        rules.Flat(),
        rules.WSquare(),
        rules.ZBox(-1, 1),
        composites.EpsilonPlusFlat(),
    ):
        assert np.all(np.isfinite(lrp(net, np.zeros((1, 2)), rule, 0)))
