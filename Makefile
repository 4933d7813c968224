# xai-course: every target sets up .venv itself when it is missing or stale.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
DEMO_ARGS ?=

.PHONY: demo test test-fast bench lab clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/xai-course demo $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -m "not slow" $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks

# Jupyter refuses to start as root (containers, CI) unless told to. lectures/.lab-settings keeps widget
# messages on the kernel's main thread: pyplot callbacks are not safe on a subshell thread (ipympl#610).
LAB_ARGS ?= --LabApp.app_settings_dir=$(CURDIR)/lectures/.lab-settings $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab lectures/ $(LAB_ARGS)

clean:
	rm -rf demo_output demo_course .pytest_cache
