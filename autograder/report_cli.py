"""``xai-course report``: the command line of the instructor's report.

::

    xai-course report --gradebook gradebook.db --assignment quiz7 --out reports/quiz7
    xai-course report --csv grades.csv --out reports/quiz7 --bands "5:80,4:60,3:40,failed:0"
"""

from __future__ import annotations

from pathlib import Path

from course.errors import CourseError

from . import items as itemstats
from . import readers, stats
from .cli import SUMMARIES
from .report.questions import load_bank
from .report.writer import check_target, write_report

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    """Register ``xai-course report``."""
    p = subparsers.add_parser(
        "report",
        help=SUMMARIES["report"],
        description="Totals, average, grade bands over each student's best attempt, dynamics, Moodle test and "
        "item statistics and common mistakes of one quiz.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gradebook", metavar="PATH", help="nbgrader gradebook.db (or a database URL); read only")
    src.add_argument(
        "--csv",
        metavar="FILE",
        help="grade table (CSV, TSV, .xlsx, .ods or HTML): Moodle's quiz Grades download, nbgrader's export "
        "or the README's plain format",
    )
    p.add_argument("--assignment", metavar="NAME", help="assignment name (required with --gradebook)")
    p.add_argument("--out", metavar="DIR", required=True, help="report directory to create")
    p.add_argument("--bands", metavar="SPEC", help='grade bands, e.g. "5:80,4:60,3:40,failed:0" (the default)')
    p.add_argument("--policy", choices=stats.POLICIES, default="best", help="which attempts count (default best)")
    p.add_argument("--due", metavar="ISO", help="due date (UTC); the report is preliminary before it")
    p.add_argument("--every", metavar="day|N", default="day", help="dynamics step: day (default) or N attempts")
    p.add_argument("--questions", metavar="BANK", help="quiz bank file for question texts and correct answers")
    p.add_argument(
        "--responses",
        metavar="PATH",
        help="students' answers: Moodle's quiz Responses download (CSV, TSV, .xlsx, .ods or HTML), a table "
        "(student_id,question,answer) "
        "or a directory of autograded notebooks (STUDENT/ASSIGNMENT/*.ipynb)",
    )
    p.add_argument(
        "--mistakes-threshold",
        type=float,
        default=None,
        metavar="PCT",
        help="common mistakes: only questions with facility below PCT (default: the N hardest)",
    )
    p.add_argument(
        "--mistakes",
        type=int,
        default=itemstats.DEFAULT_MISTAKES,
        metavar="N",
        help=f"common mistakes: the N hardest questions (default {itemstats.DEFAULT_MISTAKES})",
    )
    p.add_argument(
        "--force", action="store_true", help="replace an earlier report (never a folder the report did not write)"
    )
    p.set_defaults(func=run, python_names={"out_dir": "out", "mistakes_limit": "mistakes"})


def run(args) -> int:
    """Run ``xai-course report`` from parsed arguments."""
    out = Path(args.out)
    check_target(out, args.force)  # refuse before the (possibly long) reading
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
        attempts = readers.read_gradebook(args.gradebook, args.assignment)
    else:
        attempts = readers.read_grades_csv(args.csv, assignment=args.assignment)
    bank = load_bank(args.questions) if args.questions else None
    responses = None
    if args.responses:
        path = Path(args.responses)
        if path.is_dir():
            if not (args.assignment or attempts.assignment):
                raise CourseError(
                    f"--responses {path}: a directory of notebooks needs --assignment NAME "
                    "(they are read from DIR/STUDENT/ASSIGNMENT/*.ipynb)"
                )
            responses = readers.read_responses_notebooks(
                path, args.assignment or attempts.assignment, questions=list(bank) if bank else None
            )
        else:
            responses = readers.read_responses_csv(path)
    write_report(
        attempts,
        out,
        bands=bands,
        policy=args.policy,
        due=args.due,
        bank=bank,
        responses=responses,
        every=every,
        mistakes_threshold=args.mistakes_threshold,
        mistakes_limit=args.mistakes,
        force=args.force,
    )
    print(
        f"report written to {out}/ (report.md, report.html, summary.json, charts): "
        f"{len(attempts)} results, {attempts.students()} students"
    )
    return 0
