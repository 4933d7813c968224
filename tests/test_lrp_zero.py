"""Exact LRP-0 (L7, L8): ``rules.Zero()`` divides without a stabilizer, as Zennit's ``Epsilon(epsilon=0)``.

Against Zennit on random networks: tests/test_lrp_zennit.py (its ``zero`` configurations are Zennit's
Epsilon(0)). Here: hand values that hold to the last bit, and what happens where a denominator is 0.
"""

import numpy as np

from course.relevance import Dense, ReLU, Sequential, lrp, lrp_layers, rules


def test_zero_is_exact_on_the_l5_net():
    # x = (1, 2, 1): hidden z = (3, 3, 0), f = 9; R_hidden = (3, 6, 0), R_input = (1, 6, 2) (see test_lrp_hand)
    w1 = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, -1.0]])
    net = Sequential([Dense(w1), ReLU(), Dense([[1.0], [2.0], [1.0]])])
    trace = lrp_layers(net, np.array([[1.0, 2.0, 1.0]]), rules.Zero(), target=0)
    np.testing.assert_allclose(trace.relevances[2], [[3.0, 6.0, 0.0]], rtol=1e-15, atol=0)
    np.testing.assert_allclose(trace.relevances[0], [[1.0, 6.0, 2.0]], rtol=1e-15, atol=0)
    assert np.all(trace.stabilizer[0] == 0) and np.all(trace.stabilizer[2] == 0)


def test_the_default_stabilizer_is_gone():
    # one neuron z = 1·1 + 1e-3·1 = 1.001 (no bias): exact LRP-0 gives R = (1, 1e-3) · (1.001/1.001) to 1e-16;
    # the former ε = 1e-6 would scale it by 1.001/1.001001 (a 1e-6 relative error)
    net = Sequential([Dense([[1.0], [1e-3]])])
    got = lrp(net, np.array([[1.0, 1.0]]), rules.Zero(), 0)
    np.testing.assert_allclose(got, [[1.0, 1e-3]], rtol=1e-15)


def test_epsilon_zero_is_zero():
    rng = np.random.default_rng(3)
    net = Sequential([Dense(rng.normal(size=(4, 5)), rng.normal(size=5)), ReLU(), Dense(rng.normal(size=(5, 3)))])
    x = rng.normal(size=(6, 4))
    np.testing.assert_array_equal(lrp(net, x, rules.Epsilon(0.0), 1), lrp(net, x, rules.Zero(), 1))
    assert repr(rules.Zero()) == "Zero()" and repr(rules.Zero(stabilizer=0.1)) == "Zero(stabilizer=0.1)"


def test_an_output_with_zero_denominator_passes_no_relevance():
    # bottom Dense: x = (1, 1), w = ((1, 1), (-1, 1)) → z = (0, 2); top: f = z_0 + z_1 + 3 = 5.
    # Flat on the top layer gives each hidden unit half of f whatever its value: R_hidden = (2.5, 2.5),
    # although z_0 = 0. LRP-0 cannot share R_0 (Zennit: 0/0 = NaN); here it is dropped, and z_1 = 2
    # shares R_1 = 2.5 as a ⊙ w[:, 1] / z_1 · R_1 = (1, 1) · 1/2 · 2.5.
    net = Sequential([Dense([[1.0, 1.0], [-1.0, 1.0]]), Dense([[1.0], [1.0]], [3.0])])
    trace = lrp_layers(net, np.array([[1.0, 1.0]]), [rules.Zero(), rules.Flat(stabilizer=0.0)], 0)
    np.testing.assert_allclose(trace.relevances[1], [[2.5, 2.5]], rtol=1e-15)
    np.testing.assert_allclose(trace.relevances[0], [[1.25, 1.25]], rtol=1e-15)
    np.testing.assert_allclose(trace.rest[0], [2.5])  # the dropped share: Σ R_out − Σ R_in − bias − stabilizer
