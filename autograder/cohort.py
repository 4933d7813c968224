"""A seeded simulated cohort: who submits what, when — for the demo and the benchmark.

Each student has an ability ``a ~ Beta(9, 1.1)`` (mean ≈ 0.89; the instructor's
quiz report T1 has an 87 % average), 7 % of them ``Beta(2, 2.5)`` (unprepared) that grows a little with every
attempt. On each quiz question the student is right with probability
``a − difficulty`` (the T3 questions are the hard ones); a wrong answer is
drawn from the course's *common mistakes* where we know them (T3: "true" for
the two-part MDL statement, the valid-but-not-smallest set {B, C} or the
descendant {D} for the smallest backdoor set, one of the two smallest sets
only for the plural question) and from the other options otherwise. Answers
are typed the way students type them: Latin look-alike letters, lower case,
"нет" for false. A few questions are left unanswered.

For an exercise the student's answer cells are the instructor's solution,
one of the exercise's known mistakes (e.g. the bias left out of z in LRP-0,
ε added without sign(z) in LRP-ε, all weights instead of w⁺ in z⁺) or the
unanswered stub.

Nothing here grades anything: :func:`write_submission` only fills the answer
cells of the *released* notebook, and the autograder does the rest.

>>> attempts = simulate_quiz(["s001", "s002"], seed=1)
>>> sorted({a.student for a in attempts})
['s001', 's002']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import numpy as np

from course.errors import CourseError

__all__ = ["Attempt", "student_ids", "simulate_quiz", "simulate_exercise", "write_submission", "EXERCISE_MISTAKES"]

START = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
#: questions of the quiz that most students found hard (T3) and how hard, as a drop in the chance to be right
DIFFICULTY = {"t3_mdl": 0.6, "t3_backdoor_smallest": 0.6, "t3_backdoor_smallest_sets": 0.65, "variant_backdoor": 0.25}
#: the T3 common mistakes: question -> [(answer, weight)]
COMMON_MISTAKES = {
    "t3_mdl": [("верно", 0.7), ("да", 0.2), ("true", 0.1)],
    "t3_backdoor_smallest": [("В", 0.6), ("Д", 0.25), ("Г", 0.15)],
    "t3_backdoor_smallest_sets": [("В", 0.45), ("Г", 0.2), ("В, Г, Д", 0.2), ("А, В", 0.15)],
}
#: exercise answer cell -> list of (text in the solution, replacement): the course's known mistakes
EXERCISE_MISTAKES = {
    "lrp_rules": {
        "lrp0_step_solution": [("z = a @ W + b", "z = a @ W")],
        "lrp_eps_step_solution": [("z = z + eps * np.where(z >= 0, 1.0, -1.0)", "z = z + eps")],
        "zplus_step_solution": [("Wp = np.maximum(W, 0)", "Wp = W")],
        "lrp_mlp_solution": [("R[target] = activations[-1][target]", "R[target] = 1.0")],
        "layer_sums_solution": [("sums = [R.sum()]", "sums = []")],
    },
}
#: look-alikes students type for option letters (the quiz's normaliser reads them back)
LATIN = {"А": "A", "В": "B", "Е": "E", "Г": "Γ", "Д": "Δ"}


@dataclass(frozen=True)
class Attempt:
    """One submission: answer cell grade id -> the source the student typed."""

    student: str
    assignment: str
    time: datetime
    answers: dict = field(default_factory=dict)

    @property
    def stamp(self) -> str:
        return self.time.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def student_ids(n: int) -> list[str]:
    if n < 1:
        raise CourseError("the cohort needs at least one student")
    return [f"s{k:03d}" for k in range(1, n + 1)]


def _times(rng, n_attempts: int, days: int) -> list[datetime]:
    first = rng.integers(0, max(1, days - 1))
    chosen = sorted(first + rng.integers(0, days - first, size=n_attempts))
    minutes = sorted(rng.integers(8 * 60, 23 * 60, size=n_attempts))
    times = [START.replace(hour=0) + timedelta(days=int(d), minutes=int(m)) for d, m in zip(chosen, minutes)]
    for i in range(1, len(times)):  # strictly increasing, a few minutes apart at least
        times[i] = max(times[i], times[i - 1] + timedelta(minutes=7))
    return times


def _typed(rng, answer: str) -> str:
    """How a student types an option list: sometimes Latin/Greek look-alikes or lower case."""
    roll = rng.random()
    if roll < 0.15:
        return "".join(LATIN.get(ch, ch) for ch in answer)
    if roll < 0.25:
        return answer.lower()
    return answer


def _pick(rng, weighted):
    answers, weights = zip(*weighted)
    weights = np.asarray(weights, float)
    return answers[rng.choice(len(answers), p=weights / weights.sum())]


def _correct_text(q) -> str:
    if q.kind == "truefalse":
        return "верно" if q.correct else "неверно"
    if q.kind == "numeric":
        return repr(float(q.correct))
    return ", ".join(sorted(q.correct))


def _wrong_text(rng, q) -> str:
    if q.id in COMMON_MISTAKES:
        return _pick(rng, COMMON_MISTAKES[q.id])
    if q.kind == "truefalse":
        return _pick(rng, [("неверно" if q.correct else "верно", 0.8), ("нет" if q.correct else "да", 0.2)])
    if q.kind == "numeric":
        return repr(round(float(q.correct) * float(rng.choice([0.5, 2.0, -1.0, 1.5])) + float(rng.choice([0, 1])), 4))
    letters = [o.letter for o in q.options]
    if q.kind == "single":
        return str(rng.choice([x for x in letters if x not in q.correct]))
    chosen = set(q.correct)
    if rng.random() < 0.5 and len(chosen) > 1:
        chosen.discard(sorted(chosen)[int(rng.integers(len(chosen)))])
    else:
        chosen.add(str(rng.choice([x for x in letters if x not in q.correct] or letters)))
    return ", ".join(sorted(chosen))


def _variants(students: list[str], make) -> dict:
    """Each student's backdoor variant; solving a variant takes a fraction of a second, so many go to all cores."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    cores = os.cpu_count() or 1
    if len(students) < 20 or cores < 2:
        return {s: make(s) for s in students}
    # spawn, not fork: the demo solves them in a thread while its main thread runs nbgrader
    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        return dict(zip(students, pool.map(make, students, chunksize=max(1, len(students) // (4 * cores)))))


def simulate_quiz(
    students: list[str],
    *,
    seed: int = 7,
    days: int = 5,
    assignment: str = "quiz7",
    attempts_p=(0.25, 0.35, 0.25, 0.15),
    skip_p: float = 0.03,
) -> list[Attempt]:
    """Attempts of the quiz (several per student over ``days`` days), sorted by time."""
    from course.quiz.bank import load_bank
    from course.quiz.notebook import answer_variable
    from course.quiz.variants import VARIANT_ID, backdoor_variant

    rng = np.random.default_rng(seed)
    bank = list(load_bank(keys=True))
    variants = _variants(students, backdoor_variant)
    out = []
    for student in students:
        # a few students come unprepared (the report's "3" and "failed" bands)
        ability = rng.beta(2.0, 2.5) if rng.random() < 0.07 else rng.beta(9.0, 1.1)
        questions = bank + [variants[student]]
        n = 1 + int(rng.choice(len(attempts_p), p=np.asarray(attempts_p) / sum(attempts_p)))
        for k, when in enumerate(_times(rng, n, days)):
            answers = {}
            for q in questions:
                qid = VARIANT_ID if q is questions[-1] else q.id
                if rng.random() < skip_p:
                    continue
                p_right = np.clip(ability + 0.06 * k - DIFFICULTY.get(qid, 0.0) + rng.normal(0, 0.05), 0.02, 0.99)
                text = _correct_text(q) if rng.random() < p_right else _wrong_text(rng, q)
                if q.kind in ("single", "multiple"):
                    text = _typed(rng, text)
                literal = text if q.kind == "numeric" else repr(text)
                answers[f"{qid}_answer"] = f"# {answer_variable(qid)} = ...\n{answer_variable(qid)} = {literal}"
            out.append(Attempt(student, assignment, when, answers))
    return sorted(out, key=lambda a: (a.time, a.student))


def _solution_text(source: str) -> str:
    """The instructor's solution cell without nbgrader's markers."""
    return "\n".join(
        line for line in source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")
    )


def simulate_exercise(
    students: list[str], source_notebook: str | Path, assignment: str, *, seed: int = 11, days: int = 5
) -> list[Attempt]:
    """One or two attempts of an exercise per student: right, a known mistake, or unanswered, per part."""
    nb = nbformat.read(str(source_notebook), as_version=4)
    solutions = {
        c.metadata["nbgrader"]["grade_id"]: _solution_text(c.source)
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    mistakes = EXERCISE_MISTAKES.get(assignment, {})
    rng = np.random.default_rng(seed)
    out = []
    for student in students:
        ability = rng.beta(5.0, 1.6)
        n = 1 + int(rng.random() < 0.35)
        for k, when in enumerate(_times(rng, n, days)):
            answers = {}
            for gid, text in solutions.items():
                roll = rng.random()
                if roll < ability + 0.1 * k:
                    answers[gid] = text
                elif roll < ability + 0.1 * k + 0.6 * (1 - ability) and mistakes.get(gid):
                    wrong, right = mistakes[gid][int(rng.integers(len(mistakes[gid])))][::-1]
                    answers[gid] = text.replace(right, wrong) if right in text else text
            out.append(Attempt(student, assignment, when, answers))
    return sorted(out, key=lambda a: (a.time, a.student))


def write_submission(release_notebook: str | Path, submitted_root: str | Path, attempt: Attempt) -> Path:
    """Fill the answer cells of the released notebook and put it where ``nbgrader collect`` would.

    ``submitted_root/<student>/<assignment>/<notebook>.ipynb`` plus ``timestamp.txt``;
    a later attempt replaces the earlier one, as in nbgrader.
    """
    release_notebook = Path(release_notebook)
    nb = nbformat.read(str(release_notebook), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in attempt.answers:
            cell.source = attempt.answers[gid]
    folder = Path(submitted_root) / attempt.student / attempt.assignment
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / release_notebook.name))
    (folder / "timestamp.txt").write_text(attempt.stamp, encoding="utf-8")
    return folder
