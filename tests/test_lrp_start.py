"""Where the relevance starts (``output_relevance=``, Zennit's ``attr_output``) and the logits given back.

Against Zennit with the same seeds: tests/test_lrp_zennit.py::test_output_relevance_equals_zennits_attr_output.
"""

import numpy as np
import pytest

from course.errors import CourseError
from course.relevance import Dense, ReLU, Sequential, lrp, lrp_layers, rules
from course.relevance.network import output_relevance

Z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])


def bias_free_net(seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(rng.normal(size=(4, 6))), ReLU(), Dense(rng.normal(size=(6, 3)))])


def test_starts_by_hand():
    np.testing.assert_array_equal(output_relevance(Z, [0, 1]), [[2.0, 0, 0], [0, 3.0, 0]])
    np.testing.assert_array_equal(output_relevance(Z, [0, 1], "one-hot"), [[1.0, 0, 0], [0, 1.0, 0]])
    # contrastive: z_t on the target, −z_k/(C−1) elsewhere; adds up to z_t − mean of the others
    np.testing.assert_allclose(output_relevance(Z, [0, 1], "contrastive"), [[2.0, 0.5, -0.25], [0.0, 3.0, -0.5]])
    # softmax: p_t(δ_tk − p_k); for z = (0, 0): p = (½, ½), the target gets ¼ and the other −¼
    np.testing.assert_allclose(output_relevance(np.zeros((1, 2)), 1, "softmax"), [[-0.25, 0.25]])


@pytest.mark.parametrize("start", ["logit", "one-hot", "contrastive", "softmax"])
def test_exact_lrp0_without_bias_conserves_any_start(start):
    net, x = bias_free_net(), np.abs(np.random.default_rng(1).normal(size=(5, 4)))
    trace = lrp_layers(net, x, rules.Zero(), [0, 1, 2, 0, 1], output_relevance=start)
    expected = output_relevance(net(x), [0, 1, 2, 0, 1], start).sum(axis=1)
    np.testing.assert_allclose(trace.relevances[0].sum(axis=1), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trace.logits, net(x))


def top_two(z, t):
    """The two largest logits of every sample (a start of the user's own)."""
    return np.where(z >= np.sort(z, axis=1)[:, -2:-1], z, 0.0)


def test_a_function_or_an_array_can_start_the_relevance():
    net, x = bias_free_net(2), np.ones((2, 4))
    logits = net(x)
    got, out = lrp(net, x, rules.Epsilon(0.1), 0, output_relevance=top_two, return_logits=True)
    np.testing.assert_allclose(out, logits)
    np.testing.assert_allclose(got, lrp(net, x, rules.Epsilon(0.1), 0, output_relevance=top_two(logits, None)))


@pytest.mark.parametrize(
    "start,message",
    [
        ("softmin", "output_relevance must be one of logit, one-hot"),
        (np.ones((2, 2)), "finite numbers shaped like the logits"),
        (np.ones((3, 3)), "3 rows for a batch of 2 samples"),
        (lambda z, t: z[:, :1], "shaped like the logits"),
    ],
)
def test_bad_output_relevance_is_refused(start, message):
    with pytest.raises(CourseError, match=message):
        lrp(bias_free_net(), np.ones((2, 4)), rules.Zero(), 0, output_relevance=start)
