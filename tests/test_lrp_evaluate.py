"""Conservation report and pixel flipping / AOPC, against hand calculations on linear models."""

import itertools

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import AvgPool2d, Conv2d, Dense, Flatten, ReLU, Sequential, composites, rules
from course.relevance.evaluate import aopc, conservation_report, pixel_flipping


def test_conservation_report_rows_by_hand():
    # x = (1, 1), w = (2, 1), b = 1, ε = 1 (L8): f = 4, denominator 5; in = 4·3/5, bias 4·1/5, ε 4·1/5
    report = conservation_report(Sequential([Dense([[2.0], [1.0]], [1.0])]), [[1.0, 1.0]], rules.Epsilon(1.0), 0)
    ((index, layer, rule, out, inp, bias, stab, rest),) = report.rows
    assert (index, layer, rule) == (0, "Dense(2→1)", "Epsilon(epsilon=1.0)")
    np.testing.assert_allclose([out, inp, bias, stab, rest], [4.0, 12 / 5, 4 / 5, 4 / 5, 0.0], atol=1e-12)
    assert report.output == 4.0 and report.input == pytest.approx(2.4)


def test_conservation_report_table_lists_every_layer_from_the_top():
    rng = np.random.default_rng(0)
    net = Sequential(
        [
            Conv2d(rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2), padding=1),
            ReLU(),
            AvgPool2d(2),
            Flatten(),
            Dense(rng.normal(size=(8, 3)), rng.normal(size=3)),
        ]
    )
    report = conservation_report(net, rng.uniform(size=(3, 1, 4, 4)), composites.EpsilonGammaBox(0, 1), [0, 1, 2])
    assert [row[0] for row in report.rows] == [4, 3, 2, 1, 0]
    text, markdown = str(report), report.to_markdown()
    for word in ("Σ R out", "stabiliser", "ZBox(low=0.0, high=1.0)", "Pass()", "Norm()", "summed over 3 samples"):
        assert word in text and word in markdown
    assert markdown.splitlines()[1] == "|---|---|---|---|---|---|---|"
    # the budget closes on every row, and Pass/Gradient layers lose nothing
    for _, _, rule, out, inp, bias, stab, rest in report.rows:
        assert out == pytest.approx(inp + bias + stab + rest, abs=1e-12)
        if rule in ("Pass()", "Gradient()"):
            assert out == pytest.approx(inp, abs=1e-12)


def linear_model():
    # f(x) = x·(1, -2, 3) + 0.5
    return Sequential([Dense([[1.0], [-2.0], [3.0]], [0.5])])


def test_pixel_flipping_most_relevant_first_on_a_linear_model():
    # contributions w ⊙ x = (1, -2, 3); MoRF removes 3, then 1, then -2:
    # f = 2.5 → 2.5 − 3 = −0.5 → −0.5 − 1 = −1.5 → −1.5 + 2 = 0.5; AOPC = (0 + 3 + 4 + 2)/4 = 9/4
    x = np.ones((1, 3))
    curve = pixel_flipping(linear_model(), x, x * [1.0, -2.0, 3.0], target=0)
    np.testing.assert_allclose(curve.values, [[2.5, -0.5, -1.5, 0.5]])
    np.testing.assert_array_equal(curve.removed, [0, 1, 2, 3])
    assert curve.aopc() == pytest.approx(9 / 4) == aopc(curve)


def test_least_relevant_first_and_per_step():
    # LeRF order is -2, 1, 3; two per step: first -2 and 1 go (2.5 + 2 − 1 = 3.5), then 3 (3.5 − 3 = 0.5)
    x = np.ones((1, 3))
    curve = pixel_flipping(linear_model(), x, x * [1.0, -2.0, 3.0], 0, order="least_relevant_first", per_step=2)
    np.testing.assert_allclose(curve.values, [[2.5, 3.5, 0.5]])
    np.testing.assert_array_equal(curve.removed, [0, 2, 3])


def test_exact_relevance_gives_the_largest_aopc_on_a_linear_model():
    # every fixed removal order is a permutation; the MoRF order of the true contributions maximises AOPC
    rng = np.random.default_rng(1)
    w = rng.normal(size=(5, 1))
    net, x = Sequential([Dense(w)]), rng.normal(size=(1, 5))
    best = pixel_flipping(net, x, x * w.T, 0).aopc()
    contributions = (x * w.T)[0]
    for perm in itertools.permutations(range(5)):
        f = np.concatenate([[contributions.sum()], contributions.sum() - np.cumsum(contributions[list(perm)])])
        assert aopc(f) <= best + 1e-12


def test_patches_of_an_image_and_the_mean_baseline():
    # 1×1×4×4 image, score = sum of pixels; 2×2 patches with relevance = the pixels themselves.
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    net = Sequential([Flatten(), Dense(np.ones((16, 1)))])
    curve = pixel_flipping(net, x, x, 0, patch=2, baseline="mean")
    # patch sums: top-left 0+1+4+5 = 10, top-right 18, bottom-left 42, bottom-right 50; mean 7.5 → each
    # replaced patch becomes 4·7.5 = 30: 120 → 120−50+30 = 100 → 100−42+30 = 88 → 88−18+30 = 100 → 100−10+30 = 120
    np.testing.assert_allclose(curve.values, [[120.0, 100.0, 88.0, 100.0, 120.0]])
    np.testing.assert_allclose(curve.fraction, [0, 0.25, 0.5, 0.75, 1.0])


def test_uneven_patches_cover_the_border():
    x = np.ones((1, 2, 3, 3))
    net = Sequential([Flatten(), Dense(np.ones((18, 1)))])
    curve = pixel_flipping(net, x, x, 0, patch=2)
    assert curve.values.shape == (1, 5)  # 2×2 tiles of a 3×3 image: 4 patches (1 full, 3 partial)
    assert curve.values[0, -1] == 0.0


def test_probability_output_and_random_order_are_reproducible():
    rng = np.random.default_rng(2)
    net = Sequential([Dense(rng.normal(size=(6, 3)))])
    x = rng.normal(size=(2, 6))
    a = pixel_flipping(net, x, np.zeros_like(x), [0, 2], order="random", output="probability", seed=5)
    b = pixel_flipping(net, x, np.zeros_like(x), [0, 2], order="random", output="probability", seed=5)
    np.testing.assert_array_equal(a.values, b.values)
    assert np.all((a.values > 0) & (a.values < 1))
    logits = net(x)
    p0 = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a.values[:, 0], p0[[0, 1], [0, 2]])


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"relevance": np.ones((1, 2))}, "relevance must have x's shape"),
        ({"relevance": np.full((1, 3), np.nan)}, "relevance contains NaN"),
        ({"patch": 2}, "patch=2 needs image input"),
        ({"patch": 0}, "patch must be a positive int"),
        ({"order": "best"}, "order must be one of"),
        ({"output": "loss"}, "output must be 'logit' or 'probability'"),
        ({"baseline": "blur"}, "baseline must be a number"),
        ({"baseline": np.ones(4)}, "does not broadcast"),
        ({"steps": 4}, "steps must be an int in 1..3"),
        ({"target": 1}, "outside the 1 classes"),
    ],
)
def test_pixel_flipping_refuses_bad_arguments(kwargs, message):
    args = {"relevance": np.ones((1, 3)), "target": 0, **kwargs}
    with pytest.raises(CourseError, match=message):
        pixel_flipping(linear_model(), np.ones((1, 3)), **args)


def test_aopc_refuses_non_finite_curves():
    with pytest.raises(CourseError, match="finite curve"):
        aopc(np.array([1.0, np.nan]))


def test_pixel_flipping_in_float32():
    net = Sequential([Dense(np.array([[1.0], [-2.0], [3.0]], dtype=np.float32), np.float32([0.5]))])
    x = np.ones((1, 3), dtype=np.float32)
    curve = pixel_flipping(net, x, x * np.float32([1.0, -2.0, 3.0]), 0)
    np.testing.assert_allclose(curve.values, [[2.5, -0.5, -1.5, 0.5]], rtol=1e-6)
