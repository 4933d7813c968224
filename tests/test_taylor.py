"""Deep Taylor Decomposition: root points by hand, and the rules the Taylor terms reproduce (L13–L14)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course.errors import CourseError
from course.relevance.taylor import dtd_layer, root_point, search_direction, taylor_terms

# One neuron used throughout: a = (1, 2, 3), w = (1, -1, 2), b = -0.5 → z = 1 − 2 + 6 − 0.5 = 4.5
A, W, B = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 2.0]), -0.5
Z = 4.5


def test_root_points_by_hand():
    # nearest: v = w, wᵀw = 6, t = 4.5 / 6 = 0.75
    np.testing.assert_allclose(root_point(A, W, B, "nearest"), A - 0.75 * W)
    # origin: v = a, wᵀa = 5, t = 0.9
    np.testing.assert_allclose(root_point(A, W, B, "origin"), 0.1 * A)
    # zplus: v = (1, 0, 3), wᵀv = 7, t = 4.5 / 7
    np.testing.assert_allclose(root_point(A, W, B, "zplus"), A - 4.5 / 7 * np.array([1.0, 0.0, 3.0]))
    # zbox in [0, 4]: v = (1 − 0, 2 − 4, 3 − 0) = (1, −2, 3), wᵀv = 1 + 2 + 6 = 9, t = 0.5
    np.testing.assert_allclose(root_point(A, W, B, "zbox", low=0.0, high=4.0), A - 0.5 * np.array([1.0, -2.0, 3.0]))


@pytest.mark.parametrize("direction", ["nearest", "origin", "zplus", "zbox"])
def test_every_root_is_a_root_and_the_expansion_is_exact(direction):
    root = root_point(A, W, B, direction, low=0.0, high=4.0)
    assert W @ root + B == pytest.approx(0.0, abs=1e-12)
    t = taylor_terms(A, W, B, root)
    assert t.value == pytest.approx(Z) and t.value_at_root == pytest.approx(0.0, abs=1e-12)
    assert t.residual == pytest.approx(0.0, abs=1e-12)
    assert t.terms.sum() == pytest.approx(Z)


def test_taylor_terms_reproduce_the_rules_written_out_by_hand():
    # R_j = c · z with c = 2 (relevance from above); the terms times c are the rule's messages
    R = 2.0 * Z
    c = R / Z
    terms = {
        d: c * taylor_terms(A, W, B, root_point(A, W, B, d, low=0.0, high=4.0)).terms
        for d in ("nearest", "origin", "zplus", "zbox")
    }
    # w²: w_i² / Σ w² · R = (1, 1, 4) / 6 · 9
    np.testing.assert_allclose(terms["nearest"], np.array([1.0, 1.0, 4.0]) / 6 * R)
    # LRP-0 (bias not in the denominator): a_i w_i / Σ a w · R = (1, −2, 6) / 5 · 9
    np.testing.assert_allclose(terms["origin"], np.array([1.0, -2.0, 6.0]) / 5 * R)
    # z⁺: a_i w_i⁺ / Σ a w⁺ · R = (1, 0, 6) / 7 · 9
    np.testing.assert_allclose(terms["zplus"], np.array([1.0, 0.0, 6.0]) / 7 * R)
    # z^B with l = 0, h = 4: (a w − l w⁺ − h w⁻) = (1, −2 + 4, 6) = (1, 2, 6), sum 9
    np.testing.assert_allclose(terms["zbox"], np.array([1.0, 2.0, 6.0]) / 9 * R)


def test_nearest_root_can_leave_the_input_domain_but_zplus_cannot():
    a, w, b = np.array([1.0, 0.1]), np.array([1.0, 2.0]), 0.0
    assert root_point(a, w, b, "nearest").min() < 0  # (1, .1) − (1.2 / 5)(1, 2) = (0.76, −0.38)
    assert root_point(a, w, b, "zplus").min() >= 0


def test_an_inactive_neuron_is_its_own_root():
    a = np.array([1.0, 1.0])
    np.testing.assert_array_equal(root_point(a, [-1.0, 0.5], 0.0, "nearest"), a)


def test_dtd_layer_is_the_sum_of_per_neuron_taylor_terms():
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, size=5)
    weight, bias = rng.normal(size=(5, 4)), -np.abs(rng.normal(size=4))
    z = a @ weight + bias
    relevance = 3.0 * np.maximum(z, 0)  # R_j = c_j a_j with c_j = 3
    for direction in ("nearest", "origin", "zplus", "zbox"):
        expected = np.zeros(5)
        for j in range(4):
            if z[j] > 0:
                root = root_point(a, weight[:, j], bias[j], direction, low=0.0, high=1.0)
                expected += relevance[j] / z[j] * taylor_terms(a, weight[:, j], bias[j], root).terms
        got = dtd_layer(a, weight, bias, relevance, direction, low=0.0, high=1.0)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        assert got.sum() == pytest.approx(relevance.sum())  # every active neuron has a root: conserved


unit = st.floats(0.0, 1.0, allow_nan=False)
weights = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, 4, elements=unit), arrays(np.float64, 4, elements=weights), st.floats(-1.0, 0.0))
def test_zplus_and_zbox_roots_stay_in_the_domain_with_nonnegative_terms(a, w, b):
    if w @ a + b <= 1e-6 or (w > 0) @ a < 1e-6:
        return  # inactive neurons are their own root; zplus needs some positive contribution
    root = root_point(a, w, b, "zplus")
    assert root.min() >= -1e-12
    assert taylor_terms(a, w, b, root).terms.min() >= -1e-12
    box = root_point(a, w, b, "zbox", low=0.0, high=1.0)
    assert box.min() >= -1e-12 and box.max() <= 1 + 1e-12
    t = taylor_terms(a, w, b, box)
    assert t.terms.min() >= -1e-12 and abs(t.residual) < 1e-9


def test_search_direction_per_column_matches_per_neuron():
    a, weight = np.array([0.2, 0.5, 0.9]), np.array([[1.0, -1.0], [-2.0, 0.5], [0.3, 0.0]])
    for d in ("nearest", "origin", "zplus", "zbox"):
        cols = search_direction(a, weight, d, low=0.0, high=1.0)
        for j in range(2):
            np.testing.assert_allclose(cols[:, j], search_direction(a, weight[:, j], d, low=0.0, high=1.0))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: root_point(A, W, B, "sideways"), "unknown direction"),
        # a neuron that is already off (wᵀa + b = 0.5 − 2 − 2.5 = −4 here) is its own root, but a bad direction is
        # still refused
        (lambda: root_point([1.0, 2.0], [0.5, -1.0], -2.5, "sideways"), "unknown direction"),
        (lambda: root_point([1.0, 2.0], [0.5, -1.0], -2.5, "zbox"), "low and high"),
        (lambda: root_point(A, W, B, "zbox"), "low and high"),
        (lambda: root_point(A, W, B, "zbox", low=0.0, high=2.5), "outside the box"),
        (lambda: root_point([-1.0, 1.0], [-1.0, 0.0], 0.0, "zplus"), "no root"),
        (lambda: root_point([1.0, 2.0], W, B), "same length"),
        (lambda: taylor_terms(A, W, B, [0.0, 0.0]), "length of a"),
        (lambda: dtd_layer(A, np.ones((3, 2)), 0.0, [1.0, 1.0, 1.0]), "weight must have shape"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(CourseError, match=match):
        call()


# ------------------------------------------------------------------ agreement with the LRP engine
from course.relevance import Dense, ReLU, Sequential, lrp, rules  # noqa: E402
from course.relevance.taylor import deep_taylor  # noqa: E402

TINY = 1e-12  # a stabiliser too small to matter, so that the rules are compared exactly


@pytest.mark.parametrize(
    "direction,rule",
    [
        ("nearest", rules.WSquare(stabilizer=TINY, zero_bias=True)),
        ("origin", rules.Zero(stabilizer=TINY, zero_bias=True)),
        ("zplus", rules.ZPlus(stabilizer=TINY, zero_bias=True)),
        ("zbox", rules.ZBox(0.0, 1.0, stabilizer=TINY)),
    ],
)
def test_dtd_layer_equals_the_lrp_rule(direction, rule):
    rng = np.random.default_rng(1)
    weight, bias = rng.normal(size=(6, 3)), rng.normal(size=3)
    a = rng.uniform(size=(1, 6))
    target = int(np.argmax(a @ weight + bias))
    relevance = np.zeros(3)
    relevance[target] = (a @ weight + bias)[0, target]  # LRP's output relevance: the target logit
    expected = dtd_layer(a[0], weight, bias, relevance, direction, low=0.0, high=1.0)
    got = lrp(Sequential([Dense(weight, bias)]), a, rule, target)[0]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def relu_mlp(seed):
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Dense(rng.normal(size=(5, 8)), -np.abs(rng.normal(size=8)) * 0.2),
            ReLU(),
            Dense(rng.normal(size=(8, 6)), -np.abs(rng.normal(size=6)) * 0.2),
            ReLU(),
            Dense(rng.normal(size=(6, 3))),
        ]
    )


@pytest.mark.parametrize("input_rule", ["zbox", "wsquare"])
def test_deep_taylor_is_dtd_layer_by_layer(input_rule):
    model = relu_mlp(2)
    x = np.random.default_rng(3).uniform(size=(4, 5))
    got = deep_taylor(model, x, 1, input_rule=input_rule, stabilizer=TINY)
    first_direction = "zbox" if input_rule == "zbox" else "nearest"
    (d1, _, d2, _, d3), acts = model.layers, model.activations(x)
    for n in range(4):
        r = np.zeros(3)
        r[1] = acts[-1][n, 1]
        r = dtd_layer(acts[4][n], d3.weight, d3.bias, r, "zplus")
        r = dtd_layer(acts[2][n], d2.weight, d2.bias, r, "zplus")
        r = dtd_layer(acts[0][n], d1.weight, d1.bias, r, first_direction, low=0.0, high=1.0)
        np.testing.assert_allclose(got[n], r, rtol=1e-8, atol=1e-12)


def test_deep_taylor_conserves_a_positive_logit():
    # With biases ≤ 0, every active neuron has Σ a w⁺ ≥ z > 0, so a z⁺ root, and every first-layer neuron a
    # box root; the top neuron has one when its logit is positive (DTD explains an active output).
    model = relu_mlp(4)
    x = np.random.default_rng(5).uniform(size=(12, 5))
    logits = model(x)[:, 0]
    positive = logits > 0
    assert positive.sum() >= 3
    rel = deep_taylor(model, x[positive], 0, stabilizer=TINY)
    np.testing.assert_allclose(rel.sum(axis=1), logits[positive], rtol=1e-8)
    assert rel.min() >= -1e-12  # z⁺ and z^B give non-negative relevance (L14)


def test_deep_taylor_refuses_unknown_input_rules():
    with pytest.raises(CourseError, match="input_rule"):
        deep_taylor(relu_mlp(0), np.zeros((1, 5)), 0, input_rule="flat")
