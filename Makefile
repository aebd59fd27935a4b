# make demo: set up .venv if needed, solve the baseline scenario, write a workbook under reports/
# make test: set up .venv with test extras if needed, run the test suite (CI=true: also the slow tests)
# make test-all: the whole suite, slow tests included (LibreOffice, Dask clusters, property tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# the slow tests (about 2.5 minutes on 2 cores) run in CI and in make test-all
SLOW := $(if $(filter true 1 yes,$(CI)),,-m "not slow")

.PHONY: demo test test-all bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p reports
	$(BIN)/chipalloc solve scenarios/bytedance-2025.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q $(SLOW)

test-all: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_whatif.py
	$(BIN)/python benchmarks/bench_executor.py
	$(BIN)/python benchmarks/bench_breakpoints.py
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_wholelot.py

clean:
	rm -rf $(VENV) reports/*.xlsx .pytest_cache
