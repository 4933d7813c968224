"""Backdoor question generator: keys checked against the brute-force oracle, distractors by mistake kind."""

import pytest

from course.causal import examples as ex
from course.causal.quiz import LETTERS, backdoor_question, classify_option
from course.errors import CourseError
from tests.causal_oracle import brute_sets

SEEDS = range(6)


def oracle_smallest(q):
    _, _, minimum = brute_sets(q.graph, {q.exposure}, {q.outcome}, set())
    return minimum


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", ["smallest", "smallest_sets"])
def test_answer_key_is_exactly_the_options_that_are_smallest_valid_sets(seed, kind):
    q = backdoor_question(seed=seed, kind=kind)
    smallest = oracle_smallest(q)
    assert q.correct == sorted(k for k, z in q.options.items() if z in smallest)
    assert len(q.correct) == 1 if kind == "smallest" else len(q.correct) >= 2
    assert list(q.options) == list(LETTERS[: len(q.options)])
    assert len(q.options) == (6 if kind == "smallest" else 7)
    assert len(set(q.options.values())) == len(q.options)  # no repeated option
    assert all(q.options.values())  # never the empty set


@pytest.mark.parametrize("seed", SEEDS)
def test_each_classic_mistake_appears_among_the_distractors(seed):
    q = backdoor_question(seed=seed)
    assert {"descendant", "collider", "larger", "open_path"} <= set(q.mistakes.values())
    assert {k for k, m in q.mistakes.items() if m == "correct"} == set(q.correct)


def test_same_seed_same_question_and_seeds_differ():
    a, b = backdoor_question(seed=11), backdoor_question(seed=11)
    assert (a.text.ru, a.options, a.correct, a.dagitty) == (b.text.ru, b.options, b.correct, b.dagitty)
    texts = {backdoor_question(seed=s).text.en for s in range(5)}
    assert len(texts) == 5


def test_texts_in_both_languages_name_the_graph():
    q = backdoor_question(seed=2, kind="smallest_sets")
    assert q.text.ru.startswith("Примените backdoor критерий для оценки влияния X на Y. Выберите наименьшие")
    assert q.text.en.startswith(
        "Apply the backdoor criterion to estimate the effect of X on Y. Choose the smallest sets"
    )
    for a, b in q.graph.edges:
        assert f"{a} → {b}" in q.text.ru and f"{a} → {b}" in q.text.en
    assert q.render("ru").splitlines()[-1].startswith("Ж) {")


def test_t3_question2_options_by_mistake():
    G = ex.t3_question2_graph()
    kinds = {k: classify_option(G, "X", "Y", z)[0] for k, z in ex.T3_QUESTION2_OPTIONS.items()}
    assert kinds == {"А": "correct", "Б": "larger", "В": "larger", "Г": "larger", "Д": "descendant", "Е": "descendant"}


def test_t3_question3_options_by_mistake():
    G = ex.t3_question3_graph()
    found = {k: classify_option(G, "X", "Y", z) for k, z in ex.T3_QUESTION3_OPTIONS.items()}
    assert {k: v[0] for k, v in found.items()} == {
        "А": "open_path",
        "Б": "open_path",
        "В": "correct",
        "Г": "correct",
        "Д": "collider",
        "Е": "descendant",
        "Ж": "descendant",
    }
    assert found["Д"][1].en == "adjusting for A opens the backdoor path X ← B → A ← D → Y"
    assert found["Е"][1].ru == "E — потомок X: по нему нельзя проводить корректировку"


def test_question_from_a_given_graph_uses_its_marked_exposure_and_outcome():
    q = backdoor_question(ex.t3_question3_graph(), kind="smallest_sets", seed=4)
    assert {q.options[k] for k in q.correct} == {frozenset("BD"), frozenset("CD")}
    assert len(q.options) == 7 and "X ← D → Y" not in q.dagitty and "D -> Y" in q.dagitty


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kind="largest"), "kind must be"),
        (dict(n_options=9), "n_options must be"),
        (dict(G=ex.front_door()), "no valid backdoor set exists"),
        (dict(G=ex.m_bias()), "the empty set already blocks"),
        (dict(G=ex.butterfly()), "use kind='smallest_sets'"),
        (dict(G="dag { X -> Y }"), "expected a networkx.DiGraph"),
        (dict(seed=[1]), "seed must be an int or a str"),
        (dict(seed=None), "seed must be an int or a str"),
    ],
)
def test_question_errors(kwargs, message):
    with pytest.raises(CourseError, match=message):
        backdoor_question(**kwargs)


def test_questions_do_not_depend_on_the_hash_seed():
    import subprocess
    import sys

    code = (
        "from course.causal.quiz import backdoor_question\n"
        "print(''.join(backdoor_question(seed=k, kind=t).render() for k in (3, 4) "
        "for t in ('smallest', 'smallest_sets')))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": h, "PATH": ""},
        ).stdout
        for h in ("1", "2")
    }
    assert len(runs) == 1 and "А)" in runs.pop()


def test_numpy_integers_work_as_seed_and_option_count():
    import numpy as np

    a = backdoor_question(seed=np.int64(3), n_options=np.int64(5))
    b = backdoor_question(seed=3, n_options=5)
    assert (a.options, a.correct) == (b.options, b.correct) and len(a.options) == 5
