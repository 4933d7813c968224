"""tests/ci_policy.py: a sandbox skip fails in CI and stays a skip elsewhere; other skips are left alone."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci_policy import in_ci

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = """
import pytest

@pytest.mark.skipif(True, reason="no sandbox: bwrap, prlimit not found")
def test_needs_the_sandbox():
    pass

def test_needs_the_sandbox_imperatively():
    pytest.skip("no sandbox")

@pytest.mark.skipif(True, reason="warm kernels need root")
def test_needs_root():
    pass

def test_plain():
    pass
"""


def _pytest(tmp_path, ci):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTHONPATH": str(ROOT)}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.ci_policy",
            "-p",
            "no:cacheprovider",
            "-rA",
            "-q",
            "test_sample.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_in_ci_a_sandbox_skip_is_a_failure(tmp_path):
    done = _pytest(tmp_path, "true")
    assert done.returncode == 1, done.stdout
    # a skipif mark is decided in setup, so its test reports as an error; pytest.skip in the body as a failure
    assert "1 failed, 1 passed, 1 skipped, 1 error" in done.stdout, done.stdout
    assert "ERROR test_sample.py::test_needs_the_sandbox - no sandbox: bwrap, prlimit not found" in done.stdout
    assert "FAILED test_sample.py::test_needs_the_sandbox_imperatively - no sandbox" in done.stdout
    assert "installs bubblewrap" in done.stdout
    assert "SKIPPED [1] test_sample.py:11: warm kernels need root" in done.stdout


def test_outside_ci_the_sandbox_tests_are_skipped(tmp_path):
    done = _pytest(tmp_path, None)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 3 skipped" in done.stdout, done.stdout


@pytest.mark.parametrize(
    "value, ci", [("true", True), ("1", True), ("yes", True), ("", False), ("false", False), ("0", False)]
)
def test_what_counts_as_ci(monkeypatch, value, ci):
    monkeypatch.setenv("CI", value)
    assert in_ci() is ci
