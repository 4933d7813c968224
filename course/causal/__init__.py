"""Backdoor-set solver on networkx DAGs.

>>> from course.causal import parse_dag, minimum_backdoor_sets
>>> G = parse_dag("dag { X -> Y; B -> X; B -> Y; U [latent]; U -> X; U -> B }")
>>> minimum_backdoor_sets(G, "X", "Y")
[frozenset({'B'})]
"""

from course.causal.adjustment import (
    is_adjustment_set,
    iter_minimal_adjustment_sets,
    iter_minimum_adjustment_sets,
    minimal_adjustment_sets,
    minimum_adjustment_sets,
    proper_backdoor_graph,
)
from course.causal.backdoor import BackdoorExplanation, backdoor_graph, explain_backdoor_set, is_backdoor_set
from course.causal.graphs import parse_dag, to_dagitty
from course.causal.minimal import find_minimal_backdoor_set, iter_minimal_backdoor_sets, minimal_backdoor_sets
from course.causal.minimum import iter_minimum_backdoor_sets, minimum_backdoor_sets, minimum_backdoor_size
from course.causal.paths import BackdoorPath, NodeOnPath, backdoor_paths, iter_backdoor_paths
from course.causal.quiz import BackdoorQuestion, backdoor_question

__all__ = [
    "parse_dag",
    "to_dagitty",
    "is_backdoor_set",
    "explain_backdoor_set",
    "BackdoorExplanation",
    "backdoor_graph",
    "backdoor_paths",
    "iter_backdoor_paths",
    "BackdoorPath",
    "NodeOnPath",
    "minimal_backdoor_sets",
    "iter_minimal_backdoor_sets",
    "find_minimal_backdoor_set",
    "minimum_backdoor_sets",
    "iter_minimum_backdoor_sets",
    "minimum_backdoor_size",
    "is_adjustment_set",
    "minimal_adjustment_sets",
    "iter_minimal_adjustment_sets",
    "minimum_adjustment_sets",
    "iter_minimum_adjustment_sets",
    "proper_backdoor_graph",
    "backdoor_question",
    "BackdoorQuestion",
]
