"""Rules the engine cannot apply are refused with one CourseError, not a traceback from inside the engine.

Custom rules are subclasses of ``rules.LinearRule`` (groups of terms); each case below once failed with an
AttributeError or TypeError deep inside ``course.relevance.lrp``.
"""

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import Dense, ReLU, Sequential, lrp, rules

NET = Sequential([Dense([[1.0, -1.0], [2.0, 0.5]], [0.1, -0.1]), ReLU(), Dense([[1.0], [1.0]])])
X = np.array([[1.0, 2.0]])  # non-negative, so the a⁻ input of every layer is all zero


class ReadsLowWithoutBounds(rules.LinearRule):
    groups = (rules.Group((rules.Term("low", rules._positive),)),)


class ReadsUnknownInput(rules.LinearRule):
    groups = (rules.Group((rules.Term("b"),)),)


class OnlyNegativeInput(rules.LinearRule):
    groups = (rules.Group((rules.Term("a-"),)),)


class NoGroups(rules.LinearRule):
    groups = ()


@pytest.mark.parametrize(
    "rule, words",
    [
        (ReadsLowWithoutBounds(), "'low'"),
        (ReadsUnknownInput(), "'b'"),
        (OnlyNegativeInput(), "no term with a nonzero input"),
        (NoGroups(), "no term with a nonzero input"),
        (rules.Rule(), "neither Pass, Gradient"),
    ],
)
def test_a_rule_the_engine_cannot_apply_is_one_clear_error(rule, words):
    with pytest.raises(CourseError, match=words.replace("(", r"\(")):
        lrp(NET, X, rule, 0)


def test_zbox_still_reads_its_bounds():
    # the same terms on a rule with bounds work: ZBox on the input layer, bounds containing x
    got = lrp(NET, X, [rules.ZBox(0.0, 2.0), rules.Epsilon()], 0)
    out = NET(X)[0, 0]
    assert got.shape == X.shape and np.isfinite(got).all()
    assert abs(got.sum() - out) < 0.5 * abs(out)  # most of f(x) reaches the input (biases absorb the rest)


def test_rule_parameters_take_any_real_number_and_refuse_what_no_float_holds():
    from fractions import Fraction

    # np.isfinite once refused a Fraction (a TypeError from inside NumPy); every Real converts to float
    assert rules.Epsilon(Fraction(1, 10)).epsilon == 0.1
    assert rules.Gamma(np.float32(0.5)).gamma == 0.5
    with pytest.raises(CourseError, match="finite real number"):
        rules.Epsilon(10**400)  # too large for a float: infinite, not an OverflowError
    with pytest.raises(CourseError, match="finite real number"):
        rules.AlphaBeta(float("nan"), 1.0)
