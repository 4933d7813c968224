"""Answers made with what the exercise forbids (the course's own engines): found in the student's code by reading it.

Each row is student code as it could be typed, and whether the answer ``f`` is made with a forbidden module.
The cheating cases are the ways Python offers to reach a module; the honest ones use NumPy, the standard
library, the allowed ``parse_dag``, or only mention the engine in text.
"""

from __future__ import annotations

import pytest

from autograder.engine_use import forbidden_names, forbidden_parts
from autograder.grading import load_assignment

FORBIDDEN = ("course.relevance", "autograder")
ALLOWED = ("course.causal.parse_dag",)

CHEATS = [
    "from course.relevance import lrp\ndef f(a):\n    return lrp(a)",
    "from course.relevance.lrp import lrp as L\ndef f(a):\n    return L(a)",
    "import course.relevance as cr\ndef f(a):\n    return cr.lrp(a)",
    "import course.relevance\ndef f(a):\n    return course.relevance.lrp(a)",
    "import course\ndef f(a):\n    return course.relevance.lrp(a)",
    "from course import relevance\ndef f(a):\n    return relevance.lrp(a)",
    "from course.relevance import *\ndef f(a):\n    return lrp(a)",
    "def f(a):\n    from course.relevance import lrp\n    return lrp(a)",
    "def f(a):\n    return __import__('course.relevance', fromlist=['lrp']).lrp(a)",
    "import importlib\ndef f(a):\n    return importlib.import_module('course.relevance').lrp(a)",
    "import importlib\nm = importlib.import_module('course')\ndef f(a):\n    return m.relevance.lrp(a)",
    "import sys\ndef f(a):\n    return sys.modules['course.relevance'].lrp(a)",
    "from autograder.grading.assignments.lrp_rules import layer_step\ndef f(a):\n    return layer_step(a)",
    # through a helper, defined before or after the answer
    "from course.relevance import lrp\ndef helper(a):\n    return lrp(a)\ndef f(a):\n    return helper(a)",
    "def f(a):\n    return helper(a)\nfrom course.relevance import lrp\ndef helper(a):\n    return lrp(a)",
    # a value computed with the engine
    "from course.relevance import lrp\nf = lrp(1)",
    # IPython syntax in the cell, code run from text
    "%time x = 1\nfrom course.relevance import lrp\ndef f(a):\n    return lrp(a)",
    "!echo hello\nfrom course.relevance import lrp\nf = lrp(1)",
    "exec('from course.relevance import lrp')\ndef f(a):\n    return lrp(a)",
    "get_ipython().run_cell('from course.relevance.lrp import lrp')\ndef f(a):\n    return lrp(a)",
]
HONEST = [
    "import numpy as np\ndef f(a):\n    return np.asarray(a) * 2",
    "import math, itertools\ndef f(a):\n    return math.fsum(a)",
    "from course.causal import parse_dag\nf = parse_dag('dag { X -> Y }')",
    "def f(a):\n    '''Unlike course.relevance.lrp, written by hand.'''\n    return a",
    "def f(a):\n    print('course')\n    return a",
    # a check on the side, not the answer
    "import numpy as np\ndef f(a):\n    return a\nfrom course.relevance import lrp\ncheck = lrp(0)",
    "def f(a) return a",  # a syntax error fails its own part; nothing to read here
    "%matplotlib inline\nimport numpy as np\ndef f(a):\n    return np.asarray(a)",
    "def f(a):\n    print('compare with course.relevance.lrp by hand')\n    return a",
]


@pytest.mark.parametrize("code", CHEATS)
def test_an_answer_made_with_a_forbidden_module_is_found(code):
    marked = forbidden_names([code], FORBIDDEN, ALLOWED)
    assert "f" in marked, marked
    assert "(cell 1, line " in marked["f"]


@pytest.mark.parametrize("code", HONEST)
def test_an_honest_answer_is_left_alone(code):
    assert "f" not in forbidden_names([code], FORBIDDEN + ("course.causal",), ALLOWED)


def test_across_cells_and_only_the_parts_that_use_it():
    import nbformat

    spec = load_assignment("lrp_rules")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np", metadata={"nbgrader": {"grade_id": "setup", "locked": True}}),
        nbformat.v4.new_code_cell("from course.relevance import lrp, rules"),  # a cell the student added
        nbformat.v4.new_code_cell(
            "def lrp0_step(a, W, b, R):\n    return lrp(a, W, rules.Zero(), 0)",
            metadata={"nbgrader": {"grade_id": "lrp0_step_solution", "solution": True}},
        ),
        nbformat.v4.new_code_cell(
            "def zplus_step(a, W, b, R):\n    return a",
            metadata={"nbgrader": {"grade_id": "zplus_step_solution", "solution": True}},
        ),
    ]
    found = forbidden_parts(nb, {p.grade_id: p for p in spec}, spec.forbidden, spec.allowed)
    assert list(found) == ["lrp0_step"]
    assert found["lrp0_step"] == "lrp0_step is made with from course.relevance import lrp (cell 1, line 1)"


def test_the_instructors_own_cells_are_not_read():
    import nbformat

    spec = load_assignment("backdoor")
    nb = nbformat.v4.new_notebook()
    nb.cells = [  # the release's setup cell imports from course.causal; the answer is typed by hand
        nbformat.v4.new_code_cell(
            "from course.causal import minimal_backdoor_sets\nSET_G1 = minimal_backdoor_sets(G1, 'X', 'Y')[0]",
            metadata={"nbgrader": {"grade_id": "setup", "locked": True}},
        ),
        nbformat.v4.new_code_cell(
            "SET_G1 = {'A', 'Z'}", metadata={"nbgrader": {"grade_id": "set_g1_solution", "solution": True}}
        ),
    ]
    assert forbidden_parts(nb, {p.grade_id: p for p in spec}, spec.forbidden, spec.allowed) == {}


def test_every_exercise_names_what_it_forbids():
    for name in ("lrp_rules", "deep_taylor", "pattern_attribution"):
        assert "course.relevance" in load_assignment(name).forbidden
    backdoor = load_assignment("backdoor")
    assert "course.causal" in backdoor.forbidden and "course.causal.parse_dag" in backdoor.allowed
    assert load_assignment("lrp_rules").with_fresh_probes(1).forbidden == load_assignment("lrp_rules").forbidden
