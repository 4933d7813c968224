"""The quiz-7 question bank: loading, validation errors, and keys checked against the course's engines."""

import itertools
import tomllib

import networkx as nx
import numpy as np
import pytest

from course.errors import CourseError
from course.quiz.bank import default_bank_path, load_bank, parse_bank

BANK = load_bank()


def _question(**overrides):
    q = {
        "id": "q1",
        "kind": "single",
        "text_ru": "Вопрос",
        "text_en": "Question",
        "correct": ["А"],
        "options": [{"letter": "А", "ru": "да", "en": "yes"}, {"letter": "Б", "ru": "нет", "en": "no"}],
    }
    q.update(overrides)
    return {k: v for k, v in q.items() if v is not None}


def _bank(*questions):
    return {"meta": {"id": "t"}, "question": list(questions)}


# ------------------------------------------------------------------ validation


def test_a_minimal_bank_loads():
    bank = parse_bank(_bank(_question()))
    assert bank["q1"].correct == frozenset("А") and bank.total_points == 1.0


def test_duplicate_ids_are_refused_by_name():
    with pytest.raises(CourseError, match="duplicate question id 'q1'"):
        parse_bank(_bank(_question(), _question()))


def test_a_correct_answer_that_is_not_an_option_names_question_and_letter():
    with pytest.raises(CourseError, match=r"question 'q1': correct answer 'В' is not an option"):
        parse_bank(_bank(_question(correct=["В"])))


def test_a_latin_lookalike_in_the_key_gets_a_hint():
    with pytest.raises(CourseError, match="look-alike"):
        parse_bank(_bank(_question(correct=["A"])))  # Latin A


def test_a_question_with_no_correct_answer_is_refused():
    with pytest.raises(CourseError, match=r"question 'q1': no correct answer"):
        parse_bank(_bank(_question(correct=None)))
    with pytest.raises(CourseError, match=r"question 'q1': no correct answer"):
        parse_bank(_bank(_question(kind="multiple", correct=[])))


def test_an_unknown_kind_is_refused_with_the_known_ones():
    with pytest.raises(CourseError, match=r"question 'q1': unknown kind 'essay'; use one of truefalse, single"):
        parse_bank(_bank(_question(kind="essay")))


def test_options_must_be_cyrillic_and_in_order():
    opts = [{"letter": "А", "ru": "1", "en": "1"}, {"letter": "В", "ru": "2", "en": "2"}]
    with pytest.raises(CourseError, match="option 'В' should be 'Б'"):
        parse_bank(_bank(_question(options=opts)))
    opts = [{"letter": "A", "ru": "1", "en": "1"}, {"letter": "Б", "ru": "2", "en": "2"}]
    with pytest.raises(CourseError, match="look-alike"):
        parse_bank(_bank(_question(options=opts)))


def test_single_choice_has_exactly_one_key():
    with pytest.raises(CourseError, match="exactly one correct answer"):
        parse_bank(_bank(_question(correct=["А", "Б"])))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"id": "вопрос"}, "ASCII"),
        ({"text_en": None}, "missing 'text_en'"),
        ({"points": 0}, "points must be a positive number"),
        ({"partial": "generous"}, "unknown partial-credit policy"),
        ({"partial": "proportional"}, "only applies to multiple-choice"),
        ({"kind": "truefalse", "options": None, "correct": "yes"}, "true or false"),
        ({"kind": "numeric", "options": None, "correct": 1, "tolerance": -1}, "tolerance must be"),
        ({"kind": "numeric", "options": None, "correct": "one"}, "must be a number"),
        ({"colour": "red"}, "unknown field"),
        ({"dag": "dag { X -> Y }"}, "needs 'exposure' and 'outcome'"),
        ({"kind": None}, "missing 'kind'"),
        ({"options": [1, 2]}, "an option is a \\[\\[question.options\\]\\] table"),
        ({"options": "А, Б"}, "needs at least two options"),
        ({"topics": "T3"}, "topics must be a list"),
        ({"correct": [["А"]]}, "correct must list option letters as text"),
        ({"mistake_ru": ["x"]}, "'mistake_ru' must be text"),
        (
            {"options": [{"letter": ["А"], "ru": "1", "en": "1"}, {"letter": "Б", "ru": "2", "en": "2"}]},
            "option letter must be text",
        ),
        (
            {"options": [{"letter": "А", "ru": "1", "en": "1", "nodes": "B"}, {"letter": "Б", "ru": "2", "en": "2"}]},
            "give a list of vertex names",
        ),
        ({"dag": "dag { X -> }", "exposure": "X", "outcome": "Y"}, "'dag': DAGitty syntax"),
        ({"dag": "dag { X -> Y }", "exposure": "X", "outcome": "Z"}, "outcome 'Z' is not a vertex of the 'dag'"),
        ({"dag": 5, "exposure": "X", "outcome": "Y"}, "must be text"),
    ],
)
def test_other_problems_are_named(overrides, message):
    with pytest.raises(CourseError, match=message):
        parse_bank(_bank(_question(**overrides)))


def test_bad_toml_and_missing_file_are_course_errors(tmp_path):
    bad = tmp_path / "bank.toml"
    bad.write_text("[[question]\nid=", encoding="utf-8")
    with pytest.raises(CourseError, match="not valid TOML"):
        load_bank(bad)
    with pytest.raises(CourseError, match="not found"):
        load_bank(tmp_path / "nope.toml")


def test_entries_that_are_not_tables_are_named():
    with pytest.raises(CourseError, match="question #1: a question is a \\[\\[question\\]\\] table, got int"):
        parse_bank({"question": [3]})
    with pytest.raises(CourseError, match="a bank is a table"):
        parse_bank([1])
    with pytest.raises(CourseError, match="\\[meta\\] must be a table"):
        parse_bank({"meta": "quiz7", "question": [_question()]})


def test_a_directory_or_a_non_utf8_file_is_a_course_error(tmp_path):
    with pytest.raises(CourseError, match="cannot be read"):
        load_bank(tmp_path)
    latin = tmp_path / "bank.toml"
    latin.write_bytes('[[question]]\nid = "q1"\ntext_ru = "Вопрос"\n'.encode("cp1251"))
    with pytest.raises(CourseError, match="not UTF-8"):
        load_bank(latin)


def test_unknown_question_id_is_a_course_error():
    with pytest.raises(CourseError, match="no question 'nope'"):
        BANK["nope"]


# ------------------------------------------------------------------ the course's bank


def test_bank_is_plain_toml_with_t3_and_at_least_twelve_more_questions():
    raw = tomllib.loads(default_bank_path().read_text(encoding="utf-8"))
    assert len(raw["question"]) == len(BANK) >= 15
    t3 = [q for q in BANK if "T3" in q.topics]
    assert len(t3) == 3
    covered = {t for q in BANK for t in q.topics}
    assert {f"L{i}" for i in (1, 2, 3, 4, 5, 8, 10, 12, 14, 15, 17, 18, 19, 20, 21, 22, 25)} <= covered
    assert {q.kind for q in BANK} == {"truefalse", "single", "multiple", "numeric"}


def test_every_question_explains_the_usual_mistake_in_both_languages():
    for q in BANK:
        assert q.mistake.ru and q.mistake.en, q.id


def test_t3_mdl_statement_is_verbatim_and_false():
    q = BANK["t3_mdl"]
    assert q.text.ru == (
        "В двухступенчатом MDL (а именно, L(D, H) = L(D|H) + L(H)) отсутствует компонент, "
        "учитывающий сложность модели H"
    )
    assert q.kind == "truefalse" and q.correct is False


def test_t3_mdl_key_agrees_with_the_mdl_engine():
    """The statement says L(D, H) has no model-complexity term; the engine's L(H) is that term."""
    from course.mdl import model_code_length, two_part_code_lengths

    x = np.linspace(-1, 1, 16)
    table = two_part_code_lengths(x, 1 + x**2 + 0.05 * np.cos(7 * x), degrees=range(4))
    assert np.allclose(table.total_bits, table.data_bits + table.model_bits)
    assert np.all(np.diff(table.model_bits) > 0)  # L(H) grows with the model's complexity ...
    # ... by ½·log₂ n bits per extra coefficient (16 points: 2 bits), as in the lecture's crude two-part code
    assert model_code_length(3, 16, 4) - model_code_length(2, 16, 4) == pytest.approx(0.5 * np.log2(16))
    assert BANK["t3_mdl"].correct is False


T3_BACKDOOR = {
    # id: (verbatim text, options {letter: set} of SEED_NOTES T3, correct letters)
    "t3_backdoor_smallest": (
        "Выберите наименьшее по размеру множество вершин, необходимых для блокирования всех backdoor-путей",
        {"А": "B", "Б": "AC", "В": "BC", "Г": "ABC", "Д": "D", "Е": "BD"},
        "А",
    ),
    "t3_backdoor_smallest_sets": (
        "Выберите наименьшие по размеру множества вершин",
        {"А": "B", "Б": "D", "В": "BD", "Г": "CD", "Д": "AC", "Е": "E", "Ж": "AE"},
        "ВГ",
    ),
}


@pytest.mark.parametrize("qid", sorted(T3_BACKDOOR))
def test_t3_backdoor_options_and_key_are_the_course_materials(qid):
    text, options, correct = T3_BACKDOOR[qid]
    q = BANK[qid]
    assert q.text.ru.startswith("Примените backdoor критерий для оценки влияния X на Y. ") and text in q.text.ru
    assert {o.letter: o.nodes for o in q.options} == {k: frozenset(v) for k, v in options.items()}
    for o in q.options:  # the printed option is the set, as in the material
        assert o.text.ru == "{" + ", ".join(sorted(o.nodes)) + "}"
    assert q.correct == frozenset(correct)


def _brute_force_minimum_backdoor_sets(G, x, y):
    """Oracle: all subsets of the observed non-descendants of x, checked with networkx d-separation."""
    backdoor = G.copy()
    backdoor.remove_edges_from(list(G.out_edges(x)))
    allowed = sorted(set(G) - {x, y} - nx.descendants(G, x) - {n for n, d in G.nodes(data=True) if d.get("latent")})
    for size in range(len(allowed) + 1):
        found = [
            frozenset(z) for z in itertools.combinations(allowed, size) if nx.is_d_separator(backdoor, {x}, {y}, set(z))
        ]
        if found:
            return found
    return []


@pytest.mark.parametrize("qid", sorted(T3_BACKDOOR))
def test_t3_key_is_exactly_the_options_that_are_minimum_backdoor_sets(qid):
    from course.causal import minimum_backdoor_sets, parse_dag

    q = BANK[qid]
    G = parse_dag(q.dag)
    minimum = set(minimum_backdoor_sets(G, q.exposure, q.outcome))
    assert minimum == set(_brute_force_minimum_backdoor_sets(G, q.exposure, q.outcome))
    # every smallest set is an option, and the correct options are exactly the smallest sets
    assert minimum <= {o.nodes for o in q.options}
    assert {o.letter for o in q.options if o.nodes in minimum} == q.correct


@pytest.mark.parametrize(
    "qid, example",
    [("t3_backdoor_smallest", "t3_question2_graph"), ("t3_backdoor_smallest_sets", "t3_question3_graph")],
)
def test_t3_dag_in_the_bank_is_the_course_example(qid, example):
    from course.causal import examples, parse_dag

    G = getattr(examples, example)()
    stored = parse_dag(BANK[qid].dag)
    assert set(stored.edges) == set(G.edges) and set(stored.nodes) == set(G.nodes)


# ------------------------------------------------------------------ computed keys


def test_key_l5_is_layer_conservation():
    assert BANK["l5_conservation_sum"].correct == pytest.approx(2.5 - 1.2 - 0.5)


def test_key_l8_epsilon_by_hand_and_by_the_engine():
    from course.relevance import Dense, Sequential, lrp, rules

    a, w, eps = np.array([[1.0, 2.0]]), np.array([[1.0], [1.0]]), 1.0
    z = 3.0
    by_hand = (1 * 1 + 2 * 1) / (z + eps) * z  # Σ_j a_j w_j / (z + ε) · R, R = z
    engine = lrp(Sequential([Dense(w, np.zeros(1))]), a, rules.Epsilon(eps), 0).sum()
    assert BANK["l8_epsilon_absorbs"].correct == pytest.approx(by_hand) == pytest.approx(engine, abs=1e-5)


def test_key_l8_zplus_by_hand_and_by_the_engine():
    from course.relevance import Dense, Sequential, lrp, rules

    a, w = np.array([[1.0, 2.0, 1.0]]), np.array([[1.0], [-1.0], [3.0]])
    by_hand = 1 * 3 / (1 * 1 + 1 * 3) * 2  # a_3 w_3⁺ / Σ a_j w_j⁺ · z, z = 1 - 2 + 3
    engine = lrp(Sequential([Dense(w, np.zeros(1))]), a, rules.ZPlus(), 0)[0, 2]
    assert BANK["l8_zplus_share"].correct == pytest.approx(by_hand) == pytest.approx(engine, abs=1e-5)


def test_key_l8_alpha_beta():
    assert BANK["l8_alpha_beta"].correct == 2 - 1


def test_key_l18_filter_solves_the_two_constraints():
    w = np.linalg.solve(np.array([[2.0, 1.0], [1.0, 1.0]]), np.array([1.0, 0.0]))  # rows a_s, a_d
    assert BANK["l18_filter_weight"].correct == pytest.approx(w[1])


def test_key_l22_pattern_from_numpy_covariances():
    x = np.array([[2.0, 1.0], [0.0, 1.0], [2.0, 1.0], [-2.0, -1.0]])
    y = x @ np.array([1.0, -1.0])
    a = np.cov(x.T, y, bias=True)[:2, 2] / np.var(y)
    assert BANK["l22_pattern_component"].correct == pytest.approx(a[0])


# ------------------------------------------------------------------ content checked against the engines


def test_t3_smallest_sets_feedback_matches_the_solver_on_the_collider():
    """Adjusting for the collider A is allowed when B (or C) and D close the paths it opens: {A, B, D} and
    {A, C, D} are valid (solver and brute-force d-separation agree), so the feedback must not forbid A."""
    from course.causal import is_backdoor_set, parse_dag

    q = BANK["t3_backdoor_smallest_sets"]
    G = parse_dag(q.dag)
    backdoor = G.copy()
    backdoor.remove_edges_from(list(G.out_edges("X")))
    for z in ({"A", "B", "D"}, {"A", "C", "D"}):
        assert is_backdoor_set(G, "X", "Y", z) and nx.is_d_separator(backdoor, {"X"}, {"Y"}, z)
        assert "{" + ", ".join(sorted(z)) + "}" in q.mistake.en and "{" + ", ".join(sorted(z)) + "}" in q.mistake.ru
    assert not is_backdoor_set(G, "X", "Y", {"A", "C"})  # option Д: A opens X ← D → A ← B … → Y
    assert "E" in nx.descendants(G, "X") and "may never be adjusted" in q.mistake.en
    assert "Neither the collider A" not in q.mistake.en and "Коллайдер A и медиатор E брать нельзя" not in q.mistake.ru


def _rho(x, y, s):
    """ρ(S) = 1 − max_v corr(y, vᵀ(x − S(x))): the maximum over v is the multiple correlation of y with the residual."""
    r = x - s
    r = r - r.mean(axis=0)
    yc = y - y.mean()
    if np.allclose(r, 0):
        return float("nan")  # 0/0: the residual carries nothing at all
    coef, *_ = np.linalg.lstsq(r, yc, rcond=None)
    fit = r @ coef
    return 1 - np.sqrt(max(fit @ fit, 0) / (yc @ yc))


def test_l21_every_distractor_fails_and_the_key_holds():
    """On data x = y·a_s + ε·a_d (L18's model), the estimator with cov[y, x − S(x)] = 0 (the pattern) reaches ρ = 1;
    the distractor S(x) = 0 gives ρ = 0, and S(x) = w wᵀx leaves y in the residual."""
    q = BANK["l21_rho_maximal"]
    rng = np.random.default_rng(0)
    y, eps = rng.normal(size=2000), rng.normal(size=2000)
    a_s, a_d = np.array([2.0, 1.0]), np.array([1.0, 1.0])
    x = np.outer(y, a_s) + np.outer(eps, a_d)
    w = np.linalg.solve(np.stack([a_s, a_d]), np.array([1.0, 0.0]))
    yhat = x @ w
    pattern = np.cov(x.T, yhat, bias=True)[:2, 2] / np.var(yhat)
    assert _rho(x, yhat, np.outer(yhat, pattern)) == pytest.approx(1.0, abs=1e-6)  # key А
    assert _rho(x, yhat, np.zeros_like(x)) == pytest.approx(0.0, abs=1e-9)  # Б: S(x) = 0
    assert _rho(x, yhat, np.outer(yhat, w)) < 0.5  # В: S(x) = w wᵀx
    assert q.option("Б").text.ru == "Когда S(x) = 0" and "ρ = 0" in q.option("Б").why.en
    assert all("S(x) = x" not in o.text.en for o in q.options)  # S(x) = x made the residual 0: ρ = 0/0, no distractor
    assert q.correct == frozenset("А")


def test_l8_exact_conservation_names_a_condition_not_a_limit():
    from course.relevance import Dense, Sequential, lrp, rules

    q = BANK["l8_exact_conservation"]
    assert all("→" not in o.text.ru + o.text.en for o in q.options) and "ε → 0" not in q.mistake.en
    assert q.option("Б").text.en.startswith("ε = 0")
    a, w = np.array([[1.0, 2.0]]), np.array([[1.0], [1.0]])
    net = Sequential([Dense(w, np.zeros(1))])
    assert lrp(net, a, rules.Epsilon(0.0), 0).sum() == pytest.approx(3.0, abs=1e-12)  # ε = 0, no bias: exact
    assert lrp(net, a, rules.Epsilon(1e-3), 0).sum() != pytest.approx(3.0, abs=1e-6)  # small ε: not exact
