"""Every rule and composite against Zennit 0.5.1 (fixtures made by tests/fixtures/make_zennit_fixtures.py).

The fixtures hold random float64 networks (an MLP with BatchNorm; CNNs with padding, stride, max- and
avg-pooling, overlapping pools), inputs whose target logits are both positive and negative, and Zennit's
input relevance. The bar: relative error ≤ 1e-9 (max |R − R_zennit| / max |R_zennit| per sample).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from course.relevance import composites, lrp, rules
from course.relevance import layers as L
from course.relevance.network import Sequential
from course.relevance.residual import Concat, Residual

FIXTURES = Path(__file__).parent / "fixtures"
FILES = sorted(FIXTURES.glob("zennit_*.npz"))


def load(path):
    data = dict(np.load(path))
    meta = json.loads(str(data.pop("meta")))
    return data, meta


POOL_OPTIONS = ("padding", "count_include_pad")


def build_model(data, arch, prefix="p"):
    layers = []
    for i, entry in enumerate(arch):
        kind, p = entry["type"], (lambda k, i=i: data[f"{prefix}{i}_{k}"])
        if kind in ("residual", "concat"):
            branches = [
                None if b is None else build_model(data, b, f"{prefix}{i}.{k}.")
                for k, b in enumerate(entry["branches"])
            ]
            layers.append(Residual(*branches) if kind == "residual" else Concat(*branches))
        elif kind == "dense":
            layers.append(L.Dense(p("weight"), p("bias")))
        elif kind == "conv":
            options = {k: entry[k] for k in ("stride", "padding", "dilation", "groups") if k in entry}
            layers.append(L.Conv2d(p("weight"), p("bias"), **options))
        elif kind == "bn":
            layers.append(L.BatchNorm(p("mean"), p("var"), p("weight"), p("bias"), eps=entry["eps"]))
        elif kind in ("maxpool", "avgpool"):
            cls = L.MaxPool2d if kind == "maxpool" else L.AvgPool2d
            layers.append(cls(entry["kernel"], entry["stride"], **{k: entry[k] for k in POOL_OPTIONS if k in entry}))
        elif kind == "leakyrelu":
            layers.append(L.LeakyReLU(entry["negative_slope"]))
        else:
            layers.append(
                {
                    "relu": L.ReLU,
                    "tanh": L.Tanh,
                    "sigmoid": L.Sigmoid,
                    "flatten": L.Flatten,
                    "globalavgpool": L.GlobalAvgPool2d,
                }[kind]()
            )
    return Sequential(layers)


def make_rule(spec):
    kwargs = {k: v for k, v in spec.items() if k != "rule"}
    if spec["rule"] == "ZBox" and np.ndim(spec["low"]):  # per channel: shape (C, 1, 1)
        kwargs["low"], kwargs["high"] = (np.reshape(spec[k], (-1, 1, 1)) for k in ("low", "high"))
    return getattr(rules, spec["rule"])(**kwargs)


def make(spec):
    if isinstance(spec, list):
        return [make_rule(s) for s in spec]
    if "composite" in spec:
        kwargs = {k: v for k, v in spec.items() if k != "composite"}
        return getattr(composites, spec["composite"])(**kwargs)
    return make_rule(spec)


CASES = [(path, name) for path in FILES for name in load(path)[1]["configs"]]


def relative_error(got, ref):
    """Per sample max |got − ref| / max |ref|, worst sample (a sample whose reference is all zero must be zero).

    Only where Zennit is finite: exact LRP-0 gives NaN there where a denominator is 0 (0/0), and the NaN
    spreads to every input wired to it; the course engine must stay finite everywhere.
    """
    assert np.all(np.isfinite(got))
    got, ref = got.reshape(len(got), -1), ref.reshape(len(ref), -1)
    finite = np.isfinite(ref)
    diff, scale = np.where(finite, np.abs(got - ref), 0.0), np.where(finite, np.abs(ref), 0.0)
    return (diff.max(axis=1) / np.maximum(scale.max(axis=1), 1e-300)).max()


def test_fixtures_exist_and_cover_every_rule_and_composite():
    assert len(FILES) >= 7
    seen = set()
    for path in FILES:
        for spec in load(path)[1]["configs"].values():
            for s in spec if isinstance(spec, list) else [spec]:
                seen.add(s.get("rule") or s.get("composite"))
    assert {
        "Zero",
        "Epsilon",
        "Gamma",
        "AlphaBeta",
        "ZPlus",
        "Flat",
        "WSquare",
        "ZBox",
        "EpsilonGammaBox",
        "EpsilonPlusFlat",
        "EpsilonAlpha2Beta1",
    } <= seen


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_forward_pass_and_negative_targets(path):
    data, meta = load(path)
    logits = build_model(data, meta["arch"])(data["x"])
    np.testing.assert_allclose(logits, data["logits"], rtol=1e-12, atol=1e-12)
    chosen = logits[np.arange(len(logits)), data["target"]]
    assert (chosen < 0).any() and (chosen > 0).any()


@pytest.mark.parametrize("path,name", CASES, ids=[f"{p.stem[7:]}-{n}" for p, n in CASES])
def test_relevance_equals_zennit(path, name):
    data, meta = load(path)
    model = build_model(data, meta["arch"])
    got = lrp(model, data["x"], make(meta["configs"][name]), data["target"])
    ref = data[f"R_{name}"]
    assert got.shape == ref.shape and got.dtype == np.float64
    assert relative_error(got, ref) <= 1e-9


def test_mlp_box_rule_choice_differs_from_zennits_default():
    """On an MLP, EpsilonGammaBox's default (box rule at the input) is not Zennit's (Epsilon at the input)."""
    data, meta = load(FIXTURES / "zennit_mlp.npz")
    model = build_model(data, meta["arch"])
    ours = lrp(model, data["x"], composites.EpsilonGammaBox(-1.0, 1.0), data["target"])
    assert relative_error(ours, data["R_egb_box_dense"]) <= 1e-9
    assert relative_error(ours, data["R_egb"]) > 1e-3


STARTS = [(path, start) for path in FILES for start in load(path)[1].get("starts", {})]


@pytest.mark.parametrize("path,start", STARTS, ids=[f"{p.stem[7:]}-{s}" for p, s in STARTS])
def test_output_relevance_equals_zennits_attr_output(path, start):
    """one-hot, contrastive and softmax (SGLRP) starts: Zennit given the same seed, computed with torch."""
    data, meta = load(path)
    model = build_model(data, meta["arch"])
    rule = make(meta["configs"][meta["starts"][start]])
    got, logits = lrp(model, data["x"], rule, data["target"], output_relevance=start, return_logits=True)
    np.testing.assert_allclose(logits, data["logits"], rtol=1e-12, atol=1e-12)
    assert relative_error(got, data[f"S_{start}"]) <= 1e-9
