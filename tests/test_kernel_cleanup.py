"""Every notebook-executing test shuts its kernel down; the suite's guard notices one that does not."""

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient.exceptions import CellExecutionError

from tests.notebook_kernel import execute_notebook, kernel_processes


def _notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def test_execute_notebook_leaves_no_kernel(tmp_path):
    nb = execute_notebook(_notebook("import os; print(os.getpid())"), tmp_path, timeout=60)
    kernel_pid = int(nb.cells[0].outputs[0]["text"])
    assert kernel_pid not in {p.pid for p in kernel_processes()}


def test_a_failing_cell_still_shuts_the_kernel_down(tmp_path):
    with pytest.raises(CellExecutionError):
        execute_notebook(_notebook("import os; print(os.getpid())", "1/0"), tmp_path, timeout=60)
    assert kernel_processes() == []


def test_kernel_processes_finds_a_kernel_left_running(tmp_path):
    # what the conftest guard sees when a test forgets to stop its kernel manager
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "k"))
    km.start_kernel()
    try:
        deadline = time.monotonic() + 30
        while not kernel_processes() and time.monotonic() < deadline:
            time.sleep(0.1)
        found = kernel_processes()
        assert [p.pid for p in found] == [km.provisioner.process.pid]
    finally:
        km.shutdown_kernel(now=True)
        km.cleanup_resources()
    assert kernel_processes() == []


@pytest.mark.slow  # a pytest run in a subprocess
def test_the_guard_fails_a_test_that_leaks_a_kernel(tmp_path):
    root = Path(__file__).resolve().parent.parent
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import no_kernel_outlives_its_test  # noqa: F401  -- re-exported: the fixture under test\n"
    )
    (tmp_path / "test_leak.py").write_text(
        "from jupyter_client.manager import KernelManager\n"
        "def test_leaks(tmp_path):\n"
        "    KernelManager(kernel_name='python3', transport='ipc', ip=str(tmp_path / 'k')).start_kernel()\n"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            str(tmp_path / "test_leak.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert run.returncode == 1, run.stdout[-2000:]
    assert "left Jupyter kernels running" in run.stdout, run.stdout[-2000:]
    assert kernel_processes() == []  # the guard killed the leaked kernel
