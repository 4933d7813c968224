# xai-course: every target sets up .venv itself when it is missing or stale.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: demo test test-fast bench lab lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'  # the test extra pulls every other extra (lab, grader, dask, onnx)
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/xai-course demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

# The lint gate (.ci/run runs it before the tests): ruff's linter and its format check over the whole tree,
# mypy (strict) on the packages listed in pyproject's [tool.mypy] files. .pre-commit-config.yaml runs the same
# three; tests/test_lint_config.py keeps them equal.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# JupyterLab on lab/, an untracked working copy of lectures/ (autosaved outputs never reach the committed
# notebooks), with lectures/.lab-settings: no nbgrader tools, widget messages on the kernel's main thread
# (ipympl#610), --allow-root when root. See course/lab.py. Extra arguments: make lab LAB_ARGS=--no-browser
LAB_ARGS ?=

lab: $(STAMP)
	$(PY) -m course.lab $(LAB_ARGS)

clean:
	rm -rf demo_output demo_course .pytest_cache
