"""CI policy for skips: in CI (``CI=true``) a sandbox test that would be skipped fails instead.

Every sandbox test skips with a reason starting ``"no sandbox"`` (``autograder.sandbox.sandbox_available``
says why: bwrap missing, or unable to create its namespaces). Locally that is a skip; in CI the Debian
package is installed by ``.ci/run``, so a skip there would hide a broken CI image behind a green run.
Registered by ``tests/conftest.py``; ``tests/test_ci_policy.py`` runs it on a throwaway test file.
"""

import os

import pytest

#: how every sandbox test's skip reason begins
SANDBOX_SKIP = "no sandbox"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and in_ci() and isinstance(report.longrepr, tuple)):
        return
    reason = report.longrepr[2].removeprefix("Skipped: ")
    if reason.startswith(SANDBOX_SKIP):
        report.outcome = "failed"
        report.longrepr = (
            f"{reason}\nCI=true: the sandbox tests must run in CI, not be skipped; "
            ".ci/run installs bubblewrap (apt-get install bubblewrap)"
        )
