"""Autograde every submission of an nbgrader course: sandboxed, honest, parallel, resumable.

``xai-course autograde ASSIGNMENT [--course DIR] [--workers N] [--executor local|dask] [--force]``

The job is a list of small steps, each a function that can be tested alone
(nbgrader's preprocessor pipeline is the model):

1. :func:`collect` — the submissions under ``submitted/<student>/<assignment>/``,
   read as regular files of the student's own folder only (:mod:`autograder.submitted`)
   and validated and normalised once (:func:`autograder.restore.parse_submission`).
2. :func:`autograder.restore.restore` — the instructor's cells restored from
   the released notebook (nbgrader's OverwriteCells / add_missing_cells).
3. :func:`autograder.kernel.execute` — the notebook runs in the sandbox
   (:mod:`autograder.sandbox`) with limits per cell, per notebook, on memory,
   output and processes; the graded values leave it as plain data.
4. :func:`check_values` — values compared with the keys in the grader's process
   (the grading core, :mod:`autograder.grading`).
5. :func:`autograder.gradebook_io.save_submission` — scores into nbgrader's
   gradebook, by this process alone, one transaction per submission.
6. :func:`record_attempt` — one row per graded attempt in
   ``grades/<assignment>_attempts.csv`` (the gradebook keeps only the latest).
7. :func:`autograder.feedback.feedback_notebook` + nbgrader's
   ``generate_feedback`` — HTML feedback without hidden tests or keys, the
   student's text cleaned (:mod:`autograder.sanitise`).

Steps 2–4 (:func:`grade_submission`) run in parallel on a pluggable executor:
a local ``concurrent.futures`` pool or a Dask ``distributed`` cluster. A
killed job re-run without ``--force`` grades only what is not in the
gradebook yet. Submissions that cannot be graded at all (an unreadable
notebook) are listed with the reason, and one line names each submission not
graded fully (a file not collected, a limit hit, no feedback page).
"""
from __future__ import annotations

import argparse
import ast
import atexit
import concurrent.futures as cf
import csv
import io
import os
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from autograder import gradebook_io
from autograder.feedback import feedback_notebook, generate_feedback
from autograder.grading import AssignmentSpec, Part, PartResult, load_spec, to_plain
from autograder.grading.keys import course_keys
from autograder.kernel import ProbeError, WarmKernel, execute
from autograder.restore import build_plan, grade_id, is_test, parse_submission, read_notebook, restore
from autograder.restore import is_solution as is_solution_cell
from autograder.sandbox import Limits, Sandbox
from autograder.submitted import MAX_NOTEBOOK_BYTES, MAX_TIMESTAMP_BYTES, Folder, RefusedFile, open_folder, read_file
from course.errors import CourseError

__all__ = ["Course", "Submission", "GradingJob", "SubmissionResult", "AutogradeSummary", "collect",
           "compute_keys", "grade_submission", "grade_part", "check_values", "record_attempt", "autograde",
           "add_parser"]


# ---------------------------------------------------------------- the course

class Course:
    """Paths of an nbgrader course, read from its ``nbgrader_config.py``."""

    def __init__(self, root: str | Path):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        self.root = Path(root).resolve()
        config_file = self.root / "nbgrader_config.py"
        if not config_file.is_file():
            raise CourseError(f"{self.root} is not an nbgrader course (no nbgrader_config.py)")
        cfg = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        cfg.merge(Config({"CourseDirectory": {"root": str(self.root)}}))
        self.coursedir = CourseDirectory(config=cfg)
        self.db_url = self.coursedir.db_url

    def folder(self, kind: str, assignment: str, student: str = ".") -> Path:
        name = getattr(self.coursedir, f"{kind}_directory")
        return Path(self.coursedir.format_path(name, student, assignment))

    def secrets(self) -> tuple[str, ...]:
        """What the sandbox must never show: the whole course directory and the gradebook."""
        paths = [str(self.root)]
        if self.db_url.startswith("sqlite:///"):
            paths.append(self.db_url[len("sqlite:///"):])
        return tuple(paths)

    def notebooks(self, assignment: str) -> list[str]:
        release = self.folder("release", assignment)
        names = sorted(p.stem for p in release.glob("*.ipynb"))
        if not names:
            raise CourseError(f"no released notebooks in {release}; run nbgrader generate_assignment {assignment}")
        return names


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    folder: str
    timestamp: str | None
    notes: tuple = ()  # files not collected, one line each (e.g. "timestamp.txt is a symbolic link")
    refused: str | None = None  # the folder itself is not the student's own: nothing in it is graded

    def open(self) -> Folder:
        """The submission folder, opened without following symbolic links (RefusedFile otherwise)."""
        if self.refused:
            raise RefusedFile(self.refused)
        folder = Path(self.folder)
        return open_folder(folder.parent.parent, folder.parent.name, folder.name)


def collect(course: Course, assignment: str) -> list[Submission]:
    """Step 1: every ``submitted/<student>/<assignment>`` folder, sorted by student id.

    Files are read as :mod:`autograder.submitted` allows (regular files of the
    student's own folder): a folder that is a symbolic link is ``refused`` and a
    ``timestamp.txt`` that is not a small regular file is a note (no timestamp).
    """
    base = Path(course.coursedir.format_path(course.coursedir.submitted_directory, ".", "."))
    found = []
    if not base.is_dir():
        return found
    for student_dir in sorted(base.iterdir()):
        folder = student_dir / assignment
        if not (student_dir.is_dir() and (folder.is_dir() or folder.is_symlink())):
            continue
        sub = Submission(student_dir.name, assignment, str(folder), None)
        try:
            opened = sub.open()
        except RefusedFile as exc:
            found.append(replace(sub, notes=(str(exc),), refused=str(exc)))
            continue
        with opened:
            found.append(_with_timestamp(sub, opened))
    return found


def _with_timestamp(sub: Submission, folder: Folder) -> Submission:
    try:
        data = read_file(folder, "timestamp.txt", MAX_TIMESTAMP_BYTES)
    except FileNotFoundError:
        return sub
    except RefusedFile as exc:
        return replace(sub, notes=(str(exc),))
    return replace(sub, timestamp=data.decode("utf-8", "replace").strip())


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
        warm = _acquire_warm(sandbox, job) if job.warm else None
        return _grade_notebooks(job, result, sandbox, warm, started)
    except Exception as exc:  # the grader's own failure (e.g. the sandbox would not start): listed, not scored
        result.error = f"could not be graded: {type(exc).__name__}: {exc}"
        result.scores.clear()
        return result
    finally:
        _release_warm(job, warm)


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
        run = execute(plan, sandbox, files_dir=job.files_dir, env={"XAI_STUDENT_ID": job.submission.student},
                      warm=warm)
        outcomes = check_values(run, spec_grades, job.keys, job.points, notebook, job.submission.student)
        for gid, (points, _, message) in outcomes.items():
            result.scores[(notebook, gid)] = points
            result.messages[(notebook, gid)] = message
        result.limits += [f"{notebook}: {line}" for line in run.limits]
        result.feedback[notebook] = nbformat.writes(feedback_notebook(restored, run, outcomes, run.limits, release))
    result.seconds = time.monotonic() - started
    return result


def read_submitted(sub: Submission, notebook: str) -> nbformat.NotebookNode:
    """The student's ``<notebook>.ipynb``: a regular file of their own folder, validated and normalised.

    FileNotFoundError when absent, RefusedFile when not a small regular file,
    CourseError when it is not a notebook.
    """
    with sub.open() as folder:
        data = read_file(folder, f"{notebook}.ipynb", MAX_NOTEBOOK_BYTES)
    return parse_submission(data, f"{notebook}.ipynb")


def _not_graded(job: GradingJob, result: SubmissionResult, notebook: str, release, reason: str) -> None:
    """0 points for every test of a notebook that was not collected; the reason in its feedback and the summary."""
    outcomes = {gid: (0.0, job.points[(notebook, gid)], reason) for gid in job.spec.for_notebook(notebook)}
    for gid, (points, _, message) in outcomes.items():
        result.scores[(notebook, gid)] = points
        result.messages[(notebook, gid)] = message
    if reason.removesuffix(" (not graded)") not in result.notes:
        result.notes.append(reason)
    empty = restore(release, nbformat.v4.new_notebook())
    result.feedback[notebook] = nbformat.writes(feedback_notebook(empty, None, outcomes, [], release))


def compute_keys(spec: AssignmentSpec, sources: dict, releases: dict, probes: dict, sandbox: Sandbox,
                 files_dir: str | None) -> dict:
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
                raise CourseError(f"the instructor's solution gives no value for {notebook}/{gid}: "
                                  f"{run.problems.get(gid, 'no value')}; limits: {'; '.join(run.limits) or 'none'}")
            keys[(notebook, gid)] = run.values[gid]
    return keys


# ---------------------------------------------------------------- warm kernels

_WARM: dict = {}  # sandbox settings -> idle WarmKernels (a kernel serves one submission at a time)
_WARM_LOCK = threading.Lock()
BASE_PRELOAD = ("numpy", "IPython.core.interactiveshell", "traitlets.config")


def preload_modules(releases: dict) -> tuple[str, ...]:
    """Modules the released notebooks import (besides the students' answers): warm-start candidates."""
    names = set(BASE_PRELOAD)
    for nb in releases.values():
        for cell in nb.cells:
            if cell.get("cell_type") != "code" or is_solution_cell(cell):
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module)
    return tuple(sorted(names))


def _warm_key(job: GradingJob):
    return (job.limits, job.hide, job.files_dir, job.preload)


def _acquire_warm(sandbox: Sandbox, job: GradingJob):
    """An idle warm kernel for the job's settings, or a new one (None when impossible here)."""
    if sandbox.unsafe or os.geteuid() != 0:
        return None
    with _WARM_LOCK:
        idle = _WARM.setdefault(_warm_key(job), [])
        while idle:
            kernel = idle.pop()
            if kernel.usable():
                return kernel
            kernel.close()
    kernel = WarmKernel(sandbox, job.files_dir, job.preload)
    return kernel if kernel.usable() else None


def _release_warm(job: GradingJob, kernel) -> None:
    if kernel is None:
        return
    if not kernel.usable():
        kernel.close()
        return
    with _WARM_LOCK:
        _WARM.setdefault(_warm_key(job), []).append(kernel)


def close_warm_kernels() -> None:
    """Stop every warm kernel of this process."""
    with _WARM_LOCK:
        kernels = [k for idle in _WARM.values() for k in idle]
        _WARM.clear()
    for kernel in kernels:
        kernel.close()


atexit.register(close_warm_kernels)


# ---------------------------------------------------------------- executors

def _local_map(fn, jobs, workers):
    # threads are enough: the work happens in the sandboxed child processes
    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(fn, job) for job in jobs]
        try:
            for future in cf.as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _dask_map(fn, jobs, workers, address=None):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise CourseError("the dask executor needs dask.distributed: pip install 'xai-course[dask]'") from None
    cluster = None
    if address is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(address or cluster)
    try:
        futures = client.map(fn, jobs, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_jobs(fn, jobs, *, executor: str = "local", workers: int | None = None, address: str | None = None):
    """Yield ``fn(job)`` for each job as they finish, on the chosen executor."""
    workers = workers or os.cpu_count() or 1
    if executor == "local":
        return _local_map(fn, jobs, workers)
    if executor == "dask":
        return _dask_map(fn, jobs, workers, address)
    raise CourseError(f"unknown executor {executor!r}; use local or dask")


# ---------------------------------------------------------------- recording

ATTEMPT_FIELDS = ("student_id", "timestamp", "score", "max_score")


def attempts_path(course: Course, assignment: str) -> Path:
    return course.root / "grades" / f"{assignment}_attempts.csv"


def record_attempt(path: Path, result: SubmissionResult, max_points: dict) -> None:
    """Step 6: upsert the row of (student, timestamp) in the attempts CSV, atomically."""
    several = len({n for n, _ in max_points}) > 1
    columns = [f"{nb}/{gid} /{points:g}" if several else f"{gid} /{points:g}"
               for (nb, gid), points in max_points.items()]
    header = list(ATTEMPT_FIELDS) + columns
    rows = {}
    if path.is_file():
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                rows[(row["student_id"], row["timestamp"])] = row
    sub = result.submission
    stamp = gradebook_io.parse_timestamp(sub.timestamp)  # naive UTC, written as ISO 8601
    row = {"student_id": sub.student, "timestamp": stamp.isoformat(sep=" ") if stamp else "",
           "score": f"{result.score:g}",
           "max_score": f"{sum(max_points.values()):g}"}
    for column, key in zip(columns, max_points):
        row[column] = f"{result.scores.get(key, 0.0):g}"
    rows[(sub.student, row["timestamp"])] = row
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    for key in sorted(rows):
        writer.writerow(rows[key])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buffer.getvalue(), encoding="utf-8")
    os.replace(tmp, path)


def _write_autograded(course: Course, result: SubmissionResult) -> None:
    sub = result.submission
    folder = course.folder("autograded", sub.assignment, sub.student)
    folder.mkdir(parents=True, exist_ok=True)
    for notebook, text in result.feedback.items():
        (folder / f"{notebook}.ipynb").write_text(text, encoding="utf-8")
    if sub.timestamp:
        (folder / "timestamp.txt").write_text(sub.timestamp, encoding="utf-8")


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
        out = [f"{self.assignment}: graded {len(self.graded)}, already graded {len(self.skipped)}, "
               f"ungradable {len(self.ungradable)}, hit a limit {hit}, {self.seconds:.1f} s ({self.sandbox})"]
        out += [f"  ungradable {student}: {reason}" for student, reason in self.ungradable]
        out += [f"  not graded fully {r.submission.student}: {_shorten('; '.join(r.notes + r.limits[:1]))}"
                for r in self.graded if r.notes or r.limits]
        return out


def _shorten(text: str, width: int = 300) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


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


def autograde(course_dir: str | Path, assignment: str, *, workers: int | None = None, executor: str = "local",
              force: bool = False, limits: Limits | None = None, unsafe: bool = False, progress: bool = True,
              feedback: bool = True, dask_address: str | None = None, warm: bool = True,
              keep_warm: bool = False) -> AutogradeSummary:
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
        spec = load_spec(course.folder("source", assignment), assignment)
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
                for sub in collect(course, assignment):
                    stamp = gradebook_io.parse_timestamp(sub.timestamp)
                    if not force and gradebook_io.is_graded(gb, assignment, sub.student, stamp, wanted):
                        summary.skipped.append(sub.student)
                    else:
                        todo.append(sub)
                release_json = {nb: nbformat.writes(r) for nb, r in releases.items()}
                preload = preload_modules(releases)
                jobs = [GradingJob(sub, release_json, probes, spec, keys, points, limits, course.secrets(), unsafe,
                                   files_dir, preload, warm) for sub in todo]
                results = run_jobs(grade_submission, jobs, executor=executor, workers=workers, address=dask_address)
                if progress:
                    from tqdm import tqdm

                    results = tqdm(results, total=len(jobs), desc=f"autograde {assignment}", unit="sub",
                                   file=sys.stderr)
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
    _write_autograded(course, result)
    record_attempt(attempts_path(course, sub.assignment), result, points)
    gradebook_io.save_submission(gb, sub.assignment, sub.student, gradebook_io.parse_timestamp(sub.timestamp),
                                 result.scores)
    summary.graded.append(result)


# ---------------------------------------------------------------- command line

def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("autograde", help="grade all submissions of an assignment in a sandbox, in parallel",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("assignment")
    p.add_argument("--course", default=".", help="the nbgrader course directory (default: .)")
    p.add_argument("--workers", type=int, default=None, help="parallel submissions (default: all cores)")
    p.add_argument("--executor", choices=("local", "dask"), default="local")
    p.add_argument("--dask-address", default=None, help="scheduler of a running Dask cluster (default: local)")
    p.add_argument("--force", action="store_true", help="regrade submissions already in the gradebook")
    p.add_argument("--cell-timeout", type=float, default=Limits.cell_seconds)
    p.add_argument("--notebook-timeout", type=float, default=Limits.notebook_seconds)
    p.add_argument("--memory-mb", type=int, default=Limits.memory_bytes >> 20)
    p.add_argument("--no-feedback", action="store_true", help="skip nbgrader generate_feedback")
    p.add_argument("--cold", action="store_true", help="a new sandbox per submission (no warm-started kernels)")
    p.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="grade without isolation when bubblewrap is unavailable (trusted submissions only)")
    p.set_defaults(func=_main)
    return p


def _main(args) -> int:
    limits = Limits(cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout,
                    memory_bytes=args.memory_mb << 20)
    summary = autograde(args.course, args.assignment, workers=args.workers, executor=args.executor,
                        force=args.force, limits=limits, unsafe=args.unsafe_no_sandbox,
                        feedback=not args.no_feedback, dask_address=args.dask_address, warm=not args.cold)
    print("\n".join(summary.lines()))
    return 0
