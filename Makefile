# whytwitter-bot: every target sets up what it needs in .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check
# Every install is pinned by constraints.txt (tool upgrades cannot break `make test` unseen).
INSTALL := $(PIP) install --progress-bar off -c constraints.txt

.PHONY: run test lint format typecheck bench console check clean image constraints model gate classifier phrasings

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	@echo "== Installing whytwitter-bot into $(VENV) (first run only; about a minute)"
	$(INSTALL) -e .
	@echo "== Installed." && touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	@echo "== Installing whytwitter-bot and its test tools into $(VENV) (first run only; about a minute)"
	$(INSTALL) -e '.[test]'
	@echo "== Installed." && touch $@ $(VENV)/.installed-run

## Start the bot (with no DISCORD_TOKEN: the local console on the bundled knowledge base).
run: $(VENV)/.installed-run
	$(BIN)/python -m bot

## Lint, type-check and run the whole test suite (unit + end-to-end).
test: $(VENV)/.installed-test
	$(BIN)/ruff check bot tests bench tools
	$(BIN)/ruff format --check bot tests bench tools
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check bot tests bench tools
	$(BIN)/ruff format --check bot tests bench tools

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix bot tests bench tools
	$(BIN)/ruff format bot tests bench tools

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

## Accuracy, latency and memory figures; writes bench/results.json.
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

console: $(VENV)/.installed-run
	$(BIN)/python -m bot console

check: $(VENV)/.installed-run
	$(BIN)/python -m bot check

## Build the container image (needs Docker and access to the python:3.11-slim base image).
image:
	docker build -t whytwitter-bot:latest .

## Rewrite constraints.txt from what the test environment has installed now.
constraints: $(VENV)/.installed-test
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | grep -vi '^whytwitter'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

## Rebuild the bundled sentence encoder (bot/matching/model/) in its own venv with torch (dev-only).
MODEL_VENV := .venv-model
MODEL_ARGS ?=
$(MODEL_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(MODEL_VENV)
	$(MODEL_VENV)/bin/python -m pip --disable-pip-version-check -q install torch==2.13.0
	$(MODEL_VENV)/bin/python -m pip --disable-pip-version-check -q install -e '.[model]'
	touch $@

model: $(MODEL_VENV)/.installed
	$(MODEL_VENV)/bin/python tools/build_model.py $(MODEL_ARGS)

# Refit the learned gate for the bundled model (after `make model` or `make phrasings`);
# numpy only, a few minutes.
gate: $(VENV)/.installed-test
	$(BIN)/python -m tools.fit_gate

# Refit the members' classifier for the bundled model (after `make model` or a change to the
# bundled entries or the eval sets it reads); numpy only, about a minute.
classifier: $(VENV)/.installed-test
	$(BIN)/python -m tools.fit_classifier

# Rewrite knowledge/phrasings.yaml from the labelled lines the encoder trains on.
phrasings: $(VENV)/.installed-test
	$(BIN)/python -m tools.phrasings

clean:
	rm -rf $(VENV) $(MODEL_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
