"""Warm kernels: a pool of zygote-forked kernels per sandbox setting, shared by the submissions of a job.

A :class:`~autograder.kernel.WarmKernel` imports :func:`preload_modules` once
(and runs their ``zygote_warm_up()``); each submission then runs in a child
forked from it. A kernel serves one submission at a time: :func:`acquire` takes
an idle one (or starts one), :func:`release` gives it back, and
:func:`close_warm_kernels` (also at exit) stops them all.
"""

from __future__ import annotations

import ast
import atexit
import os
import threading

from autograder.kernel import WarmKernel
from autograder.restore import is_solution as is_solution_cell
from autograder.sandbox import Sandbox

__all__ = ["BASE_PRELOAD", "preload_modules", "acquire", "release", "close_warm_kernels"]

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


def _key(sandbox: Sandbox, files_dir: str | None, preload: tuple[str, ...]):
    return (sandbox.limits, sandbox.hide, files_dir, preload)


def acquire(sandbox: Sandbox, files_dir: str | None, preload: tuple[str, ...]) -> WarmKernel | None:
    """An idle warm kernel for these settings, or a new one (None when impossible here: not root, or unsafe)."""
    if sandbox.unsafe or os.geteuid() != 0:
        return None
    with _WARM_LOCK:
        idle = _WARM.setdefault(_key(sandbox, files_dir, preload), [])
        while idle:
            kernel = idle.pop()
            if kernel.usable():
                return kernel
            kernel.close()
    kernel = WarmKernel(sandbox, files_dir, preload)
    return kernel if kernel.usable() else None


def release(sandbox: Sandbox, files_dir: str | None, preload: tuple[str, ...], kernel: WarmKernel | None) -> None:
    """Give ``kernel`` back to the pool for the next submission with these settings (closed when not usable)."""
    if kernel is None:
        return
    if not kernel.usable():
        kernel.close()
        return
    with _WARM_LOCK:
        _WARM.setdefault(_key(sandbox, files_dir, preload), []).append(kernel)


def close_warm_kernels() -> None:
    """Stop every warm kernel of this process."""
    with _WARM_LOCK:
        kernels = [k for idle in _WARM.values() for k in idle]
        _WARM.clear()
    for kernel in kernels:
        kernel.close()


atexit.register(close_warm_kernels)
