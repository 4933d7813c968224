"""Write the source notebooks of the course's nbgrader assignments (instructor versions, no outputs).

    python exercises/build_notebooks.py            # rewrite every exercises/<name>/<name>.ipynb
    python exercises/build_notebooks.py backdoor   # only one

The notebooks are data; this script is their source of truth, and
tests/test_exercises.py checks that the committed files equal its output.
Hidden tests call the grading specs in autograder/grading/assignments/ (see
autograder.grading.hidden), so the nbgrader route and the sandboxed grader use
the same checkers. The quiz's answer keys live beside its source, in
quiz7/keys_quiz7.toml (instructors only; nbgrader_config.py keeps them out of
the release).

The script is long (~740 lines) because it holds the five notebooks' text and solutions, one builder
function per assignment; the code that turns them into cells is ``autograder/grading/cells.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from autograder.grading.cells import hidden_check, locked_code, markdown, notebook, solution, tests_cell

HERE = Path(__file__).resolve().parent


# ===================================================================== lrp_rules


def lrp_rules():
    A = "lrp_rules"
    return notebook(
        [
            markdown(
                r"""
# Упражнение: правила LRP / Exercise: LRP rules (Lecture 7, L7–L8, L12)

You will implement the relevance step of one dense layer for three rules and then explain a
small ReLU network. Notation (L8): a layer computes $z_k = \sum_j a_j w_{jk} + b_k$ from the
activations $a$ (shape `(d,)`), weights $W$ (shape `(d, k)`) and bias $b$ (shape `(k,)`);
$R$ (shape `(k,)`) is the relevance of its outputs. Each function returns the relevance of the
inputs, shape `(d,)`.

The test cells show a few checks you can run yourself; more (hidden) checks decide the grade.
Use NumPy only.
""",
                "intro",
            ),
            locked_code("setup", "import numpy as np"),
            markdown(
                r"""
## 1. LRP-0 (2 points)

$$R_j = \sum_k \frac{a_j w_{jk}}{z_k} R_k, \qquad z_k = \sum_j a_j w_{jk} + b_k .$$

Montavon's four lines: `z = a @ W + b`, `s = R / z`, `c = W @ s`, `R_in = a * c`.
""",
                "lrp0_text",
            ),
            solution(
                "lrp0_step_solution",
                'def lrp0_step(a, W, b, R):\n    """LRP-0 for one dense layer."""',
                """
    z = a @ W + b
    s = R / z
    return a * (W @ s)
""".rstrip(),
            ),
            tests_cell(
                "lrp0_step",
                2,
                """
# by hand: a = (1, 2), one output with w = (1, 1), b = 1, so z = 4; R = 4 gives R_in = (1, 2)
R_in = lrp0_step(np.array([1.0, 2.0]), np.array([[1.0], [1.0]]), np.array([1.0]), np.array([4.0]))
assert np.shape(R_in) == (2,), "return one relevance per input, shape (d,)"
assert np.allclose(R_in, [1.0, 2.0]), "check the formula on this hand example"
""",
                hidden_check(A, "lrp0_step"),
            ),
            markdown(
                r"""
## 2. LRP-ε (2 points)

$$R_j = \sum_k \frac{a_j w_{jk}}{z_k + \varepsilon\,\mathrm{sign}(z_k)} R_k, \qquad \mathrm{sign}(0) = +1 .$$

The stabiliser always pushes $z_k$ *away* from zero, also where $z_k < 0$.
""",
                "eps_text",
            ),
            solution(
                "lrp_eps_step_solution",
                'def lrp_eps_step(a, W, b, R, eps):\n    """LRP-ε for one dense layer."""',
                """
    z = a @ W + b
    z = z + eps * np.where(z >= 0, 1.0, -1.0)
    return a * (W @ (R / z))
""".rstrip(),
            ),
            tests_cell(
                "lrp_eps_step",
                2,
                """
# by hand: z = 3, eps = 1: R_in = (1, 2) * 3 / 4
R_in = lrp_eps_step(np.array([1.0, 2.0]), np.array([[1.0], [1.0]]), np.array([0.0]), np.array([3.0]), 1.0)
assert np.allclose(R_in, [0.75, 1.5]), "check the formula on this hand example"
# a negative output: z = -3, eps = 1 -> denominator -4
R_in = lrp_eps_step(np.array([1.0, 2.0]), np.array([[-1.0], [-1.0]]), np.array([0.0]), np.array([-3.0]), 1.0)
assert np.allclose(R_in, [-0.75, -1.5]), "for z < 0 the denominator is z - eps"
""",
                hidden_check(A, "lrp_eps_step"),
            ),
            markdown(
                r"""
## 3. z⁺ (2 points)

For non-negative activations $a \ge 0$ (L12):
$$R_j = \sum_k \frac{a_j w_{jk}^+}{\sum_j a_j w_{jk}^+ + b_k^+} R_k, \qquad w^+ = \max(0, w),\ b^+ = \max(0, b).$$
""",
                "zplus_text",
            ),
            solution(
                "zplus_step_solution",
                'def zplus_step(a, W, b, R):\n    """z+ for one dense layer with a >= 0."""',
                """
    Wp = np.maximum(W, 0)
    z = a @ Wp + np.maximum(b, 0)
    z = z + 1e-12 * np.where(z >= 0, 1.0, -1.0)
    return a * (Wp @ (R / z))
""".rstrip(),
            ),
            tests_cell(
                "zplus_step",
                2,
                """
# by hand: a = (1, 2, 1), w = (1, -1, 3), b = 0, R = 2: shares 1 : 0 : 3
R_in = zplus_step(np.array([1.0, 2.0, 1.0]), np.array([[1.0], [-1.0], [3.0]]), np.array([0.0]), np.array([2.0]))
assert np.allclose(R_in, [0.5, 0.0, 1.5]), "check the formula on this hand example"
assert np.all(R_in >= 0), "z+ relevances of a positive R are never negative"
""",
                hidden_check(A, "zplus_step"),
            ),
            markdown(
                r"""
## 4. A small network (3 points)

`params` is a list of `(W, b)` pairs; the network is Dense → ReLU → Dense → ReLU → … → Dense
(no ReLU after the last layer). Explain output `target`: start from
$R = \text{one-hot}(\text{target}) \times \text{logits}$ and apply **your** `lrp_eps_step` with the
same `eps` in every dense layer, from the top down. A ReLU passes relevance through unchanged.
Return the relevance of the input `x` (shape `(d,)`). `forward` below gives you every layer's input
and the logits.
""",
                "mlp_text",
            ),
            locked_code(
                "forward",
                """
def forward(x, params):
    \"\"\"[x, input of dense layer 2, ..., logits]: the activations of the network, bottom-up.\"\"\"
    activations = [np.asarray(x, dtype=float)]
    for i, (W, b) in enumerate(params):
        z = activations[-1] @ np.asarray(W) + np.asarray(b)
        activations.append(np.maximum(z, 0) if i < len(params) - 1 else z)
    return activations
""",
            ),
            solution(
                "lrp_mlp_solution",
                'def lrp_mlp(x, params, target, eps):\n    """LRP-ε through a ReLU network."""',
                """
    activations = forward(x, params)
    R = np.zeros_like(activations[-1])
    R[target] = activations[-1][target]
    for i in range(len(params) - 1, -1, -1):
        W, b = params[i]
        R = lrp_eps_step(activations[i], np.asarray(W), np.asarray(b), R, eps)
    return R
""".rstrip(),
            ),
            tests_cell(
                "lrp_mlp",
                3,
                """
# by hand: identity hidden layer, then sum: logit = x1 + x2 = 3; with tiny eps R = x
params = [(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
R_in = lrp_mlp(np.array([1.0, 2.0]), params, 0, 1e-9)
assert np.shape(R_in) == (2,), "return one relevance per input"
assert np.allclose(R_in, [1.0, 2.0]), "check this hand example (a ReLU passes relevance through)"
""",
                hidden_check(A, "lrp_mlp"),
            ),
            markdown(
                r"""
## 5. Conservation (1 point)

Return the list of the total relevance at the input of every dense layer (bottom-up), followed
by the target logit $f_\text{target}(x)$: `[ΣR at layer 1 input, ΣR at layer 2 input, …, f_target(x)]`.
Without biases and with $\varepsilon \to 0$ all entries are equal (L4); the differences are what
the biases and $\varepsilon$ absorbed (L8).
""",
                "sums_text",
            ),
            solution(
                "layer_sums_solution",
                "def layer_sums(x, params, target, eps):\n"
                '    """Total relevance per layer, bottom-up, then the target logit."""',
                """
    activations = forward(x, params)
    R = np.zeros_like(activations[-1])
    R[target] = activations[-1][target]
    sums = [R.sum()]
    for i in range(len(params) - 1, -1, -1):
        W, b = params[i]
        R = lrp_eps_step(activations[i], np.asarray(W), np.asarray(b), R, eps)
        sums.insert(0, R.sum())
    return sums
""".rstrip(),
            ),
            tests_cell(
                "layer_sums",
                1,
                """
params = [(np.eye(2), np.zeros(2)), (np.ones((2, 1)), np.zeros(1))]
sums = layer_sums(np.array([1.0, 2.0]), params, 0, 1e-9)
assert len(sums) == 3, "one total per dense layer, then the logit"
assert np.allclose(sums, [3.0, 3.0, 3.0]), "no bias, eps -> 0: relevance is conserved"
""",
                hidden_check(A, "layer_sums"),
            ),
        ]
    )


# ===================================================================== deep_taylor


def deep_taylor():
    A = "deep_taylor"
    return notebook(
        [
            markdown(
                r"""
# Упражнение: Deep Taylor Decomposition / Exercise: root points (Lecture 7, L13–L14)

One ReLU neuron $f(a) = \max(0, w^\top a + b)$ with non-negative inputs $a$. DTD explains
$f(a)$ by a first-order Taylor expansion at a *root point* $\tilde a$ with $f(\tilde a) = 0$,
searched on the line $\tilde a = a - t\,v$ along a direction $v$ (L14):
$t = (w^\top a + b) / (w^\top v)$. The Taylor terms $w_i (a_i - \tilde a_i)$ then give the rule
$R_i = \frac{v_i w_i}{\sum_i v_i w_i} R$.

Vectors are NumPy arrays of shape `(d,)`. Use NumPy only.
""",
                "intro",
            ),
            locked_code("setup", "import numpy as np"),
            markdown(
                r"""
## 1. Search directions (2 points)

`kind` is `"nearest"` ($v = w$, the nearest root), `"origin"` ($v = a$) or `"zplus"`
($v = a \odot 1[w > 0]$).
""",
                "direction_text",
            ),
            solution(
                "direction_solution",
                'def direction(a, w, kind):\n    """The search direction v of L14."""',
                """
    if kind == "nearest":
        return np.array(w, dtype=float)
    if kind == "origin":
        return np.array(a, dtype=float)
    if kind == "zplus":
        return a * (w > 0)
    raise ValueError(f"unknown kind {kind!r}")
""".rstrip(),
            ),
            tests_cell(
                "direction",
                2,
                """
a, w = np.array([2.0, 3.0]), np.array([1.0, -1.0])
assert np.allclose(direction(a, w, "nearest"), [1.0, -1.0])
assert np.allclose(direction(a, w, "origin"), [2.0, 3.0])
assert np.shape(direction(a, w, "zplus")) == (2,), "one component per input"
""",
                hidden_check(A, "direction"),
            ),
            markdown(
                r"""
## 2. The root point (2 points)

Return $\tilde a = a - t\,v$ with $t = (w^\top a + b)/(w^\top v)$: the point on the line where the
neuron's pre-activation is exactly zero.
""",
                "root_text",
            ),
            solution(
                "root_along_solution",
                'def root_along(a, w, b, v):\n    """The root of max(0, w.a + b) on the line a - t v."""',
                """
    t = (w @ a + b) / (w @ v)
    return a - t * v
""".rstrip(),
            ),
            tests_cell(
                "root_along",
                2,
                """
a, w = np.array([1.0, 1.0]), np.array([1.0, 2.0])
root = root_along(a, w, 0.0, w)            # by hand: t = 3/5
assert np.allclose(root, [0.4, -0.2])
assert np.isclose(w @ root, 0.0), "the neuron must be exactly at its boundary there"
assert np.allclose(root_along(a, w, 0.0, a), [0.0, 0.0]), "along v = a the root of a bias-free neuron is the origin"
""",
                hidden_check(A, "root_along"),
            ),
            markdown(
                r"""
## 3. Taylor terms (2 points)

At a root $\tilde a$ the first-order terms are $w_i (a_i - \tilde a_i)$; they sum to $f(a)$ when the
segment from $\tilde a$ to $a$ stays on the active side of the ReLU (L13).
""",
                "taylor_text",
            ),
            solution(
                "taylor_solution",
                'def taylor_terms_at(a, w, b, root):\n    """First-order Taylor terms of max(0, w.a + b) at root."""',
                """
    return w * (a - root)
""".rstrip(),
            ),
            tests_cell(
                "taylor_terms_at",
                2,
                """
a, w = np.array([1.0, 1.0]), np.array([1.0, 2.0])
terms = taylor_terms_at(a, w, 0.0, np.array([0.0, 0.0]))
assert np.allclose(terms, [1.0, 2.0])
assert np.isclose(terms.sum(), max(0.0, w @ a)), "at a root the terms add up to f(a)"
""",
                hidden_check(A, "taylor_terms_at"),
            ),
            markdown(
                r"""
## 4. A whole layer (3 points)

A dense layer with weights `W` (shape `(d, k)`), bias `b` and relevance `R` (shape `(k,)`) of its
ReLU outputs. For every neuron $j$ search its own root along `direction(a, W[:, j], kind)` and give
input $i$ the share $\frac{v_{ij} w_{ij}}{\sum_i v_{ij} w_{ij}} R_j$; sum over $j$. (A neuron whose
$\sum_i v_{ij} w_{ij} = 0$ has no root along $v$: skip it.)
""",
                "dtd_text",
            ),
            solution(
                "dtd_step_solution",
                'def dtd_step(a, W, b, R, kind):\n    """DTD relevance of the inputs of a dense ReLU layer."""',
                """
    out = np.zeros(len(a))
    for j in range(W.shape[1]):
        vw = direction(a, W[:, j], kind) * W[:, j]
        if vw.sum() != 0:
            out += vw / vw.sum() * R[j]
    return out
""".rstrip(),
            ),
            tests_cell(
                "dtd_step",
                3,
                """
a, W, R = np.array([1.0, 2.0]), np.array([[1.0], [1.0]]), np.array([3.0])
assert np.allclose(dtd_step(a, W, np.zeros(1), R, "origin"), [1.0, 2.0])
assert np.isclose(dtd_step(a, W, np.zeros(1), R, "nearest").sum(), 3.0), "the layer conserves R"
""",
                hidden_check(A, "dtd_step"),
            ),
            markdown(
                r"""
## 5. Which rule? (1 point)

Compare `dtd_step` with the LRP rules of the lecture (biases ignored): which rule does each search
direction reproduce? Fill in the dict with `"lrp0"`, `"zplus"` or `"w2"`.
""",
                "rules_text",
            ),
            solution(
                "rule_of_direction_solution",
                "",
                """
RULE_OF_DIRECTION = {"nearest": "w2", "origin": "lrp0", "zplus": "zplus"}
""".rstrip(),
            ),
            tests_cell(
                "rule_of_direction",
                1,
                """
assert set(RULE_OF_DIRECTION) == {"nearest", "origin", "zplus"}
assert set(RULE_OF_DIRECTION.values()) <= {"lrp0", "zplus", "w2"}
""",
                hidden_check(A, "rule_of_direction"),
            ),
        ]
    )


# ===================================================================== pattern_attribution


def pattern_attribution():
    A = "pattern_attribution"
    return notebook(
        [
            markdown(
                r"""
# Упражнение: PatternNet и PatternAttribution / Exercise: filters, patterns and ρ(S) (L16–L25)

The data are signal plus distractor, $x = y\,a_s + \varepsilon\,a_d$ (L18); a linear neuron
$y = w^\top x$ recovers $y$ exactly when $w^\top a_s = 1$ and $w^\top a_d = 0$. Data sets `x` have
shape `(n, d)`, vectors shape `(d,)`. Use NumPy only.
""",
                "intro",
            ),
            locked_code("setup", "import numpy as np"),
            markdown(
                r"""
## 1. The filter (2 points)

Return the filter $w$ with $w^\top a_s = 1$, $w^\top a_d = 0$ that lies in the span of $a_s$ and
$a_d$ (write $w = c_1 a_s + c_2 a_d$ and solve a 2×2 system).
""",
                "filter_text",
            ),
            solution(
                "filter_for_solution",
                'def filter_for(a_s, a_d):\n    """The filter in span(a_s, a_d) with w.a_s = 1 and w.a_d = 0."""',
                """
    B = np.stack([a_s, a_d])                 # 2 x d
    c = np.linalg.solve(B @ B.T, np.array([1.0, 0.0]))
    return B.T @ c
""".rstrip(),
            ),
            tests_cell(
                "filter_for",
                2,
                """
w = filter_for(np.array([1.0, 0.0]), np.array([1.0, 1.0]))
assert np.isclose(w @ [1.0, 0.0], 1.0) and np.isclose(w @ [1.0, 1.0], 0.0), "check the two constraints"
""",
                hidden_check(A, "filter_for"),
            ),
            markdown(
                r"""
## 2. The pattern (3 points)

For the linear estimator $S_a(x) = a\,w^\top x$ the best $a$ is (L22)
$$a = \frac{\operatorname{cov}[x, y]}{\sigma_y^2}, \qquad y = w^\top x,$$
with covariances over the samples (divide by $n$ or by $n-1$, but the same in both).
""",
                "pattern_text",
            ),
            solution(
                "pattern_of_solution",
                'def pattern_of(x, w):\n    """The linear pattern a = cov[x, y] / var(y)."""',
                """
    y = x @ w
    xc, yc = x - x.mean(axis=0), y - y.mean()
    return (xc * yc[:, None]).mean(axis=0) / (yc * yc).mean()
""".rstrip(),
            ),
            tests_cell(
                "pattern_of",
                3,
                """
# by hand: four points, y = (1, -1, 1, -1), cov[x, y] = (1.5, 0.5), var(y) = 1
x = np.array([[2.0, 1.0], [0.0, 1.0], [2.0, 1.0], [-2.0, -1.0]])
assert np.allclose(pattern_of(x, np.array([1.0, -1.0])), [1.5, 0.5])
""",
                hidden_check(A, "pattern_of"),
            ),
            markdown(
                r"""
## 3. The quality ρ(S) (3 points)

$$\rho(S) = 1 - \max_v \operatorname{corr}\big(w^\top x,\ v^\top (x - S(x))\big)$$
(L21) for $S_a(x) = a\,w^\top x$. The best $v$ is the least-squares regression of the centred $y$ on
the centred residual $\hat d = x - S(x)$, and the maximal correlation is $\lVert \hat y\rVert / \lVert y \rVert$
of that regression (`np.linalg.lstsq`).
""",
                "rho_text",
            ),
            solution(
                "rho_linear_solution",
                'def rho_linear(x, w, a):\n    """rho(S_a) of the linear estimator S_a(x) = a w.x."""',
                """
    y = x @ w
    d = x - np.outer(y, a)
    yc, dc = y - y.mean(), d - d.mean(axis=0)
    coef, *_ = np.linalg.lstsq(dc, yc, rcond=None)
    return 1.0 - np.linalg.norm(dc @ coef) / np.linalg.norm(yc)
""".rstrip(),
            ),
            tests_cell(
                "rho_linear",
                3,
                """
rng = np.random.default_rng(0)
y, eps = rng.standard_normal(500), rng.standard_normal(500)
x = np.outer(y, [1.0, 0.0]) + np.outer(eps, [1.0, 1.0])
w = np.array([1.0, -1.0])
assert rho_linear(x, w, pattern_of(x, w)) > 0.99, "the fitted pattern leaves no y in the residual"
assert rho_linear(x, w, w / (w @ w)) < rho_linear(x, w, pattern_of(x, w)), "the filter direction is a worse estimator"
""",
                hidden_check(A, "rho_linear"),
            ),
            markdown(
                r"""
## 4. PatternAttribution (2 points)

For the linear neuron, PatternAttribution uses the root point $x_0 = x - a\,w^\top x$ and gives
$r = w \odot a \cdot y$ (L25). Return one row per sample, shape `(n, d)`.
""",
                "attr_text",
            ),
            solution(
                "pattern_attribution_solution",
                'def pattern_attribution(x, w, a):\n    """PatternAttribution of y = w.x for every sample."""',
                """
    return np.outer(x @ w, w * a)
""".rstrip(),
            ),
            tests_cell(
                "pattern_attribution",
                2,
                """
x, w, a = np.array([[2.0, 1.0]]), np.array([1.0, -1.0]), np.array([1.0, 0.0])
r = pattern_attribution(x, w, a)
assert np.shape(r) == (1, 2)
assert np.isclose(r.sum(), x[0] @ w), "with w.a = 1 the relevances add up to y"
""",
                hidden_check(A, "pattern_attribution"),
            ),
        ]
    )


# ===================================================================== backdoor


def backdoor():
    from autograder.grading.assignments.backdoor import G1_DAG, G2_DAG

    A = "backdoor"
    return notebook(
        [
            markdown(
                r"""
# Упражнение: backdoor-критерий / Exercise: the backdoor criterion

A set $Z$ satisfies the backdoor criterion for the effect of $X$ on $Y$ when no vertex of $Z$ is a
descendant of $X$ and $Z$ blocks every *backdoor path* (a path from $X$ to $Y$ that starts with an
arrow into $X$). A path is blocked by $Z$ when some inner vertex is a non-collider in $Z$, or a
collider that is not in $Z$ and has no descendant in $Z$.

The graphs are written in DAGitty syntax (paste them into dagitty.net to draw them). Work the
answers out by hand: the grader accepts **any** valid answer, not only one.
""",
                "intro",
            ),
            locked_code(
                "setup",
                f"""
import networkx as nx
from course.causal import parse_dag

G1 = parse_dag({G1_DAG!r})
G2 = parse_dag({G2_DAG!r})
""",
            ),
            markdown(
                r"""
## 1. Is a path open? (2 points)

`G` is a `networkx.DiGraph`, `path` a list of vertices from X to Y, `Z` a set of vertices. Return
`True` when the path is open given `Z`, else `False`. (`nx.descendants(G, v)` gives the
descendants of `v`.)
""",
                "open_text",
            ),
            solution(
                "path_is_open_solution",
                'def path_is_open(G, path, Z):\n    """True when no inner vertex of path blocks it given Z."""',
                """
    Z = set(Z)
    for prev, node, nxt in zip(path, path[1:], path[2:]):
        if G.has_edge(prev, node) and G.has_edge(nxt, node):          # collider
            if node not in Z and not (nx.descendants(G, node) & Z):
                return False
        elif node in Z:                                               # chain or fork
            return False
    return True
""".rstrip(),
            ),
            tests_cell(
                "path_is_open",
                2,
                """
H = parse_dag("dag { X <- A -> B <- C -> Y }")
assert path_is_open(H, ["X", "A", "B", "C", "Y"], set()) is False, (
    "B is a collider: it blocks when nobody adjusts for it")
assert path_is_open(H, ["X", "A", "B", "C", "Y"], {"B"}) is True, "adjusting for a collider opens the path"
""",
                hidden_check(A, "path_is_open"),
            ),
            markdown(
                r"""
## 2. Backdoor paths of G1 (2 points)

List every backdoor path from X to Y in `G1`, each as a list of vertex names starting with
`"X"` and ending with `"Y"`.
""",
                "paths_text",
            ),
            solution(
                "paths_g1_solution",
                "",
                """
PATHS_G1 = [
    ["X", "Z", "Y"],
    ["X", "A", "B", "Z", "Y"],
    ["X", "Z", "C", "D", "Y"],
    ["X", "A", "B", "Z", "C", "D", "Y"],
]
""".rstrip(),
            ),
            tests_cell(
                "paths_g1",
                2,
                """
assert all(p[0] == "X" and p[-1] == "Y" for p in PATHS_G1), "every path goes from X to Y"
assert all(G1.has_edge(p[1], "X") for p in PATHS_G1), "a backdoor path starts with an arrow into X"
""",
                hidden_check(A, "paths_g1"),
            ),
            markdown(
                r"""
## 3. Minimal backdoor sets (2 + 2 points)

Give a *minimal* backdoor set (no proper subset is valid) for X → Y in `G1` and in `G2`. Any minimal
set earns the points; a valid set that is not minimal earns half.
""",
                "sets_text",
            ),
            solution(
                "set_g1_solution",
                "",
                """
SET_G1 = {"Z", "A"}
""".rstrip(),
            ),
            tests_cell(
                "set_g1",
                2,
                """
assert isinstance(SET_G1, (set, frozenset)) and SET_G1 <= set(G1), "a set of vertices of G1"
assert not SET_G1 & nx.descendants(G1, "X"), "no descendant of X may be adjusted for"
""",
                hidden_check(A, "set_g1"),
            ),
            solution(
                "set_g2_solution",
                "",
                """
SET_G2 = {"C", "K"}
""".rstrip(),
            ),
            tests_cell(
                "set_g2",
                2,
                """
assert isinstance(SET_G2, (set, frozenset)) and SET_G2 <= set(G2), "a set of vertices of G2"
""",
                hidden_check(A, "set_g2"),
            ),
            markdown(
                r"""
## 4. All the smallest sets of G2 (2 points)

List every valid backdoor set of the smallest size in `G2` (there may be more than one).
""",
                "smallest_text",
            ),
            solution(
                "smallest_g2_solution",
                "",
                """
SMALLEST_G2 = [{"C", "K"}, {"C", "L"}]
""".rstrip(),
            ),
            tests_cell(
                "smallest_g2",
                2,
                """
assert len({len(z) for z in SMALLEST_G2}) == 1, "the smallest sets all have the same size"
""",
                hidden_check(A, "smallest_g2"),
            ),
        ]
    )


# ===================================================================== quiz7


def quiz7():
    from autograder.grading.quiz_notebook import build_quiz_notebook

    return build_quiz_notebook()


BUILDERS = {
    "backdoor": backdoor,
    "quiz7": quiz7,
    "lrp_rules": lrp_rules,
    "deep_taylor": deep_taylor,
    "pattern_attribution": pattern_attribution,
}


def build(name: str) -> nbformat.NotebookNode:
    return BUILDERS[name]()


def write(name: str) -> Path:
    path = HERE / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(build(name), str(path))
    return path


if __name__ == "__main__":
    for n in sys.argv[1:] or BUILDERS:
        print(write(n))
