"""Autograding throughput: plain serial ``nbgrader autograde`` against ``xai-course autograde``.

The same 40 simulated submissions of the ``lrp_rules`` exercise (seeded cohort,
:mod:`autograder.cohort`) are graded three times, each in its own copy of the
course: by ``nbgrader autograde`` (one kernel after the other, the hidden tests
run in the student's kernel), and by :func:`autograder.pipeline.autograde` on
all cores — with a new sandbox per submission (cold) and with kernels forked
from a warm-started zygote. Feedback generation is left out on both sides.
The table gives wall seconds, submissions per second and the ratio to
nbgrader, plus how many submissions got the same total from both graders.

Target (the autograding issue): ≥ 1.8× nbgrader's throughput on 2 cores.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

ASSIGNMENT = "lrp_rules"
SUBMISSIONS = 40


def _course(root: Path) -> Path:
    from course.nbgrader_setup import copy_course, run_nbgrader

    copy_course(root, assignments=(ASSIGNMENT,))
    run_nbgrader(["generate_assignment", ASSIGNMENT, "--force"], root)
    return root


def _submit(root: Path) -> None:
    from autograder.cohort import simulate_exercise, student_ids, write_submission

    attempts = simulate_exercise(
        student_ids(SUBMISSIONS), root / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", ASSIGNMENT, seed=3
    )
    latest = {a.student: a for a in attempts}  # one submission per student, as nbgrader keeps
    for attempt in latest.values():
        write_submission(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", root / "submitted", attempt)


def _totals(root: Path) -> dict:
    con = sqlite3.connect(root / "gradebook.db")
    rows = con.execute(
        "SELECT sa.student_id, SUM(COALESCE(g.manual_score, g.auto_score, 0)) FROM grade g "
        "JOIN submitted_notebook sn ON g.notebook_id = sn.id JOIN submitted_assignment sa "
        "ON sn.assignment_id = sa.id GROUP BY sa.student_id"
    ).fetchall()
    con.close()
    return {student: round(total, 6) for student, total in rows}


def main() -> None:
    from autograder.pipeline import autograde
    from autograder.sandbox import Limits, sandbox_available
    from course.nbgrader_setup import run_nbgrader

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        base = _course(Path(tmp) / "base")
        _submit(base)
        copies = {}
        for name in ("nbgrader", "cold", "warm"):
            copies[name] = Path(tmp) / name
            shutil.copytree(base, copies[name])
        rows = []
        started = time.perf_counter()
        run_nbgrader(["autograde", ASSIGNMENT, "--force"], copies["nbgrader"], timeout=3600)
        rows.append(("nbgrader autograde (serial)", time.perf_counter() - started))
        if not sandbox_available()[0]:
            print(f"no sandbox here ({sandbox_available()[1]}): only nbgrader was timed")
            return
        limits = Limits(cell_seconds=60, notebook_seconds=300)
        for name, warm in (("cold", False), ("warm", True)):
            started = time.perf_counter()
            autograde(copies[name], ASSIGNMENT, workers=cores, limits=limits, progress=False, feedback=False, warm=warm)
            label = f"xai-course autograde, {'warm kernels' if warm else 'new sandbox each'}, {cores} workers"
            rows.append((label, time.perf_counter() - started))
        reference = _totals(copies["nbgrader"])
        print(f"{SUBMISSIONS} submissions of {ASSIGNMENT} on {cores} cores (wall time, feedback excluded)")
        print(f"{'grader':<58} {'seconds':>8} {'subs/s':>8} {'ratio':>7}")
        for label, seconds in rows:
            print(f"{label:<58} {seconds:8.1f} {SUBMISSIONS / seconds:8.2f} {rows[0][1] / seconds:7.2f}")
        for name in ("cold", "warm"):
            ours = _totals(copies[name])
            same = sum(1 for s in reference if s in ours and abs(ours[s] - reference[s]) < 1e-6)
            print(f"same total as nbgrader ({name}): {same}/{len(reference)}")


if __name__ == "__main__":
    main()
