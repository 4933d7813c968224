"""Grading spec of ``exercises/lrp_rules``: LRP-0, LRP-ε and z⁺ for one dense layer, then a small network.

Keys come from the course's engine (:func:`course.relevance.lrp`). The engine
explains a target logit; a layer step with an arbitrary upper relevance ``R``
is obtained from it by linearity (the activations are fixed, so the backward
pass is linear in the output relevance): ``Σ_k R_k / z_k · lrp(layer, a, rule, k)``.

Student functions (see the notebook):
``lrp0_step(a, W, b, R)``, ``lrp_eps_step(a, W, b, R, eps)``, ``zplus_step(a, W, b, R)`` with a (d,),
W (d, k), b (k,), R (k,) → (d,); ``lrp_mlp(x, params, target, eps)`` → (d,); ``layer_sums(x, params,
target, eps)`` → [Σ R at the input of every dense layer..., f_target(x)].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from autograder.grading.checkers import STUDENT_CODE, Mistake, array_close
from autograder.grading.model import AssignmentSpec, Part, Probe, call, fixed_key
from course.relevance import Dense, ReLU, rules
from course.relevance._types import FloatArray
from course.relevance.layers import Layer
from course.relevance.lrp import lrp, lrp_layers
from course.relevance.network import Sequential

#: one dense layer's inputs: activations a (d,), weights W (d, k), bias b (k,), upper relevance R (k,)
LayerArgs = tuple[FloatArray, FloatArray, FloatArray, FloatArray]
#: a network's parameters [(W, b), ...]
Params = list[tuple[FloatArray, FloatArray]]
#: a network's probe: input x (d,), parameters, target class, ε
NetworkCase = tuple[FloatArray, Params, int, float]

NAME = "lrp_rules"
#: "Use NumPy only": an answer may not use the course's engine, the grader or another XAI library
FORBIDDEN = ("course.relevance", "autograder", "zennit", "torch", "captum", "innvestigate")


def _rng_inputs(seed: int, d: int, k: int, negative_z: bool = False) -> LayerArgs:
    rng = np.random.default_rng(seed)
    a = np.round(rng.uniform(0.0, 2.0, d), 2)  # ReLU activations: a ≥ 0
    W = np.round(rng.uniform(-1.0, 1.0, (d, k)), 2)
    b = np.round(rng.uniform(-0.5, 0.5, k), 2)
    R = np.round(rng.uniform(-1.0, 2.0, k), 2)
    if negative_z:  # make the first output negative, where ε·sign(z) matters
        b[0] = np.round(-np.abs(a @ W[:, 0]) - 0.7, 2)
    return a, W, b, R


def layer_step(a: FloatArray, W: FloatArray, b: FloatArray, R: FloatArray, rule: rules.Rule) -> FloatArray:
    """One dense layer's LRP step for an arbitrary upper relevance R, via the engine and linearity.

    LRP-0 by hand: z = a @ W = [2, 1], so R_i = Σ_k a_i W_ik R_k / z_k = [1·1·4/2 + 1·0·1/1, 1·1·4/2 + 1·1·1/1].

    >>> layer_step(np.array([1.0, 1.0]), np.array([[1.0, 0.0], [1.0, 1.0]]), np.zeros(2), np.array([4.0, 1.0]),
    ...            rules.Zero(stabilizer=1e-12))
    array([2., 3.])
    """
    model = Sequential([Dense(W, b)])
    z = model(a[None])[0]
    terms = (R[k] / z[k] * lrp(model, a[None], rule, k)[0] for k in range(len(R)) if R[k] != 0)
    return sum(terms, np.zeros(len(a)))


def mlp(params: Sequence[tuple[FloatArray, FloatArray]]) -> Sequential:
    """The network Dense → ReLU → … → Dense of ``params`` = [(W, b), ...] (no ReLU after the last layer).

    >>> [type(layer).__name__ for layer in mlp([(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]).layers]
    ['Dense', 'ReLU', 'Dense']
    """
    layers: list[Layer] = []
    for i, (W, b) in enumerate(params):
        layers.append(Dense(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)))
        if i < len(params) - 1:
            layers.append(ReLU())
    return Sequential(layers)


def _eps_without_sign(a: FloatArray, W: FloatArray, b: FloatArray, R: FloatArray, eps: float) -> FloatArray:
    z = a @ W + b
    return a * (W @ (R / (z + eps)))


def _no_mistakes(args: LayerArgs) -> list[Mistake]:
    return []


def _step_probe(
    function: str,
    rule: rules.Rule,
    extra: tuple[float, ...],
    mistakes: Callable[[LayerArgs], list[Mistake]],
    inputs: LayerArgs,
    label: str,
) -> Probe:
    a, W, b, R = inputs
    return Probe(
        expression=call(function, a, W, b, R, *extra),
        key=fixed_key(layer_step, a, W, b, R, rule),
        check=array_close(**STUDENT_CODE, mistakes=mistakes(inputs)),
        label=label,
    )


def _step_probes(
    function: str,
    rule: rules.Rule,
    extra: tuple[float, ...] = (),
    mistakes: Callable[[LayerArgs], list[Mistake]] = _no_mistakes,
    negative_z: bool = False,
) -> tuple[Probe, ...]:
    return tuple(
        _step_probe(
            function, rule, extra, mistakes, _rng_inputs(seed, d, k, negative_z), f"{function} on a {d}×{k} layer"
        )
        for seed, (d, k) in ((11, (3, 2)), (12, (5, 4)))
    )


#: |z_k| of a layer drawn at grading is at least this, so no output sits at the rule's pole z = 0
_MIN_Z = 0.2


def _stabilizer_free(a: FloatArray, W: FloatArray, b: FloatArray, R: FloatArray) -> bool:
    """The z⁺ key (the engine adds 1e-6 to z⁺_k) equals the exact formula 10x inside the grading tolerance:
    no input's relevance is a near-cancelling sum, where the stabilizer alone would fail an exact answer."""
    stabilized = layer_step(a, W, b, R, rules.ZPlus())
    exact = layer_step(a, W, b, R, rules.ZPlus(stabilizer=1e-12))
    return bool(np.allclose(stabilized, exact, rtol=STUDENT_CODE["rtol"] / 10, atol=STUDENT_CODE["atol"] / 10))


def _fresh_layer(seed: int, negative_z: bool) -> LayerArgs:
    """A layer like the fixed ones, of a random size, drawn from ``seed``: redrawn while some |z_k| or z⁺_k is
    below 0.2 (a rule's denominator near its pole) or a known mistake would not show."""
    rng = np.random.default_rng(seed)
    while True:
        d, k = int(rng.integers(3, 7)), int(rng.integers(2, 5))
        a, W, b, R = _rng_inputs(int(rng.integers(2**62)), d, k, negative_z)
        z_plus = a @ np.maximum(W, 0.0) + np.maximum(b, 0.0)  # z⁺'s denominator
        poles_far = np.all(np.abs(a @ W + b) >= _MIN_Z) and np.all(z_plus >= _MIN_Z)
        # every output has a negative weight (z⁺ differs from LRP-0) and some output with R_k ≠ 0 a bias
        # |b_k| ≥ 0.1 (leaving the bias out shows): the mistakes the fixed probes catch show here too
        telling = (
            np.all((W < 0).any(axis=0))
            and np.any((np.abs(b) >= 0.1) & (R != 0))
            and np.all(np.abs(R) >= 0.1)  # every output passes relevance down (the negative one too)
            and np.all(a >= 0.05)
        )
        if poles_far and telling and _stabilizer_free(a, W, b, R):
            return a, W, b, R


def _fresh_steps(
    function: str,
    rule: rules.Rule,
    extra: tuple[float, ...] = (),
    mistakes: Callable[[LayerArgs], list[Mistake]] = _no_mistakes,
    negative_z: bool = False,
) -> Callable[[int], tuple[Probe, ...]]:
    """Two probes of ``function`` on layers drawn at grading (see "Fresh probes" in the grading model)."""

    def fresh(seed: int) -> tuple[Probe, ...]:
        probes = []
        for i in range(2):
            inputs = _fresh_layer(seed + i, negative_z)
            d, k = inputs[1].shape
            label = f"{function} on a {d}×{k} layer drawn at grading"
            probes.append(_step_probe(function, rule, extra, mistakes, inputs, label))
        return tuple(probes)

    return fresh


_NO_BIAS = "the bias b_k belongs in the denominator z_k = Σ_j a_j w_jk + b_k"


def _lrp0_mistakes(args: LayerArgs) -> list[Mistake]:
    return [(partial(layer_step, *args, rules.Zero(zero_bias=True)), _NO_BIAS)]


LRP0 = Part(
    "lrp0_step",
    2.0,
    _step_probes("lrp0_step", rules.Zero(), mistakes=_lrp0_mistakes),
    "LRP-0 for one dense layer",
    fresh=_fresh_steps("lrp0_step", rules.Zero(), mistakes=_lrp0_mistakes),
)

EPS = 0.5


def _eps_mistakes(args: LayerArgs) -> list[Mistake]:
    return [
        (
            partial(_eps_without_sign, *args, EPS),
            "where z_k < 0 the stabiliser must push z_k away from 0: z_k + ε·sign(z_k)",
        ),
        (partial(layer_step, *args, rules.Zero()), "ε does not appear: this is LRP-0"),
        (partial(layer_step, *args, rules.Epsilon(EPS, zero_bias=True)), _NO_BIAS),
    ]


LRP_EPS = Part(
    "lrp_eps_step",
    2.0,
    _step_probes("lrp_eps_step", rules.Epsilon(EPS), extra=(EPS,), negative_z=True, mistakes=_eps_mistakes),
    "LRP-ε for one dense layer",
    fresh=_fresh_steps("lrp_eps_step", rules.Epsilon(EPS), extra=(EPS,), negative_z=True, mistakes=_eps_mistakes),
)


def _zplus_mistakes(args: LayerArgs) -> list[Mistake]:
    return [
        (partial(layer_step, *args, rules.Zero()), "z⁺ keeps only the positive weights w⁺ = max(0, w)"),
        (
            partial(layer_step, *args, rules.ZPlus(zero_bias=True)),
            "the positive part of the bias, b⁺, belongs in the denominator",
        ),
    ]


ZPLUS = Part(
    "zplus_step",
    2.0,
    _step_probes("zplus_step", rules.ZPlus(), mistakes=_zplus_mistakes),
    "z⁺ for one dense layer",
    fresh=_fresh_steps("zplus_step", rules.ZPlus(), mistakes=_zplus_mistakes),
)


def _mlp_params(seed: int, sizes: tuple[int, ...]) -> Params:
    rng = np.random.default_rng(seed)
    return [
        (np.round(rng.uniform(-1, 1, (m, n)), 2), np.round(rng.uniform(-0.3, 0.3, n), 2))
        for m, n in zip(sizes[:-1], sizes[1:])
    ]


def _network_cases() -> list[NetworkCase]:
    cases: list[NetworkCase] = []
    for seed, sizes, target, eps in ((21, (4, 3, 2), 1, 0.25), (22, (5, 6, 4, 3), 0, 0.01)):
        params = _mlp_params(seed, sizes)
        x = np.round(np.random.default_rng(seed + 100).uniform(0, 1, sizes[0]), 2)
        cases.append((x, params, target, eps))
    return cases


def _pre_activations(x: FloatArray, params: Params) -> list[FloatArray]:
    out: list[FloatArray] = []
    a = x
    for i, (W, b) in enumerate(params):
        z = a @ W + b
        out.append(z)
        a = np.maximum(z, 0.0) if i < len(params) - 1 else z
    return out


def _fresh_network(seed: int) -> NetworkCase:
    """A network case like the fixed ones, drawn from ``seed``: 2-3 dense layers, every |z| ≥ 0.05 and the
    target's logit ≥ 0.2 (no neuron at a ReLU's kink or the rule's pole), relevance reaching the input."""
    rng = np.random.default_rng(seed)
    while True:
        sizes = tuple(int(n) for n in rng.integers(2, 6, size=int(rng.integers(3, 5))))
        params = _mlp_params(int(rng.integers(2**62)), sizes)
        x = np.round(rng.uniform(0, 1, sizes[0]), 2)
        target = int(rng.integers(sizes[-1]))
        z = _pre_activations(x, params)
        eps = float(rng.choice([0.01, 0.1, 0.25]))
        if not (all(np.all(np.abs(zi) >= 0.05) for zi in z) and z[-1][target] >= 0.2):
            continue
        # relevance reaches the input (no dead layer) and the target logit is not 1 (R = 1 would not show)
        if np.abs(_mlp_key(x, params, target, eps)).max() >= 0.05 and abs(z[-1][target] - 1.0) >= 0.05:
            return x, params, target, eps


def _mlp_key(x: FloatArray, params: Params, target: int, eps: float) -> FloatArray:
    relevance: FloatArray = lrp(mlp(params), x[None], rules.Epsilon(eps), target)[0]  # one input's row
    return relevance


def _sums_key(x: FloatArray, params: Params, target: int, eps: float) -> FloatArray:
    model = mlp(params)
    totals = lrp_layers(model, x[None], rules.Epsilon(eps), target).totals[:, 0]
    return np.array([totals[i] for i in model.linear_layers] + [totals[-1]])


def _other_output(x: FloatArray, params: Params, target: int, eps: float) -> FloatArray:
    n_out = len(params[-1][1])
    return _mlp_key(x, params, (target + 1) % n_out, eps)


def _network_probe(
    function: str,
    key: Callable[[FloatArray, Params, int, float], FloatArray],
    label: str,
    mistakes: Callable[[NetworkCase], list[Mistake]],
    case: NetworkCase,
) -> Probe:
    x, params, target, eps = case
    return Probe(
        expression=call(function, x, [list(p) for p in params], target, eps),
        key=fixed_key(key, x, params, target, eps),
        check=array_close(**STUDENT_CODE, mistakes=mistakes(case)),
        label=label.format(layers=len(params)),
    )


def _network_probes(
    function: str,
    key: Callable[[FloatArray, Params, int, float], FloatArray],
    label: str,
    mistakes: Callable[[NetworkCase], list[Mistake]] = lambda case: [],
) -> tuple[Probe, ...]:
    """A probe of the student's ``function(x, params, target, eps)`` per network case; ``label`` may name
    ``{layers}``."""
    return tuple(_network_probe(function, key, label, mistakes, case) for case in _network_cases())


def _fresh_networks(
    function: str,
    key: Callable[[FloatArray, Params, int, float], FloatArray],
    label: str,
    mistakes: Callable[[NetworkCase], list[Mistake]] = lambda case: [],
) -> Callable[[int], tuple[Probe, ...]]:
    """One probe of ``function`` on a network drawn at grading (see "Fresh probes" in the grading model)."""

    def fresh(seed: int) -> tuple[Probe, ...]:
        return (_network_probe(function, key, label + " drawn at grading", mistakes, _fresh_network(seed)),)

    return fresh


def _mlp_mistakes(case: NetworkCase) -> list[Mistake]:
    return [
        (partial(_other_output, *case), "this explains another output: start from R = one-hot(target) × logits"),
    ]


NETWORK = Part(
    "lrp_mlp",
    3.0,
    _network_probes("lrp_mlp", _mlp_key, "lrp_mlp on a {layers}-layer network", _mlp_mistakes),
    "LRP-ε through a small ReLU network",
    fresh=_fresh_networks("lrp_mlp", _mlp_key, "lrp_mlp on a {layers}-layer network", _mlp_mistakes),
)

CONSERVATION = Part(
    "layer_sums",
    1.0,
    _network_probes("layer_sums", _sums_key, "layer_sums"),
    "relevance per layer (conservation)",
    fresh=_fresh_networks("layer_sums", _sums_key, "layer_sums on a {layers}-layer network"),
)

SPEC = AssignmentSpec(
    NAME,
    (LRP0, LRP_EPS, ZPLUS, NETWORK, CONSERVATION),
    notebook="lrp_rules.ipynb",
    module=__name__,
    forbidden=FORBIDDEN,
)
