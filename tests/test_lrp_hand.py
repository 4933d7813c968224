"""LRP rules on 1- to 3-neuron nets, every expected value computed by hand in the test (L5, L7, L8, L12, L15)."""

import numpy as np
import pytest

from course.relevance import (
    AvgPool2d,
    BatchNorm,
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    ReLU,
    Sequential,
    composites,
    lrp,
    lrp_layers,
    rules,
)

TINY = 1e-12  # a stabiliser small enough that hand values hold to ~1e-11


def l5_net():
    """The L5 picture: inputs 1-3, hidden 4-6 (ReLU), output 7; no biases."""
    w1 = np.array(
        [
            [1.0, 0.0, 1.0],  # from input 1 to hidden 4, 5, 6
            [1.0, 1.0, 0.0],  # from input 2
            [0.0, 1.0, -1.0],
        ]
    )  # from input 3
    w2 = np.array([[1.0], [2.0], [1.0]])
    return Sequential([Dense(w1), ReLU(), Dense(w2)])


def test_lrp0_on_the_l5_net_by_hand():
    # x = (1, 2, 1): hidden z = (1+2, 2+1, 1-1) = (3, 3, 0), output f = 3·1 + 3·2 + 0·1 = 9 = R7.
    # Top layer: R4 = 3·1/9·9 = 3, R5 = 3·2/9·9 = 6, R6 = 0.
    # Bottom: R1 = (1·1/3)·3 = 1; R2 = (2·1/3)·3 + (2·1/3)·6 = 6; R3 = (1·1/3)·6 = 2.
    x = np.array([[1.0, 2.0, 1.0]])
    trace = lrp_layers(l5_net(), x, rules.Zero(stabilizer=TINY), target=0)
    np.testing.assert_allclose(trace.relevances[2], [[3.0, 6.0, 0.0]], atol=1e-10)
    np.testing.assert_allclose(trace.relevances[0], [[1.0, 6.0, 2.0]], atol=1e-10)
    # L5: f(x) = R7 = R4 + R5 + R6 = R1 + R2 + R3
    np.testing.assert_allclose(trace.totals.ravel(), [9.0, 9.0, 9.0, 9.0], atol=1e-10)


def test_epsilon_absorbs_bias_and_epsilon_as_in_l8():
    # one neuron, x = (1, 1), w = (2, 1), b = 1, ε = 1: z = 4, denominator 4 + 1 = 5, R_out = 4.
    # R = x·w/5·4 = (8/5, 4/5); Σ = 4·(1 − (b + ε)/(z + ε)) = 4·(1 − 2/5) = 12/5.
    net = Sequential([Dense([[2.0], [1.0]], [1.0])])
    trace = lrp_layers(net, np.array([[1.0, 1.0]]), rules.Epsilon(1.0), target=0)
    np.testing.assert_allclose(trace.relevances[0], [[8 / 5, 4 / 5]])
    np.testing.assert_allclose(trace.bias[0], [4 * 1 / 5])  # R·b/(z + ε)
    np.testing.assert_allclose(trace.stabilizer[0], [4 * 1 / 5])  # R·ε/(z + ε)


def test_zero_bias_drops_the_bias_from_the_denominator():
    # x = (1, 1), w = (2, 1), b = 1 ignored: z' = 3, R_out = f = 4, R = (2/3·4, 1/3·4)
    net = Sequential([Dense([[2.0], [1.0]], [1.0])])
    got = lrp(net, np.array([[1.0, 1.0]]), rules.Zero(stabilizer=TINY, zero_bias=True), target=0)
    np.testing.assert_allclose(got, [[8 / 3, 4 / 3]])


def test_negative_target_logit_is_the_output_relevance():
    # logits = (2, -2) for x = 2; explaining class 1 puts R = -2 on the output: R_x = 2·(-1)/(-2)·(-2) = -2
    net = Sequential([Dense([[1.0, -1.0]])])
    np.testing.assert_allclose(lrp(net, np.array([[2.0]]), rules.Zero(stabilizer=TINY), target=1), [[-2.0]])


def test_gamma_on_positive_output():
    # x = (1, 1), w = (2, -1), γ = 1: z = 1 > 0 → weights w + γw⁺ = (4, -1), denominator 3, R_out = 1
    net = Sequential([Dense([[2.0], [-1.0]])])
    got = lrp(net, np.array([[1.0, 1.0]]), rules.Gamma(1.0, stabilizer=TINY), target=0)
    np.testing.assert_allclose(got, [[4 / 3, -1 / 3]])


def test_gamma_on_negative_output_uses_the_negative_weights():
    # x = (1, 2), w = (1, -1), γ = 1: z = -1 < 0 → weights w + γw⁻ = (1, -2), numerators (1, -4),
    # denominator -3, R_out = -1 → R = (1/-3·-1, -4/-3·-1) = (1/3, -4/3)
    net = Sequential([Dense([[1.0], [-1.0]])])
    got = lrp(net, np.array([[1.0, 2.0]]), rules.Gamma(1.0, stabilizer=TINY), target=0)
    np.testing.assert_allclose(got, [[1 / 3, -4 / 3]])


def test_gamma_for_negative_inputs_swaps_the_weight_parts():
    # x = (-1,), w = (-2,), b = 0, γ = 1: z = 2 > 0; the negative input goes with w + γw⁻ = -4:
    # numerator (-1)(-4) = 4, denominator 4, R = R_out = 2
    net = Sequential([Dense([[-2.0]])])
    np.testing.assert_allclose(lrp(net, np.array([[-1.0]]), rules.Gamma(1.0, stabilizer=TINY), 0), [[2.0]])


def test_alpha2_beta1_by_hand():
    # x = (1, 1), w = (2, -1): positive parts (2, 0) / 2, negative parts (0, -1) / -1, R_out = 1
    # R = 2·(1, 0)·1 − 1·(0, 1)·1 = (2, -1)
    net = Sequential([Dense([[2.0], [-1.0]])])
    got = lrp(net, np.array([[1.0, 1.0]]), rules.AlphaBeta(2, 1, stabilizer=TINY), target=0)
    np.testing.assert_allclose(got, [[2.0, -1.0]])


def test_zplus_keeps_only_positive_contributions_with_positive_bias():
    # x = (1, 1), w = (2, -1), b = 1: denominator x⁺w⁺ + b⁺ = 3, R_out = f = 2 → R = (2/3·2, 0)
    net = Sequential([Dense([[2.0], [-1.0]], [1.0])])
    got = lrp(net, np.array([[1.0, 1.0]]), rules.ZPlus(stabilizer=TINY), target=0)
    np.testing.assert_allclose(got, [[4 / 3, 0.0]])


def test_wsquare_squares_weights_and_bias():
    # w = (1, 2), b = 1: shares w²/(Σw² + b²) = (1/6, 4/6); x = (1, 1) gives R_out = 4
    net = Sequential([Dense([[1.0], [2.0]], [1.0])])
    x = np.array([[1.0, 1.0]])
    np.testing.assert_allclose(lrp(net, x, rules.WSquare(stabilizer=TINY), 0), [[4 / 6, 16 / 6]])
    np.testing.assert_allclose(lrp(net, x, rules.WSquare(stabilizer=TINY, zero_bias=True), 0), [[4 / 5, 16 / 5]])


def test_zbox_by_hand_bias_cancels():
    # x = (.5, .5), w = (1, -1), b = .3, box [0, 1]: numerators x·w − l·w⁺ − h·w⁻ = (.5, -.5 + 1) = (.5, .5),
    # denominator 1 (the bias cancels), R_out = f = .3 → R = (.15, .15)
    net = Sequential([Dense([[1.0], [-1.0]], [0.3])])
    got = lrp(net, np.array([[0.5, 0.5]]), rules.ZBox(0.0, 1.0, stabilizer=TINY), target=0)
    np.testing.assert_allclose(got, [[0.15, 0.15]])


def test_flat_counts_only_in_bounds_inputs_of_a_padded_conv():
    # 3×3 image, 3×3 conv with padding 1: the top-left output sees 4 real pixels. A one-hot dense layer
    # on top (LRP-0) hands all of the logit f to that output; Flat shares it equally over the 4 pixels.
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    conv = Conv2d(np.ones((1, 1, 3, 3)), padding=1)
    pick = np.zeros((9, 1))
    pick[0, 0] = 1.0
    net = Sequential([conv, Flatten(), Dense(pick)])
    f = 1 + 2 + 4 + 5  # the top-left output: its window holds pixels 1, 2, 4, 5
    got = lrp(net, x, [rules.Flat(stabilizer=TINY), rules.Zero(stabilizer=TINY)], target=0)
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, :2, :2] = f / 4
    np.testing.assert_allclose(got, expected, atol=1e-10)


def test_relu_passes_relevance_through():
    # x = 1, hidden z = (1, -1) → ReLU (1, 0), f = 1. Flat on top gives each hidden unit 1/2, also the
    # inactive one; ReLU passes it on (Zennit's Pass), so LRP-0 below gives 1·1/1·½ + 1·(-1)/(-1)·½ = 1.
    # (The gradient at the ReLU would have dropped the second half, giving ½.)
    net = Sequential([Dense([[1.0, -1.0]]), ReLU(), Dense([[1.0], [1.0]])])
    got = lrp(net, np.array([[1.0]]), [rules.Zero(stabilizer=TINY), rules.Flat(stabilizer=TINY)], target=0)
    np.testing.assert_allclose(got, [[1.0]])


def test_maxpool_is_winner_take_all_and_avgpool_proportional():
    x = np.array([[[[1.0, 3.0], [2.0, 4.0]]]])
    top = [Flatten(), Dense([[1.0]])]
    # max = 4: all relevance (f = 4) to the winner
    got = lrp(Sequential([MaxPool2d(2)] + top), x, rules.Zero(stabilizer=TINY), 0)
    np.testing.assert_allclose(got, [[[[0.0, 0.0], [0.0, 4.0]]]])
    # mean = 2.5: shares x_i/Σx (Norm rule)
    got = lrp(Sequential([AvgPool2d(2)] + top), x, rules.Zero(stabilizer=TINY), 0)
    np.testing.assert_allclose(got, x / 10 * 2.5, rtol=1e-5)  # Norm's own stabiliser is 1e-6


def test_batchnorm_is_merged_before_explaining():
    # Dense w = (1, 2), b = 0, then BatchNorm (mean 1, var 4 - 1e-5, weight 2, bias 3): scale = 2/2 = 1,
    # shift = 3 - 1 = 2 → one Dense with w = (1, 2), b = 2.
    bn = BatchNorm(mean=[1.0], var=[4.0 - 1e-5], weight=[2.0], bias=[3.0])
    x = np.array([[1.0, 1.0]])
    with_bn = lrp(Sequential([Dense([[1.0], [2.0]]), bn]), x, rules.Zero(stabilizer=TINY), 0)
    folded = lrp(Sequential([Dense([[1.0], [2.0]], [2.0])]), x, rules.Zero(stabilizer=TINY), 0)
    # f = 5, shares (1/5, 2/5) of f → (1, 2); the bias takes 2
    np.testing.assert_allclose(with_bn, [[1.0, 2.0]])
    np.testing.assert_allclose(with_bn, folded)


def test_list_of_rules_equals_the_by_index_composite():
    rng = np.random.default_rng(3)
    net = Sequential(
        [Dense(rng.normal(size=(4, 5))), ReLU(), Dense(rng.normal(size=(5, 5))), ReLU(), Dense(rng.normal(size=(5, 3)))]
    )
    x = rng.normal(size=(2, 4))
    as_list = lrp(net, x, [rules.Gamma(0.25), rules.Epsilon(0.25), rules.Zero()], target=[0, 2])
    lecture = composites.by_index([(0, rules.Gamma(0.25)), (-1, rules.Zero())], default=rules.Epsilon(0.25))
    np.testing.assert_array_equal(lrp(net, x, lecture, target=[0, 2]), as_list)


@pytest.mark.parametrize(
    "name,rule",
    [
        ("epsilon", rules.Epsilon()),
        ("LRP-0", rules.Zero()),
        ("z+", rules.ZPlus()),
        ("alpha2beta1", rules.AlphaBeta(2, 1)),
        ("w²", rules.WSquare()),
    ],
)
def test_rule_names_mean_the_default_rules(name, rule):
    net = l5_net()
    x = np.array([[1.0, 2.0, 1.0]])
    np.testing.assert_array_equal(lrp(net, x, name, 0), lrp(net, x, rule, 0))


def test_float32_end_to_end():
    rng = np.random.default_rng(0)
    layers64 = [
        Conv2d(rng.normal(size=(3, 1, 3, 3)), rng.normal(size=3), padding=1),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Dense(rng.normal(size=(12, 4)), rng.normal(size=4)),
    ]
    layers32 = [
        Conv2d(layers64[0].weight.astype(np.float32), layers64[0].bias.astype(np.float32), padding=1),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Dense(layers64[4].weight.astype(np.float32), layers64[4].bias.astype(np.float32)),
    ]
    x = rng.uniform(0, 1, size=(2, 1, 4, 4))
    rule = composites.EpsilonGammaBox(0.0, 1.0, epsilon=0.1)
    r32 = lrp(Sequential(layers32), x.astype(np.float32), rule, target=1)
    r64 = lrp(Sequential(layers64), x, rule, target=1)
    assert r32.dtype == np.float32
    np.testing.assert_allclose(r32, r64, rtol=1e-3, atol=1e-4 * np.abs(r64).max())


def test_explaining_in_pieces_equals_explaining_the_whole_batch(monkeypatch):
    import sys

    engine = sys.modules["course.relevance.lrp"]
    rng = np.random.default_rng(4)
    net = Sequential(
        [
            Conv2d(rng.normal(size=(4, 1, 3, 3)), rng.normal(size=4), padding=1),
            ReLU(),
            MaxPool2d(2),
            Flatten(),
            Dense(rng.normal(size=(16, 3)), rng.normal(size=3)),
        ]
    )
    x = rng.uniform(0, 1, size=(7, 1, 4, 4))
    rule = composites.EpsilonGammaBox(0.0, 1.0)
    monkeypatch.setattr(engine, "_CHUNK_BYTES", 300)  # 64 floats per sample at most: one sample per piece
    assert len(engine._chunks(net, x)) == 7
    pieces = lrp(net, x, rule, [0, 1, 2, 0, 1, 2, 0])
    whole = lrp_layers(net, x, rule, [0, 1, 2, 0, 1, 2, 0]).relevances[0]
    np.testing.assert_allclose(pieces, whole, rtol=1e-12, atol=1e-14)
