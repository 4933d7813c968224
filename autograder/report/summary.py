"""Every number of the instructor's report, computed once: the dict ``summary.json`` holds.

The report reproduces the course's own (SEED_NOTES T1–T3): test results with
the average and the score distribution, the grade bands over each student's
best attempt and how they changed while the quiz was open, Moodle's test and
item statistics, and the questions most students got wrong. The renderers
(:mod:`~autograder.report.markdown`, :mod:`~autograder.report.html_page`,
:mod:`~autograder.report.charts`) read this dict only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import numpy as np

from course.errors import CourseError

from .. import items as itemstats
from .. import stats
from ..readers import Attempts, Responses, natural_key

__all__ = ["build_summary", "render_json"]


def _finite(x):
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def build_summary(
    attempts: Attempts,
    *,
    bands=stats.DEFAULT_BANDS,
    policy: str = "best",
    due=None,
    now: datetime | None = None,
    bank: Mapping | Iterable | None = None,
    responses: Responses | None = None,
    every="day",
    mistakes_threshold: float | None = None,
    mistakes_limit: int | None = itemstats.DEFAULT_MISTAKES,
) -> dict:
    """Every number of the report, as the JSON-ready dict written to ``summary.json``.

    Keys: ``total_results`` (graded attempts), ``students``, ``average_percent``
    (mean percentage over all attempts, two decimals half up), ``attempt_policy``,
    ``results_in_bands`` and ``policy_average_percent`` (the policy's attempts: one
    per student, their best by default), ``bands`` (``[{label, lower, upper, count,
    percent}]`` over the policy's attempts), ``band_lines``, ``histogram``,
    ``dynamics``, ``test_statistics``, ``items`` (natural order: q1, q2, …, q10),
    ``responses``, ``common_mistakes`` and provenance fields.
    """
    if policy not in stats.POLICIES:
        raise CourseError(f"unknown attempt policy {policy!r}; choose one of {', '.join(stats.POLICIES)}")
    now = now or _utc_now()
    chosen = attempts.take(stats.select_attempts(attempts, policy))
    pct = chosen.percent()
    counts = stats.band_counts(pct, bands)
    hist, edges = stats.histogram(attempts.percent())
    dyn = stats.dynamics(attempts, bands, policy, every=every, due=due, now=now)
    items = itemstats.item_statistics(chosen)
    qstats = stats.quiz_statistics(pct, chosen.item_scores if chosen.questions else None)
    questions = itemstats.item_questions(bank)
    mistakes = itemstats.common_mistakes(
        items, responses, questions, threshold=mistakes_threshold, limit=mistakes_limit
    )
    average = stats.average_percent(attempts)
    return {
        "assignment": attempts.assignment,
        "source": attempts.source,
        "generated_at": now.replace(microsecond=0).isoformat() + "Z",
        "due": None if dyn.due is None else str(dyn.due),
        "preliminary": dyn.preliminary,
        "attempt_policy": policy,
        "attempt_policy_text": stats.POLICY_WORDS[policy],
        "total_results": len(attempts),
        "students": attempts.students(),
        "results_in_bands": len(chosen),
        "population": stats.POLICY_POPULATION[policy],
        "policy_average_percent": stats.round_half_up(float(np.mean(pct)), 2),
        "average_percent": stats.round_half_up(average, 2),
        "average_percent_unrounded": average,
        "bands": [
            {
                "label": c.band.label,
                "lower": c.band.lower,
                "upper": c.band.upper,
                "count": c.count,
                "percent": c.percent,
            }
            for c in counts
        ],
        "band_lines": [c.line() for c in counts],
        "histogram": {"edges": edges.tolist(), "counts": hist.tolist()},
        "dynamics": {"step": dyn.step, "preliminary": dyn.preliminary, "rows": dyn.rows},
        "test_statistics": {k: _finite(v) for k, v in qstats.items()},
        "items": [s.to_dict() for s in sorted(items, key=lambda s: natural_key(s.question))],
        "responses": itemstats.response_analysis(responses, questions),
        "common_mistakes": [{k: _finite(v) for k, v in m.items()} for m in mistakes],
        "mistakes_threshold": mistakes_threshold,
        "mistakes_limit": mistakes_limit,
    }


def render_json(summary: dict) -> str:
    """``summary.json``: the summary as UTF-8 JSON (Cyrillic kept as is), indented."""
    return json.dumps(summary, ensure_ascii=False, indent=2) + "\n"
