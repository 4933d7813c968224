"""`xai-course quiz ...`: validate the bank, export it for Moodle, show a student's variant, build the notebook.

xai-course quiz check [--bank FILE]
xai-course quiz export --out DIR [--lang ru|en|multilang] [--bank FILE] [--force]
xai-course quiz variant STUDENT_ID [--figure FILE.svg|FILE.png | --no-figure] [--force]
"""

from __future__ import annotations

from pathlib import Path

from course.errors import CourseError
from course.quiz.bank import load_bank
from course.quiz.export import write_export

__all__ = ["add_parser"]


def _check(args) -> int:
    bank = load_bank(args.bank, keys=True)  # validates the bank merged with its keys
    kinds = {}
    for q in bank:
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    print(f"{bank.id}: {len(bank)} questions ({summary}), {bank.total_points:g} points — valid")
    return 0


def _export(args) -> int:
    paths = write_export(load_bank(args.bank, keys=True), args.out, lang=args.lang, force=args.force)
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _variant(args) -> int:
    from course.quiz.figures import safe_name, write_question_image
    from course.quiz.notebook import show_question
    from course.quiz.variants import backdoor_variant

    q = backdoor_variant(args.student_id)
    path = None if args.no_figure else Path(args.figure or f"variant_{safe_name(args.student_id)}.svg")
    if path is not None and path.exists() and not args.force:  # refuse before printing anything
        raise CourseError(f"{path} already exists; pass force=True to replace it (or no_figure=True)")
    show_question(q)
    if path is not None:
        print(f"\nfigure: {write_question_image(q, path, force=args.force)}")
    return 0


def add_parser(subparsers) -> None:
    """Register ``quiz`` and its subcommands on the top-level parser."""
    quiz = subparsers.add_parser("quiz", help="the lecture quiz: check, export to Moodle, per-student variants")
    sub = quiz.add_subparsers(dest="quiz_command", required=True)
    check = sub.add_parser("check", help="load and validate the question bank")
    check.add_argument("--bank", default=None, help="a bank TOML file (default: the course's quiz 7 bank)")
    check.set_defaults(func=_check)
    export = sub.add_parser("export", help="write Moodle XML and GIFT files")
    export.add_argument("--out", required=True, help="output directory")
    export.add_argument("--lang", default="ru", choices=("ru", "en", "multilang"))
    export.add_argument("--bank", default=None)
    export.add_argument("--force", action="store_true", help="replace existing export files")
    export.set_defaults(func=_export)
    variant = sub.add_parser("variant", help="print a student's own backdoor question and draw its graph")
    variant.add_argument("student_id")
    drawing = variant.add_mutually_exclusive_group()
    drawing.add_argument(
        "--figure",
        default=None,
        help="where to write the drawing of the graph, .svg or .png (default: variant_<id>.svg)",
    )
    drawing.add_argument("--no-figure", action="store_true", help="print the question only")
    variant.add_argument("--force", action="store_true", help="replace an existing figure file")
    variant.set_defaults(func=_variant)
