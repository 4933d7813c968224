"""Per-submission grading time of the demo's two assignments, warm kernels on 2 workers, side by side.

The demo (``make demo``) grades about 800 attempts of ``quiz7`` and ``lrp_rules``
(:mod:`autograder.demo`); its job time is dominated by the seconds each
submission costs. Here the demo's own course (:func:`autograder.demo.build_course`)
gets one seeded submission per student (:mod:`autograder.cohort`), and each
assignment is graded by :func:`autograder.pipeline.autograde` with 2 workers
and warm kernels: once to start the kernels (not timed), then again with
``force`` (timed). The first row is the floor every run pays — a notebook with
one empty cell, graded with all the isolation steps (fork, uid drop, keyrings,
IPC namespace, the kill of the uid's processes and the wipe) — and the ratio
column divides each row by it. "grader CPU" is the grading process's own CPU
per submission (restoring, checking, the gradebook; the sandboxed runs are
not in it). Wall times depend on the machine's load, printed above the table.

``python -m benchmarks bench_demo_grading`` (``make bench`` runs every benchmark).
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

STUDENTS = 24
WORKERS = 2
EXERCISE = "lrp_rules"


def _cpu() -> float:
    """CPU seconds of the grader's own process (the sandboxed runs are not counted)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def _course(root: Path, students: int) -> Path:
    """The demo's course with one submission per student of the quiz and the exercise."""
    from autograder.cohort import simulate_exercise, simulate_quiz, student_ids, write_submission
    from autograder.demo import build_course

    build_course(root, EXERCISE)
    ids = student_ids(students)
    latest = {}
    for attempt in simulate_quiz(ids, seed=7, days=1) + simulate_exercise(
        ids, root / "exercises" / EXERCISE / f"{EXERCISE}.ipynb", EXERCISE, seed=8, days=1
    ):
        latest[(attempt.student, attempt.assignment)] = attempt
    for attempt in latest.values():
        write_submission(
            root / "release" / attempt.assignment / f"{attempt.assignment}.ipynb", root / "submitted", attempt
        )
    return root


def time_floor(runs: int, workers: int = WORKERS) -> tuple[int, float, float]:
    """(runs, wall seconds, CPU seconds) of a one-cell plan forked from warm kernels, ``workers`` at once."""
    from concurrent.futures import ThreadPoolExecutor

    from autograder.kernel import Step, WarmKernel
    from autograder.pipeline import BASE_PRELOAD
    from autograder.sandbox import Limits, Sandbox

    sandbox = Sandbox(Limits(cell_seconds=60, notebook_seconds=300))
    kernels = [WarmKernel(sandbox, None, BASE_PRELOAD) for _ in range(workers)]
    plan = [Step(0, "code", "x = 1", label="cell 0")]

    def serve(kernel):
        kernel.execute(plan, {})  # the first run is not timed
        for _ in range(runs // workers):
            run = kernel.execute(plan, {})
            if not run.completed:
                raise RuntimeError(f"the floor run did not complete: {run.limits}")

    try:
        cpu, started = _cpu(), time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(serve, kernels))
        wall = time.perf_counter() - started
    finally:
        for kernel in kernels:
            kernel.close()
    return runs // workers * workers, wall, _cpu() - cpu


def time_grading(course: Path, assignment: str, workers: int = WORKERS) -> tuple[int, float, float]:
    """(submissions, wall seconds, CPU seconds) of a warm ``autograde --force`` after a warm-up call."""
    from autograder.pipeline import autograde, close_warm_kernels
    from autograder.sandbox import Limits

    limits = Limits(cell_seconds=60, notebook_seconds=300)
    try:
        autograde(course, assignment, workers=workers, limits=limits, progress=False, feedback=False, keep_warm=True)
        cpu, started = _cpu(), time.perf_counter()
        summary = autograde(
            course,
            assignment,
            workers=workers,
            limits=limits,
            progress=False,
            feedback=False,
            keep_warm=True,
            force=True,
        )
        wall = time.perf_counter() - started
    finally:
        close_warm_kernels()
    return len(summary.graded), wall, _cpu() - cpu


def main(students: int = STUDENTS) -> None:
    from autograder.demo import QUIZ
    from autograder.sandbox import sandbox_available

    ok, reason = sandbox_available()
    if not ok or os.geteuid() != 0:
        print(f"warm kernels need root and bubblewrap ({reason or 'not root'}): nothing timed")
        return
    with tempfile.TemporaryDirectory(prefix="bench-demo-grading-") as tmp:
        rows = [("one-cell plan (isolation floor)", *time_floor(2 * students))]
        course = _course(Path(tmp) / "demo", students)
        rows += [(name, *time_grading(course, name)) for name in (QUIZ, EXERCISE)]
    floor = rows[0][2] / max(rows[0][1], 1)
    print(f"warm kernels, {WORKERS} workers, {students} submissions each, load {os.getloadavg()[0]:.1f}")
    print(f"{'assignment':34s} {'s/submission':>12s} {'grader CPU':>10s} {'x floor':>8s}")
    for name, n, wall, cpu in rows:
        print(f"{name:34s} {wall / max(n, 1):12.3f} {cpu / max(n, 1):10.3f} {wall / max(n, 1) / floor:8.1f}")


if __name__ == "__main__":
    main()
