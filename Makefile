# The two commands of the README: `make demo` and `make test`.
# Both install everything first (a pinned uv, then the locked environment in .venv).
PYTHON ?= python3
UV_VERSION := 0.9.30
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
# compiled bytecode once at install: every CLI process starts seconds faster
export UV_COMPILE_BYTECODE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo test test-fast lint bench ui clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --quiet --all-extras

demo: install
	$(VENV)/bin/retrain demo

# three workers (pytest-xdist), a test module per worker: most tests wait on servers, leases
# and child processes, so a third worker uses the time two leave the cores idle. Files go to the workers in collection order
# (integration first, the short unit files last), not xdist's default of files with the most
# tests first, which leaves the long one-test files for the end and one worker idle meanwhile
# (bench/suite_times.py). .ci/with-test-services sets up what the suite needs (chromium, a
# throwaway PostgreSQL cluster), installing with apt when root.
test: install
	.ci/with-test-services $(VENV)/bin/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=10

# the unit tests only: plain pytest on the logic packages, about a minute
test-fast: install
	$(VENV)/bin/python -m pytest tests/unit

# style, types, the one dependency direction (pyproject.toml holds every setting) and no
# import cycle between the modules of a package (.ci/check_import_cycles.py)
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/python .ci/check_import_cycles.py

bench: install
	$(VENV)/bin/python bench/run_bench.py
	$(VENV)/bin/python bench/light_bench.py
	$(VENV)/bin/python bench/drift_bench.py
	$(VENV)/bin/python bench/server_bench.py
	$(VENV)/bin/python bench/cascade_bench.py
	$(VENV)/bin/python bench/source_bench.py
	$(VENV)/bin/python bench/sql_bench.py

ui: install
	$(VENV)/bin/retrain ui

clean:
	rm -rf .retrain .pytest_cache
