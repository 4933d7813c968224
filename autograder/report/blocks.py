"""The report as a list of blocks — headings, paragraphs, tables, images — that both renderers draw.

Each block is a tuple ``(kind, ...)``: ``("h1", text)``, ``("h2", text)``,
``("p", text)`` (inline ``**bold**`` and ``*italic*``), ``("lines", [text])``,
``("img", file, alt)``, ``("table", header, rows)`` and ``("md", [lines])`` (a
common-mistake block in the course's layout). The Markdown and the HTML page
are two renderings of the same list, so they never disagree.
"""

from __future__ import annotations

from .. import items as itemstats
from .charts import dag_chart_name

__all__ = ["report_blocks"]


def _fmt(x, digits=2, unit=""):
    return "—" if x is None else f"{x:.{digits}f}{unit}"


def report_blocks(s: dict, charts: set[str]) -> list[tuple]:
    """The report as a list of (kind, ...) blocks shared by the Markdown and HTML renderers."""
    title = f"Quiz report: {s['assignment']}" if s.get("assignment") else "Quiz report"
    due = f"due {s['due'].replace('T', ' ')} UTC" if s["due"] else "no due date given"
    out: list[tuple] = [
        ("h1", title),
        (
            "p",
            f"Source: {s['source'] or 'attempts table'}; generated {s['generated_at']}; {due}; "
            f"attempt policy: {s['attempt_policy']} ({s['attempt_policy_text']}).",
        ),
    ]
    if s["preliminary"]:
        out.append(
            (
                "p",
                "**Preliminary**: the quiz is still open (or its due date is unknown); "
                "re-run the report as attempts arrive.",
            )
        )
    n, students, pop = s["total_results"], s["students"], s.get("population", "best attempts")
    out += [
        ("h2", "Test results"),
        ("p", f"Total number of test results: {n} (every graded attempt of {students} students)"),
        ("p", f"Average score: {s['average_percent']:.2f} % (over all {n} results)"),
        ("p", "Score distribution:"),
    ]
    if "distribution.png" in charts:
        out.append(("img", "distribution.png", "Score distribution"))
    edges, counts = s["histogram"]["edges"], s["histogram"]["counts"]
    rows = [[f"{edges[i]:g}–{edges[i + 1]:g} %", str(c)] for i, c in enumerate(counts)]
    out.append(("table", ["Score", "Results"], rows))

    counted = "Students in the bands" if s["attempt_policy"] != "all" else "Results in the bands"
    each = {"best": "best attempt", "first": "first attempt", "last": "latest attempt"}.get(s["attempt_policy"])
    out += [
        ("h2", "Preliminary results. Dynamics" if s["preliminary"] else "Results. Dynamics"),
        ("p", f"Taking {s['attempt_policy_text']}, we have the following results"),
        (
            "p",
            f"**{counted}: {s['results_in_bands']}**"
            + (f" — each student once, with their {each} (of the {n} test results above)" if each else "")
            + f"; average of the {pop}: {s['policy_average_percent']:.2f} %",
        ),
        ("lines", s["band_lines"]),
    ]
    if "bands.png" in charts:
        out.append(("img", "bands.png", "Grade bands"))
    dyn = s["dynamics"]
    if dyn["rows"]:
        labels = [b["label"] for b in s["bands"]]
        out.append(("p", f"Dynamics (after each {dyn['step']}; {s['attempt_policy']} attempt per student so far):"))
        out.append(
            (
                "table",
                ["Until", "Results so far", "Students so far"] + [f'"{lab}"' for lab in labels],
                [
                    [r["until"], str(r["attempts"]), str(r["students"])]
                    + [f"{c} ({p}%)" for c, p in zip(r["counts"], r["percents"])]
                    for r in dyn["rows"]
                ],
            )
        )
        if "dynamics.png" in charts:
            out.append(("img", "dynamics.png", "Dynamics of the grade bands"))
    else:
        out.append(("p", "No dynamics: the attempts carry no timestamps."))

    t = s["test_statistics"]
    out += [
        ("h2", f"Test statistics ({pop})"),
        (
            "table",
            ["Statistic", "Value"],
            [
                [f"{pop.capitalize()} analysed", str(t["n"])],
                [f"Average of the {pop}", _fmt(t["mean"], unit=" %")],
                ["Median", _fmt(t["median"], unit=" %")],
                ["Standard deviation", _fmt(t["sd"], unit=" %")],
                ["Skewness", _fmt(t["skewness"], 4)],
                ["Excess kurtosis", _fmt(t["kurtosis"], 4)],
                ["Coefficient of internal consistency (Cronbach's α)", _fmt(t["cic"], unit=" %")],
                ["Error ratio", _fmt(t["error_ratio"], unit=" %")],
                ["Standard error", _fmt(t["standard_error"], unit=" %")],
            ],
        ),
    ]
    if s["items"]:
        out += [
            ("h2", f"Item statistics ({pop})"),
            (
                "table",
                [
                    "Question",
                    "Attempts",
                    "Max",
                    "Facility",
                    "SD",
                    "Discrimination index",
                    "Discriminative efficiency",
                    "Dubious",
                ],
                [
                    [
                        i["question"],
                        str(i["n"]),
                        f"{i['max_score']:g}",
                        _fmt(i["facility"], unit=" %"),
                        _fmt(i["sd"], unit=" %"),
                        _fmt(i["discrimination_index"], unit=" %"),
                        _fmt(i["discriminative_efficiency"], unit=" %"),
                        "yes" if i["dubious"] else "",
                    ]
                    for i in s["items"]
                ],
            ),
        ]
    if s["responses"]:
        out.append(("h2", "Response analysis"))
        for q, r in s["responses"].items():
            numeric = r.get("kind") == "numeric"
            out.append(
                (
                    "p",
                    f"{q} — {r['responses']} answers" + (" (typed numbers, grouped by value)" if numeric else "") + ":",
                )
            )
            out.append(
                (
                    "table",
                    ["Answer" if numeric else "Option", "Chosen", "Share", "Correct"],
                    [
                        [_option_label(o), str(o["count"]), f"{o['percent']}%", "✓" if o["correct"] else ""]
                        for o in r["options"]
                    ],
                )
            )
    out.append(("h2", "Some common mistakes"))
    limit, threshold = s.get("mistakes_limit"), s["mistakes_threshold"]
    if s["common_mistakes"]:
        k = len(s["common_mistakes"])
        which = "The questions" if limit is None else ("The question" if k == 1 else f"The {k} questions")
        below = f" below {threshold:g} %" if threshold is not None else ""
        out.append(("p", f"{which} with the lowest facility{below}" + (", hardest first:" if k > 1 else ":")))
        for k, m in enumerate(s["common_mistakes"], 1):
            image = dag_chart_name(k)
            out.append(("md", itemstats.format_mistake(m, k, image=image if image in charts else None)))
    elif threshold is not None:
        out.append(("p", f"No question has a facility below {threshold:g} %."))
    else:
        out.append(("p", "Every answer to every question was right."))
    return out


def _option_label(o: dict) -> str:
    """ "А) {B, D}" — the letter with its text; true/false as верно/неверно."""
    label = itemstats.answer_label(o["option"])
    return f"{label}) {o['text']}" if o.get("text") else label
