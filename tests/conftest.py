"""Test-suite policy shared by every test module."""
import pytest

# Modules that start many processes at once (sandboxed graders, warm kernels, a JupyterLab server with
# Chromium). `make test` runs pytest with `--dist loadgroup`: these share one worker and so run one after
# another, never two of them side by side on the 2-core machine (the browser test then keeps its pace).
HEAVY = {"test_lab_widgets.py", "test_autograde_adversarial.py", "test_autograde_exercises.py",
         "test_autograde_pipeline.py", "test_autograde_demo.py"}


def pytest_collection_modifyitems(items):
    for item in items:
        if item.path.name in HEAVY:
            item.add_marker(pytest.mark.xdist_group("heavy"))
