"""Item analysis of a quiz and the "common mistakes" section of the report (SEED_NOTES T3).

Per question, as Moodle's quiz statistics report defines them
(docs.moodle.org/dev/Quiz_statistics_calculations, "Question statistics"):

- facility index F = 100 · mean(x_p) / max_p — the average score on the item in percent;
- SD = 100 · sd(x_p) / max_p (sample SD, n − 1);
- discrimination index D = 100 · r(x_p, X_p), the correlation of the item score
  with the score on the rest of the test X_p = total − x_p;
- discriminative efficiency DE = 100 · C(x_p, X_p) / C_max, where C_max is the
  covariance obtained when both columns are sorted in the same order (the
  largest the covariance could be with these score distributions);
- a question is *dubious* when DE < 15 % (the threshold of Moodle's report).

Question texts, options and correct answers come from the quiz bank as
:class:`ItemQuestion` values (``question_id -> ItemQuestion``), each built from
the bank's one question model, ``course.quiz.bank.Question``
(:func:`item_questions`). Without a bank only ids and numbers are shown.

The module is a little over 400 lines on purpose: it is the whole T3 section
in one place — the common mistakes rank questions by the item statistics (or,
without item scores, by the response analysis) and show the response analysis'
wrong answers, all through one question view (:class:`ItemQuestion`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from course.localized import EMPTY, Localized

from .readers import Attempts, Responses, natural_key
from .stats import share_percent

__all__ = [
    "ItemStats",
    "item_statistics",
    "response_analysis",
    "facility_from_responses",
    "common_mistakes",
    "format_mistake",
    "ItemQuestion",
    "item_questions",
    "natural_key",
    "answer_label",
    "DEFAULT_MISTAKES",
]

DUBIOUS_EFFICIENCY = 15.0
#: how many of the hardest questions the report lists as common mistakes by default
DEFAULT_MISTAKES = 3
#: the one label set for true/false answers, everywhere in the report (the course's Russian)
_TF_WORDS = {"true": "верно", "false": "неверно"}
#: a numeric question's distinct wrong values shown one by one; the rest are "other values"
NUMERIC_SHOWN = 5


def answer_label(answer: str) -> str:
    """How the report writes one chosen option or answer: "true"/"false" as верно/неверно, the rest as is.

    >>> answer_label("false"), answer_label("В")
    ('неверно', 'В')
    """
    return _TF_WORDS.get(str(answer).lower(), str(answer))


@dataclass(frozen=True)
class ItemStats:
    """Moodle's statistics of one question over the chosen attempts (percentages; NaN when undefined)."""

    question: str
    n: int
    max_score: float
    facility: float
    sd: float
    discrimination_index: float
    discriminative_efficiency: float
    dubious: bool

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}


def _corr_and_efficiency(x: np.ndarray, rest: np.ndarray) -> tuple[float, float]:
    dx, dr = x - x.mean(), rest - rest.mean()
    cov = float((dx * dr).sum())
    denom = float(np.sqrt((dx**2).sum() * (dr**2).sum()))
    corr = 100.0 * cov / denom if denom > 0 else float("nan")
    xs, rs = np.sort(x), np.sort(rest)
    cov_max = float(((xs - xs.mean()) * (rs - rs.mean())).sum())
    eff = 100.0 * cov / cov_max if cov_max > 0 else float("nan")
    return corr, eff


def item_statistics(attempts: Attempts) -> list[ItemStats]:
    """Facility, SD, discrimination index, discriminative efficiency and the dubious flag per question.

    Uses every row of ``attempts`` (select them first with
    :func:`autograder.stats.select_attempts`); rows where a question has no
    score are left out for that question. The rest of the test is the
    attempt's total score minus the item's score.

    Examples
    --------
    >>> from autograder.readers import Attempts
    >>> a = Attempts.from_rows(["a", "b", "c", "d"], [None] * 4, [2, 1, 1, 0], 2,
    ...                        questions=["q1", "q2"], item_scores=[[1, 1], [1, 0], [0, 1], [0, 0]], item_max=[1, 1])
    >>> [s.facility for s in item_statistics(a)]
    [50.0, 50.0]
    """
    out = []
    for j, q in enumerate(attempts.questions):
        col = attempts.item_scores[:, j]
        ok = ~np.isnan(col)
        x, total = col[ok], attempts.score[ok]
        m = float(attempts.item_max[j])
        n = int(ok.sum())
        nan = float("nan")
        if n == 0 or m <= 0:
            out.append(ItemStats(q, n, m, nan, nan, nan, nan, False))
            continue
        facility = 100.0 * float(x.mean()) / m
        sd = 100.0 * float(x.std(ddof=1)) / m if n > 1 else nan
        di, de = _corr_and_efficiency(x, total - x) if n > 1 else (nan, nan)
        out.append(ItemStats(q, n, m, facility, sd, di, de, bool(np.isfinite(de) and de < DUBIOUS_EFFICIENCY)))
    return out


# ----------------------------------------------------------------- what the analysis knows of a question


@dataclass(frozen=True)
class ItemQuestion:
    """What the response analysis and the common-mistakes blocks show of one question.

    Built from the quiz bank's question model (:meth:`from_question`, a
    ``course.quiz.bank.Question``: the course's TOML bank, or a report's JSON
    bank file read by :mod:`autograder.report.questions`); :func:`item_questions`
    does it for a whole bank. ``correct`` holds option letters, ``"true"`` or
    ``"false"``, or the number of a numeric question as text (``value`` is that number).

    >>> from course.quiz.bank import example_bank
    >>> q = ItemQuestion.from_question(example_bank()["ex_sets"])
    >>> q.kind, q.correct, q.options[:2]
    ('multiple', ('В', 'Г'), (('А', '{A}'), ('Б', '{D}')))
    """

    id: str
    kind: str = ""
    text: Localized = EMPTY
    #: (letter, text) in the bank's order
    options: tuple[tuple[str, str], ...] = ()
    #: letter -> the vertex set the option stands for (backdoor questions)
    option_nodes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    correct: tuple[str, ...] = ()
    value: float | None = None
    tolerance: float = 0.0
    explanation: str = ""
    dag: str | None = None
    exposure: str | None = None
    outcome: str | None = None

    @classmethod
    def from_question(cls, q) -> ItemQuestion:
        """The analysis' view of a ``course.quiz.bank.Question`` (its Russian option texts, its usual mistake)."""
        correct = q.correct
        number = isinstance(correct, (int, float)) and not isinstance(correct, bool)
        return cls(
            id=q.id,
            kind=q.kind,
            text=q.text,
            options=tuple((o.letter, o.text.ru) for o in q.options),
            option_nodes={o.letter: tuple(sorted(o.nodes)) for o in q.options if o.nodes is not None},
            correct=_correct_texts(correct),
            value=float(correct) if number else None,
            tolerance=float(q.tolerance or 0.0),
            explanation=q.mistake.ru,
            dag=q.dag,
            exposure=q.exposure,
            outcome=q.outcome,
        )


def item_questions(bank) -> dict[str, ItemQuestion]:
    """question id -> :class:`ItemQuestion` of a bank: a ``course.quiz.bank.Bank`` or a mapping of its questions.

    Questions already converted pass through; None gives an empty mapping (no bank: ids and numbers only).
    """
    if bank is None:
        return {}
    questions = bank.values() if isinstance(bank, Mapping) else bank
    return {q.id: q if isinstance(q, ItemQuestion) else ItemQuestion.from_question(q) for q in questions}


def _correct_texts(correct) -> tuple[str, ...]:
    if correct is None:
        return ()
    if isinstance(correct, bool):
        return ("true" if correct else "false",)
    if isinstance(correct, (int, float)):
        return (f"{correct:g}",)
    return tuple(sorted(map(str, correct)))


def _norm_letters_in_order(options) -> list[str]:
    from course.quiz.normalize import canonical_letter

    return [canonical_letter(k) for k, _ in options]


def _norm_letters(letters) -> frozenset:
    """Canonical set of correct answers: Cyrillic letters (look-alikes folded) or "true"/"false"."""
    from course.quiz.normalize import canonical_letter

    return frozenset(c if c in ("true", "false") else canonical_letter(c) for c in letters)


# ----------------------------------------------------------------- responses


def _numeric_bins(raw: list[str], key: float | None, tolerance: float) -> list[dict]:
    """Typed numbers grouped: right (within tolerance), each common wrong value, other values, not numbers, none."""
    from course.quiz.normalize import AnswerError, parse_number, within_tolerance

    wrong: Counter[float] = Counter()
    right, bad, empty = 0, 0, 0
    for text in raw:
        if not str(text).strip():
            empty += 1
            continue
        try:
            value = parse_number(text)
        except AnswerError:
            bad += 1
            continue
        if key is not None and within_tolerance(value, key, tolerance):
            right += 1
        else:
            wrong[float(f"{value:.4g}")] += 1
    rows = []
    if key is not None:
        rows.append((f"{key:g}" + (f" ± {tolerance:g}" if tolerance else ""), right, True))
    common = wrong.most_common()
    shown = common if len(common) <= NUMERIC_SHOWN + 1 else common[:NUMERIC_SHOWN]
    rows += [(f"{v:g}", c, False) for v, c in shown]
    if len(shown) < len(common):
        rest = common[len(shown) :]
        rows.append((f"other values ({len(rest)} distinct)", sum(c for _, c in rest), False))
    rows += [(label, c, False) for label, c in (("not a number", bad), ("(no answer)", empty)) if c]
    return [{"option": label, "text": "", "count": c, "correct": ok} for label, c, ok in rows]


def _numeric_key(info: ItemQuestion | None, responses: Responses, q: str) -> tuple[float | None, float]:
    """The key and tolerance of a numeric question: the bank's, else the source's "right answer"."""
    from course.quiz.normalize import AnswerError, parse_number

    if info is not None and info.value is not None:
        return info.value, info.tolerance
    right = sorted(responses.right.get(q, ()))
    try:
        return (parse_number(right[0]) if right else None), 0.0
    except AnswerError:
        return None, 0.0


def _looks_numeric(raw: list[str]) -> bool:
    """Every given answer reads as a number (a Moodle numerical question, without a bank to say so)."""
    from course.quiz.normalize import AnswerError, parse_number

    given = [t for t in raw if str(t).strip()]
    try:
        return bool(given) and all(isinstance(parse_number(t), float) for t in given)
    except AnswerError:
        return False


def response_analysis(responses: Responses | None, bank: Mapping[str, ItemQuestion] | None = None) -> dict[str, dict]:
    """How often each option was chosen, per question (questions in natural order).

    Returns ``{question: {"responses": n, "kind": "choice"|"numeric", "options": [{"option", "text",
    "count", "percent", "correct"}], "patterns": [{"answer", "count", "percent"}]}}``. For a choice
    question an option's count is the number of answers that include it; its percent is of all answers
    to the question (whole percent, half up). A numeric question (the bank says so, or every answer is
    a number) gets its typed answers binned instead: the right value (within the tolerance), each
    common wrong value, the other values, answers that are not numbers and no answer. The correct set
    comes from the bank, else from the source (Moodle's "Right answer n").

    >>> from autograder.readers import Responses, normalise_choice
    >>> r = Responses(np.array(["a", "b", "c"], dtype=object), np.array(["q1"] * 3, dtype=object),
    ...               tuple(normalise_choice(t) for t in ("в, г", "b", "Б")), np.full(3, np.datetime64("NaT", "s")))
    >>> bank = {"q1": ItemQuestion("q1", "multiple", options=(("А", "{B}"), ("Б", "{D}"), ("В", "{B, D}"),
    ...                                                       ("Г", "{C, D}")), correct=("В", "Г"))}
    >>> [(o["option"], o["text"], o["count"], o["percent"]) for o in response_analysis(r, bank)["q1"]["options"]]
    [('А', '{B}', 0, 0), ('Б', '{D}', 1, 33), ('В', '{B, D}', 2, 67), ('Г', '{C, D}', 1, 33)]
    """
    if responses is None or len(responses) == 0:
        return {}
    out: dict[str, dict] = {}
    questions = responses.question
    raw_all = responses.raw if len(responses.raw) == len(responses) else ("",) * len(responses)
    for q in sorted(set(questions.tolist()), key=natural_key):
        idx = np.flatnonzero(questions == q)
        choices = [responses.choice[i] for i in idx]
        raw = [raw_all[i] for i in idx]
        n = len(choices)
        info = (bank or {}).get(q)
        if (info is not None and info.kind == "numeric") or (info is None and _looks_numeric(raw)):
            options = _numeric_bins(raw, *_numeric_key(info, responses, q))
            out[q] = {
                "responses": n,
                "kind": "numeric",
                "options": [dict(o, percent=share_percent(o["count"], n)) for o in options],
                "patterns": [
                    {"answer": o["option"], "count": o["count"], "percent": share_percent(o["count"], n)}
                    for o in sorted(options, key=lambda o: -o["count"])
                    if not o["correct"] and o["count"]
                ],
            }
            continue
        correct = _norm_letters(info.correct) if info is not None else frozenset(responses.right.get(q, ()))
        letters = Counter(letter for c in choices for letter in c)
        options = info.options if info is not None else ()
        texts = dict(zip(_norm_letters_in_order(options), (t for _, t in options)))
        order = list(texts)
        rest = (set(letters) | correct) - set(order)
        order += ["true", "false"] if rest and rest <= {"true", "false"} else sorted(rest, key=natural_key)
        patterns = Counter(", ".join(sorted(c)) if c else "(no answer)" for c in choices)
        right = ", ".join(sorted(correct))
        out[q] = {
            "responses": n,
            "kind": "choice",
            "options": [
                {
                    "option": k,
                    "text": texts.get(k, ""),
                    "count": letters.get(k, 0),
                    "percent": share_percent(letters.get(k, 0), n),
                    "correct": k in correct,
                }
                for k in order
            ],
            "patterns": [
                {"answer": a, "count": c, "percent": share_percent(c, n), "correct": a == right}
                for a, c in patterns.most_common()
            ],
        }
    return out


def facility_from_responses(responses: Responses | None, bank: Mapping[str, ItemQuestion] | None) -> dict[str, float]:
    """Percent of answers that are exactly the correct set, per question (for sources without item scores).

    The correct set comes from the bank, else from the source itself (Moodle's "Right answer n").
    """
    if responses is None or (bank is None and not responses.right):
        return {}
    out = {}
    for q in sorted(set(responses.question.tolist()), key=natural_key):
        info = (bank or {}).get(q)
        correct = _norm_letters(info.correct) if info is not None else frozenset(responses.right.get(q, ()))
        if not correct or (info is not None and info.kind == "numeric"):  # a typed number is not a set of letters
            continue
        idx = np.flatnonzero(responses.question == q)
        out[q] = 100.0 * sum(responses.choice[i] == correct for i in idx) / len(idx)
    return out


# ----------------------------------------------------------------- common mistakes (T3)


def common_mistakes(
    items: list[ItemStats],
    responses: Responses | None = None,
    bank: Mapping[str, ItemQuestion] | None = None,
    *,
    threshold: float | None = None,
    limit: int | None = DEFAULT_MISTAKES,
) -> list[dict]:
    """The hardest questions, worst first: the ``limit`` lowest facilities (default 3, as the course's T3).

    A question counts only when someone got it wrong (facility below 100 %) and,
    with ``threshold`` (percent), when its facility is below it. Facility comes
    from the item scores, or from the responses and the correct answers when
    the source has no per-question scores. Each entry holds the question's
    texts and options (when the bank has them), the correct answers, the wrong
    answers given most often with their shares, the bank's explanation and,
    for a backdoor question, its DAG (``dag``, ``exposure``, ``outcome``, ``adjust``).

    >>> from autograder.readers import Responses, normalise_choice
    >>> r = Responses(np.array(["a", "b", "c"], dtype=object), np.array(["q1"] * 3, dtype=object),
    ...               tuple(normalise_choice(t) for t in ("в, г", "b", "Б")), np.full(3, np.datetime64("NaT", "s")))
    >>> (m,) = common_mistakes([], r, {"q1": ItemQuestion("q1", correct=("В", "Г"))})   # only "в, г" is right: 1 of 3
    >>> round(m["facility"], 2), [(a["answer"], a["count"]) for a in m["wrong_answers"]]
    (33.33, [('В', 1), ('Б', 1)])
    """
    facility = {s.question: s.facility for s in items if np.isfinite(s.facility)}
    for q, f in facility_from_responses(responses, bank).items():
        facility.setdefault(q, f)
    analysis = response_analysis(responses, bank)
    worst = sorted(
        (
            (f, natural_key(q), q)
            for q, f in facility.items()
            if f < 100.0 - 1e-9 and (threshold is None or f < threshold)
        )
    )
    if limit is not None:
        worst = worst[:limit]
    out = []
    for f, _, q in worst:
        info = (bank or {}).get(q) or ItemQuestion(q)
        resp = analysis.get(q, {})
        correct = info.correct or (sorted(responses.right.get(q, ())) if responses is not None else [])
        adjust = next((list(info.option_nodes[c]) for c in info.correct if c in info.option_nodes), None)
        out.append(
            {
                "question": q,
                "facility": f,
                "responses": resp.get("responses", 0),
                "text_ru": info.text.ru,
                "text_en": info.text.en,
                "options": [{"letter": k, "text": t} for k, t in info.options],
                "correct": list(correct),
                "wrong_answers": [
                    {k: p[k] for k in ("answer", "count", "percent")}
                    for p in resp.get("patterns", [])
                    if not p.get("correct")
                ],
                "explanation": info.explanation,
                "dag": info.dag,
                "exposure": info.exposure,
                "outcome": info.outcome,
                "adjust": adjust,
            }
        )
    return out


def _letters_line(letters) -> str:
    return ", ".join(answer_label(c) for c in letters)


def format_mistake(m: dict, number: int, *, image: str | None = None) -> list[str]:
    """A common-mistake block in the course's layout (Markdown lines); ``image``: the DAG's picture file.

    >>> print("\\n".join(format_mistake({"question": "q2", "facility": 31.0, "text_ru": "Выберите",
    ...     "text_en": "", "options": [{"letter": "А", "text": "{B}"}, {"letter": "Б", "text": "{A, C}"}],
    ...     "correct": ["А"], "wrong_answers": [{"answer": "Б", "count": 9, "percent": 45},
    ...     {"answer": "false", "count": 2, "percent": 10}], "explanation": "", "responses": 20}, 1)))
    1. **q2** — facility 31.00 %
    <BLANKLINE>
       «Выберите»
    <BLANKLINE>
       А) {B}  Б) {A, C}
    <BLANKLINE>
       Правильные ответы: А
    <BLANKLINE>
       Most common wrong answers: «Б» — 9 of 20 (45%), «неверно» — 2 of 20 (10%)
    """
    lines = [f"{number}. **{m['question']}** — facility {m['facility']:.2f} %"]
    pad = "   "
    if m.get("text_ru"):
        lines += ["", f"{pad}«{m['text_ru']}»"]
    if m.get("text_en"):
        lines += ["", f"{pad}*{m['text_en']}*"]
    if image:
        lines += ["", f"{pad}![DAG of {m['question']}]({image})"]
    if m.get("options"):
        lines += ["", pad + "  ".join(f"{o['letter']}) {o['text']}" for o in m["options"])]
    if m.get("correct"):
        lines += ["", f"{pad}Правильные ответы: {_letters_line(m['correct'])}"]
    if m.get("wrong_answers"):
        shown = ", ".join(
            f"«{_letters_line(p['answer'].split(', '))}» — {p['count']} of {m['responses']} ({p['percent']}%)"
            for p in m["wrong_answers"][:3]
        )
        lines += ["", f"{pad}Most common wrong answers: {shown}"]
    if m.get("explanation"):
        lines += ["", f"{pad}Пояснение: {m['explanation']}"]
    return lines
