"""Run a notebook in a fresh ``python3`` kernel that is always shut down afterwards.

Every test that executes a notebook goes through :func:`execute_notebook`. nbclient shuts a kernel down
only when it created the kernel manager itself; a test that hands it a ``KernelManager`` (as the private
IPC sockets below need) owns the kernel and must stop it, or the kernel outlives the test and competes
for the two cores with the tests that follow. ``tests/conftest.py`` checks after every test that no
``ipykernel`` process started by it is still alive (:func:`kernel_processes`).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psutil
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

#: what identifies a Jupyter kernel process on its command line
KERNEL_MARKERS = ("ipykernel_launcher", "ipykernel.kernelapp")


def execute_notebook(nb, cwd: Path | str, *, timeout: float = 300, allow_errors: bool = False):
    """Execute ``nb`` in place with ``cwd`` as working directory; the kernel is shut down in every case.

    Kernels talk over IPC files in a private directory: parallel test workers starting kernels at the same
    time can otherwise be handed the same TCP ports (jupyter_client issue #487). Raises nbclient's
    ``CellExecutionError`` on the first failing cell unless ``allow_errors``.
    """
    with tempfile.TemporaryDirectory(prefix="xai-kernel-") as sockets:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(sockets) / "k"))
        client = NotebookClient(
            nb,
            km=km,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=allow_errors,
            resources={"metadata": {"path": str(cwd)}},
        )
        try:
            client.execute()
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
            km.cleanup_resources()
    return nb


def kernel_processes(pid: int | None = None) -> list[psutil.Process]:
    """The live ``ipykernel`` processes among the descendants of ``pid`` (default: this process)."""
    try:
        children = psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            cmdline = " ".join(child.cmdline())
            alive = child.status() != psutil.STATUS_ZOMBIE
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if alive and any(marker in cmdline for marker in KERNEL_MARKERS):
            found.append(child)
    return found
