"""The backdoor lecture's statements agree with the solver (lectures/backdoor_criterion.ipynb, text checked here,
the notebook's own asserts run in tests/test_causal_notebook.py)."""

import json
import re
from pathlib import Path

from course import causal
from course.causal import examples

NOTEBOOK = Path(__file__).resolve().parent.parent / "lectures" / "backdoor_criterion.ipynb"


def _cells():
    return ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]]


def test_adjustment_criterion_forbids_descendants_of_nodes_other_than_x_on_proper_causal_paths():
    text = " ".join(_cells())
    assert "forbids descendants of nodes on causal paths" not in text
    assert re.search(r"nodes \*other than\* \$X\$ on \*proper\* causal paths", text)


def test_two_exposure_example_has_an_outcome_that_causes_nothing_and_shows_the_difference():
    code = next(c for c in _cells() if "two = " in c)
    dag = re.search(r"two = causal\.parse_dag\((.*?)\)\n", code, re.S).group(1)
    G = causal.parse_dag("".join(re.findall(r'"([^"]*)"', dag)))
    assert G.out_degree("Y") == 0
    assert causal.minimal_backdoor_sets(G, {"X1", "X2"}, "Y") == []
    assert causal.is_adjustment_set(G, {"X1", "X2"}, "Y", {"A", "B"})


def test_question_3_text_allows_the_collider_with_its_blockers():
    text = " ".join(_cells())
    G = examples.t3_question3_graph()
    for z in ("A, B, D", "A, C, D"):
        assert f"\\{{{z}\\}}" in text and causal.is_backdoor_set(G, "X", "Y", set(z.split(", ")))
