"""The instructor's quiz report: ``report.md``, ``report.html``, ``summary.json`` and PNG charts.

The report reproduces the course's own (SEED_NOTES T1–T3): test results with
the average and the score distribution, the grade bands over each student's
best attempt and how they changed while the quiz was open, Moodle's test and
item statistics, and the questions most students got wrong.

Everything is computed once into a ``summary`` dict (what ``summary.json``
holds); the Markdown and HTML files are two renderings of the same list of
blocks. Files are written into a temporary directory next to the target and
renamed into place, so a failed run leaves nothing half-written.

Command line::

    xai-course report --gradebook gradebook.db --assignment quiz7 --out reports/quiz7
    xai-course report --csv grades.csv --out reports/quiz7 --bands "5:80,4:60,3:40,failed:0"
"""
from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import tempfile
import tomllib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from course.errors import CourseError

from . import items as itemstats
from . import stats
from .owned import check_replaceable, mark
from .readers import Attempts, Responses, natural_key

__all__ = ["build_summary", "write_report", "render_markdown", "render_html", "load_bank", "add_parser"]

CHARTS = ("distribution.png", "bands.png", "dynamics.png")


# ----------------------------------------------------------------- numbers

def _finite(x):
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def build_summary(attempts: Attempts, *, bands=stats.DEFAULT_BANDS, policy: str = "best", due=None,
                  now: datetime | None = None, bank: Mapping | None = None, responses: Responses | None = None,
                  every="day", mistakes_threshold: float | None = None,
                  mistakes_limit: int | None = itemstats.DEFAULT_MISTAKES) -> dict:
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
    mistakes = itemstats.common_mistakes(items, responses, bank, threshold=mistakes_threshold,
                                         limit=mistakes_limit)
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
        "bands": [{"label": c.band.label, "lower": c.band.lower, "upper": c.band.upper, "count": c.count,
                   "percent": c.percent} for c in counts],
        "band_lines": [c.line() for c in counts],
        "histogram": {"edges": edges.tolist(), "counts": hist.tolist()},
        "dynamics": {"step": dyn.step, "preliminary": dyn.preliminary, "rows": dyn.rows},
        "test_statistics": {k: _finite(v) for k, v in qstats.items()},
        "items": [s.to_dict() for s in sorted(items, key=lambda s: natural_key(s.question))],
        "responses": itemstats.response_analysis(responses, bank),
        "common_mistakes": [{k: _finite(v) for k, v in m.items()} for m in mistakes],
        "mistakes_threshold": mistakes_threshold,
        "mistakes_limit": mistakes_limit,
    }


# ----------------------------------------------------------------- blocks → Markdown / HTML

def _fmt(x, digits=2, unit=""):
    return "—" if x is None else f"{x:.{digits}f}{unit}"


def _blocks(s: dict, charts: set[str]) -> list[tuple]:
    """The report as a list of (kind, ...) blocks shared by the Markdown and HTML renderers."""
    title = f"Quiz report: {s['assignment']}" if s.get("assignment") else "Quiz report"
    due = f"due {s['due'].replace('T', ' ')} UTC" if s["due"] else "no due date given"
    out: list[tuple] = [
        ("h1", title),
        ("p", f"Source: {s['source'] or 'attempts table'}; generated {s['generated_at']}; {due}; "
              f"attempt policy: {s['attempt_policy']} ({s['attempt_policy_text']})."),
    ]
    if s["preliminary"]:
        out.append(("p", "**Preliminary**: the quiz is still open (or its due date is unknown); "
                         "re-run the report as attempts arrive."))
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

    counted = ("Students in the bands" if s["attempt_policy"] != "all" else "Results in the bands")
    each = {"best": "best attempt", "first": "first attempt", "last": "latest attempt"}.get(s["attempt_policy"])
    out += [
        ("h2", "Preliminary results. Dynamics" if s["preliminary"] else "Results. Dynamics"),
        ("p", f"Taking {s['attempt_policy_text']}, we have the following results"),
        ("p", f"**{counted}: {s['results_in_bands']}**"
              + (f" — each student once, with their {each} (of the {n} test results above)" if each else "")
              + f"; average of the {pop}: {s['policy_average_percent']:.2f} %"),
        ("lines", s["band_lines"]),
    ]
    if "bands.png" in charts:
        out.append(("img", "bands.png", "Grade bands"))
    dyn = s["dynamics"]
    if dyn["rows"]:
        labels = [b["label"] for b in s["bands"]]
        out.append(("p", f"Dynamics (after each {dyn['step']}; {s['attempt_policy']} attempt per student so far):"))
        out.append(("table", ["Until", "Results so far", "Students so far"] + [f'"{lab}"' for lab in labels],
                    [[r["until"], str(r["attempts"]), str(r["students"])]
                     + [f"{c} ({p}%)" for c, p in zip(r["counts"], r["percents"])] for r in dyn["rows"]]))
        if "dynamics.png" in charts:
            out.append(("img", "dynamics.png", "Dynamics of the grade bands"))
    else:
        out.append(("p", "No dynamics: the attempts carry no timestamps."))

    t = s["test_statistics"]
    out += [("h2", f"Test statistics ({pop})"),
            ("table", ["Statistic", "Value"], [
                [f"{pop.capitalize()} analysed", str(t["n"])], [f"Average of the {pop}", _fmt(t["mean"], unit=" %")],
                ["Median", _fmt(t["median"], unit=" %")], ["Standard deviation", _fmt(t["sd"], unit=" %")],
                ["Skewness", _fmt(t["skewness"], 4)], ["Excess kurtosis", _fmt(t["kurtosis"], 4)],
                ["Coefficient of internal consistency (Cronbach's α)", _fmt(t["cic"], unit=" %")],
                ["Error ratio", _fmt(t["error_ratio"], unit=" %")],
                ["Standard error", _fmt(t["standard_error"], unit=" %")]])]
    if s["items"]:
        out += [("h2", f"Item statistics ({pop})"),
                ("table", ["Question", "Attempts", "Max", "Facility", "SD", "Discrimination index",
                           "Discriminative efficiency", "Dubious"],
                 [[i["question"], str(i["n"]), f"{i['max_score']:g}", _fmt(i["facility"], unit=" %"),
                   _fmt(i["sd"], unit=" %"), _fmt(i["discrimination_index"], unit=" %"),
                   _fmt(i["discriminative_efficiency"], unit=" %"), "yes" if i["dubious"] else ""]
                  for i in s["items"]])]
    if s["responses"]:
        out.append(("h2", "Response analysis"))
        for q, r in s["responses"].items():
            numeric = r.get("kind") == "numeric"
            out.append(("p", f"{q} — {r['responses']} answers" + (" (typed numbers, grouped by value)" if numeric
                                                                   else "") + ":"))
            out.append(("table", ["Answer" if numeric else "Option", "Chosen", "Share", "Correct"],
                        [[_option_label(o), str(o["count"]), f"{o['percent']}%", "✓" if o["correct"] else ""]
                         for o in r["options"]]))
    out.append(("h2", "Some common mistakes"))
    limit, threshold = s.get("mistakes_limit"), s["mistakes_threshold"]
    if s["common_mistakes"]:
        k = len(s["common_mistakes"])
        which = "The questions" if limit is None else ("The question" if k == 1 else f"The {k} questions")
        below = f" below {threshold:g} %" if threshold is not None else ""
        out.append(("p", f"{which} with the lowest facility{below}" + (", hardest first:" if k > 1 else ":")))
        for k, m in enumerate(s["common_mistakes"], 1):
            image = _dag_chart_name(k)
            out.append(("md", itemstats.format_mistake(m, k, image=image if image in charts else None)))
    elif threshold is not None:
        out.append(("p", f"No question has a facility below {threshold:g} %."))
    else:
        out.append(("p", "Every answer to every question was right."))
    return out


def _option_label(o: dict) -> str:
    """"А) {B, D}" — the letter with its text; true/false as верно/неверно."""
    label = itemstats.answer_label(o["option"])
    return f"{label}) {o['text']}" if o.get("text") else label


def _dag_chart_name(number: int) -> str:
    return f"mistake{number}_dag.png"


def render_markdown(summary: dict, charts: set[str] | None = None) -> str:
    """The report as Markdown (charts referenced as the PNG files beside it; default: the three charts)."""
    md = []
    for kind, *a in _blocks(summary, set(CHARTS) if charts is None else charts):
        if kind == "h1":
            md += [f"# {a[0]}", ""]
        elif kind == "h2":
            md += [f"## {a[0]}", ""]
        elif kind == "p":
            md += [a[0], ""]
        elif kind == "lines":
            md += [f"- {line}" for line in a[0]] + [""]
        elif kind == "img":
            md += [f"![{a[1]}]({a[0]})", ""]
        elif kind == "table":
            header, rows = a
            md += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            md += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows] + [""]
        elif kind == "md":
            md += a[0] + [""]
    return "\n".join(md)


_CSS = ("body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #bbb;padding:.2rem .5rem;"
        "text-align:left}th{background:#eee}img{max-width:100%}pre{white-space:pre-wrap;font-family:inherit}")


def _inline_md(text: str) -> str:
    """Escape, then turn **bold** and *italic* of our own lines into tags."""
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"(?<![\w*])\*(\S.*?\S|\S)\*(?![\w*])", r"<em>\1</em>", text)


_MD_IMAGE = re.compile(r"^(\s*)!\[(.*)\]\((\S+)\)$")


def _md_line_html(line: str, charts: Mapping[str, bytes]) -> str:
    """One line of a Markdown block: an image of ours is embedded, the rest is inline Markdown."""
    m = _MD_IMAGE.match(line)
    if m and m.group(3) in charts:
        return f'{m.group(1)}<img alt="{html.escape(m.group(2))}" src="{_data_uri(charts[m.group(3)])}">'
    return _inline_md(line)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(summary: dict, charts: Mapping[str, bytes]) -> str:
    """One self-contained HTML page: the charts are embedded as base64 PNG ``data:`` URIs."""
    body = []
    for kind, *a in _blocks(summary, set(charts)):
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(a[0])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_inline_md(a[0])}</p>")
        elif kind == "lines":
            body.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in a[0]) + "</ul>")
        elif kind == "img":
            body.append(f'<p><img alt="{html.escape(a[1])}" src="{_data_uri(charts[a[0]])}"></p>')
        elif kind == "table":
            header, rows = a
            body.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
                        + "</table>")
        elif kind == "md":
            body.append("<pre>" + "\n".join(_md_line_html(x, charts) for x in a[0]) + "</pre>")
    title = html.escape(summary.get("assignment") or "Quiz report")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# ----------------------------------------------------------------- charts

def _png(fig) -> bytes:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _count_axis(ax) -> None:
    """Counts are whole numbers: ticks only at integers (no 0.5 students)."""
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _figure(height: float = 3.2, bottom: float = 0.16):
    """A figure with fixed margins (a layout engine would cost a third of the report's time)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, height))
    fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=bottom)
    return fig


def make_charts(summary: dict) -> dict[str, bytes]:
    """PNG bytes of the score distribution, the bands, the dynamics (when there are timestamps) and
    the DAG of each common mistake that is a backdoor question (``course.plotting.draw_dag``).

    Uses matplotlib's Agg canvas directly, so no global backend is switched.
    """
    out = {}
    edges, counts = summary["histogram"]["edges"], summary["histogram"]["counts"]
    fig = _figure()
    ax = fig.add_subplot()
    ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#4c72b0", edgecolor="white")
    ax.set(xlabel="score, %", ylabel="results", xlim=(0, 100),
           title=f"Score distribution: all {summary['total_results']} results")
    _count_axis(ax)
    out["distribution.png"] = _png(fig)

    bands = summary["bands"]
    fig = _figure(bottom=0.1)
    ax = fig.add_subplot()
    labels = [f'"{b["label"]}"' for b in bands]
    bars = ax.bar(labels, [b["count"] for b in bands], color="#55a868")
    ax.bar_label(bars, labels=[f'{b["count"]} ({b["percent"]}%)' for b in bands])
    each = "" if summary["attempt_policy"] == "all" else f", {summary['attempt_policy']} attempt each"
    ax.set(ylabel="students" if each else "results",
           title=f"Bands: {summary['results_in_bands']} {'students' if each else 'results'}{each}")
    ax.margins(y=0.15)
    _count_axis(ax)
    out["bands.png"] = _png(fig)

    rows = summary["dynamics"]["rows"]
    if rows:
        fig = _figure(bottom=0.24)
        ax = fig.add_subplot()
        x = np.arange(len(rows))
        for j, b in enumerate(bands):
            ax.plot(x, [r["counts"][j] for r in rows], marker="o", label=f'"{b["label"]}"')
        step = max(1, len(rows) // 8)
        ax.set_xticks(x[::step], [r["until"] for r in rows][::step], rotation=30, ha="right", fontsize=8)
        title = "Dynamics" + (" (preliminary)" if summary["preliminary"] else "")
        ax.set(ylabel="students", title=title)
        ax.legend(fontsize=8)
        _count_axis(ax)
        out["dynamics.png"] = _png(fig)
    for k, m in enumerate(summary["common_mistakes"], 1):
        if m.get("dag") and m.get("exposure") and m.get("outcome"):
            out[_dag_chart_name(k)] = _dag_png(m)
    return out


def _dag_png(m: dict) -> bytes:
    """The question's DAG with the correct adjustment set's paths (``course.plotting.draw_dag``)."""
    from course.causal.graphs import parse_dag
    from course.plotting.dags import draw_dag

    fig = _figure(height=4.0, bottom=0.12)
    ax = fig.add_subplot()
    adjust = m.get("adjust") or ()
    draw_dag(parse_dag(m["dag"]), m["exposure"], m["outcome"], adjust, ax=ax,
             title=f"{m['question']}\nbackdoor paths from {m['exposure']} to {m['outcome']}"
                   + (" given {" + ", ".join(adjust) + "} (a right answer)" if adjust else ""))
    ax.title.set_fontsize(10)
    return _png(fig)


# ----------------------------------------------------------------- writing

#: written into every report directory: only a folder holding it is ever replaced (with force)
REPORT_MARKER = ".xai-course-report"


def _check_target(out: Path, force: bool) -> bool:
    """Whether ``out`` holds an earlier report (replaced only with ``force``); CourseError for anything else."""
    return check_replaceable(out, REPORT_MARKER, command="xai-course report", force=force, arg="out_dir")


def write_report(attempts: Attempts, out_dir: str | os.PathLike, *, bands=stats.DEFAULT_BANDS,
                 policy: str = "best", due=None, bank: Mapping | None = None, responses: Responses | None = None,
                 every="day", mistakes_threshold: float | None = None,
                 mistakes_limit: int | None = itemstats.DEFAULT_MISTAKES,
                 force: bool = False, now: datetime | None = None) -> Path:
    """Write the instructor's report of ``attempts`` into ``out_dir`` and return its path.

    Parameters
    ----------
    attempts : the table of attempts (:func:`autograder.sources.read_gradebook`,
        :func:`~autograder.sources.read_grades_csv`, or built with ``Attempts.from_rows``)
    out_dir : the report directory; it receives ``report.md``, ``report.html``
        (self-contained), ``summary.json`` and ``distribution.png``, ``bands.png``
        and, when attempts have timestamps, ``dynamics.png``
    bands : grade bands, highest first (:data:`autograder.stats.DEFAULT_BANDS`
        or :func:`autograder.stats.parse_bands`)
    policy : which attempts the bands and statistics use: "best" (default),
        "first", "last" or "all"
    due : due date (datetime or ISO text, UTC); defaults to the source's; the
        report is marked preliminary until it has passed
    bank : question_id → dict/object with ``text_ru, text_en, options, correct, explanation``
    responses : the options students chose, for the response analysis
    every : dynamics step, "day" or a number of attempts
    mistakes_threshold, mistakes_limit : common mistakes are the ``mistakes_limit``
        questions with the lowest facility (default 3; None: all) that someone got
        wrong; with a threshold (percent) only those with facility below it
    force : replace an earlier report in ``out_dir``; a folder the report did not
        write (no ``.xai-course-report`` file in it) is never replaced
    now : the time the report is made (for tests); default: the current UTC time

    Raises
    ------
    CourseError : ``out_dir`` holds an earlier report (without ``force``) or
        anything else (always), or bad options. Nothing
        is written then: files go to a temporary directory beside ``out_dir``
        that is renamed into place at the end.

    Examples
    --------
    >>> import tempfile, json, pathlib
    >>> from autograder.readers import Attempts
    >>> a = Attempts.from_rows(["s1", "s2"], ["2024-03-01 10:00", "2024-03-02 11:00"], [9, 5], 10)
    >>> out = write_report(a, pathlib.Path(tempfile.mkdtemp()) / "rep")
    >>> json.loads((out / "summary.json").read_text())["average_percent"]
    70.0
    """
    out = Path(out_dir)
    _check_target(out, force)
    if mistakes_threshold is not None and (isinstance(mistakes_threshold, bool)
                                           or not isinstance(mistakes_threshold, (int, float))
                                           or not 0 <= mistakes_threshold <= 100):
        raise CourseError(f"mistakes_threshold={mistakes_threshold!r}: must be a percentage from 0 to 100")
    if mistakes_limit is not None and (isinstance(mistakes_limit, bool) or not isinstance(mistakes_limit, int)
                                       or mistakes_limit < 0):
        raise CourseError(f"mistakes_limit={mistakes_limit!r}: must be a non-negative number of questions")
    if due is not None and not isinstance(due, (datetime, np.datetime64)):
        from .readers import parse_timestamp
        try:
            due = parse_timestamp(str(due))
        except ValueError as exc:
            raise CourseError(f"due date: {exc}") from None
    summary = build_summary(attempts, bands=bands, policy=policy, due=due, now=now, bank=bank,
                            responses=responses, every=every, mistakes_threshold=mistakes_threshold,
                            mistakes_limit=mistakes_limit)
    charts = make_charts(summary)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    except OSError as exc:
        raise CourseError(f"{out}: cannot create the report directory there ({exc.strerror}: {exc.filename})") \
            from None
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; the report is meant to be shared
        mark(tmp, REPORT_MARKER, "xai-course report")
        for name, data in charts.items():
            (tmp / name).write_bytes(data)
        (tmp / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
        (tmp / "report.md").write_text(render_markdown(summary, set(charts)), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(summary, charts), encoding="utf-8")
        if _check_target(out, force):
            old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise CourseError(f"{out}: writing the report failed ({exc.strerror}); nothing was written") from None
        raise
    return out


# ----------------------------------------------------------------- the quiz bank

def load_bank(path: str | os.PathLike) -> dict:
    """Question metadata for the report: ``question_id → dict``.

    A TOML file goes through the course's quiz-bank loader
    (``course.quiz.bank.load_bank``, which validates it); a JSON file holds
    either a list ``{"questions": [{id, text_ru, text_en, options, correct,
    explanation}, …]}`` or an object keyed by question id.
    """
    path = Path(path)
    if not path.is_file():
        raise CourseError(f"{path}: no such question bank file")
    try:
        from course.quiz.bank import load_bank as loader
    except ImportError:
        loader = None
    if loader is not None and path.suffix == ".toml":
        data = loader(path, keys=True)  # validated with its keys by the quiz package; raises CourseError itself
    else:
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except (ValueError, OSError) as exc:
            raise CourseError(f"{path}: cannot read the question bank ({exc})") from None
    for key in ("questions", "question"):
        if isinstance(data, Mapping) and key in data:
            data = data[key]
    if isinstance(data, Mapping):
        return dict(data)
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise CourseError(f"{path}: expected a list of questions or an object keyed by question id, "
                          f"got {type(data).__name__}")
    bank = {}
    for q in data:
        qid = q.get("id") if isinstance(q, Mapping) else getattr(q, "id", None)
        if qid is None:
            raise CourseError(f"{path}: a question has no id")
        bank[str(qid)] = q
    return bank


# ----------------------------------------------------------------- command line

def add_parser(subparsers) -> None:
    """Register ``xai-course report``."""
    p = subparsers.add_parser(
        "report", help="write the instructor's quiz report (Markdown, HTML, JSON, charts)",
        description="Totals, average, grade bands over each student's best attempt, dynamics, Moodle test and "
                    "item statistics and common mistakes of one quiz.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gradebook", metavar="PATH", help="nbgrader gradebook.db (or a database URL); read only")
    src.add_argument("--csv", metavar="FILE",
                     help="grade CSV/TSV: Moodle's quiz Grades download, nbgrader's export or the README's "
                          "plain format")
    p.add_argument("--assignment", metavar="NAME", help="assignment name (required with --gradebook)")
    p.add_argument("--out", metavar="DIR", required=True, help="report directory to create")
    p.add_argument("--bands", metavar="SPEC", help='grade bands, e.g. "5:80,4:60,3:40,failed:0" (the default)')
    p.add_argument("--policy", choices=stats.POLICIES, default="best", help="which attempts count (default best)")
    p.add_argument("--due", metavar="ISO", help="due date (UTC); the report is preliminary before it")
    p.add_argument("--every", metavar="day|N", default="day", help="dynamics step: day (default) or N attempts")
    p.add_argument("--questions", metavar="BANK", help="quiz bank file for question texts and correct answers")
    p.add_argument("--responses", metavar="PATH",
                   help="students' answers: Moodle's quiz Responses download, a CSV (student_id,question,answer) "
                        "or a directory of autograded notebooks (STUDENT/ASSIGNMENT/*.ipynb)")
    p.add_argument("--mistakes-threshold", type=float, default=None, metavar="PCT",
                   help="common mistakes: only questions with facility below PCT (default: the N hardest)")
    p.add_argument("--mistakes", type=int, default=itemstats.DEFAULT_MISTAKES, metavar="N",
                   help=f"common mistakes: the N hardest questions (default {itemstats.DEFAULT_MISTAKES})")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier report (never a folder the report did not write)")
    p.set_defaults(func=run, python_names={"out_dir": "out", "mistakes_limit": "mistakes"})


def run(args) -> int:
    """Run ``xai-course report`` from parsed arguments."""
    from . import readers as sources

    out = Path(args.out)
    _check_target(out, args.force)  # refuse before the (possibly long) reading
    bands = stats.parse_bands(args.bands) if args.bands else stats.DEFAULT_BANDS
    every = args.every
    if every != "day":
        try:
            every = int(every)
        except ValueError:
            raise CourseError(f"--every: expected 'day' or a number of attempts, not {every!r}") from None
    if args.gradebook:
        if not args.assignment:
            raise CourseError("--assignment NAME is required with --gradebook")
        attempts = sources.read_gradebook(args.gradebook, args.assignment)
    else:
        attempts = sources.read_grades_csv(args.csv, assignment=args.assignment)
    bank = load_bank(args.questions) if args.questions else None
    responses = None
    if args.responses:
        path = Path(args.responses)
        if path.is_dir():
            if not (args.assignment or attempts.assignment):
                raise CourseError(f"--responses {path}: a directory of notebooks needs --assignment NAME "
                                  "(they are read from DIR/STUDENT/ASSIGNMENT/*.ipynb)")
            responses = sources.read_responses_notebooks(path, args.assignment or attempts.assignment,
                                                         questions=list(bank) if bank else None)
        else:
            responses = sources.read_responses_csv(path)
    write_report(attempts, out, bands=bands, policy=args.policy, due=args.due, bank=bank, responses=responses,
                 every=every, mistakes_threshold=args.mistakes_threshold, mistakes_limit=args.mistakes,
                 force=args.force)
    print(f"report written to {out}/ (report.md, report.html, summary.json, charts): "
          f"{len(attempts)} results, {attempts.students()} students")
    return 0
