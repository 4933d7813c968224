"""Autograde every submission of an nbgrader course: sandboxed, honest, parallel, resumable.

``xai-course autograde ASSIGNMENT [--course DIR] [--workers N] [--executor local|dask] [--force]``

The job is a list of small steps, each a function in a module of its own that can
be tested alone (nbgrader's preprocessor pipeline is the model):

1. **collect** (:func:`autograder.collect.collect`) — the submissions under
   ``submitted/<student>/<assignment>/``, read as regular files of the student's
   own folder only (:mod:`autograder.submitted`) and validated and normalised
   once (:func:`autograder.restore.parse_submission`).
2. **restore** (:func:`autograder.restore.restore`) — the instructor's cells
   restored from the released notebook (nbgrader's OverwriteCells /
   add_missing_cells), and the plan of cells and probes
   (:func:`autograder.restore.build_plan`).
3. **execute** (:func:`autograder.kernel.execute`) — the notebook runs in the
   sandbox (:mod:`autograder.sandbox`) with limits per cell, per notebook, on
   memory, output and processes, forked from a warm kernel
   (:mod:`autograder.warm_pool`) where it can; the graded values leave it as plain data.
4. **check** (:func:`check_values`, here) — values graded part by part with the
   grading core (:mod:`autograder.grading`), keys computed in the grader's process;
   besides the spec's published probes, probes on inputs drawn from the course's
   secret seed (:mod:`autograder.grading_seed`), so memorised outputs do not pass;
   a part answered with a module the exercise forbids (the course's engine) gets
   0 points with the reason (:mod:`autograder.engine_use`).
5. **record** — scores into nbgrader's gradebook by this process alone, one
   transaction per submission (:func:`autograder.gradebook_io.save_submission`),
   and one row per graded attempt in ``grades/<assignment>_attempts.csv``
   (:func:`autograder.record.record_attempt`; the gradebook keeps only the latest).
6. **feedback** (:func:`autograder.feedback.feedback_notebook` + nbgrader's
   ``generate_feedback``) — HTML feedback without hidden tests or keys, the
   student's text cleaned (:mod:`autograder.sanitise`).

Steps 2–4 (:func:`grade_submission`) run in parallel on a pluggable executor
(:mod:`autograder.executors`): a local thread pool or a Dask ``distributed``
cluster. A killed job re-run without ``--force`` grades only what is not in the
gradebook yet. Submissions that cannot be graded at all (an unreadable
notebook) are listed with the reason, and one line names each submission not
graded fully (a file not collected, a limit hit, no feedback page). The command
line is :mod:`autograder.autograde_cli`.

This module is the check step and the job that drives the others (``autograde``: the release checks,
keys, the executor, the summary); it is a little over 400 lines because the job's bookkeeping -- what
was graded, skipped, limited or left without feedback -- is one record (:class:`AutogradeSummary`)
that every step writes to.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder import gradebook_io, warm_pool
from autograder.collect import Course, Submission, collect, read_submitted
from autograder.engine_use import forbidden_parts
from autograder.executors import run_jobs
from autograder.feedback import feedback_notebook, generate_feedback
from autograder.grading import AssignmentSpec, Part, PartResult, load_spec, to_plain
from autograder.grading.keys import course_keys
from autograder.grading_seed import grading_seed
from autograder.kernel import ProbeError, execute
from autograder.record import attempts_path, record_attempt, write_autograded
from autograder.restore import build_plan, grade_id, is_test, read_notebook, restore
from autograder.sandbox import Limits, Sandbox
from autograder.submitted import RefusedFile
from autograder.warm_pool import BASE_PRELOAD, close_warm_kernels, preload_modules
from course.errors import CourseError

# Course, Submission, collect, record_attempt, run_jobs, BASE_PRELOAD, preload_modules and close_warm_kernels
# live in the step modules named above; they stay importable from here for the pipeline's callers.
__all__ = [
    "Course",
    "Submission",
    "GradingJob",
    "SubmissionResult",
    "AutogradeSummary",
    "collect",
    "compute_keys",
    "grade_submission",
    "grade_part",
    "check_values",
    "record_attempt",
    "autograde",
    "run_jobs",
    "preload_modules",
    "BASE_PRELOAD",
    "close_warm_kernels",
]


# ---------------------------------------------------------------- grading one submission


@dataclass(frozen=True)
class GradingJob:
    """Everything a worker needs (plain, picklable): no gradebook, no source notebooks."""

    submission: Submission
    releases: dict  # notebook -> released notebook JSON
    probes: dict  # notebook -> {grade_id: expression}
    spec: AssignmentSpec
    keys: dict  # (notebook, grade_id) -> key value
    points: dict  # (notebook, grade_id) -> max points
    limits: Limits
    hide: tuple
    unsafe: bool
    files_dir: str | None
    preload: tuple = ()  # modules the warm kernel imports once (None: a cold sandbox per run)
    warm: bool = True


@dataclass
class SubmissionResult:
    submission: Submission
    scores: dict = field(default_factory=dict)  # (notebook, grade_id) -> points
    messages: dict = field(default_factory=dict)  # (notebook, grade_id) -> feedback line
    limits: list = field(default_factory=list)
    feedback: dict = field(default_factory=dict)  # notebook -> feedback notebook JSON
    error: str | None = None  # set when the submission cannot be graded at all
    seconds: float = 0.0
    notes: list = field(default_factory=list)  # files not graded (one line each), for the summary
    forbidden: list = field(default_factory=list)  # parts answered with a forbidden module (engine_use), one line each

    @property
    def score(self) -> float:
        return float(sum(self.scores.values()))


def grade_part(part: Part, value, student: str = "", **context) -> PartResult:
    """Grade one part on what the sandbox sent for it: the value of its one expression, or one value per probe
    (a :class:`~autograder.kernel.ProbeError` where a probe gave none); keys are computed here."""
    if part.one_expression:
        values = [value]
    else:
        values = [{"error": v.message} if isinstance(v, ProbeError) else to_plain(v) for v in value]
    return part.grade(values, student_id=student, **context)


def check_values(run, parts: dict, keys: dict, points: dict, notebook: str, student: str = "") -> dict:
    """Step 4: grade id -> (points, max_points, message), from plain values and keys only."""
    outcomes = {}
    for gid, part in parts.items():
        max_points = points[(notebook, gid)]
        if gid in run.values:
            context = {"source_key": keys[(notebook, gid)]} if (notebook, gid) in keys else {}
            result = grade_part(part, run.values[gid], student, **context)
            message = "" if result.fraction >= 1.0 else result.feedback
            outcomes[gid] = (round(result.fraction * max_points, 6), max_points, message)
        else:
            outcomes[gid] = (0.0, max_points, run.problems.get(gid, "no value"))
    return outcomes


def grade_submission(job: GradingJob) -> SubmissionResult:
    """Steps 2–4 for one submission (runs on a worker). Never raises for what the student did."""
    started = time.monotonic()
    result = SubmissionResult(job.submission, notes=list(job.submission.notes))
    sandbox = Sandbox(job.limits, hide=job.hide, unsafe=job.unsafe)
    warm = None
    try:
        warm = warm_pool.acquire(sandbox, job.files_dir, job.preload) if job.warm else None
        return _grade_notebooks(job, result, sandbox, warm, started)
    except Exception as exc:  # the grader's own failure (e.g. the sandbox would not start): listed, not scored
        result.error = f"could not be graded: {type(exc).__name__}: {exc}"
        result.scores.clear()
        return result
    finally:
        warm_pool.release(sandbox, job.files_dir, job.preload, warm)


def _grade_notebooks(job: GradingJob, result: SubmissionResult, sandbox: Sandbox, warm, started: float):
    for notebook, release_json in job.releases.items():
        release = nbformat.reads(release_json, as_version=4)
        spec_grades = job.spec.for_notebook(notebook)
        try:
            submitted = read_submitted(job.submission, notebook)
        except FileNotFoundError:
            for gid in spec_grades:
                result.scores[(notebook, gid)] = 0.0
                result.messages[(notebook, gid)] = f"notebook {notebook}.ipynb was not submitted"
            continue
        except RefusedFile as exc:
            _not_graded(job, result, notebook, release, f"{exc} (not graded)")
            continue
        except CourseError as exc:
            result.error = str(exc)
            return result
        restored = restore(release, submitted)
        plan, _ = build_plan(restored, job.probes[notebook])
        run = execute(plan, sandbox, files_dir=job.files_dir, env={"XAI_STUDENT_ID": job.submission.student}, warm=warm)
        outcomes = check_values(run, spec_grades, job.keys, job.points, notebook, job.submission.student)
        for gid, why in forbidden_parts(restored, spec_grades, job.spec.forbidden, job.spec.allowed).items():
            outcomes[gid] = (0.0, outcomes[gid][1], f"0 points: {why}; this exercise asks for your own code")
            result.forbidden.append(f"{notebook}/{gid}: {why}")
        for gid, (points, _, message) in outcomes.items():
            result.scores[(notebook, gid)] = points
            result.messages[(notebook, gid)] = message
        result.limits += [f"{notebook}: {line}" for line in run.limits]
        result.feedback[notebook] = notebook_text(feedback_notebook(restored, run, outcomes, run.limits, release))
    result.seconds = time.monotonic() - started
    return result


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """The text ``nbformat.writes(nb)`` gives a v4 notebook, without its schema check.

    ``nbformat.writes`` only logs a schema error and writes anyway, so for a
    feedback notebook (the release's validated cells with the answers of a
    notebook validated by ``parse_submission``, plus stream outputs) the check
    costs 5-17 ms and refuses nothing; the tests validate what it writes.
    """
    return nbformat.v4.writes(nb)


def _not_graded(job: GradingJob, result: SubmissionResult, notebook: str, release, reason: str) -> None:
    """0 points for every test of a notebook that was not collected; the reason in its feedback and the summary."""
    outcomes = {gid: (0.0, job.points[(notebook, gid)], reason) for gid in job.spec.for_notebook(notebook)}
    for gid, (points, _, message) in outcomes.items():
        result.scores[(notebook, gid)] = points
        result.messages[(notebook, gid)] = message
    if reason.removesuffix(" (not graded)") not in result.notes:
        result.notes.append(reason)
    empty = restore(release, nbformat.v4.new_notebook())
    result.feedback[notebook] = notebook_text(feedback_notebook(empty, None, outcomes, [], release))


def compute_keys(
    spec: AssignmentSpec, sources: dict, releases: dict, probes: dict, sandbox: Sandbox, files_dir: str | None
) -> dict:
    """Keys the spec does not compute itself: the probes run on the instructor's source notebooks (sandboxed)."""
    keys = {}
    for notebook, source in sources.items():
        wanted = [gid for gid, part in spec.for_notebook(notebook).items() if part.needs_source_key]
        if not wanted:
            continue
        restored = restore(releases[notebook], source)
        plan, _ = build_plan(restored, probes[notebook])
        run = execute(plan, sandbox, files_dir=files_dir)
        for gid in wanted:
            if gid not in run.values:
                raise CourseError(
                    f"the instructor's solution gives no value for {notebook}/{gid}: "
                    f"{run.problems.get(gid, 'no value')}; limits: {'; '.join(run.limits) or 'none'}"
                )
            keys[(notebook, gid)] = run.values[gid]
    return keys


# ---------------------------------------------------------------- the job


@dataclass
class AutogradeSummary:
    assignment: str
    graded: list = field(default_factory=list)  # SubmissionResult
    skipped: list = field(default_factory=list)  # student ids already graded
    ungradable: list = field(default_factory=list)  # (student id, reason)
    seconds: float = 0.0
    sandbox: str = ""

    def lines(self) -> list[str]:
        hit = sum(1 for r in self.graded if r.limits)
        out = [
            f"{self.assignment}: graded {len(self.graded)}, already graded {len(self.skipped)}, "
            f"ungradable {len(self.ungradable)}, hit a limit {hit}, {self.seconds:.1f} s ({self.sandbox})"
        ]
        out += [f"  ungradable {student}: {reason}" for student, reason in self.ungradable]
        out += [
            f"  not graded fully {r.submission.student}: {_shorten('; '.join(r.notes + r.limits[:1]))}"
            for r in self.graded
            if r.notes or r.limits
        ]
        out += [
            f"  0 points for an answer made with a forbidden module {r.submission.student}: "
            + _shorten("; ".join(r.forbidden))
            for r in self.graded
            if r.forbidden
        ]
        return out


def _shorten(text: str, width: int = 300) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _release_checks(course: Course, assignment: str, spec: AssignmentSpec, notebooks: list[str]):
    releases, sources, probes, points = {}, {}, {}, {}
    source_dir = course.folder("source", assignment)
    for notebook in notebooks:
        release = read_notebook(course.folder("release", assignment) / f"{notebook}.ipynb")
        releases[notebook] = release
        sources[notebook] = read_notebook(source_dir / f"{notebook}.ipynb")
        grades = spec.for_notebook(notebook)
        probes[notebook] = {gid: part.sandbox_probe for gid, part in grades.items()}
        for cell in release.cells:
            gid = grade_id(cell)
            if is_test(cell) and gid not in grades:
                raise CourseError(f"{notebook}: test cell {gid!r} has no entry in the grading spec")
            if gid in grades:
                points[(notebook, gid)] = float(cell.metadata["nbgrader"].get("points", 0))
        for gid in grades:
            if (notebook, gid) not in points:
                raise CourseError(f"{notebook}: grade id {gid!r} of the spec has no graded cell in the release")
    return releases, sources, probes, points


def _support_files(course: Course, assignment: str, tmp_root: Path) -> str | None:
    """A read-only copy of the released non-notebook files (data the notebook opens)."""
    import shutil

    release = course.folder("release", assignment)
    extra = [p for p in release.rglob("*") if p.is_file() and p.suffix != ".ipynb"]
    if not extra:
        return None
    dest = tmp_root / "files"
    for p in extra:
        target = dest / p.relative_to(release)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(p, target)
    for d in [dest, *[q for q in dest.rglob("*") if q.is_dir()]]:
        d.chmod(0o755)
    return str(dest)


def autograde(
    course_dir: str | Path,
    assignment: str,
    *,
    workers: int | None = None,
    executor: str = "local",
    force: bool = False,
    limits: Limits | None = None,
    unsafe: bool = False,
    progress: bool = True,
    feedback: bool = True,
    dask_address: str | None = None,
    warm: bool = True,
    keep_warm: bool = False,
) -> AutogradeSummary:
    """Grade every collected submission of ``assignment`` (see the module docstring for the steps).

    ``warm``: fork each run from a warm-started kernel (root only, else a new
    sandbox per run); ``keep_warm``: leave those kernels running for the next
    call (stop them with :func:`close_warm_kernels`).
    """
    import tempfile

    started = time.monotonic()
    course = Course(course_dir)
    with course_keys(course.folder("source", ".")):  # the quiz's keys: this course's, unless a file is named
        limits = limits or Limits()
        # the spec's published probes, plus probes on inputs drawn from the course's secret seed (grading_seed)
        spec = load_spec(course.folder("source", assignment), assignment).with_fresh_probes(grading_seed(course.root))
        notebooks = course.notebooks(assignment)
        releases, sources, probes, points = _release_checks(course, assignment, spec, notebooks)
        sandbox = Sandbox(limits, hide=course.secrets(), unsafe=unsafe)
        sandbox.check()
        summary = AutogradeSummary(assignment, sandbox=sandbox.describe())
        with tempfile.TemporaryDirectory(prefix="xai-autograde-") as tmp:
            os.chmod(tmp, 0o755)
            files_dir = _support_files(course, assignment, Path(tmp))
            keys = compute_keys(spec, sources, releases, probes, sandbox, files_dir)
            gb = gradebook_io.open_gradebook(course.db_url)
            try:
                wanted = set(points)
                todo = []
                graded = {} if force else gradebook_io.graded_cells(gb, assignment)  # one query, not one per grade
                for sub in collect(course, assignment):
                    stamp = gradebook_io.parse_timestamp(sub.timestamp)
                    if not force and gradebook_io.is_graded(gb, assignment, sub.student, stamp, wanted, graded=graded):
                        summary.skipped.append(sub.student)
                    else:
                        todo.append(sub)
                release_json = {nb: nbformat.writes(r) for nb, r in releases.items()}
                preload = preload_modules(releases)
                jobs = [
                    GradingJob(
                        sub,
                        release_json,
                        probes,
                        spec,
                        keys,
                        points,
                        limits,
                        course.secrets(),
                        unsafe,
                        files_dir,
                        preload,
                        warm,
                    )
                    for sub in todo
                ]
                results = run_jobs(grade_submission, jobs, executor=executor, workers=workers, address=dask_address)
                if progress:
                    from tqdm import tqdm

                    results = tqdm(
                        results, total=len(jobs), desc=f"autograde {assignment}", unit="sub", file=sys.stderr
                    )
                for result in results:
                    _record(course, gb, result, points, summary)
            finally:
                gb.close()
                if not keep_warm:  # keep_warm: a caller grading again soon (the demo) reuses them
                    close_warm_kernels()
        if feedback and summary.graded:
            _feedback(course, assignment, summary, workers)
    summary.seconds = time.monotonic() - started
    return summary


def _feedback(course: Course, assignment: str, summary: AutogradeSummary, workers: int | None) -> None:
    """Step 7: nbgrader's generate_feedback; a submission left without its HTML is a summary line, never a crash."""
    failure = ""
    try:
        generate_feedback(course.root, assignment, workers=workers)
    except Exception as exc:  # noqa: BLE001 - the grades are saved; the batch must still end with its summary
        failure = f": …{' '.join(str(exc).split())[-200:]}"
    for result in summary.graded:
        student = result.submission.student
        pages = course.folder("feedback", assignment, student)
        notebooks = course.folder("autograded", assignment, student)
        missing = [nb for nb in result.feedback if not _newer(pages / f"{nb}.html", notebooks / f"{nb}.ipynb")]
        if missing:
            why = failure or " wrote none"
            result.notes.append(f"no feedback page for {', '.join(missing)} (nbgrader generate_feedback{why})")


def _newer(page: Path, source: Path) -> bool:
    return page.is_file() and source.is_file() and page.stat().st_mtime >= source.stat().st_mtime


def _record(course: Course, gb, result: SubmissionResult, points: dict, summary: AutogradeSummary) -> None:
    """Steps 5–7 for one finished submission, in the grader's process."""
    sub = result.submission
    if result.error is not None:
        summary.ungradable.append((sub.student, result.error))
        return
    write_autograded(course, result)
    record_attempt(attempts_path(course, sub.assignment), result, points)
    gradebook_io.save_submission(
        gb, sub.assignment, sub.student, gradebook_io.parse_timestamp(sub.timestamp), result.scores
    )
    summary.graded.append(result)
