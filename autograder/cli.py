"""The `xai-course` command line: one subcommand per job.

Each subcommand lives in its own module and registers itself here through
``SUBCOMMANDS`` (name -> "module:function" that takes an argparse subparsers
object and adds its parser, setting ``func``). Errors the user can fix are
raised as ``CourseError`` and printed as one line with exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from course.errors import CourseError

SUBCOMMANDS: dict[str, str] = {
    "report": "autograder.report:add_parser",
    "autograde": "autograder.pipeline:add_parser",
    # the instructor's whole job; it runs the engine demo (course.demo_relevance) too: --engine-only
    "demo": "autograder.demo:add_parser",
    "quiz": "course.quiz.cli:add_parser",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xai-course", description="xai-course: explainable-AI course tools")
    sub = parser.add_subparsers(dest="command", required=True)
    for target in SUBCOMMANDS.values():
        module, func = target.split(":")
        getattr(importlib.import_module(module), func)(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CourseError as exc:
        print(f"xai-course {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xai-course {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
