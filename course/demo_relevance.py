"""The engine demo (L26): a handful of bundled digits explained with every method, side by side.

``run(out_dir)`` loads the bundled digits MLP and CNN, fits PatternNet's
patterns on the training digits, explains a few test digits (target = the true
class) with the gradient family, every LRP rule, the composites, Deep Taylor,
PatternNet and PatternAttribution, and writes to ``out_dir``:

* ``relevance_<model>.png`` -- the comparison grids (input, then the methods of one family per section);
* ``conservation.md`` -- per method and model: Σ input relevance against the
  target logit f(x), what biases and stabilisers absorbed (LRP family), and the
  AOPC of pixel flipping (most relevant pixels first, replaced by 0);
  plus the per-layer budget of one composite.

``xai-course demo --engine-only`` runs it from the command line (into ``demo_output/``);
``xai-course demo`` runs it before the grading demo (:mod:`autograder.demo`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from course.datasets import digits
from course.errors import CourseError
from course.relevance import composites, models
from course.relevance import rules as R
from course.relevance.evaluate import conservation_report, pixel_flipping
from course.relevance.gradients import (
    deconvnet,
    gradient,
    gradient_x_input,
    guided_backprop,
    integrated_gradients,
    smoothgrad,
)
from course.relevance.lrp import lrp
from course.relevance.pattern import fit_patterns, patternattribution, patternnet
from course.relevance.taylor import deep_taylor_rules

__all__ = ["Method", "all_methods", "method_families", "explain_all", "run"]

EPS, GAMMA, LOW, HIGH = 0.25, 0.25, 0.0, 1.0  # L9: ε and γ of the lecture; digit pixels lie in [0, 1]


#: the families the methods are shown in (L19's functions / signals / attributions, the LRP rules split by
#: where they apply), in the order of :func:`all_methods`; each is one figure of at most six columns
FUNCTIONS, SIGNALS, LRP_RULES, INPUT_RULES, COMPOSITES, ROOT_POINTS = (
    "functions: gradient and its variants",
    "signals: DeconvNet, Guided Backprop, PatternNet",
    "LRP: one rule on every layer",
    "LRP: input-layer rules (L15), LRP-ε above",
    "LRP composites: rules by layer type or depth (L9)",
    "root-point methods: Deep Taylor and PatternAttribution",
)


class Method:
    """A named explanation method: ``explain(x, target)``; ``rule`` is set for the LRP family."""

    def __init__(self, name: str, explain: Callable, rule=None, family: str = ""):
        self.name, self.explain, self.rule, self.family = name, explain, rule, family


def method_families(methods) -> dict[str, list[str]]:
    """``{family: [method names]}`` in the order the methods come, for :func:`course.plotting.family_grids`.

    >>> method_families([Method("a", None, family="f"), Method("b", None, family="g"), Method("c", None, family="f")])
    {'f': ['a', 'c'], 'g': ['b']}
    """
    families: dict[str, list[str]] = {}
    for m in methods:
        families.setdefault(m.family, []).append(m.name)
    return families


def all_methods(model, patterns) -> list[Method]:
    """Every method of the course on ``model`` (inputs in [0, 1]); ``patterns`` from :func:`fit_patterns`."""
    n_linear = len(model.linear_layers)

    def at_input(rule):  # an input-layer rule (L15) with LRP-ε above it
        return [rule] + [R.Epsilon(EPS) for _ in range(n_linear - 1)]

    def lrp_method(name, rule, family):
        return Method(name, lambda x, t: lrp(model, x, rule, t), rule, family)

    lecture = composites.by_index([(0, R.Gamma(GAMMA)), (-1, R.Zero())], default=R.Epsilon(EPS))
    return [
        Method("gradient", lambda x, t: gradient(model, x, t), family=FUNCTIONS),
        Method("gradient × input", lambda x, t: gradient_x_input(model, x, t), family=FUNCTIONS),
        Method(
            "SmoothGrad\nn=50, σ=0.15", lambda x, t: smoothgrad(model, x, t, n=50, sigma=0.15, seed=0), family=FUNCTIONS
        ),
        Method(
            "Integrated Gradients\nx₀=0, 64 steps",
            lambda x, t: integrated_gradients(model, x, t, steps=64),
            family=FUNCTIONS,
        ),
        Method("DeconvNet", lambda x, t: deconvnet(model, x, t), family=SIGNALS),
        Method("Guided Backprop", lambda x, t: guided_backprop(model, x, t), family=SIGNALS),
        lrp_method("LRP-0", R.Zero(), LRP_RULES),
        lrp_method(f"LRP-ε\nε={EPS}", R.Epsilon(EPS), LRP_RULES),
        lrp_method(f"LRP-γ\nγ={GAMMA}", R.Gamma(GAMMA), LRP_RULES),
        lrp_method("LRP-αβ\nα=2, β=1", R.AlphaBeta(2, 1), LRP_RULES),
        lrp_method("LRP-z⁺", R.ZPlus(), LRP_RULES),
        lrp_method(f"flat in,\nε={EPS} above", at_input(R.Flat()), INPUT_RULES),
        lrp_method(f"w² in,\nε={EPS} above", at_input(R.WSquare()), INPUT_RULES),
        lrp_method(f"z^B in [0,1],\nε={EPS} above", at_input(R.ZBox(LOW, HIGH)), INPUT_RULES),
        lrp_method(
            "EpsilonGammaBox\nε=γ=0.25", composites.EpsilonGammaBox(LOW, HIGH, epsilon=EPS, gamma=GAMMA), COMPOSITES
        ),
        lrp_method(f"EpsilonPlusFlat\nε={EPS}", composites.EpsilonPlusFlat(epsilon=EPS), COMPOSITES),
        lrp_method(f"EpsilonAlpha2Beta1\nε={EPS}", composites.EpsilonAlpha2Beta1(epsilon=EPS), COMPOSITES),
        lrp_method("lecture composite (L10)\n0 top, ε mid, γ bottom", lecture, COMPOSITES),
        lrp_method("Deep Taylor\nz^B in, z⁺ above", deep_taylor_rules(model, "zbox", LOW, HIGH), ROOT_POINTS),
        Method("PatternNet\n(a₊)", lambda x, t: patternnet(model, x, t, patterns), family=SIGNALS),
        Method(
            "PatternAttribution\n(w ⊙ a₊)", lambda x, t: patternattribution(model, x, t, patterns), family=ROOT_POINTS
        ),
    ]


def pick_digits(layout: str, classes=(0, 3, 7, 8)):
    """The first test digit of each class in ``classes``: (x, labels)."""
    _check_classes(classes)
    x, y = digits("test", layout=layout)
    idx = [int(np.flatnonzero(y == c)[0]) for c in classes]
    return x[idx], y[idx]


def _check_classes(classes) -> None:
    unknown = [c for c in classes if c not in range(10)]
    if unknown or not classes:
        raise CourseError(f"classes must be digits 0..9, got {list(classes)}")


def explain_all(model, x, target, patterns) -> dict[str, np.ndarray]:
    """``{method name: relevance}`` for every method of :func:`all_methods`."""
    return {m.name: m.explain(x, target) for m in all_methods(model, patterns)}


def _flat(name: str) -> str:
    return name.replace("\n", " ")


def _budget_rows(model, x, target, methods, maps) -> list[str]:
    logits = model(x)[np.arange(len(x)), target]
    rows = []
    for m in methods:
        total = maps[m.name].reshape(len(x), -1).sum(axis=1)
        bias = stab = "–"
        if m.rule is not None:
            report = conservation_report(model, x, m.rule, target)
            bias = f"{sum(r[5] for r in report.rows) / len(x):+.3f}"
            stab = f"{sum(r[6] for r in report.rows) / len(x):+.2e}"
        curve = pixel_flipping(model, x, maps[m.name], target, steps=16, per_step=2, baseline=0.0)
        rows.append(
            f"| {_flat(m.name)} | {total.mean():.3f} | {logits.mean():.3f} | "
            f"{total.sum() / logits.sum():.1%} | {bias} | {stab} | {curve.aopc():.3f} |"
        )
    gap = logits - model(np.zeros_like(x))[np.arange(len(x)), target]
    rows += [
        "",
        f"Integrated Gradients sums to f(x) − f(x₀) (completeness), here {gap.mean():.3f} on average; "
        "PatternNet shows the estimated signal, not a relevance, so its sum is not meant to match f(x).",
    ]
    return rows


def run(out_dir="demo_output", classes=(0, 3, 7, 8), model_names=("digits_mlp", "digits_cnn"), log=print) -> dict:
    """Explain bundled digits with every method; write the comparison figures and ``conservation.md``.

    Returns a dict with the written paths (``figures``, ``table``) and the relevance maps per model.
    """
    from course.plotting.heatmaps import family_figure

    _check_classes(classes)  # before anything is written
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Conservation and pixel flipping of every method",
        "",
        "Test digits of classes " + ", ".join(map(str, classes)) + ", target = the true class; "
        "means over these samples. Σ R = total input relevance, f(x) = the target logit "
        "(LRP puts it on the output, L4). *bias* and *stabiliser*: relevance those absorbed, summed over layers "
        "(LRP family only; L8). AOPC: area over the pixel-flipping curve, most relevant first, "
        "2 pixels per step, 16 steps, replaced by 0 (Samek et al. 2017; higher = more faithful).",
        "",
    ]
    written, maps_by_model = [], {}
    for name in model_names:
        start = time.perf_counter()
        model = models.load(name)
        layout = "image" if name.endswith("cnn") else "flat"
        patterns = fit_patterns(model, digits("train", layout=layout)[0], kind="relu")
        x, y = pick_digits(layout, classes)
        methods = all_methods(model, patterns)
        maps = {m.name: m.explain(x, y) for m in methods}
        maps_by_model[name] = maps
        fig = family_figure(
            x,
            maps,
            method_families(methods),
            row_titles=[f"digit {c}" for c in y],
            title=f"{name} (test accuracy {models.info(name)['test_accuracy']:.1%}): every method",
        )
        path = out / f"relevance_{name}.png"
        fig.savefig(path, dpi=110)
        written.append(path)
        lines += [
            f"## {name}",
            "",
            "| method | Σ R | f(x) | Σ R / f(x) | bias | stabiliser | AOPC |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += _budget_rows(model, x, y, methods, maps)
        composite = composites.EpsilonGammaBox(LOW, HIGH, epsilon=EPS, gamma=GAMMA)
        lines += [
            "",
            f"Per-layer budget of EpsilonGammaBox (ε = γ = 0.25) on {name}:",
            "",
            conservation_report(model, x, composite, y).to_markdown(),
            "",
        ]
        if log:
            log(f"{name}: {len(methods)} methods on {len(x)} digits in {time.perf_counter() - start:.1f} s -> {path}")
    table = out / "conservation.md"
    table.write_text("\n".join(lines), encoding="utf-8")
    if log:
        log(f"conservation table -> {table}")
    return {"figures": written, "table": table, "maps": maps_by_model}
