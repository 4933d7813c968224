"""``xai-course autograde ASSIGNMENT [--course DIR] [--workers N] [--executor local|dask] [--force]``.

The command line of :func:`autograder.pipeline.autograde`: limits from the
options, one summary line per problem, exit status 0 once the batch ran.
"""

from __future__ import annotations

import argparse

from autograder.pipeline import __doc__ as PIPELINE_DOC
from autograder.pipeline import autograde
from autograder.sandbox import Limits

__all__ = ["add_parser"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "autograde",
        help="grade all submissions of an assignment in a sandbox, in parallel",
        description=PIPELINE_DOC.split("\n\n")[0],
    )
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
    p.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade without isolation when bubblewrap is unavailable (trusted submissions only)",
    )
    p.set_defaults(func=_main)
    return p


def _main(args) -> int:
    limits = Limits(
        cell_seconds=args.cell_timeout, notebook_seconds=args.notebook_timeout, memory_bytes=args.memory_mb << 20
    )
    summary = autograde(
        args.course,
        args.assignment,
        workers=args.workers,
        executor=args.executor,
        force=args.force,
        limits=limits,
        unsafe=args.unsafe_no_sandbox,
        feedback=not args.no_feedback,
        dask_address=args.dask_address,
        warm=not args.cold,
    )
    print("\n".join(summary.lines()))
    return 0
