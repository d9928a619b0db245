# Two commands do everything (see README):
#   make console   set up (serving deps only, no TensorFlow) and open the offline console
#   make test      set up (with the training and postgres extras and test tools) and run lint +
#                  all tests, with a throwaway PostgreSQL server for the run (tests/pg_server.py)
#   make test-fast the inner loop: the tests that train nothing, start no worker and need no
#                  PostgreSQL (pytest -m "not slow"), without lint
# Both run the tests in TEST_JOBS processes (pytest-xdist); `pytest` alone runs them in one.
PYTHON ?= python3
# Test processes (pytest-xdist): more than the cores, as most tests wait (on the fake Discord,
# on worker processes) more than they compute.
TEST_JOBS ?= 4
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: console test test-fast lint worker bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.serve-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.serve-installed

console: $(VENV)/.serve-installed
	$(BIN)/lstm-bot console

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m tests.pg_server -- $(BIN)/pytest -n $(TEST_JOBS) --dist loadgroup

test-fast: $(VENV)/.test-installed
	$(BIN)/pytest -m "not slow" -n $(TEST_JOBS)

worker: $(VENV)/.test-installed
	$(BIN)/lstm-bot worker

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/generation.py
	$(BIN)/python benchmarks/bot_load.py
