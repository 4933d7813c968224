"""Conservation (L4, L6, L8, L12) as properties over random small networks, checked with hypothesis.

The expected values are computed in the tests from the forward activations with plain NumPy (for Dense
layers: explicit per-neuron message matrices R_{i←k}), not by the engine's code.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course.relevance import Conv2d, Dense, Flatten, ReLU, Sequential, lrp, lrp_layers, rules

values = st.floats(-2.0, 2.0, allow_nan=False, width=64)
SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def mlps(draw, bias=True, nonneg_input=False):
    """A ReLU MLP with 1-3 dense layers of width 1-5, an input batch of 1-3 samples and a target class."""
    widths = draw(st.lists(st.integers(1, 5), min_size=2, max_size=4))
    layers = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        w = draw(arrays(np.float64, (fan_in, fan_out), elements=values))
        b = draw(arrays(np.float64, (fan_out,), elements=values)) if bias else np.zeros(fan_out)
        layers += [Dense(w, b), ReLU()]
    batch = draw(st.integers(1, 3))
    elements = st.floats(0.0, 2.0, width=64) if nonneg_input else values
    x = draw(arrays(np.float64, (batch, widths[0]), elements=elements))
    return Sequential(layers[:-1]), x, draw(st.integers(0, widths[-1] - 1))


def stab(z, eps):
    return z + eps * np.where(z >= 0, 1.0, -1.0)


def ratio(r, z):
    """r / z, and 0 where z = 0 (exact LRP-0 drops an output whose denominator is 0)."""
    return np.divide(r, z, out=np.zeros_like(z), where=z != 0)


def dense_layers(trace):
    """(index, layer input a, weight W, bias b, relevance at output, relevance at input) of every Dense layer."""
    for i, layer in enumerate(trace.layers):
        if isinstance(layer, Dense):
            yield i, layer.weight, layer.bias, trace.relevances[i + 1], trace.relevances[i]


def activations(model, x):
    return model.activations(x)


@SETTINGS
@given(mlps(bias=False), st.sampled_from([1e-6, 0.01, 1.0]))
def test_epsilon_without_bias_conserves_up_to_the_stabiliser(case, eps):
    # L8: Σ_j R_{j←k} = R_k · z_k / (z_k + ε·sign z_k); with b = 0 nothing else is lost
    model, x, target = case
    trace = lrp_layers(model, x, rules.Epsilon(eps), target)
    acts = activations(model, x)
    for i, w, _, r_out, r_in in dense_layers(trace):
        z = acts[i] @ w
        expected = (r_out * z / stab(z, eps)).sum(axis=1)
        scale = 1 + np.abs(acts[i]).max() * np.abs(w).max() * np.abs(r_out / stab(z, eps)).max() * w.shape[0]
        np.testing.assert_allclose(r_in.sum(axis=1), expected, rtol=1e-9, atol=1e-12 * scale)


@SETTINGS
@given(mlps(bias=True))
def test_local_conservation_of_lrp0_messages(case):
    # L6: R_i = Σ_k R_{i←k} and Σ_i R_{i←k} = R_k (z_k − b_k)/z_k, with R_{i←k} = a_i w_ik / z_k · R_k (exact LRP-0)
    model, x, target = case
    trace = lrp_layers(model, x, rules.Zero(), target)
    acts = activations(model, x)
    for i, w, b, r_out, r_in in dense_layers(trace):
        a = acts[i]
        z = a @ w + b
        s = ratio(r_out, z)
        messages = a[:, :, None] * w[None] * s[:, None, :]  # (batch, i, k)
        np.testing.assert_allclose(r_in, messages.sum(axis=2), rtol=1e-9, atol=1e-9 * (1 + np.abs(messages).max()))
        np.testing.assert_allclose(
            messages.sum(axis=1), s * (z - b), rtol=1e-9, atol=1e-9 * (1 + np.abs(messages).max())
        )
        # what the bias absorbed, as the trace reports it: Σ_k R_k b_k / z_k
        np.testing.assert_allclose(trace.bias[i], (s * b).sum(axis=1), rtol=1e-9, atol=1e-9 * (1 + np.abs(s).max()))


@SETTINGS
@given(mlps(bias=False, nonneg_input=True))
def test_zplus_on_nonnegative_inputs_conserves_and_is_nonnegative(case):
    # L12/L14: with a ≥ 0 and b = 0, z⁺ shares a_j w_jk⁺ / Σ_j a_j w_jk⁺: every neuron with some positive
    # contribution passes on R_k·D/(D + ε); relevance keeps the sign of the output relevance.
    model, x, target = case
    trace = lrp_layers(model, x, rules.ZPlus(), target)
    acts = activations(model, x)
    for i, w, _, r_out, r_in in dense_layers(trace):
        d = acts[i] @ np.maximum(w, 0)
        np.testing.assert_allclose(
            r_in.sum(axis=1), (r_out * d / stab(d, 1e-6)).sum(axis=1), rtol=1e-9, atol=1e-9 * (1 + np.abs(r_out).max())
        )
    logit = model(x)[:, target]
    for r in trace.relevances:
        signed = r * np.sign(logit)[:, None]
        assert np.all(signed >= -1e-12)


@SETTINGS
@given(mlps(bias=True), st.sampled_from(["flat", "wsquare0"]))
def test_flat_and_wsquare_conserve(case, which):
    # Flat's denominator is the fan-in (≥ 1) and w²'s is Σ w² (bias-free): all but a fraction ε/(D + ε) arrives
    model, x, target = case
    rule = rules.Flat() if which == "flat" else rules.WSquare(zero_bias=True)
    trace = lrp_layers(model, x, rule, target)
    for _, w, _, r_out, r_in in dense_layers(trace):
        d = np.full(w.shape[1], float(w.shape[0])) if which == "flat" else (w**2).sum(axis=0)
        np.testing.assert_allclose(
            r_in.sum(axis=1), (r_out * d / stab(d, 1e-6)).sum(axis=1), rtol=1e-9, atol=1e-9 * (1 + np.abs(r_out).max())
        )


@SETTINGS
@given(
    arrays(np.float64, (1, 2, 5, 4), elements=values),
    arrays(np.float64, (3, 2, 3, 3), elements=values),
    st.integers(1, 2),
    st.integers(0, 2),
)
def test_flat_conserves_on_padded_strided_convolutions(x, w, stride, padding):
    conv = Conv2d(w, stride=stride, padding=padding)
    n_out = int(np.prod(conv.output_shape(x.shape)[1:]))
    net = Sequential([conv, Flatten(), Dense(np.ones((n_out, 1)))])
    trace = lrp_layers(net, x, [rules.Flat(), rules.Zero()], 0)
    r_conv, r_in = trace.relevances[1], trace.relevances[0]
    np.testing.assert_allclose(r_in.sum(), r_conv.sum(), rtol=1e-5, atol=1e-9 * (1 + np.abs(r_conv).max()))


def per_neuron_gamma(a, w, b, r_out, gamma, eps):
    """Zennit's generalised γ-rule for one Dense layer, neuron by neuron with explicit sums (a second
    implementation)."""
    r_in = np.zeros_like(a)
    for n in range(a.shape[0]):
        for k in range(w.shape[1]):
            z = a[n] @ w[:, k] + b[k]
            if z == 0:
                continue
            sel = (lambda v: np.maximum(v, 0)) if z > 0 else (lambda v: np.minimum(v, 0))
            other = (lambda v: np.minimum(v, 0)) if z > 0 else (lambda v: np.maximum(v, 0))
            contrib = np.array(
                [
                    aj * (w[j, k] + gamma * (sel(w[j, k]) if aj > 0 else other(w[j, k]))) if aj != 0 else 0.0
                    for j, aj in enumerate(a[n])
                ]
            )
            denominator = contrib.sum() + b[k] + gamma * sel(b[k])
            r_in[n] += contrib / stab(np.array(denominator), eps) * r_out[n, k]
    return r_in


@SETTINGS
@given(
    arrays(np.float64, (2, 3), elements=values),
    arrays(np.float64, (3, 2), elements=values),
    arrays(np.float64, (2,), elements=values),
    st.sampled_from([0.0, 0.25, 1.0]),
)
def test_gamma_equals_a_per_neuron_implementation(x, w, b, gamma):
    net = Sequential([Dense(w, b)])
    got = lrp(net, x, rules.Gamma(gamma), 0)
    r_out = np.zeros((2, 2))
    r_out[:, 0] = net(x)[:, 0]
    expected = per_neuron_gamma(x, w, b, r_out, gamma, 1e-6)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * (1 + np.abs(expected).max()))


@SETTINGS
@given(mlps(bias=True))
def test_alpha_beta_is_alpha_times_positive_minus_beta_times_negative_share(case):
    # L8: αβ = α·(z⁺-share) − β·(z⁻-share); for α=1, β=0 it is z⁺, so (2,1) = 2·z⁺ − (negative share)
    model, x, _ = case
    first, t = Sequential(model.layers[:1]), 0
    r21 = lrp(first, x, rules.AlphaBeta(2, 1), t)
    r10 = lrp(first, x, rules.AlphaBeta(1, 0), t)
    w, b = model.layers[0].weight[:, [t]], model.layers[0].bias[[t]]
    xp, xn = np.maximum(x, 0), np.minimum(x, 0)
    f = x @ w + b
    neg = xp * np.minimum(w, 0).T + xn * np.maximum(w, 0).T  # (batch, in): the negative contributions
    neg_share = neg / stab(neg.sum(axis=1, keepdims=True) + np.minimum(b, 0), 1e-6) * f
    np.testing.assert_allclose(r21, 2 * r10 - neg_share, rtol=1e-9, atol=1e-9 * (1 + np.abs(r21).max()))
