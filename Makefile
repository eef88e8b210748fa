# Atelier Workbench: `make serve` and `make test` do all the set-up on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PROJECT ?= data/project
PORT   ?= 5006
ADDRESS ?= 127.0.0.1
PYTEST_ARGS ?=
# Paths `make typecheck` holds to mypy (settings in pyproject's [tool.mypy]); widen as more of workbench/ is clean.
TYPED ?= extensions workbench/plugins workbench/http.py workbench/_urls.py workbench/pacing.py \
	workbench/secrets.py workbench/errors.py workbench/lineage workbench/ids.py \
	workbench/events.py workbench/settings.py workbench/store.py workbench/sync.py workbench/project.py \
	workbench/facade.py workbench/__init__.py workbench/__main__.py workbench/_lazy.py workbench/generation workbench/library \
	workbench/export workbench/reports workbench/ledger workbench/cli workbench/demo.py workbench/review \
	workbench/imaging workbench/models workbench/executor workbench/fidelity \
	workbench/ui

.PHONY: install serve demo test lint typecheck bench clean-demo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/workbench demo --project $(PROJECT)

serve: demo
	$(BIN)/workbench serve --project $(PROJECT) --address $(ADDRESS) --port $(PORT)

lint: install
	$(BIN)/ruff check workbench extensions tests benchmarks

typecheck: install
	$(BIN)/mypy $(TYPED)

test: install lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=40 $(PYTEST_ARGS)

bench: install
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean-demo:
	rm -rf $(PROJECT) data/demo-refs
