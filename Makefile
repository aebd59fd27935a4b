# make demo: set up .venv if needed, solve the baseline scenario, write a workbook under reports/
# make test: set up .venv with test extras if needed, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench clean

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
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_whatif.py
	$(BIN)/python benchmarks/bench_executor.py

clean:
	rm -rf $(VENV) reports/*.xlsx .pytest_cache
