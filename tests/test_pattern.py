"""PatternNet / PatternAttribution against the paper's claims on the signal+distractor toy (L17–L25)."""

import numpy as np
import pytest

from course.datasets import signal_distractor
from course.errors import CourseError
from course.relevance import Conv2d, Dense, Flatten, MaxPool2d, ReLU, Sequential
from course.relevance.gradients import gradient
from course.relevance.pattern import (
    S_filter,
    S_identity,
    S_linear,
    S_relu,
    fit_patterns,
    linear_pattern,
    patternattribution,
    patternnet,
    relu_patterns,
    signal_quality,
)
from course.relevance.taylor import taylor_terms
from tests.nets import random_mlp


@pytest.fixture(scope="module")
def toy():
    return signal_distractor(4000, seed=11)


def linear_model(toy):
    return Sequential([Dense(toy.w[:, None])])


def in_batches(x, size):
    for start in range(0, len(x), size):
        yield x[start : start + size]


def cosine(u, v):
    return float(u @ v / np.linalg.norm(u) / np.linalg.norm(v))


def test_the_linear_pattern_is_the_signal_direction_up_to_sampling(toy):
    # By hand: cov[x, y] = a_s var(y) + a_d cov(ε, y), so â = a_s + a_d · cov(ε, y) / var(y) exactly.
    a_hat = fit_patterns(linear_model(toy), in_batches(toy.x, 333), kind="linear")[0][:, 0]
    c = np.cov(toy.eps, toy.y)[0, 1] / np.var(toy.y, ddof=1)
    np.testing.assert_allclose(a_hat, toy.a_s + c * toy.a_d, rtol=1e-9, atol=1e-12)
    assert np.linalg.norm(a_hat - toy.a_s) < 0.05


def test_filter_and_gradient_do_not_point_along_the_signal_but_the_pattern_does(toy):
    model = linear_model(toy)
    grad = gradient(model, toy.x[:5], 0)
    np.testing.assert_allclose(grad, np.tile(toy.w, (5, 1)))  # the gradient is the filter w = (1, −1)
    assert cosine(toy.w, toy.a_s) == pytest.approx(1 / np.sqrt(2))  # 45° away from a_s = (1, 0)
    a_hat = fit_patterns(model, toy.x, kind="linear")[0][:, 0]
    assert cosine(a_hat, toy.a_s) > 0.999


def test_patternnet_returns_the_signal_estimate_with_w_s_equal_y(toy):
    model = linear_model(toy)
    patterns = fit_patterns(model, toy.x, kind="linear")
    s_hat = patternnet(model, toy.x[:20], 0, patterns)
    np.testing.assert_allclose(s_hat @ toy.w, toy.y[:20], rtol=1e-10)  # wᵀŝ = y (L18)
    np.testing.assert_allclose(s_hat, np.outer(toy.y[:20], patterns[0][:, 0]), rtol=1e-12)  # ŝ = â y
    assert np.abs(s_hat - toy.signal[:20]).max() < 0.05 * np.abs(toy.y[:20]).max()  # ≈ the true signal


def test_patternattribution_is_w_times_pattern_and_conserves_the_output(toy):
    model = linear_model(toy)
    patterns = fit_patterns(model, toy.x, kind="linear")
    r = patternattribution(model, toy.x[:20], 0, patterns)
    a_hat = patterns[0][:, 0]
    np.testing.assert_allclose(r, np.outer(toy.y[:20], toy.w * a_hat), rtol=1e-12)
    np.testing.assert_allclose(r.sum(axis=1), toy.y[:20], rtol=1e-10)
    # w ⊙ a_s = (1, 0): all relevance on the signal coordinate, none on the distractor one
    assert np.abs(r[:, 1]).max() < 0.05 * np.abs(toy.y[:20]).max()


def test_patternattribution_is_dtd_at_the_root_x_minus_a_wx(toy):
    # L25: x₀ = x − â wᵀx is a root of y = wᵀx, and the Taylor terms there are PatternAttribution
    model = linear_model(toy)
    patterns = fit_patterns(model, toy.x, kind="linear")
    a_hat = patterns[0][:, 0]
    x = toy.x[3]
    root = x - a_hat * (toy.w @ x)
    assert toy.w @ root == pytest.approx(0.0, abs=1e-12)
    terms = toy.w * (x - root)  # first-order terms of the linear function wᵀx at the root
    np.testing.assert_allclose(patternattribution(model, x[None], 0, patterns)[0], terms, rtol=1e-12)
    # the same as the ReLU neuron's Taylor terms when the neuron is on
    if toy.w @ x > 0:
        np.testing.assert_allclose(taylor_terms(x, toy.w, 0.0, root).terms, terms)


def test_signal_quality_ranks_the_pattern_above_the_filter(toy):
    w, x = toy.w, toy.x
    a_hat = linear_pattern(x, w)
    assert signal_quality(S_linear(w, a_hat), w, x) == pytest.approx(1.0, abs=1e-9)
    # S_w(x) = w y / 2 leaves d̂ = (y/2 + ε)(1, 1): max corr = corr(y, y/2 + ε) = 0.5 / √(0.25 + 1)
    rho_w = signal_quality(S_filter(w), w, x)
    assert rho_w == pytest.approx(1 - 0.5 / np.sqrt(1.25), abs=0.02)
    y = x @ w
    d_hat = x - S_filter(w)(x)
    assert rho_w == pytest.approx(1 - abs(np.corrcoef(y, d_hat[:, 0])[0, 1]), abs=1e-9)


def brute_force_max_corr(y, d_hat, n_angles=100_001):
    """max over unit v in the plane of |corr(y, vᵀd̂)|, by scanning angles (2-D residuals only)."""
    cov = np.cov(np.column_stack([y, d_hat]).T)
    c, sigma = cov[0, 1:], cov[1:, 1:]
    theta = np.linspace(0, np.pi, n_angles)
    v = np.stack([np.cos(theta), np.sin(theta)])
    var = np.einsum("ij,ik,kj->j", v, sigma, v)
    return np.max(np.abs(c @ v) / np.sqrt(cov[0, 0] * var))


def test_the_closed_form_maximum_over_v_agrees_with_a_scan_over_directions(toy):
    # an arbitrary linear estimator (not of the form a wᵀx) leaves a full-rank 2-D residual
    w, x = toy.w, toy.x
    mix = np.array([[0.3, 0.2], [-0.1, 0.6]])
    estimator = lambda data: data @ mix  # noqa: E731
    expected = 1 - brute_force_max_corr(x @ w, x - estimator(x))
    assert signal_quality(estimator, w, x) == pytest.approx(expected, abs=1e-8)


@pytest.mark.parametrize("u", [(1.0, 0.5), (2.0, -1.0), (0.2, -1.0)])
def test_every_u_solves_the_training_problem_but_only_the_pattern_is_best(toy, u):
    # L20: ŝ = u (wᵀu)⁻¹ y satisfies wᵀŝ = y for any u with wᵀu ≠ 0 — the problem is ill-posed …
    w, x, y = toy.w, toy.x, toy.y
    u = np.asarray(u)
    estimator = S_linear(w, u / (w @ u))
    np.testing.assert_allclose(estimator(x) @ w, y, rtol=1e-9, atol=1e-12)
    # … and ρ (L21) picks the pattern. By hand: wᵀ(a_s − u/wᵀu) = 0, so a_s − u/wᵀu = k a_d and the
    # residual is d̂ = (k y + ε) a_d: ρ = 1 − |corr(y, k y + ε)|.
    k = (toy.a_s - u / (w @ u))[1] / toy.a_d[1]
    np.testing.assert_allclose(toy.a_s - u / (w @ u), k * toy.a_d, atol=1e-12)
    rho = signal_quality(estimator, w, x)
    assert rho == pytest.approx(1 - abs(np.corrcoef(y, k * y + toy.eps)[0, 1]), abs=1e-9)
    assert rho < signal_quality(S_linear(w, linear_pattern(x, w)), w, x) - 0.05


def test_identity_estimator_leaves_no_residual(toy):
    # d̂ = x − x = 0 carries no information about y; ρ counts that as 1 (see signal_quality's docstring)
    assert signal_quality(S_identity, toy.w, toy.x) == 1.0


def test_relu_patterns_by_hand_and_their_estimator_leaves_no_y_in_the_residual():
    toy = signal_distractor(3000, y_mean=0.3, seed=5)
    w, x, y, eps = toy.w, toy.x, toy.y, toy.eps
    b = -0.2
    a_pos, a_neg = relu_patterns(x, w, b)
    for on, a in ((y + b > 0, a_pos), (y + b <= 0, a_neg)):
        # By hand: a = a_s + a_d (E₊[εy] − E₊[ε]E[y]) / (E₊[y²] − E₊[y]E[y]) on the regime's samples
        c = (np.mean(eps[on] * y[on]) - eps[on].mean() * y.mean()) / (np.mean(y[on] ** 2) - y[on].mean() * y.mean())
        np.testing.assert_allclose(a, toy.a_s + c * toy.a_d, rtol=1e-9, atol=1e-12)
        assert w @ a == pytest.approx(1.0)
    # cov[x, y] = Σ_regimes π (E[xy] − E[x]E[y]) = cov[S(x), y]: the residual is uncorrelated with y
    assert signal_quality(S_relu(w, a_pos, a_neg, b), w, x) == pytest.approx(1.0, abs=1e-9)


def small_mlp(seed=0):
    return random_mlp((4, 6, 3), bias=0.3, seed=seed)


def test_streamed_fit_equals_one_batch_and_matches_per_neuron_formulas():
    model = small_mlp()
    data = np.random.default_rng(1).normal(size=(500, 4))
    once = fit_patterns(model, data, kind="relu")
    streamed = fit_patterns(model, in_batches(data, 37), kind="relu")
    for i in (0, 2):
        np.testing.assert_allclose(streamed[i], once[i], rtol=1e-10, atol=1e-12)
    hidden = model.layers[1](model.layers[0](data))
    first, second = model.layers[0], model.layers[2]
    for j in range(6):  # the first layer is followed by a ReLU: two-component patterns
        a_pos, a_neg = relu_patterns(data, first.weight[:, j], first.bias[j])
        np.testing.assert_allclose(once[0][:, j], a_pos, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(once.negative[0][:, j], a_neg, rtol=1e-10, atol=1e-12)
    for k in range(3):  # the output layer is not: the linear pattern of its input, the hidden activations
        np.testing.assert_allclose(once[2][:, k], linear_pattern(hidden, second.weight[:, k]), rtol=1e-10)
    # every neuron's pattern is normalised to wᵀa = 1 (what makes PatternAttribution conserve)
    np.testing.assert_allclose((second.weight * once[2]).sum(axis=0), 1.0)


def test_conv_patterns_are_dense_patterns_of_the_receptive_fields():
    rng = np.random.default_rng(2)
    conv = Conv2d(rng.normal(size=(2, 2, 2, 2)), rng.normal(size=2) * 0.1, stride=2, padding=1)
    model = Sequential([conv, ReLU(), Flatten(), Dense(rng.normal(size=(2 * 3 * 3, 2)))])
    data = rng.normal(size=(40, 2, 5, 5))
    got = fit_patterns(model, data, kind="relu")
    # receptive fields cut out with explicit loops: padded 7×7, stride 2 → 3×3 positions
    padded = np.pad(data, ((0, 0), (0, 0), (1, 1), (1, 1)))
    patches = np.array(
        [
            padded[n, :, 2 * r : 2 * r + 2, 2 * s : 2 * s + 2].ravel()
            for n in range(40)
            for r in range(3)
            for s in range(3)
        ]
    )
    for o in range(2):
        a_pos, a_neg = relu_patterns(patches, conv.weight[o].ravel(), conv.bias[o])
        np.testing.assert_allclose(got[0][o].ravel(), a_pos, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got.negative[0][o].ravel(), a_neg, rtol=1e-9, atol=1e-12)


def test_patternnet_and_patternattribution_by_hand_on_an_mlp():
    model = small_mlp(3)
    data = np.random.default_rng(4).normal(size=(300, 4))
    p = fit_patterns(model, data, kind="relu")
    x = data[:3]
    w1, b1, w2, b2 = model.layers[0].weight, model.layers[0].bias, model.layers[2].weight, model.layers[2].bias
    z1 = x @ w1 + b1
    logit = (np.maximum(z1, 0) @ w2 + b2)[:, 1]
    net = ((logit[:, None] * p[2][:, 1]) * (z1 > 0)) @ p[0].T
    att = ((logit[:, None] * (w2 * p[2])[:, 1]) * (z1 > 0)) @ (w1 * p[0]).T
    np.testing.assert_allclose(patternnet(model, x, 1, p), net, rtol=1e-12)
    np.testing.assert_allclose(patternattribution(model, x, 1, p), att, rtol=1e-12)


def test_patternnet_runs_on_a_cnn_with_maxpool():
    rng = np.random.default_rng(5)
    model = Sequential(
        [
            Conv2d(rng.normal(size=(3, 1, 3, 3)), padding=1),
            ReLU(),
            MaxPool2d(2),
            Flatten(),
            Dense(rng.normal(size=(12, 2))),
        ]
    )  # 3 channels × 2 × 2
    data = rng.uniform(size=(60, 1, 4, 4))
    p = fit_patterns(model, in_batches(data, 16))
    out = patternnet(model, data[:2], 0, p)
    assert out.shape == (2, 1, 4, 4) and np.all(np.isfinite(out))


def test_bad_input_raises(toy):
    model = linear_model(toy)
    with pytest.raises(CourseError, match="kind"):
        fit_patterns(model, toy.x, kind="quadratic")
    with pytest.raises(CourseError, match="at least 2 samples"):
        fit_patterns(model, toy.x[:1])
    with pytest.raises(CourseError, match="fit the patterns on this model"):
        patternnet(small_mlp(), np.ones((1, 4)), 0, fit_patterns(model, toy.x, "linear"))
    with pytest.raises(CourseError, match="shaped like x"):
        signal_quality(lambda x: x[:, :1], toy.w, toy.x)
    with pytest.raises(CourseError, match="constant"):
        signal_quality(S_identity, toy.w, np.ones((5, 2)))
    with pytest.raises(CourseError, match="vector of length"):
        linear_pattern(toy.x, np.ones(3))
    with pytest.raises(CourseError, match="NaN or inf"):
        linear_pattern(np.where(np.arange(toy.x.size).reshape(toy.x.shape) == 3, np.nan, toy.x), toy.w)
    with pytest.raises(CourseError, match="estimator must be a function"):
        signal_quality(toy.w, toy.w, toy.x)
