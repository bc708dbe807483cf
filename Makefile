# Everything a fresh machine needs, from nothing but Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?= -n auto

.PHONY: run test bench lint install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make run: migrate the embedded SQLite database, load the demo, serve the API until Ctrl-C
run: $(STAMP)
	$(BIN)/telecrm db upgrade
	$(BIN)/telecrm demo
	$(BIN)/telecrm serve --demo --host $(HOST) --port $(PORT)

## make test: the whole suite, one pytest worker per core (PostgreSQL when TELECRM_TEST_DATABASE_URL is set)
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make bench: the speed targets of the issues, figures in bench/README.md
bench: $(STAMP)
	$(BIN)/python -m bench

## make lint: ruff, the import layers (lint-imports, contracts in pyproject.toml), mypy
lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
