# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

# Tools are pinned (constraints-dev.txt) so CI only changes when we bump them.
$(VENV)/.installed-test: pyproject.toml constraints-dev.txt $(VENV)/.installed
	$(PIP) install -c constraints-dev.txt -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/fitvault demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/sync_requests.py
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) fitvault-demo .pytest_cache .mypy_cache .ruff_cache
