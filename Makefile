# whytwitter-bot: every target sets up what it needs in .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint format typecheck bench console check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.installed-run

## Start the bot (with no DISCORD_TOKEN: the local console on the bundled knowledge base).
run: $(VENV)/.installed-run
	$(BIN)/python -m bot

## Lint, type-check and run the whole test suite (unit + end-to-end).
test: $(VENV)/.installed-test
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix bot tests bench
	$(BIN)/ruff format bot tests bench

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

## Accuracy, latency and memory figures; writes bench/results.json.
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

console: $(VENV)/.installed-run
	$(BIN)/python -m bot console

check: $(VENV)/.installed-run
	$(BIN)/python -m bot check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
