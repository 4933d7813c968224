"""The report's PNG charts: score distribution, grade bands, dynamics and each common mistake's DAG.

matplotlib is imported when a chart is drawn, not when the report package is
imported (the command line's start-up stays short), and its Agg canvas is
used directly, so no global backend is switched.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHARTS", "make_charts", "dag_chart_name"]

#: the charts every report has (``dynamics.png`` only when attempts carry timestamps)
CHARTS = ("distribution.png", "bands.png", "dynamics.png")


def dag_chart_name(number: int) -> str:
    """File name of the DAG drawn for the ``number``-th common mistake."""
    return f"mistake{number}_dag.png"


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
    ax.set(
        xlabel="score, %",
        ylabel="results",
        xlim=(0, 100),
        title=f"Score distribution: all {summary['total_results']} results",
    )
    _count_axis(ax)
    out["distribution.png"] = _png(fig)

    bands = summary["bands"]
    fig = _figure(bottom=0.1)
    ax = fig.add_subplot()
    labels = [f'"{b["label"]}"' for b in bands]
    bars = ax.bar(labels, [b["count"] for b in bands], color="#55a868")
    ax.bar_label(bars, labels=[f"{b['count']} ({b['percent']}%)" for b in bands])
    each = "" if summary["attempt_policy"] == "all" else f", {summary['attempt_policy']} attempt each"
    ax.set(
        ylabel="students" if each else "results",
        title=f"Bands: {summary['results_in_bands']} {'students' if each else 'results'}{each}",
    )
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
            out[dag_chart_name(k)] = _dag_png(m)
    return out


def _dag_png(m: dict) -> bytes:
    """The question's DAG with the correct adjustment set's paths (``course.plotting.draw_dag``)."""
    from course.causal.graphs import parse_dag
    from course.plotting.dags import draw_dag

    fig = _figure(height=4.0, bottom=0.12)
    ax = fig.add_subplot()
    adjust = m.get("adjust") or ()
    draw_dag(
        parse_dag(m["dag"]),
        m["exposure"],
        m["outcome"],
        adjust,
        ax=ax,
        title=f"{m['question']}\nbackdoor paths from {m['exposure']} to {m['outcome']}"
        + (" given {" + ", ".join(adjust) + "} (a right answer)" if adjust else ""),
    )
    ax.title.set_fontsize(10)
    return _png(fig)
