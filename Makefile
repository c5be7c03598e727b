# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck bench audit clean

# --upgrade-deps: the pip and setuptools a Python release bundles age with it (3.11.7's have
# known advisories: PYSEC-2023-228, PYSEC-2022-43012), and `make audit` checks them too.
$(BIN)/python:
	$(PYTHON) -m venv --upgrade-deps $(VENV)

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

# Each prints a table and ends with one line of name=value ratios. sync_requests: a 1-year
# all-types sync vs the server's lower bound and a per-day baseline (in-process simulator).
# sync_wall --quick: 90 and 180 days over a socket under the real 300/min quota (a couple of
# minutes); drop --quick for the 1- and 2-year figures (≈ 20 min).
bench: $(VENV)/.installed
	$(BIN)/python benchmarks/sync_requests.py
	$(BIN)/python benchmarks/sync_wall.py --quick
	$(BIN)/python benchmarks/ingest.py

# Known vulnerabilities in what the virtualenv holds (runtime and test dependencies), from
# PyPI's per-release JSON; needs pypi.org itself (a mirror that serves only the package index
# reports every package as "not found on PyPI").
audit: $(VENV)/.installed
	$(PIP) install -c constraints-dev.txt pip-audit
	$(BIN)/pip-audit --skip-editable --progress-spinner off --strict

clean:
	rm -rf $(VENV) fitvault-demo .pytest_cache .mypy_cache .ruff_cache
