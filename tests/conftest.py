"""Test-suite policy shared by every test module."""

import time

import pytest

from tests.ci_policy import pytest_runtest_makereport  # noqa: F401 - a hook: in CI a sandbox skip fails
from tests.notebook_kernel import kernel_processes

# Modules that start many processes at once (sandboxed graders, warm kernels, a JupyterLab server with
# Chromium). `make test` runs pytest with `--dist loadgroup`: these share one worker and so run one after
# another, never two of them side by side on the 2-core machine (the browser test then keeps its pace).
HEAVY = {
    "test_lab_widgets.py",
    "test_autograde_adversarial.py",
    "test_autograde_exercises.py",
    "test_autograde_pipeline.py",
    "test_autograde_demo.py",
    # the last three share one graded cohort
    "test_collect_files.py",
    "test_feedback_sanitise.py",
    "test_bounded_numbers.py",
}

#: how long a kernel may take to exit after its test asked it to (SIGTERM, then the process reaps it)
KERNEL_EXIT_GRACE = 10.0


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in HEAVY:
            item.add_marker(pytest.mark.xdist_group("heavy"))


@pytest.fixture(autouse=True)
def no_kernel_outlives_its_test():
    """Fail a test that leaves a Jupyter kernel running (it would compete with the tests that follow)."""
    before = {p.pid for p in kernel_processes()}
    yield
    deadline = time.monotonic() + KERNEL_EXIT_GRACE
    left = [p for p in kernel_processes() if p.pid not in before]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = [p for p in left if p.is_running() and p.status() != "zombie"]
    if left:
        described = [f"pid {p.pid}: {' '.join(p.cmdline())[:160]}" for p in left]
        for p in left:
            p.kill()
        pytest.fail("this test left Jupyter kernels running (shut them down in the test):\n  " + "\n  ".join(described))
