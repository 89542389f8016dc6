# Roster: `make run` starts the server on the embedded SQLite default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench schema lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/roster serve

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

bench: $(STAMP)
	$(BIN)/python bench/search.py $(BENCH_ARGS)

# Write the SDL the server serves to schema.graphql, the contract the tests diff against.
schema: $(STAMP)
	$(BIN)/python -m schema > schema.graphql

# Re-pin every dependency (run after changing pyproject.toml).
lock:
	$(PYTHON) -m venv /tmp/roster-lock && /tmp/roster-lock/bin/pip install --quiet pip-tools
	/tmp/roster-lock/bin/pip-compile --quiet --extra dev --generate-hashes --allow-unsafe \
		--strip-extras --output-file requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) build *.egg-info
