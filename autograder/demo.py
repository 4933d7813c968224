"""``make demo``: the instructor's whole job on a fresh machine, end to end.

1. Build the nbgrader course ``demo_course/`` from ``exercises/`` (the quiz and
   one exercise) and run ``nbgrader generate_assignment`` and
   ``nbgrader release_assignment`` (to a local exchange) for both.
2. Simulate a seeded cohort (:mod:`autograder.cohort`): ≥ 200 students, several
   quiz attempts each over five days, a realistic mix of right answers and the
   course's common mistakes; each attempt fills the answer cells of the
   released notebook and lands in ``submitted/`` as ``nbgrader collect`` would.
3. Autograde after every day of the quiz (:func:`autograder.pipeline.autograde`:
   sandboxed, in parallel, resumable) and the exercise at the end.
4. Generate the students' feedback (nbgrader ``generate_feedback``, students
   split over parallel runs).
5. Write the instructor's report (:func:`autograder.report.write_report`) for
   the quiz (every attempt, from the attempts CSV) and the exercise (from the
   gradebook) into ``demo_course/reports/``, and print where it is.

The engine demo (:mod:`course.demo_relevance`, digits explained with every
method) runs into ``demo_output/`` in its own process beside steps 1–2;
``xai-course demo --engine-only`` runs only that. Every step longer than a few
seconds shows a progress bar (nbgrader's feedback counts its pages as they
are written); the quiz's and the exercise's feedback runs go at once.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import numpy as np

from autograder.cohort import simulate_exercise, simulate_quiz, student_ids, write_submission
from autograder.feedback import generate_feedback
from autograder.owned import check_replaceable, mark
from autograder.pipeline import autograde, close_warm_kernels
from autograder.sandbox import Limits, sandbox_available
from course.errors import CourseError
from course.nbgrader_setup import run_nbgrader

__all__ = ["run", "add_parser"]

QUIZ = "quiz7"


def _log(message: str) -> None:
    print(f"[demo {time.strftime('%H:%M:%S')}] {message}", flush=True)


#: written into every course the demo builds: only such a folder is deleted and rebuilt
DEMO_MARKER = ".xai-course-demo"


def _bar(total: int, desc: str, unit: str, show: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not show, leave=True)


def build_course(out: Path, exercise: str, *, progress: bool = False) -> Path:
    """Step 1: course folder, gradebook, release and exchange for the quiz and ``exercise``.

    An existing ``out`` is replaced only when an earlier demo built it (it holds
    :data:`DEMO_MARKER`): the demo never deletes someone's real course.
    """
    from course.nbgrader_setup import copy_course

    if check_replaceable(out, DEMO_MARKER, command="xai-course demo", force=False, needs_force=False):
        shutil.rmtree(out)
    copy_course(out, assignments=(QUIZ, exercise))
    mark(out, DEMO_MARKER, "xai-course demo")
    steps = [(verb, name) for name in (QUIZ, exercise) for verb in ("generate_assignment", "release_assignment")]
    with _bar(len(steps), "nbgrader generate + release", "step", progress) as bar:
        for verb, name in steps:
            bar.set_postfix_str(f"{verb} {name}")
            extra = [f"--Exchange.root={out / 'exchange'}"] if verb == "release_assignment" else []
            run_nbgrader([verb, name, "--force", "--log-level=WARN", *extra], out, timeout=1800)
            bar.update()
    return out


def _quiz_report_inputs(out: Path):
    """Per-question metadata and the options students chose (latest attempts), for the T3 blocks."""
    from autograder.report import load_bank
    from autograder.sources import Responses, read_responses_notebooks
    from course.quiz.bank import default_bank_path

    bank = load_bank(default_bank_path())
    raw = read_responses_notebooks(out / "submitted", QUIZ)
    keep = [i for i, q in enumerate(raw.question) if str(q).endswith("_answer") and str(q)[:-7] in bank]
    questions = np.array([str(raw.question[i])[: -len("_answer")] for i in keep], dtype=object)
    responses = Responses(
        raw.student[keep],
        questions,
        tuple(raw.choice[i] for i in keep),
        raw.timestamp[keep],
        raw=tuple(raw.raw[i] for i in keep),
    )
    return bank, responses


def write_reports(out: Path, exercise: str) -> dict:
    """Step 5: one report per assignment under ``out/reports``."""
    from autograder.report import write_report
    from autograder.sources import read_gradebook, read_grades_csv

    reports = {}
    quiz_attempts = read_grades_csv(attempts_path_for(out, QUIZ), assignment=QUIZ)
    bank, responses = _quiz_report_inputs(out)
    reports[QUIZ] = write_report(quiz_attempts, out / "reports" / QUIZ, bank=bank, responses=responses, force=True)
    exercise_attempts = read_gradebook(out / "gradebook.db", exercise, course_id="xai-course", progress=False)
    reports[exercise] = write_report(exercise_attempts, out / "reports" / exercise, force=True)
    return reports


def _waves(attempts):
    """Group attempts by day, then into waves holding at most one attempt per (student, assignment).

    The autograder runs after every wave, so every attempt is graded before the
    student's next one replaces it in ``submitted/``.
    """
    by_day = {}
    for a in sorted(attempts, key=lambda a: a.time):
        by_day.setdefault(a.time.date(), []).append(a)
    for day, todays in sorted(by_day.items()):
        waves = []
        for a in todays:
            for wave in waves:
                if all((b.student, b.assignment) != (a.student, a.assignment) for b in wave):
                    wave.append(a)
                    break
            else:
                waves.append([a])
        for wave in waves:
            yield day, wave


def _check_grading_worked(graded: int, limited: list[str]) -> None:
    """Stop the demo when most simulated submissions could not run: a broken sandbox, not a cohort."""
    if graded == 0 or len(limited) > graded // 2:
        first = limited[0] if limited else "nothing was graded"
        raise CourseError(
            f"{len(limited)} of {graded} simulated submissions hit a limit (first: {first}); "
            "the sandbox cannot run this installation's Python, so the report would be meaningless"
        )


def _engine_demo() -> None:
    from course import demo_relevance

    demo_relevance.run("demo_output", log=lambda message: _log(f"  engine demo: {message}"))


def _start_engine_demo():
    """The engine demo (digits explained with every method) in its own process, beside the course build."""
    import multiprocessing

    _log("engine demo: digits explained with every method -> demo_output/ (in the background)")
    # a daemon: if the course build fails, the engine demo stops with the demo
    job = multiprocessing.get_context("spawn").Process(target=_engine_demo, name="engine-demo", daemon=True)
    job.start()
    return job


def _finish_engine_demo(job) -> None:
    job.join()
    if job.exitcode != 0:
        raise CourseError(f"the engine demo failed (exit code {job.exitcode}); its error is printed above")


def attempts_path_for(out: Path, assignment: str) -> Path:
    return out / "grades" / f"{assignment}_attempts.csv"


def run(
    out: str | Path = "demo_course",
    *,
    students: int = 220,
    exercise: str = "lrp_rules",
    seed: int = 7,
    days: int = 5,
    workers: int | None = None,
    engine: bool = True,
    limits: Limits | None = None,
    progress: bool = True,
) -> dict:
    """The whole job; returns the paths of the reports. ``progress``: a bar on every long step (stderr)."""
    if students < 200:
        _log(f"note: {students} students (the course's cohort is 200+)")
    started = time.monotonic()
    out = Path(out).resolve()
    engine_job = _start_engine_demo() if engine else None  # one core for the engine, the rest builds the course
    ok, reason = sandbox_available()
    if not ok:  # the simulated cohort is this package's own code; real submissions are refused without it
        _log(
            f"WARNING: no sandbox here ({reason}). The simulated submissions are our own code, so the demo "
            "grades them without isolation; `xai-course autograde` refuses real submissions in this state "
            "(apt-get install bubblewrap)"
        )
    _log(f"building the course in {out} (quiz {QUIZ}, exercise {exercise}): generate + release")
    ids = student_ids(students)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:  # the students' variants are solved while nbgrader builds
        quiz_job = pool.submit(simulate_quiz, ids, seed=seed, days=days)
        build_course(out, exercise, progress=progress)
        quiz = quiz_job.result()
    work = simulate_exercise(
        ids, out / "exercises" / exercise / f"{exercise}.ipynb", exercise, seed=seed + 1, days=days
    )
    _log(
        f"cohort: {students} students, {len(quiz)} quiz attempts and {len(work)} exercise attempts "
        f"over {days} days (seed {seed})"
    )
    if engine_job is not None:
        _finish_engine_demo(engine_job)
    release = {name: out / "release" / name / f"{name}.ipynb" for name in (QUIZ, exercise)}
    limits = limits or Limits(cell_seconds=30, notebook_seconds=120)
    graded, limited = 0, []
    _log("autograding after every wave of submissions (sandboxed, in parallel)")
    with _bar(len(quiz) + len(work), "autograde", "attempt", progress) as bar:
        for day, wave in _waves(quiz + work):
            for attempt in wave:  # a new attempt replaces the student's previous one, as nbgrader's collect does
                write_submission(release[attempt.assignment], out / "submitted", attempt)
            for name in (QUIZ, exercise):
                if any(a.assignment == name for a in wave):
                    summary = autograde(
                        out,
                        name,
                        workers=workers,
                        limits=limits,
                        progress=False,
                        feedback=False,
                        keep_warm=True,
                        unsafe=not ok,
                    )
                    graded += len(summary.graded)
                    limited += [line for r in summary.graded for line in r.limits]
                    bar.update(len(summary.graded))
                    bar.set_postfix_str(f"{day} {name}")
                    lines = summary.lines()
                    if not progress:
                        _log(f"{day}: " + "; ".join(lines))
                    for line in lines[1:] if progress else ():  # what went wrong stays above the bar
                        bar.write(line)
    close_warm_kernels()
    _check_grading_worked(graded, limited)
    _log(f"graded {graded} attempts ({len(limited)} hit a limit); feedback: nbgrader generate_feedback, in parallel")
    generate_feedback(out, [QUIZ, exercise], workers=workers, progress=progress)
    _log("reports")
    reports = write_reports(out, exercise)
    _log(f"done in {time.monotonic() - started:.0f} s")
    for name, path in reports.items():
        print(f"report for {name}: {Path(path) / 'report.html'}")
    return reports


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="the instructor's whole job: build, release, simulate a cohort, autograde, feedback, report (make demo)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--out", default="demo_course", help="course directory to create (default: demo_course)")
    p.add_argument("--students", type=int, default=220)
    p.add_argument("--exercise", default="lrp_rules", help="the exercise released with the quiz")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--no-engine", action="store_true", help="skip the engine demo")
    p.add_argument("--engine-only", action="store_true", help="only the engine demo (digits, every method)")
    p.set_defaults(func=_main)
    return p


def _main(args) -> int:
    if args.engine_only:
        from course import demo_relevance

        demo_relevance.run("demo_output")
        return 0
    run(
        args.out,
        students=args.students,
        exercise=args.exercise,
        seed=args.seed,
        workers=args.workers,
        engine=not args.no_engine,
    )
    return 0
