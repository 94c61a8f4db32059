# dataledger — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.test-installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TSTAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

## make run: install, migrate, load the demo catalog once, serve on http://127.0.0.1:8000
run: $(STAMP)
	$(BIN)/dataledger serve

## make test: install the test extras (and Chromium for browser tests) and run the whole suite
test: $(TSTAMP)
	@bash .ci/ensure-system-packages
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist worksteal -q --durations=25

lint: $(TSTAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(TSTAMP)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
