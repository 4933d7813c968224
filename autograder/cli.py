"""The `xai-course` command line: one subcommand per job.

Each subcommand lives in its own module and registers itself here through
``SUBCOMMANDS`` (name -> "module:function" that takes an argparse subparsers
object and adds its parser, setting ``func``). Errors the user can fix are
raised as ``CourseError`` and printed as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys

from course.errors import CourseError

SUBCOMMANDS: dict[str, str] = {
    "report": "autograder.report_cli:add_parser",
    "autograde": "autograder.autograde_cli:add_parser",
    # the instructor's whole job; it runs the engine demo (course.demo_relevance) too: --engine-only
    "demo": "autograder.demo:add_parser",
    "quiz": "course.quiz.cli:add_parser",
}
#: one line per subcommand for ``xai-course --help``, so that help does not import every subcommand
SUMMARIES: dict[str, str] = {
    "report": "write the instructor's quiz report (Markdown, HTML, JSON, charts)",
    "autograde": "autograde the submitted notebooks of an assignment (sandboxed, in parallel, resumable)",
    "demo": "the instructor's whole job on a simulated cohort (make demo)",
    "quiz": "the quiz: variants, Moodle export, answer checking",
}


def _chosen(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word that is one), if any."""
    return next((word for word in argv if word in SUBCOMMANDS), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the subcommand named in ``argv`` is imported (the others get a one-line stub).

    Importing every subcommand costs seconds (nbgrader, nbformat, …), so
    ``xai-course report`` loads the report's modules only. With ``argv=None``
    every subcommand is built in full.
    """
    parser = argparse.ArgumentParser(prog="xai-course", description="xai-course: explainable-AI course tools")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = _chosen(argv) if argv is not None else None
    for name, target in SUBCOMMANDS.items():
        if argv is not None and name != chosen:
            sub.add_parser(name, help=SUMMARIES[name], add_help=False)
            continue
        module, func = target.split(":")
        getattr(importlib.import_module(module), func)(sub)
    return parser


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser | None:
    for action in parser._actions:  # argparse has no public accessor for its subparsers
        if isinstance(action, argparse._SubParsersAction):
            return action.choices.get(command)
    return None


def flag_words(message: str, parser: argparse.ArgumentParser, aliases: dict[str, str] | None = None) -> str:
    """A library message (Python arguments: ``force=True``, ``out=PATH``) with the command line's flags.

    Every option of ``parser`` is matched by its ``dest``; ``aliases`` maps
    further Python argument names to a ``dest`` (``out_dir`` → ``out``).

    >>> p = argparse.ArgumentParser()
    >>> _ = p.add_argument("--out"); _ = p.add_argument("--force", action="store_true")
    >>> flag_words("x: exists; pass force=True to replace it, or choose another out_dir=PATH", p, {"out_dir": "out"})
    'x: exists; pass --force to replace it, or choose another --out PATH'
    >>> flag_words("files exist; pass --force (force=True) to replace", p)
    'files exist; pass --force to replace'
    """
    flags = _flags(parser)
    for name, dest in (aliases or {}).items():
        if dest in flags:
            flags[name] = flags[dest]
    if not flags:
        return message
    names = "|".join(sorted(map(re.escape, flags), key=len, reverse=True))
    text = re.sub(rf"\b({names})=(True\b)?", lambda m: flags[m.group(1)] + ("" if m.group(2) else " "), message)
    return re.sub(r"(--[\w-]+) \(\1\)", r"\1", text)  # an older "pass --force (force=True)" says it once


def _flags(parser: argparse.ArgumentParser) -> dict[str, str]:
    """dest -> long flag of every option of ``parser`` and of its sub-subcommands (``quiz export --force``)."""
    flags: dict[str, str] = {}
    for action in parser._actions:  # argparse keeps no public list of a parser's options
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                flags.update({k: v for k, v in _flags(child).items() if k not in flags})
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs and action.dest != "help":
            flags[action.dest] = longs[0]
    return flags


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CourseError as exc:
        sub = _subparser(parser, args.command)
        text = flag_words(str(exc), sub, getattr(args, "python_names", None)) if sub is not None else str(exc)
        print(f"xai-course {args.command}: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xai-course {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
